"""Looking people up (support's first question: who is this and where do they stand).

Views mask the ID number and phone unless the viewer may see them: the person
themself, a system admin, or the admin of the person's own unit. A look-up is one
indexed query in the viewer's scope (`PERSON_VIEW` narrowed by ID number, mobile or
name), the hottest read of the API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hnce_cli import text
from hnce_cli.errors import NotFound, ValidationFailed
from hnce_cli.masking import mask_id_number, mask_mobile
from hnce_cli.schemas import LookupResult, ProfessionalOut
from hnce_cli.services.context import Actor
from hnce_cli.store import Db, Hot, json_list
from hnce_cli.terms import unit_label

LOOKUP_LIMIT = 50

# Everything a view of a professional shows, in one query (joins, no N+1).
PERSON_VIEW = (
    "SELECT p.id, p.account_id, p.id_number, p.name, p.gender, p.birth_date, p.mobile, p.email, p.unit_id, "
    "p.department, p.ethnicity, p.native_place, p.school, p.major, p.title, p.status, p.registered_at, "
    "p.decided_at, p.reject_reason, u.name, u.kind, r.name, d.name "
    "FROM professional p JOIN unit u ON u.id = p.unit_id JOIN region r ON r.code = u.region_code "
    "LEFT JOIN account d ON d.id = p.decided_by")


def may_see_personal_data(viewer: Actor | None, account_id: int, unit_id: int) -> bool:
    if viewer is None:  # the registrant's own receipt
        return True
    if viewer.role == "system_admin" or viewer.account_id == account_id:
        return True
    return viewer.role == "unit_admin" and unit_id in viewer.unit_ids


def person_out(row: Sequence[Any], viewer: Actor | None) -> ProfessionalOut:
    """One row of PERSON_VIEW as the viewer may see it."""
    (pid, account_id, id_number, name, gender, birth_date, mobile, email, unit_id, department, ethnicity,
     native_place, school, major, title, status, registered_at, decided_at, reject_reason, unit_name,
     unit_kind, region_name, decider) = row
    full = may_see_personal_data(viewer, account_id, unit_id)
    return ProfessionalOut.model_construct(
        id=pid, id_number=id_number if full else mask_id_number(id_number), name=name, gender=gender,
        birth_date=birth_date if full else None, mobile=mobile if full else mask_mobile(mobile),
        email=email if full else None, unit_id=unit_id, unit_kind=unit_kind,
        unit_name=unit_label(unit_name, unit_kind),  # no employer: never shown as employed by the bureau
        region_name=region_name, department=department, ethnicity=ethnicity, native_place=native_place,
        school=school, major=major, title=title, status=status, registered_at=registered_at,
        decided_at=decided_at, decided_by=decider, reject_reason=reject_reason, masked=not full,
    )


def people(db: Db, where: str, viewer: Actor | None, *, order: str = "p.id", limit: int | None = None,
           offset: int = 0, hot: bool = False, **params: Any) -> list[ProfessionalOut]:
    """PERSON_VIEW narrowed by `where` (SQL on p, u, r), as the viewer may see each person
    (`hot`: an everyday look-up, prepared on PostgreSQL, see store.Hot)."""
    sql = f"{PERSON_VIEW} WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if offset:
        sql += f" OFFSET {int(offset)}"
    return [person_out(row, viewer) for row in db.rows(Hot(sql) if hot else sql, **params)]


def classify_query(query: str, field: str = "query") -> str:
    """An ID number, a mobile number, or a name: support types whatever they were told.
    Numbers are read in ASCII digits only: `\\d` also matches full-width ４１０… (an input
    method's), which would be looked up as a number no one has."""
    q = query.strip()
    if re.fullmatch(r"[0-9]{17}[0-9Xx]", q):
        return "id_number"
    if re.fullmatch(r"(\+?86)?1[0-9]{10}", q.replace(" ", "").replace("-", "")):
        return "mobile"
    digit = re.search(r"\d", q)  # any script's digit: a name has none
    if digit is not None and not digit.group().isascii():
        raise ValidationFailed.one(field, f"{q} 含有全角或非 ASCII 数字 {digit.group()!r} (digits must be 0-9)",
                                   "switch the input method to half-width (半角) and type the number again")
    if digit is not None:
        raise ValidationFailed.one(field, f"无法识别 {query!r}",
                                   "give an 18-digit ID number, an 11-digit mobile or a name")
    return "name"


def normalise_query(query: str, field: str = "query") -> tuple[str, str]:
    """(kind, the value to match): ID numbers upper-cased, mobiles without +86 and dashes.
    The text policy first: no name is 40,000 characters long, and a NUL is no one's name
    (PostgreSQL refuses it as a parameter)."""
    query = text.clean(query, field, text.SEARCH)
    kind = classify_query(query, field)
    q = query.strip()
    if kind == "id_number":
        q = q.upper()
    elif kind == "mobile":
        q = q.replace(" ", "").replace("-", "")[-11:]
    return kind, q


def scope_clause(db: Db, actor: Actor) -> tuple[str, dict[str, Any]]:
    """The people a viewer may look up, as SQL on p and u: themself, their units, their
    region, or everyone (support, system admin)."""
    if actor.role == "professional":
        return "p.account_id = :scope_account", {"scope_account": actor.account_id}
    if actor.role == "unit_admin":
        return (f"p.unit_id IN (SELECT value FROM {db.json_values('scope_units', 'BIGINT')} AS su)",
                {"scope_units": json_list(sorted(actor.unit_ids))})
    if actor.role == "hr":
        from hnce_cli.services.accounts import region_descendants

        return (f"u.region_code IN (SELECT value FROM {db.json_values('scope_regions')} AS sr)",
                {"scope_regions": json_list(sorted(region_descendants(db, actor.region_code or "")))})
    actor.require("support", "system_admin", "professional", "unit_admin", "hr")
    return "1 = 1", {}


def lookup(db: Db, actor: Actor, query: str, *, field: str = "query") -> LookupResult:
    """Find professionals by ID number, mobile or exact name within the actor's scope
    (`field`: what a refused query is called, e.g. `person` of a declaration list)."""
    kind, q = normalise_query(query, field)
    scope, params = scope_clause(db, actor)
    found = people(db, f"p.{kind} = :q AND {scope}", actor, limit=LOOKUP_LIMIT + 1, hot=True, q=q, **params)
    if not found:
        raise NotFound(f"未找到 {q}（在您可查看的范围内）", {"query": q, "matched_by": kind})
    return LookupResult.model_construct(query=q, matched_by=kind, matches=found[:LOOKUP_LIMIT], total=len(found))
