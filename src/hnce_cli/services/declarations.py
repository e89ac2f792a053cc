"""Credit declarations 学时(分)申报 and their two-level review.

    draft 待提交 --submit--> pending_unit --unit approve--> pending_hr --HR approve--> approved
         ^                       |  \\--unit reject--> rejected         \\--HR reject--> rejected
         +------withdraw 撤销-----+-----------------------------------------+ (from either pending)

Every transition is one conditional UPDATE (`... WHERE status = <expected>`, with
the owner or the reviewer's scope in the WHERE), so a second reviewer of the same
declaration changes nothing and gets a conflict; each transition writes one
audit row in the same transaction, and that row is also the review history the
declarant sees (`_history`). HR approval inserts the credit record that makes the
declaration count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import Select, delete, func, literal, select, update
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from hnce_cli.models import (
    Account,
    Attachment,
    AuditLog,
    Blob,
    Declaration,
    Professional,
    Unit,
)
from hnce_cli.schemas import (
    AttachmentBundle,
    AttachmentFile,
    AttachmentOut,
    DeclarationDeleted,
    DeclarationEdit,
    DeclarationEventOut,
    DeclarationImportResult,
    DeclarationInput,
    DeclarationList,
    DeclarationOut,
    DeclarationQuery,
    LearningForm,
    ReviewItem,
    ReviewRequest,
    ReviewResult,
)
from hnce_cli.services import attachments, audit, bulk
from hnce_cli.services.context import Actor
from hnce_cli.services.forms import check_answers, current_forms, find_form
from hnce_cli.services.lookup import may_see_personal_data
from hnce_cli.services.rules import check_open_year, refresh
from hnce_cli.terms import DECLARATION_ACTIONS, DECLARATION_STATUS
from hnce_cli.validation import mask_id_number

PENDING = ("pending_unit", "pending_hr")
FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None, "draft": ("draft",), "pending": PENDING, "approved": ("approved",),
    "rejected": ("rejected",),
}
CHUNK = 5000  # ids per statement: well under SQLite's and PostgreSQL's bind limits
LIST_LIMIT = 100

DECIDED = {"approve": "approved", "reject": "rejected"}
# Review levels: who reviews what, and where each decision leads.
LEVELS = {
    "unit": {"from": "pending_unit", "approve": "pending_hr", "reject": "rejected"},
    "hr": {"from": "pending_hr", "approve": "approved", "reject": "rejected"},
}


def _status_is(status: str) -> Any:
    """`status = '<literal>'`: a review queue is a partial index (migration 0005), and
    the planners only use one when the query names the status itself, not a parameter."""
    return Declaration.status == literal(status, literal_execute=True)


def _collect(problems: list[FieldProblem], check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
        return None


def _fail(problems: list[FieldProblem], what: str = "申报信息有误") -> ValidationFailed:
    fields = ", ".join(dict.fromkeys(p.field for p in problems))
    return ValidationFailed(f"{what} (invalid fields): {fields}", problems=problems)


def _label(status: str) -> str:
    return DECLARATION_STATUS.get(status, status)


# --- who ------------------------------------------------------------------------

def _me(session: Session, actor: Actor) -> Any:
    """The acting professional (id, unit, name); only approved accounts declare."""
    actor.require("professional")
    row = session.execute(
        select(Professional.id, Professional.unit_id, Professional.status, Professional.id_number)
        .where(Professional.account_id == actor.account_id)
    ).first()
    if row is None or row.status != "approved":
        raise PermissionDenied("只有注册审核通过的专业技术人员可以申报")
    return row


def _hr_units(session: Session, actor: Actor) -> Select:
    from hnce_cli.services.accounts import region_descendants

    regions = sorted(region_descendants(session, actor.region_code or ""))
    return select(Unit.id).where(Unit.region_code.in_(regions))


def _scope(session: Session, actor: Actor) -> list:
    """What the actor may see: own declarations, their units', their region's, or all."""
    if actor.role == "professional":
        return [Declaration.professional_id == _me(session, actor).id]
    if actor.role == "unit_admin":
        return [Declaration.unit_id.in_(sorted(actor.unit_ids))]
    if actor.role == "hr":
        return [Declaration.unit_id.in_(_hr_units(session, actor))]
    actor.require("support", "system_admin", "professional", "unit_admin", "hr")
    return []


def _level(actor: Actor) -> str:
    if actor.role == "unit_admin":
        return "unit"
    if actor.role == "hr":
        return "hr"
    actor.require("unit_admin", "hr")
    raise AssertionError("unreachable")


def _unit_clause(session: Session, actor: Actor, value: str) -> Any:
    """Narrow to one unit, which must be within the reviewer's scope."""
    from hnce_cli.services.units import resolve_unit

    unit = resolve_unit(session, value, field="unit")
    if actor.role == "unit_admin" and unit.id not in actor.unit_ids:
        raise PermissionDenied(f"{unit.name} 不是您管理的单位", {"unit_id": unit.id})
    if actor.role == "hr" and unit.id not in set(session.execute(_hr_units(session, actor)).scalars()):
        raise PermissionDenied(f"{unit.name} 不在您的审核区域内", {"unit_id": unit.id})
    return Declaration.unit_id == unit.id


