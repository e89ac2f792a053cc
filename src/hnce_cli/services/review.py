"""The review engine: every workflow of `hnce_cli.workflows` decided the same way.

A batch (keys, or everything awaiting the decider that matches filters) is ONE
conditional UPDATE — `… WHERE t.status = '<awaiting>' AND <the decider's scope> AND
<filters> [AND key IN (:keys)]` — so an item leaves a step exactly once: a second
decider changes nothing and is told who decided first. On PostgreSQL the statement locks
its rows in id order before it changes them, so overlapping batches queue and never
deadlock. The audit rows of every item
moved are one INSERT … SELECT in the same transaction, then the workflow's effects
(an approved declaration's credit record). Items that did not move are explained one
by one: not found, not yours, outside the filters, already decided (by you: skipped;
by someone else: a conflict naming them and when), or not at this step yet.

The queue a decider sees (`queue`) and the inbox across workflows (`inbox`) read the
same scope and the same partial indexes (the awaiting state is a literal in the SQL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

from hnce_cli import clock, schemas, text
from hnce_cli.clock import CHINA_TZ
from hnce_cli.errors import FieldProblem, PermissionDenied, ValidationFailed
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.store import Db, json_list
from hnce_cli.workflows import WORKFLOWS, Step, Workflow

_UNIFORM = ("key", "outcome", "status", "reason", "name", "unit_name")


class Clauses(NamedTuple):
    """The decider's scope and the request's filters as SQL on `t`, with their parameters."""

    scope: str
    filters: list[str]
    params: dict[str, Any]

    @property
    def where(self) -> str:
        return " AND ".join([self.scope, *self.filters])


def step_of(wf: Workflow, actor: Actor) -> Step:
    """The step this actor decides, or a refusal naming who may."""
    step = wf.step_for(actor.role)
    if step is None:
        actor.require(*dict.fromkeys(role for s in wf.steps for role in s.deciders))
    assert step is not None
    return step


def _scope(db: Db, actor: Actor, step: Step) -> tuple[str, dict[str, Any], set[str] | None]:
    if step.scope == "units":
        return (f"t.unit_id IN (SELECT value FROM {db.json_values('scope_units', 'BIGINT')} AS su)",
                {"scope_units": json_list(sorted(actor.unit_ids))}, None)
    from hnce_cli.services.accounts import region_descendants

    regions = region_descendants(db, actor.region_code or "")
    return (f"t.unit_id IN (SELECT id FROM unit WHERE region_code IN (SELECT value FROM "
            f"{db.json_values('scope_regions')} AS sr))", {"scope_regions": json_list(sorted(regions))}, regions)


def clauses(db: Db, actor: Actor, wf: Workflow, step: Step, request: Any) -> Clauses:
    """Scope, then each filter the request sets (a unit is checked against the scope)."""
    scope, params, regions = _scope(db, actor, step)
    filters: list[str] = []
    for f in wf.filters:
        value = getattr(request, f.field, None)
        if value is None or value == "":
            continue
        name = f"f_{f.field}"
        if f.kind == "unit":
            from hnce_cli.services.units import resolve_unit

            unit = resolve_unit(db, value, field=f.field)
            if regions is None and unit.id not in actor.unit_ids:
                raise PermissionDenied(f"{unit.name} 不是您管理的单位", {"unit_id": unit.id})
            if regions is not None and unit.region_code not in regions:
                raise PermissionDenied(f"{unit.name} 不在您的审核区域内", {"unit_id": unit.id})
            filters.append(f"t.{f.column} = :{name}")
            params[name] = unit.id
        elif f.kind == "day_from":
            filters.append(f"t.{f.column} >= :{name}")
            params[name] = datetime.combine(value, time.min, CHINA_TZ)
        elif f.kind == "day_to":
            filters.append(f"t.{f.column} < :{name}")
            params[name] = datetime.combine(value + timedelta(days=1), time.min, CHINA_TZ)
        elif f.kind == "form":
            from hnce_cli.services.forms import current_forms, find_form

            filters.append(f"t.{f.column} = :{name}")
            params[name] = find_form(current_forms(db), value).code
        else:
            filters.append(f"t.{f.column} = :{name}")
            params[name] = value
    return Clauses(scope, filters, params)


def _keys(wf: Workflow, given: Sequence[Any]) -> tuple[list[Any], list[tuple]]:
    """The requested keys de-duplicated (ID numbers upper-cased); malformed ones as failed
    items, reported as given. Whole-list passes: a batch can hold 100,000."""
    if wf.key_type != "TEXT":
        return list(dict.fromkeys(given)), []
    keys = dict.fromkeys([str(raw).strip().upper() for raw in given])
    keys.pop("", None)
    pattern = re.compile(wf.key_pattern) if wf.key_pattern else None
    good = [k for k in keys if pattern is None or pattern.fullmatch(k)]
    if len(good) == len(keys):
        return good, []
    valid = set(good)
    bad = dict.fromkeys(str(raw).strip() for raw in given
                        if str(raw).strip() and str(raw).strip().upper() not in valid)
    return good, [(value, "failed", None, wf.words.malformed, None, None) for value in bad]


def _check_request(wf: Workflow, request: Any) -> tuple[list[Any] | None, str | None]:
    reason = text.clean_optional(getattr(request, "reason", None), "reason", text.REASON)
    if request.decision == "reject" and not reason:
        raise ValidationFailed.one("reason", "审核不通过必须填写原因", wf.words.reject_fix)
    given = getattr(request, wf.request_keys)
    if given is not None and request.all_matching:
        raise ValidationFailed(
            f"审核对象只能二选一：{wf.key_label}或 --all (give {wf.request_keys} or --all, not both)", problems=[
                FieldProblem(wf.request_keys, f"已给出{wf.key_label}", "drop them to decide all matching the filters"),
                FieldProblem("all", "已给出 --all", "drop --all to decide only the ones given")])
    if given is None and not request.all_matching:
        raise ValidationFailed.one(wf.request_keys, f"未指定要审核的{wf.words.noun}", wf.words.keys_fix)
    return given, reason if request.decision == "reject" else None


def _set_clause(wf: Workflow, step: Step, decision: str, target: str) -> str:
    parts = [f"status = '{target}'"]
    for stamp in wf.stamps:
        if stamp.when == "final" and not wf.is_final(target):
            continue
        if stamp.when == "reject" and decision != "reject":
            continue
        parts.append(f"{stamp.column} = :{stamp.value}")
    return ", ".join(parts)


def decide(db: Db, actor: Actor, kind: str, request: Any) -> Any:
    """Approve or reject items awaiting the actor's step, by keys or by filters, atomically."""
    wf = WORKFLOWS[kind]
    step = step_of(wf, actor)
    given, reason = _check_request(wf, request)
    decision, dry_run = request.decision, request.dry_run
    where = clauses(db, actor, wf, step, request)
    target = wf.target(step, decision)
    keys, uniform = _keys(wf, given) if given is not None else ([], [])
    params = dict(where.params)
    condition = f"t.status = '{step.awaiting}' AND {where.where}"
    if given is not None:
        condition += f" AND t.{wf.key} IN (SELECT value FROM {db.json_values('keys', wf.key_type)} AS k)"
        params["keys"] = json_list(keys)
    person = "professional_id" if wf.person_join else "name"
    columns = ", ".join(["id", wf.key, "unit_id", person, *wf.extras])
    now = clock.now()
    if given is not None and not keys:
        rows: list[tuple] = []
    elif dry_run:
        rows = db.rows(f"SELECT {', '.join('t.' + c for c in columns.split(', '))} FROM {wf.table} t "
                       f"WHERE {condition}", **params)
    else:
        rows = db.rows(f"UPDATE {wf.table} AS t SET {_set_clause(wf, step, decision, target)} "
                       f"WHERE {_in_id_order(db, wf, condition)} RETURNING {columns}",
                       now=now, actor=actor.account_id, reason=reason, step=step.name, **params)
    rows.sort()  # by id, as lists show them
    moved = [row[0] for row in rows]
    if moved and not dry_run:
        before = {"status": step.awaiting}
        after = {"status": target, "reason": reason} if reason else {"status": target}
        audit.record_for_ids(db, actor, wf.action_of(step, decision), wf.table, moved, before, after, now)
        for effect in wf.effects:
            if effect.step == step.name and effect.decision == decision:
                db.execute(effect.sql.format(ids=db.json_values("ids", "BIGINT")), now=now, ids=json_list(moved))
    outcome = f"would_{decision}" if dry_run else ("approved" if decision == "approve" else "rejected")
    status_after = step.awaiting if dry_run else target
    if rows:
        names = _names(db, wf, rows)
        units = dict(db.rows(f"SELECT id, name FROM unit WHERE id IN (SELECT value FROM "
                             f"{db.json_values('units', 'BIGINT')} AS x)", units=json_list({r[2] for r in rows})))
        uniform.extend((key, outcome, status_after, None, names.get(who), units.get(unit_id), *extra)
                       for _, key, unit_id, who, *extra in rows)
    if given is not None:
        done = {row[1] for row in rows}
        left = [k for k in keys if k not in done]
        if left:
            uniform.extend(_explain(db, actor, wf, step, decision, where, left))
    counts: dict[str, int] = {}
    for item in uniform:
        counts[item[1]] = counts.get(item[1], 0) + 1
    return _result(wf, step, decision, dry_run, counts, uniform)


