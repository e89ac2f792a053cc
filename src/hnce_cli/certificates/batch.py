"""Certificates to files for a batch: one PDF per person in a folder tree, or one merged
PDF per unit; worker processes; resumable; a manifest of what was issued.

Resumable by construction: every file is written atomically (temp file, fsync,
rename), so a file that exists is complete, and a rerun skips it (unless `force`).
An interrupted run — Ctrl-C, a kill, a power cut — therefore continues where it
stopped. Issuing is idempotent on the service side, so the rerun gets the same
numbers and codes.

One person never stops a batch: a record a certificate cannot print (a control
character in the name), a character no font has, anything the engine raises for one
person's page or file fails that person (that file, merged) with the reason in the
manifest, and everyone else's files are written. File names are made safe by
`hnce_cli.filenames`; nothing is written through a symbolic link planted under --out.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from hnce_cli.certificates.issued import to_data
from hnce_cli.certificates.model import CertificateData, unprintable
from hnce_cli.errors import HnceError, ValidationFailed
from hnce_cli.filenames import is_regular_file, real_folders, remove_stale_parts, safe_name, suffixed

if TYPE_CHECKING:
    from hnce_cli.certificates.fonts import PreparedFont
    from hnce_cli.certificates.template import Template
    from hnce_cli.schemas import CertificateBatchRequest, CertificateOut, CertificatePage

PERSON_FIELDS = frozenset({"region", "region_code", "unit_name", "unit_id", "year", "id_number_masked", "name",
                           "number"})
UNIT_FIELDS = frozenset({"region", "region_code", "unit_name", "unit_id", "year"})
DEFAULT_SINGLE = "{region}/{unit_name}/{year}-{id_number_masked}-{name}.pdf"
DEFAULT_MERGED = "{region}/{unit_name}-{year}.pdf"
MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
# A masked ID number in a file name: `x` for the hidden digits ('*' is refused by Windows and SMB shares).
MASK_IN_FILE_NAMES = "x"


@dataclass
class Entry:
    """One person's line in the manifest."""

    number: str
    name: str
    id_number_masked: str
    unit_name: str
    region: str
    year: int
    verification_code: str
    file: str = ""
    status: str = "pending"  # written | existing | failed | revoked | conflict | pending (interrupted)
    error: str = ""


@dataclass
class Job:
    """One file to write, and whose certificates it holds (one, or a unit's): datas[i] is entries[i]'s."""

    path: Path
    rel: str
    datas: list[CertificateData]
    entries: list[Entry] = field(default_factory=list)

    def fail(self, why: Callable[[CertificateData], str | None]) -> int:
        """Leave out the people `why` gives a reason for (failed, with it); how many were left out."""
        kept: list[tuple[CertificateData, Entry]] = []
        for data, entry in zip(self.datas, self.entries, strict=True):
            reason = why(data)
            if reason:
                entry.status, entry.error = "failed", reason
            else:
                kept.append((data, entry))
        failed = len(self.datas) - len(kept)
        self.datas, self.entries = [d for d, _ in kept], [e for _, e in kept]
        return failed


