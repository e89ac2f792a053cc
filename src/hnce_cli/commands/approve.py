"""`hnce approve`: a unit admin approves or rejects registrations, one or in batches."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import CsvOpt, JsonOpt, NoPagerOpt, WideOpt, YesOpt, fmt, get_backend

if TYPE_CHECKING:
    from hnce_cli.render import TableView


def _date(value: str | None, field: str) -> date | None:
    from hnce_cli.errors import ValidationFailed

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.one(field, f"日期格式不对：{value}", "use YYYY-MM-DD") from exc


def _read_id_file(path: Path) -> list[str]:
    """One ID number per line (or the first column of a CSV); blank lines and # comments skipped."""
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.tabular import decode

    if not path.exists():
        raise ValidationFailed.one("file", f"文件不存在：{path}", "check the path")
    text = decode(path.read_bytes(), field="file")
    if "," in text or '"' in text:  # a CSV: its first column
        values = [line.split(",")[0].strip().strip('"') for line in text.splitlines()]
    else:
        values = [line.strip() for line in text.splitlines()]
    return [v for v in values if v and v[0] != "#" and v not in ("身份证号", "id_number")]


def approve(
    ctx: typer.Context,
    id_numbers: Annotated[list[str] | None, typer.Argument(
        help="ID numbers of registrations to decide.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="File of ID numbers, one per line (or first CSV column).")] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Every pending registration matching --unit/--since/--until.")] = False,
    unit: Annotated[str | None, typer.Option(help="Only this unit (id, USCC or full name).")] = None,
    since: Annotated[str | None, typer.Option(help="Registered on or after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Registered on or before YYYY-MM-DD.")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject (审核不通过) instead.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --reject).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Only list pending registrations.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to list with --list (0 or --all: every row).")] = 100,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    yes: YesOpt = False,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Approve (or --reject) pending registrations of your units (unit admins).

    Re-running is harmless: what is already decided is skipped or reported, never
    changed twice. Exit 0 when all went through, 5 if any was decided by someone
    else (conflict), 7 if any failed (not found, not your unit).

    \b
    Examples:
      hnce approve --list
      hnce approve --list --wide --no-pager
      hnce approve 410105199001011233 410105199202021235
      hnce approve --file ids.txt --yes
      hnce approve --all --unit 郑州市某某会计师事务所 --since 2025-05-01 --dry-run
      hnce approve 410105199001011233 --reject --reason "单位信息不符"
    """
    from hnce_cli.commands._decisions import decide
    from hnce_cli.schemas import DecisionRequest, RegistrationQuery
    from hnce_cli.workflows import REGISTRATION

    window = RegistrationQuery(unit=unit, registered_from=_date(since, "since"), registered_to=_date(until, "until"))
    backend = get_backend(ctx)
    if list_:
        _show_pending(backend.list_pending(window, None if all_ else (limit or None)), fmt(json_, csv_))
        return
    ids = list(id_numbers or [])
    if file:
        ids.extend(_read_id_file(file))
    request = DecisionRequest(
        decision="reject" if reject else "approve",
        id_numbers=ids if (ids or file) else None,  # with --all too: the service refuses both
        all_matching=all_, reason=reason, dry_run=dry_run, **window.model_dump(),
    )
    decide(ctx, REGISTRATION, backend.decide, request, yes=yes, output=fmt(json_, csv_))


def _show_pending(pending, output: str) -> None:  # noqa: ANN001
    from hnce_cli.render import emit

    emit(pending, output, pending_view(pending))


def pending_view(pending) -> TableView:  # noqa: ANN001
    """The pending registrations as a unit admin reads them (bench/tables.py times this view)."""
    from hnce_cli.i18n import words
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column, TableView

    return TableView(
        title=words("待审核注册：共 {total} 条").format(total=pending.total), rows=pending.registrations,
        footnotes=[] if pending.total <= len(pending.registrations) else [
            words("仅显示前 {shown} 条；--limit 0 显示全部").format(shown=len(pending.registrations))],
        columns=[
            # At 80 columns: the person, their unit, when and the state; then (--wide) the rest.
            Column("身份证号", lambda p: p.id_number, priority=KEY), Column("姓名", lambda p: p.name, priority=KEY),
            Column("性别", lambda p: p.gender, priority=EXTRA),
            Column("手机", lambda p: p.mobile, no_wrap=True, priority=EXTRA),
            Column("所在单位", lambda p: p.unit_name, priority=MAIN),
            Column("工作部门", lambda p: p.department, priority=DETAIL),
            Column("注册时间", lambda p: p.registered_at, no_wrap=True, priority=MAIN),
            Column("状态", lambda p: p.status_label, priority=KEY),
        ])
