"""How long a certificate batch run again takes to judge a folder of 100,000 files.

A rerun compares every file with its certificate's current code (`certificates.batch.survey`).
It knows a file's codes from the previous manifest when the file's stamp is unchanged, and
otherwise reads them from the PDF's /Keywords (`certificates.files.read_codes`: three small
reads at the end of the file). This times, over N files in folders of 1,000 (as a
province's units are):

- the walk of the folder tree (finding files the plan does not name: revoked, superseded);
- judging every file by its stamp (the manifest kept; an lstat each, no file opened);
- judging every file by reading it (the manifest deleted, or the files copied elsewhere);
- the floor: a bare `os.lstat` of every file (what any check of "is it there" costs).

The files are one small real hnce PDF (fpdf2, no embedded font) with each file's own code
patched in: reading depends on the file's last kilobytes, not on its size. Warm page cache
(run twice to see it); on a network share the read path costs a round trip per file, which
is what the stamps save.

    python bench/certificate_folder.py                 # 100,000 files, ~1 min to build
    python bench/certificate_folder.py -n 10000 --runs 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def _template() -> bytes:
    from fpdf import FPDF

    from hnce_cli.certificates.files import keywords_of

    pdf = FPDF()
    pdf.set_title("河南省专业技术人员继续教育证书 2025 HN2025-00000000")
    pdf.set_creator("hnce")
    pdf.set_keywords(keywords_of(["HN2025-00000000-AAAA-BBBB-CCCC-DDDD"]))
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="certificate")
    return bytes(pdf.output())


def build(root: Path, n: int) -> list[str]:
    template = _template()
    rels = []
    for i in range(n):
        folder = f"region/unit-{i // 1000:03d}"
        if i % 1000 == 0:
            (root / folder).mkdir(parents=True, exist_ok=True)
        rel = f"{folder}/2025-410105xxxxxxxx{i:04d}-{i}.pdf"
        code = f"HN2025-{i:08d}-AAAA-BBBB-CCCC-DDDD".encode()
        (root / rel).write_bytes(template.replace(b"HN2025-00000000-AAAA-BBBB-CCCC-DDDD", code))
        rels.append(rel)
    return rels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    from hnce_cli.certificates.batch import Folder

    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        rels = build(root, args.n)
        print(f"built {args.n:,} files in {time.perf_counter() - started:.1f} s")
        first = Folder(root)
        for rel in rels:
            assert first.codes(rel) is not None
        known = dict(first.seen)

        def walk() -> None:
            assert sum(1 for _ in Folder(root).pdfs()) == args.n

        def by_stamp() -> None:
            folder = Folder(root, known=known)
            for rel in rels:
                folder.codes(rel)

        def by_reading() -> None:
            folder = Folder(root)
            for rel in rels:
                folder.codes(rel)

        def floor() -> None:
            base = str(root)
            for rel in rels:
                os.lstat(os.path.join(base, rel))

        for name, work in (("walk the tree", walk), ("judge by stamp", by_stamp),
                           ("judge by reading", by_reading), ("floor: lstat each", floor)):
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                work()
                times.append(time.perf_counter() - t)
            print(f"{name:20} median {statistics.median(times):6.2f} s  min {min(times):6.2f} s  "
                  f"({args.n:,} files, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