def _in_id_order(db: Db, wf: Workflow, condition: str) -> str:
    """The decision's WHERE. On PostgreSQL its rows are first locked in id order (a sub-select
    … ORDER BY id FOR NO KEY UPDATE, the lock the UPDATE itself takes): the UPDATE alone locks
    rows in whatever order its plan meets them (a batch's hashed ID numbers, an index), so two
    overlapping batches could each hold a row the other waits for, and PostgreSQL would abort
    one of them, its other items undecided. Locked in one order, the later batch waits for the
    earlier, and the re-checked condition then leaves out what the earlier one decided. SQLite
    has one writer at a time: nothing to order."""
    if not db.pg:
        return condition
    return f"t.id IN (SELECT t.id FROM {wf.table} t WHERE {condition} ORDER BY t.id FOR NO KEY UPDATE)"


def _names(db: Db, wf: Workflow, rows: list[tuple]) -> dict[Any, str]:
    """The person's name of each moved item (RETURNING gave the name itself, or the person's id)."""
    if not wf.person_join:
        return {row[3]: row[3] for row in rows}
    return dict(db.rows(f"SELECT p.id, p.name FROM professional p WHERE p.id IN (SELECT value FROM "
                        f"{db.json_values('people', 'BIGINT')} AS x)", people=json_list({row[3] for row in rows})))


