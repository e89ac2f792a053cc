"""Registration (注册) and its review by the unit admin (审核).

Every decision is one conditional UPDATE (`... WHERE status = 'pending'`) over
the admin's own units, so a second approver of the same registration changes
nothing and gets a conflict; audit rows are written in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.clock import CHINA_TZ
from hnce_cli.errors import FieldProblem, PermissionDenied, ValidationFailed
from hnce_cli.models import Account, Professional, Unit
from hnce_cli.schemas import (
    DecisionItem,
    DecisionRequest,
    DecisionResult,
    PendingList,
    ProfessionalOut,
    RegistrationInput,
)
from hnce_cli.services import audit, bulk
from hnce_cli.services.context import Actor
from hnce_cli.services.lookup import professional_views, view_statement
from hnce_cli.services.security import hash_password
from hnce_cli.services.units import resolve_unit, temporary_unit_for
from hnce_cli.terms import REGISTRATION_STATUS
from hnce_cli.validation import (
    check_birth_and_gender,
    check_password_policy,
    normalise_gender,
    parse_id_number,
    validate_email,
    validate_mobile,
)


def _collect(problems: list[FieldProblem], check, *args, **kwargs):  # noqa: ANN001, ANN202
    """Run one check, keeping its problems so every bad field is reported at once."""
    try:
        return check(*args, **kwargs)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
        return None


# Free-text fields of the form and their column lengths (models.Professional): checked
# here, so an over-long value is a message naming the field, not a database error.
TEXT_FIELDS = {"name": "姓名", "department": "工作部门", "ethnicity": "民族",
               "native_place": "籍贯", "school": "毕业院校", "major": "所学专业",
               "title": "专业技术职务"}


def _how_to_give(field: str) -> str:
    """The fix for a missing field; a password never goes on the command line."""
    if field == "password":
        return "pipe it with --password-stdin, or set HNCE_PASSWORD"
    if field == "region":
        return "give --region with --no-employer (the county-level area, e.g. 金水区)"
    return f"give --{field.replace('_', '-')}"


def _too_long(data: RegistrationInput, name: str) -> list[FieldProblem]:
    columns = Professional.__table__.c
    problems = []
    for field, label in TEXT_FIELDS.items():
        value = name if field == "name" else (getattr(data, field) or "").strip()
        limit = columns[field].type.length
        if limit and len(value) > limit:
            problems.append(FieldProblem(
                field, f"{label}最多 {limit} 个字符，实际 {len(value)} 个 (at most {limit} characters)",
                f"shorten --{field.replace('_', '-')} to {limit} characters"))
    return problems


def register(session: Session, data: RegistrationInput) -> ProfessionalOut:
    """Validate the whole form, then create the account as 待审核 (pending)."""
    missing = data.missing()
    if missing:
        raise ValidationFailed(
            "缺少必填项 (missing required fields): " + ", ".join(missing),
            problems=[FieldProblem(f, "必填项 (required)", _how_to_give(f)) for f in missing],
        )
    problems: list[FieldProblem] = []
    info = _collect(problems, parse_id_number, data.id_number, today=clock.today())
    gender = _collect(problems, normalise_gender, data.gender) if data.gender else None
    if info is not None:
        _collect(problems, check_birth_and_gender, info, birth_date=data.birth_date,
                 gender=gender)
    mobile = _collect(problems, validate_mobile, data.mobile)
    email = _collect(problems, validate_email, data.email)
    _collect(problems, check_password_policy, data.password,
             id_number=info.number if info else None)
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("name", "姓名不能为空", "give the real name"))
    problems.extend(_too_long(data, name))
    if data.has_employer:
        if data.region and not data.unit:
            problems.append(FieldProblem("unit", "有工作单位时须选择所在单位",
                                         "give --unit, or --no-employer --region"))
        unit = _collect(problems, resolve_unit, session, data.unit or "", field="unit")
        if unit is not None and unit.kind == "temporary":
            problems.append(FieldProblem("unit", "临时管理单位只接收无工作单位人员",
                                         "use --no-employer --region instead"))
    else:
        unit = _collect(problems, temporary_unit_for, session, data.region or "", field="region")
    if info is not None and session.execute(
        select(Professional.id).where(Professional.id_number == info.number)
    ).first():
        problems.append(FieldProblem("id_number", "该身份证号已注册",
                                     "log in with it, or ask your unit admin if it is pending"))
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise ValidationFailed(f"注册信息有误 (invalid fields): {fields}", problems=problems)
    assert info is not None and unit is not None and mobile and email
    now = clock.now()
    account = Account(login=info.number, password_hash=hash_password(data.password),
                      role="professional", name=name, created_at=now)
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:  # registered at the same moment by another request
        raise ValidationFailed.one("id_number", "该身份证号已注册",
                                   "log in with it, or ask your unit admin if it is pending") from exc
    person = Professional(
        account_id=account.id, id_number=info.number, name=name, gender=info.gender,
        birth_date=info.birth_date, mobile=mobile, email=email, unit_id=unit.id,
        department=data.department, ethnicity=data.ethnicity, native_place=data.native_place,
        school=data.school, major=data.major, title=data.title, status="pending",
        registered_at=now,
    )
    session.add(person)
    session.flush()
    # Self-service: the actor is the registrant's own new account.
    registrant = Actor(account_id=account.id, login=account.login, name=name, role="professional")
    audit.record(session, registrant, "registration.submit", "professional", person.id, None,
                 {"status": "pending", "unit_id": unit.id})
    return professional_views(session, view_statement().where(Professional.id == person.id),
                              viewer=None)[0]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, CHINA_TZ)


def _filters(session: Session, actor: Actor, request: DecisionRequest) -> list:
    """The scope every decision is confined to: pending, in the admin's units."""
    actor.require("unit_admin")
    unit_ids = set(actor.unit_ids)
    if request.unit:
        unit = resolve_unit(session, request.unit, field="unit")
        if unit.id not in unit_ids:
            raise PermissionDenied(f"{unit.name} 不是您管理的单位", {"unit_id": unit.id})
        unit_ids = {unit.id}
    table = Professional.__table__  # Core columns: decide() runs Core statements
    clauses = [table.c.unit_id.in_(sorted(unit_ids))]
    if request.registered_from:
        clauses.append(table.c.registered_at >= _day_start(request.registered_from))
    if request.registered_to:
        clauses.append(
            table.c.registered_at < _day_start(request.registered_to + timedelta(days=1))
        )
    return clauses


