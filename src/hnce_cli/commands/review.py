"""`hnce review`: unit admins and HR reviewers decide credit declarations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from hnce_cli import i18n
from hnce_cli.commands._common import CsvOpt, JsonOpt, NoPagerOpt, WideOpt, YesOpt, fmt, get_backend, interactive
from hnce_cli.schemas import DeclarationQuery

if TYPE_CHECKING:
    from hnce_cli.render import Progress
    from hnce_cli.schemas import AttachmentBundle
    from hnce_cli.workflows import Workflow


def review(
    ctx: typer.Context,
    keys: Annotated[list[str] | None, typer.Argument(
        help="[KIND] then the items to decide: declaration numbers (default), or the workflow's keys "
             "(registration: ID numbers).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Every item awaiting you that matches the filters.")] = False,
    unit: Annotated[str | None, typer.Option(help="Only this unit (id, USCC or full name).")] = None,
    year: Annotated[int | None, typer.Option(help="Declarations: only this 计入年度.")] = None,
    form: Annotated[str | None, typer.Option(help="Declarations: only this learning form (code or name).")] = None,
    since: Annotated[str | None, typer.Option(help="Registrations: registered on or after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Registrations: registered on or before YYYY-MM-DD.")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject (审核不通过) instead of approving.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --reject; the applicant sees it).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Only list what awaits you.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to list with --list (0: all).")] = 100,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")] = False,
    export_attachments: Annotated[Path | None, typer.Option(
        "--export-attachments", help="Save the attachments of the given / matching declarations here.")] = None,
    open_: Annotated[int | None, typer.Option(
        "--open", help="Show one declaration and open its attachments.")] = None,
    yes: YesOpt = False,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Approve (or --reject) what awaits your review: declarations, or another KIND.

    Declarations (申报) are the default: a unit admin reviews their units' declarations
    first (审核通过 sends them on to HR); an HR reviewer (人社部门) decides those of their
    region, and approval makes the credits count. Name another review workflow first to
    decide its items the same way (registration 注册: as `hnce approve`); `hnce inbox`
    shows what awaits you in each. Re-running is harmless. Exit 0 when all went through,
    5 if any was decided by someone else or is not at your step (conflict), 7 if any
    failed (not found, not in your scope).

    \b
    Examples:
      hnce review --list
      hnce review --open 42
      hnce review 42 43 --yes
      hnce review --all --unit 郑州市某某会计师事务所 --year 2026 --dry-run
      hnce review 44 --reject --reason "证明材料不清晰"
      hnce review --all --export-attachments ./附件
      hnce review registration 410105199001011233 --yes
    """
    from hnce_cli.commands._decisions import decide
    from hnce_cli.workflows import DECLARATION, KIND_WORDS, workflow

    words = list(keys or [])
    wf = workflow(words.pop(0)) if words and words[0] in KIND_WORDS else DECLARATION
    backend = get_backend(ctx)
    output = fmt(json_, csv_)
    if wf is DECLARATION:
        ids = _numbers(words)
        query = DeclarationQuery(awaiting_review=True, unit=unit, year=year, form=form, ids=ids or None)
        if open_ is not None:
            _open(ctx, backend, open_, export_attachments, fmt(json_))
            return
        if export_attachments is not None:
            _export(_bundle(backend, query, quiet=fmt(json_) == "json"), export_attachments, fmt(json_))
            return
        if list_:
            from hnce_cli.commands.declare import render_list

            result = backend.list_declarations(query.model_copy(update={"ids": None}), limit or None)
            render_list(result, output, title=i18n.words("待您审核的申报：共 {total} 条").format(total=result.total),
                        with_person=True)
            return
    elif list_:
        _list_queue(backend, wf, limit or None, output)
        return
    request = _request(wf, words, all_=all_, unit=unit, year=year, form=form, since=since, until=until,
                       reject=reject, reason=reason, dry_run=dry_run)
    decide(ctx, wf, lambda r: backend.review(wf.name, r), request, yes=yes, output=output)


