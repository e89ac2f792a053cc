"""Certificates to files for a batch: one PDF per person in a folder tree, or one merged
PDF per unit; worker processes; resumable; a manifest of what is in the folder.

Resumable by construction: every file is written atomically (temp file, fsync,
rename), so a file that exists is complete. Issuing is idempotent on the service
side, so a rerun gets the same numbers and codes, and an interrupted run — Ctrl-C,
SIGTERM, a kill, a power cut — continues where it stopped.

The folder stays true: each PDF carries its certificates' verification codes
(`files.read_codes`), and a rerun compares every file with its certificate as it is
now. A file that still holds the current code is kept (`existing`); one whose
certificate was re-issued since (credits approved late, a corrected name, a new key)
is rewritten (`rewritten`); a revoked certificate's file is moved aside into
`已撤销/`; a superseded copy at a path the batch no longer uses is removed. The
manifest, written at the end and also when the run is interrupted, lists exactly the
files that are there.

One person never stops a batch: a record a certificate cannot print (a control
character in the name), a character no font has, anything the engine raises for one
person's page or file fails that person (that file, merged) with the reason in the
manifest, and everyone else's files are written. File names are made safe by
`hnce_cli.filenames`; nothing is written through a symbolic link planted under --out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import string
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from hnce_cli.certificates.files import number_of, read_codes
from hnce_cli.certificates.files import stamp as file_stamp
from hnce_cli.certificates.issued import to_data
from hnce_cli.certificates.model import CertificateData, unprintable
from hnce_cli.errors import HnceError, ValidationFailed
from hnce_cli.filenames import is_regular_file, numbered, real_folders, remove_stale_parts, safe_name, suffixed

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
# Where a rerun moves the files of revoked certificates (kept, not deleted: what was handed out
# and is now withdrawn stays at hand for whoever must recall the paper), under --out.
REVOKED_FOLDER = "已撤销"
# The statuses of a manifest row whose file is in the folder, holding the row's verification code.
PRESENT = ("written", "rewritten", "existing")


class Terminated(KeyboardInterrupt):
    """SIGTERM during a batch, raised where Ctrl-C raises KeyboardInterrupt: a stop from a
    service manager or `kill` takes the same way out (files settled, the manifest written,
    已取消) and the command exits 143 (128 + 15, as a shell reports a SIGTERM)."""

    exit_code = 143


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
    # written | rewritten | existing (the file is there, holding verification_code) | failed | revoked |
    # conflict | pending (the run stopped before this file)
    status: str = "pending"
    error: str = ""


@dataclass
class Job:
    """One file to write, and whose certificates it holds (one, or a unit's): datas[i] is entries[i]'s."""

    path: Path
    rel: str
    datas: list[CertificateData]
    entries: list[Entry] = field(default_factory=list)
    # what was at `path` before this run wrote it: "" nothing, "true" its current codes, "stale" anything
    # else; "kept": nobody in it to draw, left as it is; None: not looked at (the run was stopped before)
    had: str | None = None

    def codes(self) -> tuple[str, ...]:
        """The verification codes this job's file holds once written, in page order."""
        return tuple(d.verification_code for d in self.datas)

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


def _init_worker(template: Template, font: PreparedFont, in_pool: bool = False) -> None:
    if in_pool:
        # Ctrl-C reaches the whole process group: the batch's own process settles the files and
        # writes the manifest; a worker just stops when told (SIGTERM from pool.terminate).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
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
                advance: Callable[[int], None], finished: Callable[[Job, str | None], None] | None = None) -> None:
    """Render `jobs` under `out` (workers > 1: that many processes); marks each entry written,
    rewritten or failed, and tells `finished` about each job as soon as it is done."""
    tasks = [(i, str(out), job.rel, job.datas, merged) for i, job in enumerate(jobs)]

    def done(index: int, error: str | None) -> None:
        job = jobs[index]
        for e in job.entries:
            if error:
                # a file that held its current codes is still there and still true
                e.status, e.error = ("existing", error) if job.had == "true" else ("failed", error)
            else:
                e.status, e.error = ("rewritten" if job.had else "written"), ""
        if finished is not None:
            finished(job, error)
        advance(len(job.entries))

    if workers <= 1 or len(tasks) <= 1:
        _init_worker(template, font)
        for task in tasks:
            done(*_render(task))
        return
    import multiprocessing as mp

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    pool = mp.get_context(method).Pool(workers, initializer=_init_worker, initargs=(template, font, True))
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