# --- views ----------------------------------------------------------------------

_VIEW_COLUMNS = (
    *Declaration.__table__.c,
    Professional.id_number, Professional.name, Professional.account_id,
    Unit.name.label("unit_name"),
)


def _view_statement() -> Select:
    return (select(*_VIEW_COLUMNS)
            .join(Professional, Professional.id == Declaration.professional_id)
            .join(Unit, Unit.id == Declaration.unit_id))


def _views(session: Session, actor: Actor, statement: Select, forms: list[LearningForm],
           *, detail: bool = False) -> list[DeclarationOut]:
    names = {f.code: f.name for f in forms}
    labels = {f.code: {x.name: x.label for x in f.fields} for f in forms}
    rows = session.connection().execute(statement).mappings().all()
    files: dict[int, list[AttachmentOut]] = {}
    history: dict[int, list[DeclarationEventOut]] = {}
    if detail and rows:
        ids = [r["id"] for r in rows]
        for a in session.execute(select(Attachment).where(Attachment.declaration_id.in_(ids))
                                 .order_by(Attachment.id)).scalars():
            files.setdefault(a.declaration_id, []).append(AttachmentOut(
                id=a.id, filename=a.filename, media_type=a.media_type, size=a.size, sha256=a.sha256))
        for did, steps in _history(session, ids).items():
            history[did] = [DeclarationEventOut(
                at=step.at, action=step.action, action_label=DECLARATION_ACTIONS.get(step.action, step.action),
                actor_name=step.actor_name, reason=step.reason) for step in steps]
    views = []
    for r in rows:
        full = may_see_personal_data(actor, r["account_id"], r["unit_id"])
        views.append(DeclarationOut(
            id=r["id"], professional_id=r["professional_id"],
            id_number=r["id_number"] if full else mask_id_number(r["id_number"]), name=r["name"],
            unit_id=r["unit_id"], unit_name=r["unit_name"], form_code=r["form_code"],
            form_name=names.get(r["form_code"], r["form_code"]), subject=r["subject"], year=r["year"],
            credits=r["credits"], status=r["status"], fields=json.loads(r["fields"]),
            field_labels=labels.get(r["form_code"], {}),
            created_at=r["created_at"], updated_at=r["updated_at"], submitted_at=r["submitted_at"],
            decided_at=r["decided_at"], reject_reason=r["reject_reason"],
            rejected_level=r["rejected_level"], attachments=files.get(r["id"], []),
            history=history.get(r["id"], []),
        ))
    return views


def show(session: Session, actor: Actor, declaration_id: int) -> DeclarationOut:
    """One declaration with its fields, attachments and review history."""
    statement = _view_statement().where(Declaration.id == declaration_id, *_scope(session, actor))
    found = _views(session, actor, statement, current_forms(session), detail=True)
    if not found:
        raise NotFound(f"未找到申报 {declaration_id}（在您可查看的范围内）", {"id": declaration_id})
    return found[0]


def _query_clauses(session: Session, actor: Actor, query: DeclarationQuery) -> tuple[list, Any]:
    """Scope and narrowing (not the status filter); the person looked up, if any."""
    clauses = _scope(session, actor)
    person = None
    if query.person:
        from hnce_cli.services.lookup import lookup

        found = lookup(session, actor, query.person)
        if len(found.matches) > 1:
            raise ValidationFailed.one("person", f"找到 {found.total} 人，请用身份证号指定",
                                       "give the 18-digit ID number")
        person = found.matches[0]
        clauses.append(Declaration.professional_id == person.id)
    if query.unit:
        clauses.append(_unit_clause(session, actor, query.unit))
    if query.year is not None:
        clauses.append(Declaration.year == query.year)
    if query.form:
        clauses.append(Declaration.form_code == find_form(current_forms(session), query.form).code)
    if query.ids is not None:
        clauses.append(Declaration.id.in_(query.ids))
    if query.awaiting_review:
        clauses.append(_status_is(LEVELS[_level(actor)]["from"]))
    return clauses, person


