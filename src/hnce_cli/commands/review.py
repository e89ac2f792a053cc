"""`hnce review`: unit admins and HR reviewers decide credit declarations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, YesOpt, confirm, fmt, get_backend, interactive
from hnce_cli.terms import DECISION_OUTCOMES

if TYPE_CHECKING:
    from hnce_cli.schemas import AttachmentBundle, ReviewResult

OUTCOMES = DECISION_OUTCOMES
SHOWN_ITEMS = 50


def review(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Declaration numbers to decide.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Every declaration awaiting you that matches the filters.")] = False,
    unit: Annotated[str | None, typer.Option(help="Only this unit (id, USCC or full name).")] = None,
    year: Annotated[int | None, typer.Option(help="Only this 计入年度.")] = None,
    form: Annotated[str | None, typer.Option(help="Only this learning form (code or name).")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject (审核不通过) instead of approving.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --reject; the declarant sees it).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Only list the declarations awaiting you.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to list with --list (0: all).")] = 100,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")] = False,
    export_attachments: Annotated[Path | None, typer.Option(
        "--export-attachments", help="Save the attachments of the given / matching declarations here.")] = None,
    open_: Annotated[int | None, typer.Option(
        "--open", help="Show one declaration and open its attachments.")] = None,
    yes: YesOpt = False,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
) -> None:
    """Approve (or --reject) what awaits your review: declarations, or another KIND.

    A unit admin reviews their units' declarations first (审核通过 sends them on to
    HR); an HR reviewer (人社部门) decides those of their region, and approval makes
    the credits count. Re-running is harmless. Exit 0 when all went through, 5 if
    any was decided by someone else or is not at your step (conflict), 7 if any
    failed (not found, not in your scope).

    \b
    Examples:
      hnce review --list
      hnce review --open 42
      hnce review 42 43 --yes
      hnce review --all --unit 郑州市某某会计师事务所 --year 2026 --dry-run
      hnce review 44 --reject --reason "证明材料不清晰"
      hnce review --all --export-attachments ./附件
    """
    from hnce_cli.schemas import DeclarationQuery, ReviewRequest

    backend = get_backend(ctx)
    query = DeclarationQuery(awaiting_review=True, unit=unit, year=year, form=form,
                             ids=list(ids) if ids else None)
    if open_ is not None:
        _open(ctx, backend, open_, export_attachments, fmt(json_))
        return
    if export_attachments is not None:
        bundle = backend.declaration_attachments(query)
        _export(bundle, export_attachments, fmt(json_))
        return
    if list_:
        from hnce_cli.commands.declare import render_list

        result = backend.list_declarations(query.model_copy(update={"ids": None}), limit or None)
        render_list(result, fmt(json_, csv_), title=f"待您审核的申报：共 {result.total} 条", with_person=True)
        return
    request = ReviewRequest(decision="reject" if reject else "approve", ids=list(ids) if ids else None,
                            all_matching=all_, unit=unit, year=year, form=form, reason=reason, dry_run=dry_run)
    if not dry_run and not yes:
        preview = backend.review_declarations(request.model_copy(update={"dry_run": True}))
        count = sum(v for k, v in preview.counts.items() if k.startswith("would_"))
        if count == 0:
            render_review(preview, fmt(json_, csv_))
            raise typer.Exit(_exit(preview))
        verb = OUTCOMES["rejected" if reject else "approved"]
        if not confirm(ctx, f"将{verb} {count} 条申报，确定吗？", yes):
            raise typer.Exit(1)
    result = backend.review_declarations(request)
    render_review(result, fmt(json_, csv_))
    raise typer.Exit(_exit(result))


def _exit(result: ReviewResult) -> int:
    from hnce_cli.render import batch_exit_code

    return int(batch_exit_code(result.counts))


def _write(bundle: AttachmentBundle, folder: Path) -> list[Path]:
    """declaration id / file name under `folder`; names are reduced to their last part."""
    import base64
    from pathlib import PurePosixPath

    written = []
    for f in bundle.files:
        target = folder / str(f.declaration_id)
        target.mkdir(parents=True, exist_ok=True)
        name = PurePosixPath(f.filename.replace("\\", "/")).name or f"attachment-{f.id}"
        path = target / (name if not (target / name).exists() else f"{f.id}-{name}")
        path.write_bytes(base64.b64decode(f.content_base64))
        written.append(path)
    return written


def _export(bundle: AttachmentBundle, folder: Path, output: str) -> None:
    from hnce_cli.render import Column, TableView, emit

    paths = _write(bundle, folder)
    rows = [{"declaration_id": f.declaration_id, "filename": f.filename, "size": f.size, "sha256": f.sha256,
             "path": str(p)} for f, p in zip(bundle.files, paths, strict=True)]
    emit(rows, output, TableView(title=f"已导出 {len(rows)} 个附件到 {folder}", rows=rows, columns=[
        Column("申报编号", lambda r: r["declaration_id"], justify="right"), Column("文件", lambda r: r["path"]),
        Column("大小", lambda r: f"{r['size'] / 1024:.0f} KB", justify="right")]))


def _open(ctx: typer.Context, backend, declaration_id: int, folder: Path | None, output: str) -> None:  # noqa: ANN001
    import tempfile

    from hnce_cli.commands.declare import render_one
    from hnce_cli.render import note
    from hnce_cli.schemas import DeclarationQuery

    declaration = backend.show_declaration(declaration_id)
    render_one(declaration, output)
    if not declaration.attachments:
        if output == "table":
            note("该申报没有附件")
        return
    bundle = backend.declaration_attachments(DeclarationQuery(ids=[declaration_id]))
    paths = _write(bundle, folder or Path(tempfile.mkdtemp(prefix="hnce-")))
    if output != "table":
        return
    for path in paths:
        note(f"附件：{path}")
        if interactive(ctx):
            _launch(path)


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


def render_review(result: ReviewResult, output: str) -> None:
    from hnce_cli.render import Column, TableView, emit, print_table

    if output != "table":
        emit(result, output, TableView(rows=result.items, columns=[
            Column("id", lambda i: i.id), Column("outcome", lambda i: i.outcome), Column("status", lambda i: i.status),
            Column("reason", lambda i: i.reason), Column("name", lambda i: i.name),
            Column("unit", lambda i: i.unit_name), Column("credits", lambda i: i.credits)]))
        return
    order = ["would_approve", "would_reject", "approved", "rejected", "skipped", "conflict", "failed"]
    summary = [(OUTCOMES[k], result.counts[k]) for k in order if result.counts.get(k)]
    level = "用人单位审核" if result.level == "unit" else "人社部门审核"
    title = f"{level}预览（未做任何修改）" if result.dry_run else f"{level}结果"
    print_table(TableView(title=title, rows=summary or [("无待您审核的匹配申报", 0)], columns=[
        Column("结果", lambda r: r[0]), Column("数量", lambda r: r[1], justify="right")]))
    notable = result.items if result.dry_run else [
        i for i in result.items if i.outcome in ("skipped", "conflict", "failed")]
    if notable:
        shown = notable[:SHOWN_ITEMS]
        print_table(TableView(rows=shown, columns=[
            Column("编号", lambda i: i.id, justify="right"), Column("姓名", lambda i: i.name),
            Column("结果", lambda i: OUTCOMES[i.outcome]), Column("原因 / 单位", lambda i: i.reason or i.unit_name),
        ], footnotes=[f"另有 {len(notable) - len(shown)} 条未显示；--json 或 --csv 查看全部"]
            if len(notable) > len(shown) else []))
