"""Credit declarations 学时(分)申报 and their two-level review.

    draft 待提交 --submit--> pending_unit --unit approve--> pending_hr --HR approve--> approved
         ^                       |  \\--unit reject--> rejected         \\--HR reject--> rejected
         +------withdraw 撤销-----+-----------------------------------------+ (from either pending)

Every transition is one conditional UPDATE (`... WHERE status = <expected>`, with
the owner or the reviewer's scope in the WHERE), so a second reviewer of the same
declaration changes nothing and gets a conflict; each transition writes one
audit row in the same transaction, and that row is also the review history the
declarant sees (`history`). HR approval inserts the credit record that makes the
declaration count.

The reviewers' decisions themselves are made by the review engine, which reads from
here what a declaration review needs: the levels (`LEVELS`), who may see what
(`_scope`, `_unit_clause`, `_level`), the history, and the view (`DECLARATION_VIEW`,
`views`). Clauses are SQL on the declaration as `d`, with their parameters beside them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from hnce_cli import clock
from hnce_cli.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from hnce_cli.masking import mask_id_number
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
    ProfessionalOut,
)
from hnce_cli.services import audit, rules
from hnce_cli.services.context import Actor
from hnce_cli.services.forms import check_answers, current_forms, find_form
from hnce_cli.services.lookup import may_see_personal_data
from hnce_cli.services.rules import check_open_year
from hnce_cli.store import Db, in_list, json_list
from hnce_cli.terms import DECLARATION_ACTIONS, DECLARATION_STATUS
from hnce_cli.text import TextRule, is_ascii_digits, normalise
from hnce_cli.text import problem as policy_problem

PENDING = ("pending_unit", "pending_hr")
FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None, "draft": ("draft",), "pending": PENDING, "approved": ("approved",),
    "rejected": ("rejected",),
}
LIST_LIMIT = 100

# Review levels: who reviews what, and where each decision leads.
LEVELS = {
    "unit": {"from": "pending_unit", "approve": "pending_hr", "reject": "rejected"},
    "hr": {"from": "pending_hr", "approve": "approved", "reject": "rejected"},
}
_STATUSES = frozenset({"draft", *PENDING, "approved", "rejected"})

# SQL on `d` (the declaration) and the parameters it names.
Clauses = tuple[list[str], dict[str, Any]]


def status_is(status: str) -> str:
    """`d.status = '<literal>'`: a review queue is a partial index (migration 0005), and
    the planners only use one when the query names the status itself, not a parameter.
    Only our own status codes are written into SQL."""
    if status not in _STATUSES:
        raise ValueError(f"not a declaration status: {status!r}")
    return f"d.status = '{status}'"


def _status_in(statuses: Sequence[str]) -> str:
    if len(statuses) == 1:
        return status_is(statuses[0])
    for status in statuses:
        status_is(status)  # only our own codes become literals
    return "d.status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def where_sql(clauses: Sequence[str]) -> str:
    """Clauses joined with AND (all rows when there are none)."""
    return " AND ".join(f"({c})" for c in clauses) or "1 = 1"


def _page(db: Db, limit: int | None, offset: int) -> str:
    """LIMIT/OFFSET as the dialect writes them (SQLite needs a LIMIT before an OFFSET)."""
    sql = ""
    if limit is not None:
        sql = f" LIMIT {int(limit)}"
    elif offset:
        sql = " LIMIT ALL" if db.pg else " LIMIT -1"
    if offset:
        sql += f" OFFSET {int(offset)}"
    return sql


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


# --- what makes two declarations the same ------------------------------------------

# The states in which a declaration counts, or will: an identical one is not made again.
# A rejected one may be declared again (with better proof); a draft is the person's own.
LIVE = ("pending_unit", "pending_hr", "approved")


# json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":")), with the
# encoder made once: json.dumps builds a new one per call for these options (an import
# fingerprints every row).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(id_number: str, form_code: str, year: int, answers: dict[str, Any]) -> str:
    """SHA-256 of the person, the form, the counted year and the checked answers (sorted JSON,
    so the order of a file's columns does not matter; dates are among the answers). Credits are
    left out: they follow from the answers, or are what the declarant entered for the same
    activity. Migration 0009 computed it for older rows by this same definition."""
    canonical = _CANONICAL.encode(answers)
    return hashlib.sha256(f"{id_number}\x1f{form_code}\x1f{year}\x1f{canonical}".encode()).hexdigest()


# --- who ------------------------------------------------------------------------

class _Me(NamedTuple):
    id: int
    unit_id: int
    status: str
    id_number: str


def _me(db: Db, actor: Actor) -> _Me:
    """The acting professional (id, unit, name); only approved accounts declare."""
    actor.require("professional")
    row = db.one("SELECT id, unit_id, status, id_number FROM professional WHERE account_id = :a",
                 a=actor.account_id)
    if row is None or row[2] != "approved":
        raise PermissionDenied("只有注册审核通过的专业技术人员可以申报")
    return _Me(*row)


def _hr_regions(db: Db, actor: Actor) -> list[str]:
    from hnce_cli.services.accounts import region_descendants

    return sorted(region_descendants(db, actor.region_code or ""))


def _scope(db: Db, actor: Actor) -> Clauses:
    """What the actor may see: own declarations, their units', their region's, or all."""
    if actor.role == "professional":
        return ["d.professional_id = :scope_me"], {"scope_me": _me(db, actor).id}
    if actor.role == "unit_admin":
        return [in_list(db, "d.unit_id", "scope_units", "BIGINT")], {"scope_units": json_list(sorted(actor.unit_ids))}
    if actor.role == "hr":
        return ([f"d.unit_id IN (SELECT su.id FROM unit su WHERE {in_list(db, 'su.region_code', 'scope_regions')})"],
                {"scope_regions": json_list(_hr_regions(db, actor))})
    actor.require("support", "system_admin", "professional", "unit_admin", "hr")
    return [], {}


def _level(actor: Actor) -> str:
    if actor.role == "unit_admin":
        return "unit"
    if actor.role == "hr":
        return "hr"
    actor.require("unit_admin", "hr")
    raise AssertionError("unreachable")


def _unit_clause(db: Db, actor: Actor, value: str) -> Clauses:
    """Narrow to one unit, which must be within the reviewer's scope."""
    from hnce_cli.services.units import resolve_unit

    unit = resolve_unit(db, value, field="unit")
    if actor.role == "unit_admin" and unit.id not in actor.unit_ids:
        raise PermissionDenied(f"{unit.name} 不是您管理的单位", {"unit_id": unit.id})
    if actor.role == "hr" and unit.region_code not in _hr_regions(db, actor):
        raise PermissionDenied(f"{unit.name} 不在您的审核区域内", {"unit_id": unit.id})
    return ["d.unit_id = :narrow_unit"], {"narrow_unit": unit.id}


# --- views ----------------------------------------------------------------------

# Everything a view of a declaration shows, in one query (joins, no N+1); narrow it
# with clauses on d, p (the declarant) and u (the unit).
DECLARATION_VIEW = (
    "SELECT d.id, d.professional_id, p.id_number, p.name, p.account_id, d.unit_id, u.name, d.form_code, "
    "d.subject, d.year, d.credits, d.status, d.fields, d.created_at, d.updated_at, d.submitted_at, "
    "d.decided_at, d.reject_reason, d.rejected_level "
    "FROM declaration d JOIN professional p ON p.id = d.professional_id JOIN unit u ON u.id = d.unit_id")


def views(db: Db, actor: Actor, where: str, params: dict[str, Any], forms: list[LearningForm], *,
          detail: bool = False, order: str = "d.id DESC", limit: int | None = None,
          offset: int = 0) -> list[DeclarationOut]:
    """DECLARATION_VIEW narrowed by `where`, as the actor may see each row; with `detail`,
    each declaration's attachments and review history too (two more queries, not one per row)."""
    names = {f.code: f.name for f in forms}
    labels = {f.code: {x.name: x.label for x in f.fields} for f in forms}
    rows = db.rows(f"{DECLARATION_VIEW} WHERE {where} ORDER BY {order}{_page(db, limit, offset)}", **params)
    files: dict[int, list[AttachmentOut]] = {}
    events: dict[int, list[DeclarationEventOut]] = {}
    if detail and rows:
        ids = [r[0] for r in rows]
        for aid, did, filename, media_type, size, sha256 in db.rows(
                "SELECT id, declaration_id, filename, media_type, size, sha256 FROM attachment "
                f"WHERE {in_list(db, 'declaration_id', 'ids', 'BIGINT')} ORDER BY id", ids=json_list(ids)):
            files.setdefault(did, []).append(AttachmentOut.model_construct(
                id=aid, filename=filename, media_type=media_type, size=size, sha256=sha256))
        for did, steps in history(db, ids).items():
            events[did] = [DeclarationEventOut.model_construct(
                at=step.at, action=step.action, action_label=DECLARATION_ACTIONS.get(step.action, step.action),
                actor_name=step.actor_name, reason=step.reason) for step in steps]
    found = []
    for (did, professional_id, id_number, name, account_id, unit_id, unit_name, form_code, subject, year, credits,
         status, fields, created_at, updated_at, submitted_at, decided_at, reject_reason, rejected_level) in rows:
        full = may_see_personal_data(actor, account_id, unit_id)
        found.append(DeclarationOut.model_construct(
            id=did, professional_id=professional_id,
            id_number=id_number if full else mask_id_number(id_number), name=name,
            unit_id=unit_id, unit_name=unit_name, form_code=form_code,
            form_name=names.get(form_code, form_code), subject=subject, year=year,
            credits=credits, status=status, fields=json.loads(fields),
            field_labels=labels.get(form_code, {}),
            created_at=created_at, updated_at=updated_at, submitted_at=submitted_at,
            decided_at=decided_at, reject_reason=reject_reason,
            rejected_level=rejected_level, attachments=files.get(did, []),
            history=events.get(did, []),
        ))
    return found


def show(db: Db, actor: Actor, declaration_id: int) -> DeclarationOut:
    """One declaration with its fields, attachments and review history."""
    clauses, params = _scope(db, actor)
    found = views(db, actor, where_sql(["d.id = :id", *clauses]), {**params, "id": declaration_id},
                  current_forms(db), detail=True)
    if not found:
        raise NotFound(f"未找到申报 {declaration_id}（在您可查看的范围内）", {"id": declaration_id})
    return found[0]


def _query_clauses(db: Db, actor: Actor, query: DeclarationQuery) -> tuple[list[str], dict[str, Any],
                                                                           ProfessionalOut | None]:
    """Scope and narrowing (not the status filter); the person looked up, if any."""
    clauses, params = _scope(db, actor)
    person = None
    if query.person:
        from hnce_cli.services.lookup import lookup

        found = lookup(db, actor, query.person, field="person")
        if len(found.matches) > 1:
            raise ValidationFailed.one("person", f"找到 {found.total} 人，请用身份证号指定",
                                       "give the 18-digit ID number")
        person = found.matches[0]
        clauses.append("d.professional_id = :narrow_person")
        params["narrow_person"] = person.id
    if query.unit:
        more, more_params = _unit_clause(db, actor, query.unit)
        clauses.extend(more)
        params.update(more_params)
    if query.year is not None:
        clauses.append("d.year = :narrow_year")
        params["narrow_year"] = query.year
    if query.form:
        clauses.append("d.form_code = :narrow_form")
        params["narrow_form"] = find_form(current_forms(db), query.form).code
    if query.ids is not None:
        clauses.append(in_list(db, "d.id", "narrow_ids", "BIGINT"))
        params["narrow_ids"] = json_list(query.ids)
    if query.awaiting_review:
        clauses.append(status_is(LEVELS[_level(actor)]["from"]))
    return clauses, params, person


def list_declarations(db: Db, actor: Actor, query: DeclarationQuery,
                      limit: int | None = LIST_LIMIT, offset: int = 0) -> DeclarationList:
    """The progress view 申报进度查询: counts per filter and one page of rows."""
    clauses, params, person = _query_clauses(db, actor, query)
    by_status = dict(db.rows(f"SELECT d.status, count(*) FROM declaration d WHERE {where_sql(clauses)} "
                             "GROUP BY d.status", **params))
    counts = {name: sum(by_status.get(s, 0) for s in (statuses or by_status))
              for name, statuses in FILTERS.items()}
    statuses = FILTERS[query.filter]
    where = list(clauses)
    if statuses:
        where.append(_status_in(statuses))
    forms = current_forms(db)
    if query.awaiting_review:
        # A review queue can hold a million items. The page's ids come from the
        # queue's index alone (unit, status, submitted_at and the id are its key);
        # only those rows are read. Sorting the full rows took ~1 s per million.
        order = "d.submitted_at, d.id"
        page = (f"SELECT d.id FROM declaration d WHERE {where_sql(where)} ORDER BY {order}"
                f"{_page(db, limit, offset)}")
        rows = views(db, actor, f"d.id IN ({page})", params, forms, order=order)
    else:
        rows = views(db, actor, where_sql(where), params, forms, limit=limit, offset=offset)
    return DeclarationList.model_construct(person=person, filter=query.filter, counts=counts,
                           total=counts[query.filter], declarations=rows)


# What one attachment export may carry. The files travel as base64 in one JSON answer that
# the server holds in memory while it is sent, so a query matching every declaration of a
# province must not become one answer: past these caps the export is refused, naming them and
# how to narrow it. One declaration's files always fit (at most 5 of 10 MiB each).
EXPORT_MAX_FILES = 50
EXPORT_MAX_BYTES = 50 * 1024 * 1024
# Who may have the files themselves: the declarant, and the reviewers who decide the
# declaration (its unit's admin, its region's HR). The scans (diplomas, ID cards, invoices)
# are personal data: support 客服, the system admin and other roles that only look see an
# attachment's name and size (`hnce declare show`), never its content.
FILE_ROLES = ("professional", "unit_admin", "hr")


def attachment_bundle(db: Db, actor: Actor, query: DeclarationQuery) -> AttachmentBundle:
    """The files of the declarations a query matches (for --open / --export-attachments), for
    the declarant and the reviewers only, at most EXPORT_MAX_FILES files and EXPORT_MAX_BYTES."""
    import base64

    from hnce_cli.errors import TooLarge
    from hnce_cli.terms import ROLES

    if actor.role not in FILE_ROLES:
        raise PermissionDenied(
            f"只有申报人本人和审核人员可以下载附件（当前角色：{ROLES.get(actor.role, actor.role)}）；"
            "附件的名称和大小见 hnce declare show 申报编号 (attachment files are for the declarant and "
            "the reviewers only)", {"role": actor.role, "allowed": list(FILE_ROLES)})
    clauses, params, _ = _query_clauses(db, actor, query)
    statuses = FILTERS[query.filter]
    if statuses:
        clauses.append(_status_in(statuses))
    ids = db.column(f"SELECT d.id FROM declaration d WHERE {where_sql(clauses)} ORDER BY d.id", **params)
    if query.ids is not None:
        missing = sorted(set(query.ids) - set(ids))
        if missing:
            raise NotFound(f"未找到申报 {', '.join(map(str, missing))}（在您可查看的范围内）",
                           {"ids": missing})
    if not ids:
        return AttachmentBundle(files=[])
    which = in_list(db, "a.declaration_id", "ids", "BIGINT")
    found = db.rows("SELECT a.id, a.declaration_id, a.filename, a.media_type, a.size, a.sha256 "
                    f"FROM attachment a WHERE {which} ORDER BY a.id", ids=json_list(ids))
    total = sum(row[4] for row in found)
    if len(found) > EXPORT_MAX_FILES or total > EXPORT_MAX_BYTES:  # counted before a byte is read
        cap = EXPORT_MAX_BYTES / 1048576
        raise TooLarge(
            f"一次最多导出 {EXPORT_MAX_FILES} 个附件、共 {cap:g} MiB，所选 {len(ids)} 个申报有 {len(found)} 个附件、"
            f"共 {total / 1048576:.1f} MiB (attachment export too large: at most {EXPORT_MAX_FILES} files and "
            f"{cap:g} MiB in one request); 请缩小范围：指定申报编号 (hnce review 42 43 --export-attachments DIR; "
            'over HTTP {"ids": [42, 43]}), or narrow by --unit, --year or --form',
            {"files": len(found), "bytes": total, "declarations": len(ids), "max_files": EXPORT_MAX_FILES,
             "max_bytes": EXPORT_MAX_BYTES})
    content = dict(db.rows("SELECT a.id, b.content FROM attachment a JOIN blob b ON b.sha256 = a.sha256 "
                           f"WHERE {which}", ids=json_list(ids)))
    return AttachmentBundle(files=[AttachmentFile(
        id=aid, declaration_id=did, filename=filename, media_type=media_type, size=size, sha256=sha256,
        content_base64=base64.b64encode(content[aid]).decode("ascii"))
        for aid, did, filename, media_type, size, sha256 in found])


# --- the review history -----------------------------------------------------------

class Step(NamedTuple):
    """One transition of a declaration, as its audit row tells it."""

    action: str  # create, submit, unit_approve, hr_reject, withdraw, edit, import …
    actor_id: int | None
    at: datetime
    actor_name: str | None
    reason: str | None  # a rejection's reason (the declarant sees it)


def history(db: Db, ids: Iterable[int]) -> dict[int, list[Step]]:
    """The review history of declarations, oldest first: their audit rows.

    Each transition writes one record, its audit row, and the history the declarant
    sees is read from it (an HR approval of 100,000 writes 100,000 rows, not 200,000).
    A deleted draft's number can be given out again (SQLite reuses the highest
    rowid), so a history starts after the last delete of its number. Declarations
    without any history are left out.
    """
    keys = [str(did) for did in dict.fromkeys(ids)]
    found: dict[int, list[Step]] = {}
    if not keys:
        return found
    for subject, action, actor_id, at, after, who in db.rows(
            "SELECT l.subject_id, l.action, l.actor_id, l.at, l.after, a.name FROM audit_log l "
            "LEFT JOIN account a ON a.id = l.actor_id "
            f"WHERE l.subject_type = 'declaration' AND {in_list(db, 'l.subject_id', 'keys')} "
            "ORDER BY l.at, l.id", keys=json_list(keys)):
        steps = found.setdefault(int(subject), [])
        name = action.removeprefix("declaration.")
        if name == "delete":
            steps.clear()
            continue
        reason = json.loads(after).get("reason") if after and name.endswith("_reject") else None
        steps.append(Step(name, actor_id, at, who, reason))
    return {did: steps for did, steps in found.items() if steps}


# --- the professional's own actions ---------------------------------------------

class _Own(NamedTuple):
    id: int
    status: str
    form_code: str
    year: int
    credits: float
    fields: str  # the answers, JSON


def _own(db: Db, me: _Me, declaration_id: int) -> _Own:
    row = db.one("SELECT id, status, form_code, year, credits, fields FROM declaration "
                 "WHERE id = :id AND professional_id = :me", id=declaration_id, me=me.id)
    if row is None:
        raise NotFound(f"未找到您的申报 {declaration_id}", {"id": declaration_id})
    return _Own(*row)


def _refuse(decl: _Own, doing: str, allowed: str) -> Conflict:
    return Conflict(f"申报 {decl.id} 当前为{_label(decl.status)}，不能{doing}（只有{allowed}的申报可以{doing}）",
                    {"id": decl.id, "status": decl.status})


# Columns a professional's own action may set (written into SQL by name, so checked).
_OWN_COLUMNS = frozenset({"year", "credits", "fields", "fingerprint", "status", "submitted_at", "unit_id",
                          "reject_reason", "rejected_level", "decided_at"})


def _guarded_update(db: Db, decl: _Own, me: _Me, values: dict[str, Any]) -> None:
    """UPDATE ... WHERE id, owner and the status just read: 0 rows means it changed under us."""
    unknown = set(values) - _OWN_COLUMNS
    if unknown:
        raise ValueError(f"not a column a declarant sets: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = :set_{name}" for name in values)
    changed = db.execute(
        f"UPDATE declaration SET updated_at = :now, {assignments} "
        "WHERE id = :id AND professional_id = :me AND status = :was",
        now=clock.now(), id=decl.id, me=me.id, was=decl.status, **{f"set_{k}": v for k, v in values.items()})
    if changed != 1:
        raise Conflict(f"申报 {decl.id} 刚刚被修改（例如已被审核），请刷新后重试", {"id": decl.id})


def _identical(db: Db, me: _Me, same_as: str) -> tuple[int, str] | None:
    """The person's earliest declaration identical to a new one (a draft, pending or approved),
    if any. On PostgreSQL the person's row is locked first, so that the same declaration sent
    twice at once (a re-run after a time-out while the first is still being written) is
    checked after the first one committed; SQLite's writers queue at BEGIN IMMEDIATE anyway."""
    if db.pg:
        db.one("SELECT id FROM professional WHERE id = :me FOR UPDATE", me=me.id)
    row = db.one(f"SELECT d.id, d.status FROM declaration d WHERE d.fingerprint = :fp AND d.professional_id = :me "
                 f"AND {_status_in(('draft', *LIVE))} ORDER BY d.id LIMIT 1", fp=same_as, me=me.id)
    return None if row is None else (row[0], row[1])


def create(db: Db, actor: Actor, data: DeclarationInput) -> DeclarationOut:
    """Declare credits: a draft (保存暂不提交) or submitted at once."""
    from hnce_cli.services import attachments

    in_force = rules.current(db)  # the year's rules, as the system admin may have loaded them
    me = _me(db, actor)
    problems: list[FieldProblem] = []
    today = clock.today()
    form = _collect(problems, find_form, current_forms(db), data.form)
    year = _collect(problems, check_open_year, in_force, data.year, today)
    answers: dict[str, Any] = {}
    credits = 0.0
    if form is not None and year is not None:
        answers, credits, more = check_answers(form, data.fields, data.credits, year, today)
        problems.extend(more)
    files, more = attachments.check_uploads(data.attachments)
    problems.extend(more)
    if problems:
        raise _fail(problems)
    same_as = fingerprint(me.id_number, form.code, year, answers)
    earlier = _identical(db, me, same_as)
    if earlier is not None and not data.allow_duplicate:
        raise Conflict(
            f"已有相同的申报 {earlier[0]}（{_label(earlier[1])}）：同一学习形式、计入年度和内容，未重复创建 "
            f"(an identical declaration already exists: number {earlier[0]}) → 查看 hnce declare show {earlier[0]}；"
            "确是又一次同样的活动时，加 --allow-duplicate 再申报",
            {"id": earlier[0], "status": earlier[1]})
    now = clock.now()
    fields = json.dumps(answers, ensure_ascii=False)
    from hnce_cli.models import Declaration

    declaration_id = db.add(Declaration(
        professional_id=me.id, unit_id=me.unit_id, form_code=form.code, subject="public", year=year,
        credits=credits, fields=fields, fingerprint=same_as, status="draft", created_at=now, updated_at=now)).id
    attachments.store(db, declaration_id, files)
    audit.record(db, actor, "declaration.create", "declaration", declaration_id, None,
                 {"status": "draft", "form": form.code, "year": year, "credits": credits,
                  "attachments": [f.sha256 for f in files],
                  **({"duplicate_of": earlier[0]} if earlier is not None else {})})
    if data.submit:
        _submit(db, actor, me, _Own(declaration_id, "draft", form.code, year, credits, fields), in_force)
    return show(db, actor, declaration_id)


def edit(db: Db, actor: Actor, declaration_id: int, data: DeclarationEdit) -> DeclarationOut:
    """Change a draft: its year, fields, credits (entered forms) and attachments."""
    from hnce_cli.services import attachments

    in_force = rules.current(db)  # the year's rules, as the system admin may have loaded them
    me = _me(db, actor)
    decl = _own(db, me, declaration_id)
    if decl.status != "draft":
        raise _refuse(decl, "修改", "待提交")
    problems: list[FieldProblem] = []
    today = clock.today()
    form = _collect(problems, find_form, current_forms(db), decl.form_code)
    year = _collect(problems, check_open_year, in_force, data.year or decl.year, today)
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
    have = dict(db.rows("SELECT id, filename FROM attachment WHERE declaration_id = :d", d=decl.id))
    unknown = [i for i in data.remove_attachments if i not in have]
    if unknown:
        problems.append(FieldProblem("remove_attachments", f"本申报没有附件 {unknown}",
                                     f"attachments: {sorted(have)}"))
    files, more = attachments.check_uploads(
        data.attachments, already=len(have) - len(set(data.remove_attachments) & set(have)))
    problems.extend(more)
    if problems:
        raise _fail(problems)
    _guarded_update(db, decl, me, {"year": year, "credits": credits,
                                   "fields": json.dumps(answers, ensure_ascii=False),
                                   "fingerprint": fingerprint(me.id_number, decl.form_code, year, answers)})
    removed = attachments.remove(db, decl.id, list(data.remove_attachments)) \
        if data.remove_attachments else []
    attachments.store(db, decl.id, files)
    audit.record(db, actor, "declaration.edit", "declaration", decl.id, before,
                 {"year": year, "credits": credits, "fields": answers,
                  "attachments_added": [f.sha256 for f in files], "attachments_removed": removed})
    return show(db, actor, decl.id)


def delete_draft(db: Db, actor: Actor, declaration_id: int) -> DeclarationDeleted:
    from hnce_cli.services import attachments

    me = _me(db, actor)
    decl = _own(db, me, declaration_id)
    if decl.status != "draft":
        raise _refuse(decl, "删除", "待提交")
    before = {"status": "draft", "form": decl.form_code, "year": decl.year, "credits": decl.credits,
              "fields": json.loads(decl.fields)}
    attachments.remove(db, decl.id)
    gone = db.execute("DELETE FROM declaration WHERE id = :id AND professional_id = :me AND status = 'draft'",
                      id=decl.id, me=me.id)
    if gone != 1:
        raise Conflict(f"申报 {decl.id} 刚刚被修改，请刷新后重试", {"id": decl.id})
    audit.record(db, actor, "declaration.delete", "declaration", decl.id, before, None)
    return DeclarationDeleted(id=declaration_id)


def _submit(db: Db, actor: Actor, me: _Me, decl: _Own, in_force: dict[int, rules.YearRules] | None = None) -> None:
    if in_force is None:
        in_force = rules.current(db)  # the year's rules, as the system admin may have loaded them
    check_open_year(in_force, decl.year, clock.today())
    now = clock.now()
    _guarded_update(db, decl, me, {"status": "pending_unit", "submitted_at": now,
                                   "unit_id": me.unit_id, "reject_reason": None,
                                   "rejected_level": None, "decided_at": None})
    audit.record(db, actor, "declaration.submit", "declaration", decl.id, {"status": "draft"},
                 {"status": "pending_unit", "unit_id": me.unit_id})


def submit(db: Db, actor: Actor, declaration_id: int) -> DeclarationOut:
    """Draft → pending the unit's review."""
    me = _me(db, actor)
    decl = _own(db, me, declaration_id)
    if decl.status != "draft":
        raise _refuse(decl, "提交", "待提交")
    _submit(db, actor, me, decl)
    return show(db, actor, declaration_id)


def withdraw(db: Db, actor: Actor, declaration_id: int) -> DeclarationOut:
    """撤销: pending (at the unit or at HR) → back to draft."""
    me = _me(db, actor)
    decl = _own(db, me, declaration_id)
    if decl.status not in PENDING:
        raise _refuse(decl, "撤销", "待审核")
    old = decl.status
    _guarded_update(db, decl, me, {"status": "draft", "submitted_at": None})
    audit.record(db, actor, "declaration.withdraw", "declaration", decl.id, {"status": old},
                 {"status": "draft"})
    return show(db, actor, declaration_id)


# --- unit bulk import -------------------------------------------------------------

class _ImportPerson(NamedTuple):
    id: int
    id_number: str
    name: str
    unit_id: int
    status: str


IMPORT_ALIASES = {
    "身份证号": "id_number", "学习形式": "form", "计入年度": "year", "学分": "credits", "姓名": "name",
    "申报编号": "ref",
}
IMPORT_RESERVED = {"id_number", "form", "year", "credits", "name", "ref", "subject", "计入科目"}
# 申报编号 (ref): the unit's own number for a row, kept with the declaration. A unit gives each
# row of all its files its own number (e.g. 2026-0001); a number seen before means "this row
# was imported already", so a re-run never makes it again. Without the column, a row is
# known by its fingerprint (the person, form, year and answers).
REF_RULE = TextRule("申报编号", 64)


class _Prepared(NamedTuple):
    """An import row that passed every check, with its identity."""

    row: int
    professional_id: int
    unit_id: int
    form_code: str
    year: int
    credits: float
    answers: dict[str, Any]
    ref: str | None
    fingerprint: str
    key: str  # declaration.import_key: "ref:<unit id>:<ref>" or "fp:<fingerprint>"


def _year_cell(value: Any) -> int | None:
    """计入年度 of an import row: blank (the open year), a whole number, or ASCII digits —
    `int` would also read ２０２５ and 2_025."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a spreadsheet's 2025.0
    if isinstance(value, str) and is_ascii_digits(value.strip()):
        return int(value.strip())
    raise ValueError(value)


def _decimal_cell(value: Any) -> float:
    """学分 of an import row: a finite number, or a decimal in ASCII digits (`float` would also
    read １.５, 1_0 and nan)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", value.strip()):
        number = float(value.strip())
    else:
        raise ValueError(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


# A date as spreadsheets hand it over: an XLSX date cell, which the reader gives as
# "2026-05-10 00:00:00", or the Y/M/D that Excel writes into a CSV on Chinese Windows
# ("2026/5/10"). Read as the form's YYYY-MM-DD, so a desk's file imports as it was saved,
# and its CSV and XLSX copies have one fingerprint.
_SHEET_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?: 00:00:00)?")


def _date_cell(value: Any) -> Any:
    """A spreadsheet's date cell as YYYY-MM-DD; anything else as it is (the form's check names it)."""
    found = _SHEET_DATE.fullmatch(str(value).strip())
    if found is None:
        return value
    year, month, day = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _imported_before(db: Db, keys: Sequence[str]) -> dict[str, tuple[int, str, str | None]]:
    """The declarations made from these import rows before: key → (id, status, fingerprint)."""
    if not keys:
        return {}
    return {key: (did, status, same_as) for key, did, status, same_as in db.rows(
        "SELECT d.import_key, d.id, d.status, d.fingerprint FROM declaration d "
        f"WHERE {in_list(db, 'd.import_key', 'keys')}", keys=json_list(keys))}


def _live_identical(db: Db, fingerprints: Iterable[str]) -> dict[str, tuple[int, str]]:
    """For each fingerprint, the earliest declaration with it that counts or will (LIVE):
    one made by `declare new`, or imported before hnce kept import keys."""
    wanted = sorted(set(fingerprints))
    if not wanted:
        return {}
    found: dict[str, tuple[int, str]] = {}
    for same_as, did, status in db.rows(
            "SELECT d.fingerprint, d.id, d.status FROM declaration d "
            f"WHERE {in_list(db, 'd.fingerprint', 'fps')} AND {_status_in(LIVE)} ORDER BY d.id",
            fps=json_list(wanted)):
        found.setdefault(same_as, (did, status))
    return found


def import_rows(db: Db, actor: Actor, rows: list[dict[str, Any]]) -> DeclarationImportResult:
    """A unit admin declares for their people from a spreadsheet.

    Every row is checked before any is written; one bad row writes nothing and the
    error lists every (row, field, why). The unit is the one importing, so its own
    review is done: the declarations land as pending_hr, awaiting HR.

    Importing is safe to run again: a row made before (its 申报编号, or else its
    fingerprint, is a declaration's import_key), or identical to a declaration that
    counts or will, is reported as already_imported with that declaration's number and
    not made again. The unique import_key makes two imports of one file at the same
    time write each row once (INSERT … ON CONFLICT DO NOTHING; the loser reports the
    winner's numbers).
    """
    actor.require("unit_admin")
    in_force = rules.current(db)  # the year's rules, as the system admin may have loaded them
    if not rows:
        raise ValidationFailed.one("file", "文件中没有数据行", "the first row is the header, data below it")
    forms = current_forms(db)
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
    people = {p.id_number: p for p in map(_ImportPerson._make, db.rows(
        "SELECT p.id, p.id_number, p.name, p.unit_id, p.status FROM professional p "
        f"WHERE {in_list(db, 'p.id_number', 'numbers')}", numbers=json_list(sorted(n for n in numbers if n))))}
    form_cache: dict[str, LearningForm | str] = {}
    year_cache: dict[Any, int | str] = {}
    prepared: list[_Prepared] = []
    label_cache: dict[str, dict[str, str]] = {}
    date_cache: dict[str, frozenset[str]] = {}
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
        ref = None
        raw_ref = row.get("ref")
        if raw_ref is not None and str(raw_ref).strip():
            refused = policy_problem(str(raw_ref), "ref", REF_RULE)
            if refused is not None:
                problem(row_no, "ref", refused.message)
                ok = False
            else:
                ref = normalise(str(raw_ref))
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
                year_cache[year_key] = check_open_year(in_force, _year_cell(year_key), today)
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
            date_cache[form.code] = frozenset(f.name for f in form.fields if f.type == "date")
        dates = date_cache[form.code]
        values = {}
        for key, value in row.items():
            if key in IMPORT_RESERVED:
                continue
            name = labels.get(key, key)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # an empty cell of another form's column
            values[name] = _date_cell(value) if name in dates else value
        raw_credits = row.get("credits")
        credits = None
        if raw_credits is not None and str(raw_credits).strip():
            try:
                credits = _decimal_cell(raw_credits)
            except ValueError:
                problem(row_no, "credits", f"学分格式不对：{raw_credits}")
                continue
        answers, computed, more = check_answers(form, values, credits, year, today)
        for p in more:
            problem(row_no, p.field, p.message)
        if more or not ok:
            continue
        same_as = fingerprint(person.id_number, form.code, year, answers)
        prepared.append(_Prepared(row_no, person.id, person.unit_id, form.code, year, computed, answers, ref,
                                  same_as, f"ref:{person.unit_id}:{ref}" if ref else f"fp:{same_as}"))
    first_of: dict[str, int] = {}
    for item in prepared:
        first = first_of.setdefault(item.key, item.row)
        if first == item.row:
            continue
        if item.ref:
            problem(item.row, "ref", f"申报编号 {item.ref} 与第 {first} 行重复 → 每行用不同的申报编号")
        else:
            problem(item.row, "id_number", f"与第 {first} 行相同（同一人、学习形式、计入年度和内容）→ 删除重复的行；"
                                           "确是两次活动时，在「申报编号」列给两行不同的编号")
    before = _imported_before(db, list(first_of))
    for item in prepared:
        found = before.get(item.key)
        if item.ref and found is not None and found[2] not in (None, item.fingerprint):
            problem(item.row, "ref", f"申报编号 {item.ref} 已用于申报 {found[0]}，但内容与此行不同 → 新的申报请用新的"
                                     "申报编号；若是同一条，请按已导入的内容填写或删除此行")
    if problems:
        problems.sort(key=lambda p: p["row"])
        shown = problems[:20]
        raise ValidationFailed(
            f"导入文件有 {len(problems)} 处错误，未导入任何数据 (nothing was imported)",
            {"rows": problems},
            problems=[FieldProblem(f"第 {p['row']} 行 {p['field']}", p["message"]) for p in shown],
        )
    fresh = [p for p in prepared if p.key not in before]
    live = _live_identical(db, (p.fingerprint for p in fresh))
    writing = [p for p in fresh if p.fingerprint not in live]
    now = clock.now()
    made: dict[str, int] = {}
    if writing:
        source = db.json_table([("professional_id", "BIGINT"), ("unit_id", "BIGINT"), ("form_code", "TEXT"),
                                ("year", "INTEGER"), ("credits", "DOUBLE PRECISION"), ("fields", "JSON"),
                                ("fingerprint", "TEXT"), ("import_key", "TEXT")], "rows")
        # One INSERT … SELECT from the rows as one JSON array. A row an import running at the
        # same time wrote first is skipped by the unique import_key (`WHERE true`: SQLite reads
        # an INSERT … SELECT's ON CONFLICT only after one); RETURNING gives the new ids.
        made = {key: did for did, key in db.rows(
            "INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, "
            "fingerprint, import_key, status, created_at, updated_at, submitted_at) SELECT r.professional_id, "
            "r.unit_id, r.form_code, 'public', r.year, r.credits, r.fields, r.fingerprint, r.import_key, "
            f"'pending_hr', :now, :now, :now FROM {source} AS r WHERE true "
            "ON CONFLICT (import_key) DO NOTHING RETURNING id, import_key",
            now=now, rows=json.dumps([(p.professional_id, p.unit_id, p.form_code, p.year, p.credits, p.answers,
                                       p.fingerprint, p.key) for p in writing], ensure_ascii=False))}
        taken = [p.key for p in writing if p.key not in made]
        if taken:  # committed meanwhile by an import of the same rows: its declarations
            before.update(_imported_before(db, taken))
    new_ids = sorted(made.values())
    audit.record_for_ids(db, actor, "declaration.import", "declaration", new_ids, None,
                         {"status": "pending_hr", "via": "import"}, now)
    names = {form.code: form.name for form in form_cache.values() if not isinstance(form, str)}
    return _import_result(prepared, made, before, live, names)


def _import_result(prepared: list[_Prepared], made: dict[str, int],
                   before: dict[str, tuple[int, str, str | None]],
                   live: dict[str, tuple[int, str]], names: dict[str, str]) -> DeclarationImportResult:
    """Every row's outcome, in file order; counts and credits of what was made now, and the
    platform's name of each form counted (学术会议, not conference) for the summary people read."""
    from hnce_cli.schemas.declarations import DeclarationImportRow

    rows: list[DeclarationImportRow] = []
    by_form: dict[str, int] = {}
    credits = 0.0
    for p in prepared:
        did = made.get(p.key)
        if did is not None:
            rows.append(DeclarationImportRow(p.row, "created", did, "pending_hr", p.ref))
            by_form[p.form_code] = by_form.get(p.form_code, 0) + 1
            credits += p.credits
        elif p.key in before:
            did, status, _ = before[p.key]
            rows.append(DeclarationImportRow(p.row, "already_imported", did, status, p.ref,
                                             f"此行已导入过：申报 {did}（{_label(status)}），未重复创建"))
        else:
            did, status = live[p.fingerprint]
            rows.append(DeclarationImportRow(
                p.row, "already_imported", did, status, p.ref,
                f"已有相同的申报 {did}（{_label(status)}）：同一人、学习形式、计入年度和内容，未重复创建"))
    created = len(made)
    return DeclarationImportResult.model_construct(
        created=created, already_imported=len(rows) - created, status="pending_hr", by_form=by_form,
        form_names={code: names.get(code, code) for code in by_form}, credits=round(credits, 1), rows=rows)