def list_declarations(session: Session, actor: Actor, query: DeclarationQuery,
                      limit: int | None = LIST_LIMIT, offset: int = 0) -> DeclarationList:
    """The progress view 申报进度查询: counts per filter and one page of rows."""
    clauses, person = _query_clauses(session, actor, query)
    by_status = dict(session.execute(
        select(Declaration.status, func.count()).where(*clauses).group_by(Declaration.status)).all())
    counts = {name: sum(by_status.get(s, 0) for s in (statuses or by_status))
              for name, statuses in FILTERS.items()}
    statuses = FILTERS[query.filter]
    where = list(clauses)
    if statuses:
        where.append(Declaration.status.in_(statuses))
    order = ((Declaration.submitted_at, Declaration.id) if query.awaiting_review
             else (Declaration.id.desc(),))
    if query.awaiting_review:
        # A review queue can hold a million items. The page's ids come from the
        # queue's index alone (unit, status, submitted_at and the id are its key);
        # only those rows are read. Sorting the full rows took ~1 s per million.
        page = select(Declaration.id).where(*where).order_by(*order).offset(offset)
        if limit is not None:
            page = page.limit(limit)
        statement = _view_statement().where(Declaration.id.in_(page)).order_by(*order)
    else:
        statement = _view_statement().where(*where).order_by(*order).offset(offset)
        if limit is not None:
            statement = statement.limit(limit)
    rows = _views(session, actor, statement, current_forms(session))
    return DeclarationList(person=person, filter=query.filter, counts=counts,
                           total=counts[query.filter], declarations=rows)


def attachment_bundle(session: Session, actor: Actor, query: DeclarationQuery) -> AttachmentBundle:
    """The files of the declarations a query matches (for --open / --export-attachments)."""
    clauses, _ = _query_clauses(session, actor, query)
    statuses = FILTERS[query.filter]
    if statuses:
        clauses.append(Declaration.status.in_(statuses))
    ids = list(session.execute(select(Declaration.id).where(*clauses)).scalars())
    if query.ids is not None:
        missing = sorted(set(query.ids) - set(ids))
        if missing:
            raise NotFound(f"未找到申报 {', '.join(map(str, missing))}（在您可查看的范围内）",
                           {"ids": missing})
    files: list[AttachmentFile] = []
    import base64

    for i in range(0, len(ids), CHUNK):
        for a, content in session.execute(
                select(Attachment, Blob.content).join(Blob, Blob.sha256 == Attachment.sha256)
                .where(Attachment.declaration_id.in_(ids[i:i + CHUNK])).order_by(Attachment.id)).all():
            files.append(AttachmentFile(
                id=a.id, declaration_id=a.declaration_id, filename=a.filename,
                media_type=a.media_type, size=a.size, sha256=a.sha256,
                content_base64=base64.b64encode(content).decode("ascii")))
    return AttachmentBundle(files=files)


# --- the professional's own actions ---------------------------------------------

class _Step(NamedTuple):
    action: str
    actor_id: int | None
    at: Any
    actor_name: str | None
    reason: str | None


def _history(session: Session, ids: list[int]) -> dict[int, list[_Step]]:
    """The review history of declarations, oldest first: their audit rows.

    Each transition writes one record, its audit row, and the history the declarant
    sees is read from it (an HR approval of 100,000 writes 100,000 rows, not 200,000).
    A deleted draft's number can be given out again (SQLite reuses the highest
    rowid), so a history starts after the last delete of its number.
    """
    found: dict[int, list[_Step]] = {}
    for i in range(0, len(ids), CHUNK):
        keys = [str(did) for did in ids[i:i + CHUNK]]
        for subject, action, actor_id, at, after, who in session.execute(
                select(AuditLog.subject_id, AuditLog.action, AuditLog.actor_id, AuditLog.at, AuditLog.after,
                       Account.name)
                .outerjoin(Account, Account.id == AuditLog.actor_id)
                .where(AuditLog.subject_type == "declaration", AuditLog.subject_id.in_(keys))
                .order_by(AuditLog.at, AuditLog.id)).all():
            steps = found.setdefault(int(subject), [])
            name = action.removeprefix("declaration.")
            if name == "delete":
                steps.clear()
                continue
            reason = json.loads(after).get("reason") if after and name.endswith("_reject") else None
            steps.append(_Step(name, actor_id, at, who, reason))
    return {did: steps for did, steps in found.items() if steps}