def list_pending(session: Session, actor: Actor, request: DecisionRequest,
                 limit: int | None = 100, offset: int = 0) -> PendingList:
    clauses = _filters(session, actor, request) + [Professional.status == "pending"]
    total = session.execute(
        select(func.count()).select_from(Professional).where(*clauses)
    ).scalar_one()
    statement = (view_statement().where(*clauses)
                 .order_by(Professional.registered_at, Professional.id).offset(offset))
    if limit is not None:
        statement = statement.limit(limit)
    return PendingList(registrations=professional_views(session, statement, viewer=actor),
                       total=total)


def _normalise_ids(values: Sequence[str]) -> tuple[list[str], list[DecisionItem]]:
    """Upper-case, de-duplicate, and fail (not raise on) malformed numbers, which are
    reported as given. Whole-list passes: a batch can hold 100,000."""
    given = dict.fromkeys([raw.strip().upper() for raw in values])
    given.pop("", None)
    ids = [v for v in given if len(v) == 18 and v[:17].isdigit()]
    if len(ids) == len(given):
        return ids, []
    good = set(ids)
    bad = dict.fromkeys(raw.strip() for raw in values
                        if raw.strip() and raw.strip().upper() not in good)
    return ids, [DecisionItem(v, "failed", "不是 18 位身份证号") for v in bad]


def _in_ids(conn: Connection, column: Any) -> Any:
    """`column IN (the ID numbers bound as ONE JSON array :ids)`, read back as rows by
    bulk.text_rows: binding 100,000 separate parameters costs more than the UPDATE itself."""
    rows = text(f"{bulk.text_rows(conn, 'ids')} AS ids")
    return column.in_(select(literal_column("ids.value")).select_from(rows))