def _numbers(words: list[str]) -> list[int]:
    """Declaration numbers as typed (编号: whole numbers)."""
    from hnce_cli.errors import ValidationFailed

    bad = [w for w in words if not (w.isascii() and w.isdigit())]
    if bad:
        raise ValidationFailed.one("ids", f"申报编号须是数字：{', '.join(bad)}",
                                   "give declaration numbers (see `hnce review --list`)")
    return [int(w) for w in words]


def _request(wf: Workflow, words: list[str], *, all_: bool, unit: str | None, year: int | None,
             form: str | None, since: str | None, until: str | None, reject: bool, reason: str | None,
             dry_run: bool) -> Any:
    """The workflow's request from the command line (filters a workflow lacks are refused)."""
    from hnce_cli import schemas
    from hnce_cli.commands.approve import _date
    from hnce_cli.errors import ValidationFailed

    given = {"unit": unit, "year": year, "form": form, "registered_from": _date(since, "since"),
             "registered_to": _date(until, "until")}
    allowed = {f.field for f in wf.filters}
    extra = [name for name, value in given.items() if value is not None and name not in allowed]
    if extra:
        raise ValidationFailed.one(extra[0], f"{wf.label}不支持此筛选", "filters: " + ", ".join(sorted(allowed)))
    keys: list[Any] = _numbers(words) if wf.key_type != "TEXT" else words
    return getattr(schemas, wf.request_class).model_validate({
        "decision": "reject" if reject else "approve", wf.request_keys: keys or None, "all_matching": all_,
        "reason": reason, "dry_run": dry_run, **{k: v for k, v in given.items() if v is not None}})


def _list_queue(backend: Any, wf: Workflow, limit: int | None, output: str) -> None:
    """A workflow's queue: registrations as `hnce approve --list` shows them, others item by item."""
    if wf.name == "registration":
        from hnce_cli.commands.approve import _show_pending
        from hnce_cli.schemas import RegistrationQuery

        _show_pending(backend.list_pending(RegistrationQuery(), limit), output)
        return
    from hnce_cli.render import DETAIL, KEY, MAIN, Column, TableView, emit

    queue = backend.awaiting(wf.name, limit)
    emit(queue, output, TableView(title=f"待您审核的{wf.words.noun}：共 {queue.total} 条", rows=queue.items, columns=[
        Column(wf.key_label, lambda i: i.key, priority=KEY), Column("姓名", lambda i: i.name, priority=KEY),
        Column("单位", lambda i: i.unit_name, priority=MAIN),
        Column("提交时间", lambda i: i.waiting_since, no_wrap=True, priority=DETAIL)]))


class Exported(NamedTuple):
    """Where one attachment went: its path, or why it could not be written."""

    path: Path | None
    error: str | None


def _write(bundle: AttachmentBundle, folder: Path, shown: Progress | None = None) -> list[Exported]:
    """Each file as `folder/<declaration id>/<its name, made safe>`, created new (never over a
    file, never through a planted link); one that cannot be written is reported, the rest go on."""
    import base64
    from pathlib import PurePosixPath

    from hnce_cli.filenames import real_folders, write_new

    done: list[Exported] = []
    folder.mkdir(parents=True, exist_ok=True)  # the folder the reviewer named; below it, only real folders
    for f in bundle.files:
        # the uploader's own folders are not part of the name (as when it was uploaded)
        name = PurePosixPath(f.filename.replace("\\", "/")).name or f"attachment-{f.id}"
        try:
            target = real_folders(folder, [str(f.declaration_id)])
            done.append(Exported(write_new(target, name, base64.b64decode(f.content_base64)), None))
        except OSError as exc:  # this file alone: a full disk, a folder that is a file or a link
            done.append(Exported(None, _why(exc)))
        if shown is not None:
            shown.advance()
    return done