def _own(session: Session, me: Any, declaration_id: int) -> Declaration:
    decl = session.execute(select(Declaration).where(
        Declaration.id == declaration_id, Declaration.professional_id == me.id)).scalar_one_or_none()
    if decl is None:
        raise NotFound(f"未找到您的申报 {declaration_id}", {"id": declaration_id})
    return decl


def _refuse(decl: Declaration, doing: str, allowed: str) -> Conflict:
    return Conflict(f"申报 {decl.id} 当前为{_label(decl.status)}，不能{doing}（只有{allowed}的申报可以{doing}）",
                    {"id": decl.id, "status": decl.status})


def _guarded_update(session: Session, decl: Declaration, me: Any, values: dict[str, Any]) -> None:
    """UPDATE ... WHERE id, owner and the status just read: 0 rows means it changed under us."""
    changed = session.execute(
        update(Declaration)
        .where(Declaration.id == decl.id, Declaration.professional_id == me.id,
               Declaration.status == decl.status)
        .values(updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"申报 {decl.id} 刚刚被修改（例如已被审核），请刷新后重试", {"id": decl.id})


def create(session: Session, actor: Actor, data: DeclarationInput) -> DeclarationOut:
    """Declare credits: a draft (保存暂不提交) or submitted at once."""
    refresh(session)  # the year's rules, as the system admin may have loaded them
    me = _me(session, actor)
    problems: list[FieldProblem] = []
    today = clock.today()
    form = _collect(problems, find_form, current_forms(session), data.form)
    year = _collect(problems, check_open_year, data.year, today)
    answers: dict[str, Any] = {}
    credits = 0.0
    if form is not None and year is not None:
        answers, credits, more = check_answers(form, data.fields, data.credits, year, today)
        problems.extend(more)
    files, more = attachments.check_uploads(data.attachments)
    problems.extend(more)
    if problems:
        raise _fail(problems)
    now = clock.now()
    decl = Declaration(professional_id=me.id, unit_id=me.unit_id, form_code=form.code, subject="public",
                       year=year, credits=credits, fields=json.dumps(answers, ensure_ascii=False),
                       status="draft", created_at=now, updated_at=now)
    session.add(decl)
    session.flush()
    attachments.store(session, decl.id, files)
    audit.record(session, actor, "declaration.create", "declaration", decl.id, None,
                 {"status": "draft", "form": form.code, "year": year, "credits": credits,
                  "attachments": [f.sha256 for f in files]})
    if data.submit:
        _submit(session, actor, me, decl)
    return show(session, actor, decl.id)


def edit(session: Session, actor: Actor, declaration_id: int, data: DeclarationEdit) -> DeclarationOut:
    """Change a draft: its year, fields, credits (entered forms) and attachments."""
    refresh(session)  # the year's rules, as the system admin may have loaded them
    me = _me(session, actor)
    decl = _own(session, me, declaration_id)
    if decl.status != "draft":
        raise _refuse(decl, "修改", "待提交")
    problems: list[FieldProblem] = []
    today = clock.today()
    form = _collect(problems, find_form, current_forms(session), decl.form_code)
    year = _collect(problems, check_open_year, data.year or decl.year, today)
    before = {"year": decl.year, "credits": decl.credits, "fields": json.loads(decl.fields)}
    values = dict(before["fields"])
    for name, value in (data.fields or {}).items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    answers: dict[str, Any] = {}
    credits = decl.credits
    if form is not None and year is not None:
        entered = data.credits if data.credits is not None else (
            decl.credits if form.credits.mode == "entered" else None)
        answers, credits, more = check_answers(form, values, entered, year, today)
        problems.extend(more)
    have = dict(session.execute(select(Attachment.id, Attachment.filename)
                                .where(Attachment.declaration_id == decl.id)).all())
    unknown = [i for i in data.remove_attachments if i not in have]
    if unknown:
        problems.append(FieldProblem("remove_attachments", f"本申报没有附件 {unknown}",
                                     f"attachments: {sorted(have)}"))
    files, more = attachments.check_uploads(
        data.attachments, already=len(have) - len(set(data.remove_attachments) & set(have)))
    problems.extend(more)
    if problems:
        raise _fail(problems)
    _guarded_update(session, decl, me, {"year": year, "credits": credits,
                                        "fields": json.dumps(answers, ensure_ascii=False)})
    removed = attachments.remove(session, decl.id, list(data.remove_attachments)) \
        if data.remove_attachments else []
    attachments.store(session, decl.id, files)
    audit.record(session, actor, "declaration.edit", "declaration", decl.id, before,
                 {"year": year, "credits": credits, "fields": answers,
                  "attachments_added": [f.sha256 for f in files], "attachments_removed": removed})
    return show(session, actor, decl.id)


def delete_draft(session: Session, actor: Actor, declaration_id: int) -> DeclarationDeleted:
    me = _me(session, actor)
    decl = _own(session, me, declaration_id)
    if decl.status != "draft":
        raise _refuse(decl, "删除", "待提交")
    before = {"status": "draft", "form": decl.form_code, "year": decl.year, "credits": decl.credits,
              "fields": json.loads(decl.fields)}
    attachments.remove(session, decl.id)
    gone = session.execute(
        delete(Declaration).where(Declaration.id == decl.id, Declaration.professional_id == me.id,
                                  Declaration.status == "draft")
        .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        raise Conflict(f"申报 {decl.id} 刚刚被修改，请刷新后重试", {"id": decl.id})
    session.expunge(decl)
    audit.record(session, actor, "declaration.delete", "declaration", decl.id, before, None)
    return DeclarationDeleted(id=declaration_id)


def _submit(session: Session, actor: Actor, me: Any, decl: Declaration) -> None:
    refresh(session)  # the year's rules, as the system admin may have loaded them
    check_open_year(decl.year, clock.today())
    now = clock.now()
    _guarded_update(session, decl, me, {"status": "pending_unit", "submitted_at": now,
                                        "unit_id": me.unit_id, "reject_reason": None,
                                        "rejected_level": None, "decided_at": None})
    audit.record(session, actor, "declaration.submit", "declaration", decl.id, {"status": "draft"},
                 {"status": "pending_unit", "unit_id": me.unit_id})


def submit(session: Session, actor: Actor, declaration_id: int) -> DeclarationOut:
    """Draft → pending the unit's review."""
    me = _me(session, actor)
    decl = _own(session, me, declaration_id)
    if decl.status != "draft":
        raise _refuse(decl, "提交", "待提交")
    _submit(session, actor, me, decl)
    return show(session, actor, declaration_id)


def withdraw(session: Session, actor: Actor, declaration_id: int) -> DeclarationOut:
    """撤销: pending (at the unit or at HR) → back to draft."""
    me = _me(session, actor)
    decl = _own(session, me, declaration_id)
    if decl.status not in PENDING:
        raise _refuse(decl, "撤销", "待审核")
    old = decl.status
    _guarded_update(session, decl, me, {"status": "draft", "submitted_at": None})
    audit.record(session, actor, "declaration.withdraw", "declaration", decl.id, {"status": old},
                 {"status": "draft"})
    return show(session, actor, declaration_id)


# --- review ---------------------------------------------------------------------

def _review_clauses(session: Session, actor: Actor, level: str, request: ReviewRequest) -> list:
    clauses = _scope(session, actor)
    if request.unit:
        clauses.append(_unit_clause(session, actor, request.unit))
    if request.year is not None:
        clauses.append(Declaration.year == request.year)
    if request.form:
        clauses.append(Declaration.form_code == find_form(current_forms(session), request.form).code)
    return clauses


def review(session: Session, actor: Actor, request: ReviewRequest) -> ReviewResult:
    """Approve or reject declarations awaiting the actor's level of review, atomically.

    A unit admin moves their units' pending_unit declarations on to HR (or rejects
    them); an HR reviewer decides their region's pending_hr ones, and approval
    inserts the credit record. Items not changed are explained one by one.
    """
    level = _level(actor)
    reason = (request.reason or "").strip() or None
    if request.decision == "reject" and not reason:
        raise ValidationFailed.one("reason", "审核不通过必须填写原因", 'give --reason "…" (the declarant sees it)')
    if request.ids is not None and request.all_matching:
        raise ValidationFailed("审核对象只能二选一：申报编号或 --all (give ids or --all, not both)", problems=[
            FieldProblem("ids", "已给出申报编号", "drop the ids to decide all matching the filters"),
            FieldProblem("all", "已给出 --all", "drop --all to decide only the ids given")])
    if request.ids is None and not request.all_matching:
        raise ValidationFailed.one("ids", "未指定要审核的申报", "give declaration ids, or --all with filters")
    step = LEVELS[level]
    source, target = step["from"], step[request.decision]
    clauses = _review_clauses(session, actor, level, request)
    ids = list(dict.fromkeys(request.ids)) if request.ids is not None else []
    chunks: list[list[int] | None] = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] \
        if request.ids is not None else [None]
    now = clock.now()
    values: dict[str, Any] = {"status": target, "updated_at": now}
    if target in ("approved", "rejected"):
        values["decided_at"] = now
    if target == "rejected":
        values.update(reject_reason=reason, rejected_level=level)
    table = Declaration.__table__
    conn = session.connection()
    # What each item shows comes back from the change itself (RETURNING), not from
    # a second pass over the declarations.
    returned = (table.c.id, table.c.professional_id, table.c.unit_id, table.c.credits)
    changed_rows: list[tuple] = []
    for chunk in chunks:
        where = [*clauses, _status_is(source)]
        if chunk is not None:
            where.append(Declaration.id.in_(chunk))
        if request.dry_run:
            statement = select(*returned).where(*where)
        else:  # the one conditional change: only rows still at this level move
            statement = update(table).where(*where).values(**values).returning(*returned)
        changed_rows.extend(bulk.core_rows(conn, statement))
    changed_rows.sort()  # by id, as lists show them
    done = [row[0] for row in changed_rows]
    action = f"{level}_{request.decision}"
    if not request.dry_run and done:
        # Everything that follows from the change is derived, inside the database,
        # from the ids just changed (services/bulk.py): one statement per table.
        ids_json = bulk.json_ids(done)
        rows = bulk.id_rows(conn)
        before = {"status": source}
        after = {"status": target, "reason": reason} if reason else {"status": target}
        bulk.audit_for_ids(conn, actor, f"declaration.{action}", "declaration", done, before, after, now)
        if target == "approved":  # it counts: the credit record, unique per declaration
            bulk.execute(conn, "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, "
                         "source, source_ref, created_at) SELECT d.professional_id, p.id_number, d.year, "
                         "d.subject, d.credits, 'declaration', 'declaration:' || CAST(d.id AS VARCHAR(20)), :at "
                         f"FROM {rows} AS x JOIN declaration d ON d.id = x.id "
                         "JOIN professional p ON p.id = d.professional_id",
                         at=now, ids=ids_json)
    # The per-item outcome is the decision (审核通过 / 审核不通过); where the declaration
    # went (pending_hr after the unit, approved after HR) is its status.
    outcome = f"would_{request.decision}" if request.dry_run else DECIDED[request.decision]
    status_after = source if request.dry_run else target
    items: list[ReviewItem] = []
    if done:
        names = dict(bulk.execute(conn, f"SELECT p.id, p.name FROM {bulk.id_rows(conn)} AS x "
                                  "JOIN professional p ON p.id = x.id",
                                  ids=bulk.json_ids({row[1] for row in changed_rows})).fetchall())
        units = dict(bulk.core_rows(conn, select(Unit.__table__.c.id, Unit.__table__.c.name)
                                    .where(Unit.__table__.c.id.in_({row[2] for row in changed_rows}))))
        items = [ReviewItem(did, outcome, status_after, None, names[pid], units[uid], credits)
                 for did, pid, uid, credits in changed_rows]
    counts: dict[str, int] = {outcome: len(items)} if items else {}
    changed = set(done)
    for item in _explain_leftovers(session, actor, level, clauses, request, [i for i in ids if i not in changed]):
        items.append(item)
        counts[item.outcome] = counts.get(item.outcome, 0) + 1
    # Built from trusted values, so not validated again: for 100,000 items pydantic's
    # validation cost more than the UPDATE (serialising them stays pydantic's job).
    return ReviewResult.model_construct(decision=request.decision, level=level, dry_run=request.dry_run,
                                        counts=counts, items=items)


def _explain_leftovers(session: Session, actor: Actor, level: str, clauses: list,
                       request: ReviewRequest, ids: list[int]) -> list[ReviewItem]:
    """Why each requested declaration was not changed: gone, out of scope, or decided."""
    if not ids:
        return []
    scope = _scope(session, actor)
    rows: dict[int, Any] = {}
    visible: set[int] = set()
    matching: set[int] = set()
    last: dict[int, tuple[str, int | None, Any, str | None]] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        rows.update((r.id, r) for r in session.execute(
            select(Declaration.id, Declaration.status).where(Declaration.id.in_(chunk))).all())
        visible.update(session.execute(select(Declaration.id).where(Declaration.id.in_(chunk), *scope)).scalars())
        matching.update(session.execute(select(Declaration.id).where(Declaration.id.in_(chunk), *clauses))
                        .scalars())
    for did, steps in _history(session, ids).items():
        for step in steps:
            if step.action.startswith(f"{level}_"):
                last[did] = (step.action, step.actor_id, step.at, step.actor_name)
    target_action = f"{level}_{request.decision}"
    items = []
    for did in ids:
        row = rows.get(did)
        status = row.status if row else None
        if row is None or did not in visible:
            outcome, why = "failed", ("未找到该申报" if row is None else "不在您的审核范围内 (not in your scope)")
        elif did not in matching:
            outcome, why = "failed", "不符合筛选条件（单位/年度/学习形式）"
        elif did in last and last[did][0] == target_action and last[did][1] == actor.account_id \
                and status != "draft":
            outcome, why = "skipped", f"您已{DECLARATION_ACTIONS[target_action]}（重复操作，未改变）"
        elif did in last and status != "draft":
            action, _, at, who = last[did]
            from hnce_cli.clock import CHINA_TZ

            when = at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""
            outcome, why = "conflict", f"已被 {who or '他人'} 于 {when} {DECLARATION_ACTIONS.get(action, action)}"
        elif level == "hr" and status == "pending_unit":
            outcome, why = "conflict", "尚未经用人单位审核（当前：待审核（单位））"
        else:
            outcome, why = "conflict", f"当前状态为{_label(status or '')}，不能审核"
        items.append(ReviewItem(did, outcome, status, why))
    return items


# --- unit bulk import -------------------------------------------------------------

class _ImportPerson(NamedTuple):
    id: int
    id_number: str
    name: str
    unit_id: int
    status: str


IMPORT_ALIASES = {
    "身份证号": "id_number", "学习形式": "form", "计入年度": "year", "学分": "credits", "姓名": "name",
}
IMPORT_RESERVED = {"id_number", "form", "year", "credits", "name", "subject", "计入科目"}


def import_rows(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> DeclarationImportResult:
    """A unit admin declares for their people from a spreadsheet.

    Every row is checked before any is written; one bad row writes nothing and the
    error lists every (row, field, why). The unit is the one importing, so its own
    review is done: the declarations land as pending_hr, awaiting HR.
    """
    refresh(session)  # the year's rules, as the system admin may have loaded them
    actor.require("unit_admin")
    if not rows:
        raise ValidationFailed.one("file", "文件中没有数据行", "the first row is the header, data below it")
    forms = current_forms(session)
    today = clock.today()
    problems: list[dict[str, Any]] = []

    def problem(row_no: int, field: str, message: str) -> None:
        problems.append({"row": row_no, "field": field, "message": message})

    keys: dict[Any, str] = {}  # header → field name, worked out once per distinct header

    def field_of(k: Any) -> str:
        name = keys.get(k)
        if name is None:
            name = keys[k] = IMPORT_ALIASES.get(str(k).strip(), str(k).strip())
        return name

    normalised = [{field_of(k): v for k, v in r.items()} for r in rows]
    numbers = {str(r.get("id_number") or "").strip().upper() for r in normalised}
    conn = session.connection()
    people = {p.id_number: p for p in map(_ImportPerson._make, bulk.execute(
        conn, "SELECT p.id, p.id_number, p.name, p.unit_id, p.status FROM professional p "
        f"WHERE p.id_number IN {bulk.text_rows(conn, 'numbers')}",
        numbers=json.dumps(sorted(n for n in numbers if n))).fetchall())}
    form_cache: dict[str, LearningForm | str] = {}
    year_cache: dict[Any, int | str] = {}
    prepared: list[tuple[int, int, str, int, float, dict[str, Any]]] = []
    label_cache: dict[str, dict[str, str]] = {}
    for index, row in enumerate(normalised):
        row_no = index + 2  # the header is row 1, as a spreadsheet shows it
        ok = True
        number = str(row.get("id_number") or "").strip().upper()
        person = people.get(number)
        if not number:
            problem(row_no, "id_number", "身份证号为空")
            ok = False
        elif person is None:
            problem(row_no, "id_number", f"{number} 未在平台注册")
            ok = False
        elif person.unit_id not in actor.unit_ids:
            problem(row_no, "id_number", f"{number} 不是您管理的单位的人员")
            ok = False
        elif person.status != "approved":
            problem(row_no, "id_number", f"{number} 的注册状态为{person.status}，不能申报")
            ok = False
        elif str(row.get("name") or "").strip() and str(row["name"]).strip() != person.name:
            problem(row_no, "name", f"姓名与身份证号不符（平台登记为 {person.name}）")
            ok = False
        form_key = str(row.get("form") or "").strip()
        if form_key not in form_cache:
            try:
                form_cache[form_key] = find_form(forms, form_key)
            except ValidationFailed as exc:
                form_cache[form_key] = exc.problems[0].message
        form = form_cache[form_key]
        if isinstance(form, str):
            problem(row_no, "form", form)
            continue
        year_key = row.get("year")
        if year_key not in year_cache:
            try:
                year_cache[year_key] = check_open_year(int(str(year_key).strip()) if str(year_key or "").strip()
                                                       else None, today)
            except ValueError:
                year_cache[year_key] = f"计入年度格式不对：{year_key}"
            except ValidationFailed as exc:
                year_cache[year_key] = exc.problems[0].message
        year = year_cache[year_key]
        if isinstance(year, str):
            problem(row_no, "year", year)
            continue
        labels = label_cache.get(form.code)
        if labels is None:
            labels = label_cache[form.code] = {f.label: f.name for f in form.fields}
        values = {}
        for key, value in row.items():
            if key in IMPORT_RESERVED:
                continue
            name = labels.get(key, key)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # an empty cell of another form's column
            values[name] = value
        raw_credits = row.get("credits")
        credits = None
        if raw_credits is not None and str(raw_credits).strip():
            try:
                credits = float(str(raw_credits).strip())
            except ValueError:
                problem(row_no, "credits", f"学分格式不对：{raw_credits}")
                continue
        answers, computed, more = check_answers(form, values, credits, year, today)
        for p in more:
            problem(row_no, p.field, p.message)
        if more or not ok:
            continue
        prepared.append((person.id, person.unit_id, form.code, year, computed, answers))
    if problems:
        shown = problems[:20]
        raise ValidationFailed(
            f"导入文件有 {len(problems)} 处错误，未导入任何数据 (nothing was imported)",
            {"rows": problems},
            problems=[FieldProblem(f"第 {p['row']} 行 {p['field']}", p["message"]) for p in shown],
        )
    now = clock.now()
    source = bulk.json_table(conn, [("professional_id", "BIGINT"), ("unit_id", "BIGINT"), ("form_code", "TEXT"),
                                    ("year", "INTEGER"), ("credits", "DOUBLE PRECISION"), ("fields", "JSON")])
    # One INSERT … SELECT from the rows as one JSON array; RETURNING gives the new ids.
    new_ids = [row[0] for row in bulk.execute(
        conn, "INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, "
        "status, created_at, updated_at, submitted_at) SELECT r.professional_id, r.unit_id, r.form_code, "
        f"'public', r.year, r.credits, r.fields, 'pending_hr', :now, :now, :now FROM {source} AS r RETURNING id",
        now=now, rows=json.dumps(prepared, ensure_ascii=False)).fetchall()]
    bulk.audit_for_ids(conn, actor, "declaration.import", "declaration", new_ids, None,
                       {"status": "pending_hr", "via": "import"}, now)
    by_form: dict[str, int] = {}
    for item in prepared:
        by_form[item[2]] = by_form.get(item[2], 0) + 1
    return DeclarationImportResult(created=len(new_ids), by_form=by_form,
                                   credits=round(sum(p[4] for p in prepared), 1))