def check_name_template(template: str, merged: bool) -> str:
    """A relative path template of known placeholders, ending in .pdf."""
    allowed = UNIT_FIELDS if merged else PERSON_FIELDS
    fix = "placeholders: " + " ".join("{" + f + "}" for f in sorted(allowed))
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
    except ValueError as exc:
        raise ValidationFailed.one("name_template", f"格式有误：{exc}", fix) from exc
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValidationFailed.one("name_template", f"未知的占位符 {{{unknown[0]}}}", fix)
    path = PurePosixPath(template.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not names:
        raise ValidationFailed.one("name_template", "须为 --out 之下的相对路径，且含占位符", fix)
    return template if template.lower().endswith(".pdf") else template + ".pdf"


def _values(c: CertificateOut, merged: bool) -> dict[str, str]:
    values = {"region": c.region_name, "region_code": c.region_code, "unit_name": c.unit_name,
              "unit_id": c.unit_id, "year": c.year}
    if not merged:
        values.update(id_number_masked=c.id_number_masked.replace("*", MASK_IN_FILE_NAMES), name=c.name,
                      number=c.number)
    return {k: safe_name(str(v)) for k, v in values.items()}


def _rel(text: str) -> str:
    """A planned path under --out: each folder and the file name made safe (255 bytes each)."""
    return "/".join(safe_name(part) for part in text.replace("\\", "/").split("/") if part)


def _renamed(rel: str, extra: str) -> str:
    """`rel` with `extra` before its extension (a name another file of the batch has)."""
    folder, _, name = rel.rpartition("/")
    return f"{folder}/{suffixed(name, extra)}" if folder else suffixed(name, extra)


def _entry(c: CertificateOut) -> Entry:
    return Entry(c.number, c.name, c.id_number_masked, c.unit_name, c.region_name, c.year, c.verification_code)


def plan(certs: Sequence[CertificateOut], out: Path, template: str, merged: bool) -> list[Job]:
    """The files of a batch; names that would collide get the certificate number (or unit id) added."""
    jobs: dict[str, Job] = {}
    taken: set[str] = set()  # case-folded: two names differing in case are one file on Windows and macOS
    for c in certs:
        rel = _rel(template.format_map(_values(c, merged)))
        if merged:
            key = f"{c.unit_id}"
            job = jobs.get(key)
            if job is None:
                if rel.casefold() in taken:
                    rel = _renamed(rel, f"-{c.unit_id}")
                taken.add(rel.casefold())
                job = jobs[key] = Job(out / rel, rel, [])
        else:
            if rel.casefold() in taken:
                rel = _renamed(rel, f"-{c.number}")
            taken.add(rel.casefold())
            job = jobs[rel] = Job(out / rel, rel, [])
        entry = _entry(c)
        entry.file = job.rel
        job.datas.append(to_data(c))
        job.entries.append(entry)
    return list(jobs.values())


def _reason(exc: BaseException) -> str:
    """One person's failure as the manifest's `error`: our errors by their message, others by their kind too."""
    return exc.message if isinstance(exc, HnceError) else f"{type(exc).__name__}: {exc}"


def isolated(work: Callable[[], object]) -> str | None:
    """Run one person's part (their page's text, their file) and return why it failed, or None.

    The batch's one broad handler: whatever the engine or the disk raises for one person
    or one file — a name too long, a folder that is a planted link, a value the template
    cannot format — fails that person alone, with the reason in the manifest, and the
    run goes on for everyone else. Ctrl-C and kills are not caught (the manifest is still
    written, by `run`).
    """
    try:
        work()
    except Exception as exc:  # noqa: BLE001 - one person's failure must not stop the batch: the manifest says why
        return _reason(exc)
    return None


def refuse_unprintable(data: CertificateData) -> str | None:
    """Why a person's certificate cannot be printed as recorded (a control character in a printed field)."""
    return unprintable(name=data.name, unit_name=data.unit_name, id_number_masked=data.id_number_masked)


def prepare_font_excluding(jobs: list[Job], template: Template) -> PreparedFont | None:
    """One font for every job's people; a person whose page cannot be laid out (a character no
    font has, a value the template cannot format) is left out of their job, failed and named."""
    from hnce_cli.certificates.fonts import MissingGlyph
    from hnce_cli.certificates.pdf import prepare_batch_font

    for job in jobs:
        job.fail(lambda d: isolated(lambda: template.strings(d)))
    while True:
        datas = [d for j in jobs for d in j.datas]
        if not datas:
            return None
        try:
            # its own subset, cut once: each of the batch's documents then reads a small font
            return prepare_batch_font(datas, template, whole_base=False)
        except MissingGlyph as exc:
            lacking = _lacking(set(exc.chars), exc.message, template)
            if not sum(job.fail(lacking) for job in jobs):  # the template's own words: the whole batch's problem
                raise


def _lacking(chars: set[str], message: str, template: Template) -> Callable[[CertificateData], str | None]:
    """A person's reason to fail when their page shows one of `chars` (which no font has)."""
    return lambda d: message if any(chars & set(s) for s in template.strings(d)) else None


_WORKER: dict[str, Any] = {}


def _init_worker(template: Template, font: PreparedFont) -> None:
    _WORKER["template"], _WORKER["font"] = template, font


def _render(task: tuple[int, str, str, list[CertificateData], bool]) -> tuple[int, str | None]:
    """Write one file (in a worker); an error is returned as text, never raised."""
    return task[0], isolated(lambda: _write_file(*task[1:]))


def _write_file(out: str, rel: str, datas: list[CertificateData], merged: bool) -> None:
    """One file under `out`: its folders real ones (never a planted link), stale parts gone, then drawn."""
    from hnce_cli.certificates.pdf import write_many, write_one

    *folders, name = rel.split("/")
    path = real_folders(Path(out), folders) / name
    remove_stale_parts(path)  # what a killed run left (.NAME.PID-….part)
    if merged:
        write_many(path, datas, _WORKER["template"], _WORKER["font"])
    else:
        write_one(path, datas[0], _WORKER["template"], _WORKER["font"])


def write_files(out: Path, jobs: list[Job], template: Template, font: PreparedFont, *, workers: int, merged: bool,
                advance: Callable[[int], None]) -> None:
    """Render `jobs` under `out` (workers > 1: that many processes); marks each entry written or failed."""
    tasks = [(i, str(out), job.rel, job.datas, merged) for i, job in enumerate(jobs)]

    def done(index: int, error: str | None) -> None:
        for e in jobs[index].entries:
            e.status, e.error = ("failed", error) if error else ("written", "")
        advance(len(jobs[index].entries))

    if workers <= 1 or len(tasks) <= 1:
        _init_worker(template, font)
        for task in tasks:
            done(*_render(task))
        return
    import multiprocessing as mp

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    pool = mp.get_context(method).Pool(workers, initializer=_init_worker, initargs=(template, font))
    try:
        chunk = max(1, min(16, len(tasks) // (workers * 8) or 1))
        for index, error in pool.imap_unordered(_render, tasks, chunksize=chunk):
            done(index, error)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def write_manifest(out: Path, entries: list[Entry], summary: dict[str, Any]) -> tuple[Path, Path]:
    """manifest.csv (UTF-8 with BOM, for Excel) and manifest.json, both written atomically."""
    from hnce_cli.certificates.pdf import write_atomic
    from hnce_cli.tabular import write_csv

    columns = list(Entry.__dataclass_fields__)
    import io

    # Plain attribute reads: dataclasses.asdict deep-copies every field (a second for 2,000 entries).
    rows = [{c: getattr(e, c) for c in columns} for e in entries]
    buf = io.StringIO()
    # The one writer (tabular): a name that looks like a formula is text in Excel.
    write_csv(buf, columns, ([row[c] for c in columns] for row in rows), newline="\n")
    csv_path = write_atomic(out / MANIFEST_CSV, buf.getvalue().encode("utf-8-sig"))
    body = {**summary, "entries": rows}
    json_path = write_atomic(out / MANIFEST_JSON, json.dumps(body, ensure_ascii=False, indent=1).encode())
    return csv_path, json_path


# --- the whole batch: what `hnce certificate batch` runs ------------------------------------


class Reporter(Protocol):
    """Where progress goes (the command's progress bar, or nowhere)."""

    def add(self, description: str, total: int | None) -> int: ...

    def advance(self, task: int, n: int) -> None: ...


class _Silent:
    def add(self, description: str, total: int | None) -> int:
        return 0

    def advance(self, task: int, n: int) -> None:
        return None


@dataclass
class BatchResult:
    """What a batch did: the summary `--json` prints (and the manifest holds), and its file count."""

    summary: dict[str, Any]
    files: int

    @property
    def failed(self) -> bool:
        return bool(self.summary["failed"])


class Issuer(Protocol):
    """Who issues the pages of a batch: a backend, local or remote."""

    def issue_certificates(self, request: CertificateBatchRequest) -> CertificatePage: ...


def run(backend: Issuer, request: CertificateBatchRequest, out: Path, *, merged: bool = False,
        name_template: str | None = None, jobs: int = 1, force: bool = False,
        progress: Reporter | None = None) -> BatchResult:
    """Issue a scope's certificates page by page, then write the files that are missing.

    The name template is checked before anything is issued. Files that exist are kept
    (`existing`) unless `force`; the manifest is written at the end, also when the run
    is interrupted (entries not reached stay `pending`).
    """
    progress = progress or _Silent()
    template_text = check_name_template(name_template or (DEFAULT_MERGED if merged else DEFAULT_SINGLE), merged)
    year = request.year
    certs: list[CertificateOut] = []
    skipped = []
    scope, not_passed = "", 0
    task = progress.add("签发 issuing", None)
    while True:
        page = backend.issue_certificates(request)
        certs.extend(page.items)
        skipped.extend(page.skipped)
        scope, not_passed = page.scope, not_passed + page.not_passed
        progress.advance(task, page.scanned)
        if page.next_after is None:
            break
        request = request.model_copy(update={"after": page.next_after})
    out.mkdir(parents=True, exist_ok=True)
    jobs_all = plan(certs, out, template_text, merged)
    # every person's line, before anyone is left out of a file: the manifest lists them all
    entries = [e for job in jobs_all for e in job.entries] + [
        Entry(s.number, s.name, s.id_number_masked, s.unit_name, "", year, "", "", s.status, s.reason)
        for s in skipped]
    todo = []
    for job in jobs_all:
        job.fail(refuse_unprintable)  # an official document never prints a control character
        if not job.datas:
            continue
        if is_regular_file(job.path) and not force:  # a planted link is not a finished file: it is replaced
            for e in job.entries:
                e.status = "existing"
        else:
            todo.append(job)
    summary: dict[str, Any] = {"year": year, "scope": scope, "out": str(out), "not_passed": not_passed}
    try:
        if todo:
            from hnce_cli.certificates.template import load_template

            template = load_template()
            font = prepare_font_excluding(todo, template)
            todo = [j for j in todo if j.datas]
            if todo and font is not None:
                task = progress.add("生成 PDF", sum(len(j.entries) for j in todo))
                write_files(out, todo, template, font, workers=jobs, merged=merged,
                            advance=lambda n: progress.advance(task, n))
    finally:
        counts: dict[str, int] = {}
        for e in entries:
            counts[e.status] = counts.get(e.status, 0) + 1
        summary["counts"] = counts
        csv_path, json_path = write_manifest(out, entries, summary)
    summary["manifest"] = {"csv": str(csv_path), "json": str(json_path)}
    summary["failed"] = [{"number": e.number, "name": e.name, "file": e.file, "error": e.error}
                         for e in entries if e.status in ("failed", "conflict")]
    return BatchResult(summary, len({j.rel for j in jobs_all}))