def decide(session: Session, actor: Actor, request: DecisionRequest) -> DecisionResult:
    """Approve or reject registrations by ID numbers or by filters, atomically.

    Runs through Core on the session's connection (no ORM bookkeeping): one
    conditional UPDATE … RETURNING, one INSERT … SELECT of the audit rows, and the
    items as plain dataclasses, so 100,000 decisions stay within a few seconds."""
    if request.decision == "reject" and not (request.reason and request.reason.strip()):
        raise ValidationFailed.one("reason", "审核不通过必须填写原因",
                                   'give --reason "…" (the applicant sees it)')
    if request.id_numbers is not None and request.all_matching:
        raise ValidationFailed.one("all", "--all 不能与身份证号或 --file 同时使用",
                                   "give either ID numbers / --file, or --all with filters")
    if request.id_numbers is None and not request.all_matching:
        raise ValidationFailed.one("id_numbers", "未指定要审核的注册",
                                   "give ID numbers, --file, or --all with filters")
    clauses = _filters(session, actor, request)
    target = "approved" if request.decision == "approve" else "rejected"
    reason = request.reason.strip() if request.reason and target == "rejected" else None
    conn = session.connection()
    table = Professional.__table__
    items: list[DecisionItem] = []
    where = [*clauses, table.c.status == "pending"]
    if request.id_numbers is not None:
        ids, items = _normalise_ids(request.id_numbers)
        batches = [({"ids": json.dumps(ids)}, [*where, _in_ids(conn, table.c.id_number)])] if ids else []
    else:
        ids, batches = [], [({}, where)]
    returned = (table.c.id, table.c.id_number, table.c.unit_id, table.c.name)
    now = clock.now()
    rows: list = []
    for params, conditions in batches:
        if request.dry_run:
            statement = select(*returned).where(*conditions)
        else:
            statement = (update(table).where(*conditions)
                         .values(status=target, decided_at=now, decided_by=actor.account_id,
                                 reject_reason=reason)
                         .returning(*returned))
        rows.extend(conn.execute(statement, params).all())
    if not request.dry_run and rows:
        after = {"status": target, "reason": reason} if reason else {"status": target}
        bulk.audit_for_ids(conn, actor, f"registration.{request.decision}", "professional",
                           [row[0] for row in rows], {"status": "pending"}, after, now)
    unit_names = dict(conn.execute(
        select(Unit.__table__.c.id, Unit.__table__.c.name)
        .where(Unit.__table__.c.id.in_({row[2] for row in rows}))
    ).all()) if rows else {}
    outcome = ("would_" + request.decision) if request.dry_run else target
    items.extend(DecisionItem(number, outcome, None, name, unit_names.get(unit_id))
                 for _, number, unit_id, name in rows)
    if ids:
        done = {row[1] for row in rows}
        leftovers = [i for i in ids if i not in done]
        if leftovers:
            items.extend(_explain_leftovers(session, actor, leftovers, target, clauses))
    counts: dict[str, int] = {}
    for item in items:
        counts[item.outcome] = counts.get(item.outcome, 0) + 1
    return DecisionResult.model_construct(decision=request.decision, dry_run=request.dry_run,
                                          counts=counts, items=items)


def _explain_leftovers(session: Session, actor: Actor, ids: list[str], target: str,
                       clauses: list) -> list[DecisionItem]:
    """Why each requested registration was not changed: gone, out of scope, outside
    the filters, or already decided."""
    matches = and_(*clauses).label("matches")
    rows = session.execute(
        select(Professional.id_number, Professional.unit_id, Professional.status,
               Professional.decided_by, Professional.decided_at, Account.name, matches)
        .outerjoin(Account, and_(Account.id == Professional.decided_by))
        .where(_in_ids(session.connection(), Professional.id_number)),
        {"ids": json.dumps(ids)}).all()
    found: dict[str, tuple] = {row[0]: row for row in rows}
    items = []
    for number in ids:
        row = found.get(number)
        if row is None:
            items.append(DecisionItem(number, "failed", "未找到该身份证号的注册"))
            continue
        _, unit_id, status, decided_by, decided_at, decider, in_filters = row
        if unit_id not in actor.unit_ids:
            outcome, why = "failed", "不属于您管理的单位 (not in your units)"
        elif not in_filters:
            outcome, why = "failed", "不符合筛选条件 (outside --unit/--since/--until)"
        elif status == target and decided_by == actor.account_id:
            outcome, why = "skipped", f"已是{REGISTRATION_STATUS[status]}（重复操作，未改变）"
        elif status in ("approved", "rejected"):
            when = decided_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if decided_at else ""
            outcome = "conflict"
            why = f"已被 {decider or '他人'} 于 {when} {REGISTRATION_STATUS[status]}"
        else:
            outcome, why = "conflict", f"当前状态为{REGISTRATION_STATUS.get(status, status)}，不能审核"
        items.append(DecisionItem(number, outcome, why))
    return items