def _why(exc: OSError) -> str:
    """A file that could not be written, and what to do."""
    if exc.strerror is None:  # ours, already saying what and the fix
        return str(exc)
    return (f"写入失败 (could not write) {exc.filename}: {exc.strerror} — "
            "检查文件夹的空间和权限 (check space and permissions)")


def _bundle(backend: Any, query: DeclarationQuery, *, quiet: bool = False) -> AttachmentBundle:
    """The files of the declarations `query` matches. One request carries a bounded number of
    files (the server refuses more, 413 too_large); past it they are fetched a declaration at
    a time, so `--all --export-attachments` exports every matching declaration's files."""
    from hnce_cli.errors import TooLarge
    from hnce_cli.render import note, progress
    from hnce_cli.schemas import AttachmentBundle

    try:
        with progress("下载附件", quiet=quiet):
            return backend.declaration_attachments(query)
    except TooLarge:
        ids = query.ids or [d.id for d in backend.list_declarations(query.model_copy(update={"ids": None}),
                                                                     None).declarations]
    note(f"附件较多，逐个申报导出 (exporting {len(ids)} declarations one at a time)")
    files = []
    with progress("逐个申报下载附件", total=len(ids), quiet=quiet) as shown:
        for declaration_id in sorted(ids):
            files.extend(backend.declaration_attachments(query.model_copy(update={"ids": [declaration_id]})).files)
            shown.advance()
    return AttachmentBundle(files=files)


def _export(bundle: AttachmentBundle, folder: Path, output: str) -> None:
    from hnce_cli.errors import ExitCode
    from hnce_cli.render import Column, TableView, emit, progress

    with progress("写入附件", total=len(bundle.files), quiet=output == "json") as shown:
        exported = _write(bundle, folder, shown)
    rows = [{"declaration_id": f.declaration_id, "filename": f.filename, "size": f.size, "sha256": f.sha256,
             "path": str(e.path) if e.path else None, "error": e.error}
            for f, e in zip(bundle.files, exported, strict=True)]
    failed = sum(1 for e in exported if e.error)
    title = f"已导出 {len(rows) - failed} 个附件到 {folder}" + (f"，{failed} 个未能写入" if failed else "")
    emit(rows, output, TableView(title=title, rows=rows, columns=[
        Column("申报编号", lambda r: r["declaration_id"], justify="right"),
        Column("文件", lambda r: r["path"] or f"未写入：{r['filename']} — {r['error']}"),
        Column("大小", lambda r: f"{r['size'] / 1024:.0f} KB", justify="right")]))
    if failed:
        raise typer.Exit(int(ExitCode.PARTIAL))


def _open(ctx: typer.Context, backend, declaration_id: int, folder: Path | None, output: str) -> None:  # noqa: ANN001
    import tempfile

    from hnce_cli.commands.declare import render_one
    from hnce_cli.errors import ExitCode
    from hnce_cli.render import note
    from hnce_cli.schemas import DeclarationQuery

    declaration = backend.show_declaration(declaration_id)
    render_one(declaration, output)
    if not declaration.attachments:
        if output == "table":
            note("该申报没有附件")
        return
    bundle = backend.declaration_attachments(DeclarationQuery(ids=[declaration_id]))
    exported = _write(bundle, folder or Path(tempfile.mkdtemp(prefix="hnce-")))
    for f, e in zip(bundle.files, exported, strict=True):
        if e.path is None:
            note(f"附件未能保存 (not saved)：{f.filename!r} — {e.error}")
        elif output == "table":
            note(f"附件：{e.path}")
            if interactive(ctx):
                _launch(e.path)
    if any(e.error for e in exported):
        raise typer.Exit(int(ExitCode.PARTIAL))


def _launch(path: Path) -> None:
    """Open a file with the desktop's viewer, if there is one."""
    import os
    import shutil
    import subprocess
    import sys

    if sys.platform == "darwin":
        subprocess.Popen(["open", str(path)])
    elif os.name == "nt":
        os.startfile(str(path))  # type: ignore[attr-defined]
    elif shutil.which("xdg-open"):
        subprocess.Popen(["xdg-open", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