def _result(wf: Workflow, step: Step, decision: str, dry_run: bool, counts: dict[str, int],
            uniform: list[tuple]) -> Any:
    """The workflow's result and item shapes, built from trusted values without validation:
    for 100,000 items pydantic's validation cost more than the UPDATE (serialising them
    stays pydantic's job)."""
    item = getattr(schemas, wf.item_class)
    names = (*_UNIFORM, *wf.extras)
    picks = [names.index(f) for f in wf.item_fields]
    items = [item(*[u[i] if i < len(u) else None for i in picks]) for u in uniform]
    result = getattr(schemas, wf.result_class)
    fields = {"decision": decision, "dry_run": dry_run, "counts": counts, "items": items}
    if "level" in result.model_fields:
        fields["level"] = step.name
    return result.model_construct(**fields)


class _Last(NamedTuple):
    action: str
    actor_id: int | None
    at: datetime | None
    actor_name: str | None


def last_decisions(db: Db, wf: Workflow, step: Step, ids: Sequence[int]) -> dict[int, _Last]:
    """The latest decision of `step` on each item, read from the audit log (the one record of
    every transition); an item's history restarts after the workflow's reset action."""
    actions = [wf.action_of(step, d) for d in ("approve", "reject")]
    watched = [*actions, *([wf.reset_action] if wf.reset_action else [])]
    found: dict[int, _Last] = {}
    for subject, action, actor_id, at, who in db.rows(
            "SELECT l.subject_id, l.action, l.actor_id, l.at, a.name FROM audit_log l "
            "LEFT JOIN account a ON a.id = l.actor_id WHERE l.subject_type = :type AND l.subject_id IN "
            f"(SELECT value FROM {db.json_values('subjects')} AS s) AND l.action IN "
            f"(SELECT value FROM {db.json_values('actions')} AS x) ORDER BY l.at, l.id",
            type=wf.table, subjects=json_list(str(i) for i in ids), actions=json_list(watched)):
        if action == wf.reset_action:
            found.pop(int(subject), None)
        else:
            found[int(subject)] = _Last(action, actor_id, at, who)
    return found