def write_manifest(out: Path, entries: list[Entry], summary: dict[str, Any],
                   files: dict[str, tuple[list[int], tuple[str, ...]]] | None = None) -> tuple[Path, Path]:
    """manifest.csv (UTF-8 with BOM, for Excel) and manifest.json, both written atomically.

    manifest.json also keeps, for each file the run saw, its stamp (`files.stamp`) and the codes
    it holds: the next run trusts those for a file whose stamp is unchanged instead of opening it."""
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
    body = {**summary, "entries": rows,
            "files": {rel: {"stamp": st, "codes": list(codes)} for rel, (st, codes) in (files or {}).items()}}
    json_path = write_atomic(out / MANIFEST_JSON, json.dumps(body, ensure_ascii=False, indent=1).encode())
    return csv_path, json_path


# --- what is in the folder: the codes each file holds, read back --------------------------------


def _key(rel: str) -> str:
    """A path as the file system compares it (case and Unicode form aside, as on Windows and macOS)."""
    return unicodedata.normalize("NFC", rel).casefold()


@dataclass
class Folder:
    """The files under --out and the codes they hold, as this run finds them.

    `known` is the previous run's record (manifest.json's `files`): a file whose stamp is
    unchanged is not opened again, so a rerun over 100,000 unchanged files reads no PDF.
    `seen` is what the new manifest records."""

    out: Path
    known: dict[str, tuple[list[int], tuple[str, ...]]] = field(default_factory=dict)
    seen: dict[str, tuple[list[int], tuple[str, ...]]] = field(default_factory=dict)
    moved: int = 0
    removed: int = 0

    @classmethod
    def load(cls, out: Path) -> Folder:
        folder = cls(out)
        try:
            previous = json.loads((out / MANIFEST_JSON).read_bytes())
            for rel, item in (previous.get("files") or {}).items():
                folder.known[rel] = ([int(v) for v in item["stamp"]], tuple(str(c) for c in item["codes"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass  # no manifest, or not ours: every file is read instead
        return folder

    def codes(self, rel: str) -> tuple[str, ...] | None:
        """The codes the file at `rel` holds (None: not a file hnce wrote, or not a regular file)."""
        path = os.path.join(self.out, rel)  # a string: Path objects cost more than the lstat, 100,000 times
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):  # a planted link is never read through, and is replaced
            return None
        mark = file_stamp(st)
        known = self.known.get(rel)
        codes = known[1] if known is not None and known[0] == mark else read_codes(path)
        if codes is not None:
            self.seen[rel] = (mark, codes)
        return codes

    def note_written(self, job: Job) -> None:
        with contextlib.suppress(OSError):
            self.seen[job.rel] = (file_stamp(os.lstat(job.path)), job.codes())

    def forget(self, rel: str) -> None:
        self.seen.pop(rel, None)

    def pdfs(self, under: str = "") -> Iterator[str]:
        """Every regular PDF under --out (not in 已撤销/, no hidden temporary files), as a relative path;
        `under`: only in that folder of --out (已撤销/ itself)."""
        stack = [(under + "/", self.out / under)] if under else [("", self.out)]
        while stack:
            prefix, folder = stack.pop()
            try:
                listing = os.scandir(folder)
            except OSError:
                continue
            with listing:
                for item in listing:
                    if item.name.startswith("."):
                        continue
                    rel = prefix + item.name
                    if item.is_dir(follow_symlinks=False):
                        if rel != REVOKED_FOLDER:
                            stack.append((rel + "/", Path(item.path)))
                    elif item.is_file(follow_symlinks=False) and item.name.lower().endswith(".pdf"):
                        yield rel

    def move_aside(self, rel: str) -> str:
        """Move a revoked certificate's file to 已撤销/ under the same relative path (never over another)."""
        *folders, name = rel.split("/")
        target_folder = real_folders(self.out, [REVOKED_FOLDER, *folders])
        chosen = name
        for n in range(2, 10_000):
            if not os.path.lexists(target_folder / chosen):
                break
            chosen = numbered(name, n)
        os.replace(self.out / rel, target_folder / chosen)
        self.forget(rel)
        self.moved += 1
        return "/".join([REVOKED_FOLDER, *folders, chosen])

    def remove(self, rel: str) -> None:
        (self.out / rel).unlink(missing_ok=True)
        self.forget(rel)
        self.removed += 1


def _all_numbers(codes: tuple[str, ...]) -> set[str]:
    return {number_of(c) for c in codes}


def survey(folder: Folder, jobs: list[Job], skipped: dict[str, Entry], force: bool) -> list[Job]:
    """Compare the folder with the certificates as they are now; the jobs to (re)write.

    A planned file holding exactly its certificates' current codes is kept (`existing`);
    one holding other codes (a re-issue, a new key) or none hnce wrote is rewritten; one
    holding only revoked certificates is moved aside first. Then every other PDF in the
    folder holding certificates of this run: revoked → moved aside into 已撤销/; a copy
    whose code is no longer current (the person's path changed: another unit, another
    name) → removed; a person the run could not issue (failed, conflict) keeps theirs.
    A PDF holding any certificate this run did not ask about — another scope, another
    year, not hnce's — is left alone."""
    revoked = {n for n, e in skipped.items() if e.status == "revoked"}
    current = {e.number: e.verification_code for job in jobs for e in job.entries}
    todo: list[Job] = []
    planned: set[str] = set()
    for job in jobs:
        planned.add(_key(job.rel))
        if not job.datas:  # everyone in it failed before drawing (refused as unprintable): left as it is
            job.had = "kept"
            continue
        codes = folder.codes(job.rel)
        if codes is not None and _all_numbers(codes) <= revoked:  # a revoked person's file at this name
            _revoked_moved(folder, job.rel, codes, skipped)
            codes = None
        has_file = codes is not None or is_regular_file(job.path)  # a planted link is replaced, not "rewritten"
        if codes == job.codes():
            job.had = "true"
            for e in job.entries:
                e.status = "existing"
            if force:
                todo.append(job)
        else:
            job.had = "stale" if has_file else ""
            todo.append(job)
    with _signals_held(False):  # files moved or removed are all named in the manifest, even if stopped here
        _other_files(folder, planned, current, skipped, revoked)
    return todo


def _other_files(folder: Folder, planned: set[str], current: dict[str, str], skipped: dict[str, Entry],
                 revoked: set[str]) -> None:
    """The PDFs in the folder the plan does not name (see `survey`)."""
    for rel in list(folder.pdfs()):
        if _key(rel) in planned:
            continue
        codes = folder.codes(rel)
        if codes is None:
            continue  # not a certificate hnce wrote: not this run's to judge
        numbers = _all_numbers(codes)
        if not numbers <= (current.keys() | skipped.keys()):
            continue  # holds a certificate outside this run (another scope or year)
        if numbers <= revoked:
            _revoked_moved(folder, rel, codes, skipped)
        elif numbers & skipped.keys() - revoked:
            for number in numbers & skipped.keys():  # failed or in conflict now: they keep the file they have
                skipped[number].file = skipped[number].file or rel
        elif any(current.get(number_of(c)) != c for c in codes) or numbers & revoked:
            folder.remove(rel)  # superseded: its people's current certificates are at their planned paths
        # else a copy still true (another --name-template into the same folder): left as it is
    if any(not skipped[n].file for n in revoked):  # moved aside by an earlier run: named again
        for rel in list(folder.pdfs(REVOKED_FOLDER)):
            for number in _all_numbers(folder.codes(rel) or ()) & revoked:
                skipped[number].file = skipped[number].file or rel


def _revoked_moved(folder: Folder, rel: str, codes: tuple[str, ...], skipped: dict[str, Entry]) -> None:
    try:
        moved = folder.move_aside(rel)
    except OSError as exc:
        for number in _all_numbers(codes):
            skipped[number].file = rel
            skipped[number].error += f"；未能移入 {REVOKED_FOLDER}/ (could not move it aside): {exc}"
        return
    for number in _all_numbers(codes):
        skipped[number].file = moved


def settle(folder: Folder, jobs: list[Job], finished: set[int]) -> None:
    """After the drawing, whole or interrupted: every file the manifest names is there and true,
    and a person the run did not reach has no out-of-date file left under their name.

    A job a worker finished but whose answer never came back (the run was stopped) is found
    by its codes; so is a true file the survey had not reached yet (`existing`). An
    out-of-date file not rewritten in time (or whose drawing failed) is removed: its code
    no longer verifies, and the folder must not offer it as current."""
    for job in jobs:
        if id(job) in finished or job.had in ("true", "kept") or (job.had is None and not job.datas):
            continue
        if job.had == "" and not any(e.status == "pending" for e in job.entries):
            continue  # nothing was there, and nothing is to be: failed
        codes = folder.codes(job.rel)
        if job.datas and codes == job.codes():
            done = "existing" if job.had is None else "rewritten" if job.had else "written"
            for e in job.entries:
                if e.status == "pending":
                    e.status = done
        elif job.had != "" and is_regular_file(job.path):
            with contextlib.suppress(OSError):
                job.path.unlink()
            folder.forget(job.rel)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """For a batch's duration, SIGTERM raises `Terminated` (a KeyboardInterrupt): a stop from a
    service manager takes Ctrl-C's way out. Only in the main thread (where Python runs signal
    handlers); a SIGTERM someone chose to ignore stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held(stopping: bool) -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the manifest is written (a manifest cut short would describe
    nothing); one that came meanwhile is raised afterwards, unless the run is already stopping."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def remember(signum: int, frame: object) -> None:
        came.append(signum)

    previous = {s: signal.signal(s, remember) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if came and not stopping:
        raise Terminated if came[0] == signal.SIGTERM else KeyboardInterrupt


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
    """Issue a scope's certificates page by page, then bring the folder up to date with them.

    The name template is checked before anything is issued. Files that hold their
    certificates' current codes are kept (`existing`) unless `force`; re-issued ones are
    rewritten, revoked ones moved aside (`survey`). SIGTERM is Ctrl-C for the run's
    duration; once the folder is being changed, the manifest is written at the end, also
    when the run is interrupted (entries not reached stay `pending`, and no stale file is
    left for them). Interrupted while issuing, the folder and its manifest are untouched.
    """
    with terminate_as_interrupt():
        return _run(backend, request, out, merged=merged, name_template=name_template, jobs=jobs, force=force,
                    progress=progress or _Silent())


def _run(backend: Issuer, request: CertificateBatchRequest, out: Path, *, merged: bool, name_template: str | None,
         jobs: int, force: bool, progress: Reporter) -> BatchResult:
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
    left_out = {s.number: Entry(s.number, s.name, s.id_number_masked, s.unit_name, "", year, "", "", s.status,
                                s.reason) for s in skipped}
    entries = [e for job in jobs_all for e in job.entries] + list(left_out.values())
    for job in jobs_all:
        job.fail(refuse_unprintable)  # an official document never prints a control character
    summary: dict[str, Any] = {"year": year, "scope": scope, "out": str(out), "not_passed": not_passed}
    folder = Folder.load(out)
    todo: list[Job] = []
    finished: set[int] = set()
    stopping = True
    try:
        todo = survey(folder, jobs_all, left_out, force)
        if todo:
            from hnce_cli.certificates.template import load_template

            template = load_template()
            font = prepare_font_excluding(todo, template)
            drawable = [j for j in todo if j.datas]
            if drawable and font is not None:
                task = progress.add("生成 PDF", sum(len(j.entries) for j in drawable))

                def finished_job(job: Job, error: str | None) -> None:
                    if error is None:  # a failed one is settled below: a stale file of it is removed
                        finished.add(id(job))
                        folder.note_written(job)

                write_files(out, drawable, template, font, workers=jobs, merged=merged,
                            advance=lambda n: progress.advance(task, n), finished=finished_job)
        stopping = False
    finally:
        with _signals_held(stopping):
            settle(folder, jobs_all, finished)
            counts: dict[str, int] = {}
            for e in entries:
                counts[e.status] = counts.get(e.status, 0) + 1
            summary["counts"] = counts
            summary["moved_aside"], summary["removed"] = folder.moved, folder.removed
            csv_path, json_path = write_manifest(out, entries, summary, folder.seen)
    summary["manifest"] = {"csv": str(csv_path), "json": str(json_path)}
    summary["failed"] = [{"number": e.number, "name": e.name, "file": e.file, "error": e.error}
                         for e in entries if e.status in ("failed", "conflict")]
    return BatchResult(summary, len({j.rel for j in jobs_all}))
