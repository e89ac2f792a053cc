"""What `hnce approve` and `hnce review` share: deciding a batch of any review workflow
(a preview and a confirmation first, unless --yes or --dry-run) and the one way a
batch's result is shown."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from hnce_cli.commands._common import confirm
from hnce_cli.terms import DECISION_OUTCOMES

if TYPE_CHECKING:
    from hnce_cli.workflows import Workflow

SHOWN_ITEMS = 50
ORDER = ["would_approve", "would_reject", "approved", "rejected", "skipped", "conflict", "failed"]
# CSV headers of the item fields, as scripts read them since the first release.
CSV_NAMES = {"unit_name": "unit"}


def decide(ctx: typer.Context, wf: Workflow, send: Callable[[Any], Any], request: Any, *, yes: bool,
           output: str) -> None:
    """Preview (a dry run) and ask on a terminal, then decide; print the result and exit with
    the batch's code (0, 5 with a conflict, 7 with a failure)."""
    from hnce_cli.render import batch_exit_code

    if not request.dry_run and not yes:
        preview = send(request.model_copy(update={"dry_run": True}))
        count = sum(v for k, v in preview.counts.items() if k.startswith("would_"))
        if count == 0:
            render_batch(preview, wf, output)
            raise typer.Exit(int(batch_exit_code(preview.counts)))
        verb = DECISION_OUTCOMES["rejected" if request.decision == "reject" else "approved"]
        confirm(ctx, f"将{verb} {count} 条{wf.words.noun}，确定吗？", yes)  # "no" exits 130
    result = send(request)
    render_batch(result, wf, output)
    raise typer.Exit(int(batch_exit_code(result.counts)))


def render_batch(result: Any, wf: Workflow, output: str) -> None:
    """A batch's result: JSON or CSV item by item; on a terminal the counts, then the items
    that did not go through (every item of a preview)."""
    from hnce_cli.render import KEY, MAIN, Column, TableView, emit, print_table

    if output != "table":
        names = [f.name for f in dataclasses.fields(result.items[0])] if result.items else []
        emit(result, output, TableView(rows=result.items, columns=[
            Column(CSV_NAMES.get(name, name), lambda i, name=name: getattr(i, name)) for name in names]))
        return
    step = next((s for s in wf.steps if s.name == getattr(result, "level", "")), wf.steps[0])
    prefix = step.label if len(wf.steps) > 1 else ""
    title = f"{prefix}预览（未做任何修改）" if result.dry_run else f"{prefix or '审核'}结果"
    summary = [(DECISION_OUTCOMES[k], result.counts[k]) for k in ORDER if result.counts.get(k)]
    print_table(TableView(title=title, rows=summary or [(f"无待您审核的匹配{wf.words.noun}", 0)], columns=[
        Column("结果", lambda r: r[0], priority=KEY), Column("数量", lambda r: r[1], justify="right", priority=KEY)]))
    notable = result.items if result.dry_run else [
        i for i in result.items if i.outcome in ("skipped", "conflict", "failed")]
    if not notable:
        return
    key_field = dataclasses.fields(notable[0])[0].name
    shown = notable[:SHOWN_ITEMS]
    columns = [Column(wf.key_label, lambda i: getattr(i, key_field), priority=KEY,
                      justify="right" if wf.key_type != "TEXT" else "left")]
    if wf.key != "id_number":  # a registration's key is the person; other items name them
        columns.append(Column("姓名", lambda i: i.name, priority=KEY))
    columns += [Column("结果", lambda i: DECISION_OUTCOMES[i.outcome], priority=KEY),
                Column("原因 / 单位", lambda i: i.reason or i.unit_name, priority=MAIN)]
    print_table(TableView(rows=shown, columns=columns, footnotes=[
        f"另有 {len(notable) - len(shown)} 条未显示；--json 或 --csv 查看全部"] if len(notable) > len(shown) else []))