def _explain(db: Db, actor: Actor, wf: Workflow, step: Step, decision: str, where: Clauses,
             keys: list[Any]) -> list[tuple]:
    """Why each requested item was not changed: gone, out of scope, outside the filters,
    already decided, or not at this step yet."""
    filters = " AND ".join(where.filters) or "1 = 1"
    rows = db.rows(
        f"SELECT t.{wf.key}, t.id, t.status, CASE WHEN {where.scope} THEN 1 ELSE 0 END, "
        f"CASE WHEN {filters} THEN 1 ELSE 0 END FROM {wf.table} t "
        f"WHERE t.{wf.key} IN (SELECT value FROM {db.json_values('left', wf.key_type)} AS k)",
        left=json_list(keys), **where.params)
    found = {row[0]: row for row in rows}
    history = last_decisions(db, wf, step, [row[1] for row in rows])
    mine = wf.action_of(step, decision)
    index = wf.steps.index(step)
    earlier = {s.awaiting: s for s in wf.steps[:index]}
    unsettled = {*wf.open_states, *(s.awaiting for s in wf.steps[:index + 1])}
    out = []
    for key in keys:
        row = found.get(key)
        if row is None:
            out.append((key, "failed", None, wf.words.not_found))
            continue
        _, item_id, status, in_scope, in_filters = row
        label = wf.status_labels.get(status, status)
        last = history.get(item_id)
        if not in_scope:
            outcome, why = "failed", wf.words.out_of_scope
        elif not in_filters:
            outcome, why = "failed", wf.words.outside_filters
        elif last is not None and status not in unsettled:
            if last.action == mine and last.actor_id == actor.account_id:
                outcome = "skipped"
                why = wf.words.skipped.format(action=wf.action_label(step, decision), status=label)
            else:
                when = last.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if last.at else ""
                decided = last.action.rsplit(".", 1)[-1]
                outcome = "conflict"
                why = f"已被 {last.actor_name or '他人'} 于 {when} {wf.action_labels.get(decided, decided)}"
        elif status in earlier:
            outcome, why = "conflict", f"尚未经{earlier[status].label}（当前：{label}）"
        else:
            outcome, why = "conflict", f"当前状态为{label}，不能审核"
        out.append((key, outcome, status, why))
    return out


def decide_registrations(db: Db, actor: Actor, request: Any) -> Any:
    """The unit admin's decision on registrations (hnce approve, POST /registrations/decisions)."""
    return decide(db, actor, "registration", request)


def decide_declarations(db: Db, actor: Actor, request: Any) -> Any:
    """A reviewer's decision on declarations (hnce review, POST /declarations/reviews)."""
    return decide(db, actor, "declaration", request)


