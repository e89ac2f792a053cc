"""`hnce inbox`: everything awaiting the caller's decision, across review workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import JsonOpt, NoPagerOpt, WideOpt, fmt, get_backend

if TYPE_CHECKING:
    from hnce_cli.schemas import Inbox


def inbox(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=0, max=100, help="Oldest items shown per workflow.")] = 5,
    json_: JsonOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """Everything awaiting your decision (待审核), workflow by workflow.

    Unit admins see registrations and declarations of their units; HR reviewers the
    declarations of their region that their units passed on. Each workflow shows how
    many wait, since when, the oldest few, and the command that lists them all.

    \b
    Examples:
      hnce inbox
      hnce inbox --limit 0 --json
    """
    render_inbox(get_backend(ctx).inbox(limit), fmt(json_))


def render_inbox(box: Inbox, output: str) -> None:
    from hnce_cli.i18n import words
    from hnce_cli.render import DETAIL, KEY, MAIN, Column, TableView, emit, print_table

    def details() -> None:
        print_table(TableView(title=words("待您审核：共 {total} 项").format(total=box.total), rows=box.queues, columns=[
            Column("审核事项", lambda q: q.label, priority=KEY),
            Column("审核环节", lambda q: q.step_label, priority=DETAIL),
            Column("待审核", lambda q: q.total, justify="right", priority=KEY),
            Column("最早提交", lambda q: q.oldest, no_wrap=True, priority=DETAIL),
            Column("查看全部", lambda q: q.command, no_wrap=True, priority=MAIN)]))
        for queue in box.queues:
            if queue.items:
                print_table(TableView(title=words("{label}：最早的 {count} 项").format(
                    label=words(queue.label), count=len(queue.items)), rows=queue.items, columns=[
                    Column("编号 / 身份证号", lambda i: i.key, priority=KEY),
                    Column("姓名", lambda i: i.name, priority=KEY),
                    Column("单位", lambda i: i.unit_name, priority=MAIN),
                    Column("提交时间", lambda i: i.waiting_since, no_wrap=True, priority=DETAIL)]))

    emit(box, output, details=details)