def decide_any(db: Db, actor: Actor, kind: str, request: Any) -> Any:
    """`decide` for a workflow named at run time, the request checked into its shape
    (`hnce review KIND`, POST /api/v1/reviews/{kind})."""
    from pydantic import ValidationError

    from hnce_cli.errors import from_pydantic
    from hnce_cli.workflows import workflow

    wf = workflow(kind)
    if isinstance(request, dict):
        try:
            request = getattr(schemas, wf.request_class).model_validate(request)
        except ValidationError as exc:
            raise from_pydantic(exc) from exc
    return decide(db, actor, wf.name, request)


# --- what awaits a decider -------------------------------------------------------------------

def queue(db: Db, actor: Actor, kind: str, request: Any, limit: int | None, offset: int = 0) -> tuple[list[int], int]:
    """The ids awaiting the actor's step (in scope and filters), oldest first, one page, and
    the total. Counting and choosing the page read the queue's partial index alone."""
    wf = WORKFLOWS[kind]
    step = step_of(wf, actor)
    where = clauses(db, actor, wf, step, request)
    condition = f"t.status = '{step.awaiting}' AND {where.where}"
    total = db.scalar(f"SELECT count(*) FROM {wf.table} t WHERE {condition}", **where.params)
    sql = f"SELECT t.id FROM {wf.table} t WHERE {condition} ORDER BY t.{wf.waiting_since}, t.id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if offset:
        sql += f" OFFSET {int(offset)}"
    return db.column(sql, **where.params), int(total or 0)


def _queue_out(db: Db, actor: Actor, wf: Workflow, step: Step, limit: int | None, offset: int = 0) -> Any:
    """One workflow's queue for the actor: how many, since when, and one page of the oldest."""
    from hnce_cli.schemas import InboxItem, InboxQueue
    from hnce_cli.store import parse_time

    scope, params, _ = _scope(db, actor, step)
    condition = f"t.status = '{step.awaiting}' AND {scope}"
    total, oldest = db.one(f"SELECT count(*), min(t.{wf.waiting_since}) FROM {wf.table} t WHERE {condition}",
                           **params) or (0, None)
    rows: list[tuple] = []
    if total and limit != 0:
        page = f" LIMIT {int(limit)}" if limit is not None else (" LIMIT -1" if offset and not db.pg else "")
        rows = db.rows(f"SELECT t.{wf.key}, {wf.person_name}, u.name, t.{wf.waiting_since} FROM {wf.table} t "
                       f"{wf.person_join} JOIN unit u ON u.id = t.unit_id WHERE {condition} "
                       f"ORDER BY t.{wf.waiting_since}, t.id{page}" + (f" OFFSET {int(offset)}" if offset else ""),
                       **params)
    return InboxQueue(
        workflow=wf.name, label=wf.label, step=step.name, step_label=step.label, total=int(total or 0),
        oldest=parse_time(oldest), command=wf.queue_command,
        items=[InboxItem(key=str(key), name=name, unit_name=unit, waiting_since=since)
               for key, name, unit, since in rows])


def awaiting(db: Db, actor: Actor, kind: str, limit: int | None = 100, offset: int = 0) -> Any:
    """The items of one workflow awaiting the actor's step, oldest first (`hnce review KIND --list`)."""
    from hnce_cli.workflows import workflow

    wf = workflow(kind)
    return _queue_out(db, actor, wf, step_of(wf, actor), limit, offset)


def inbox(db: Db, actor: Actor, limit: int = 5) -> Any:
    """Everything awaiting the actor's decision, workflow by workflow: how many, since when,
    the oldest few, and the command that shows the whole queue."""
    from hnce_cli.schemas import Inbox

    actor.require(*dict.fromkeys(role for wf in WORKFLOWS.values() for s in wf.steps for role in s.deciders))
    queues = []
    for wf in WORKFLOWS.values():
        step = wf.step_for(actor.role)
        if step is not None:
            queues.append(_queue_out(db, actor, wf, step, limit))
    return Inbox(queues=queues, total=sum(q.total for q in queues))
