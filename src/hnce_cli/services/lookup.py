"""Looking people up (support's first question: who is this and where do they stand).

Views mask the ID number and phone unless the viewer may see them: the person
themself, a system admin, or the admin of the person's own unit.
"""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from hnce_cli.errors import NotFound, ValidationFailed
from hnce_cli.models import Account, Professional, Region, Unit
from hnce_cli.schemas import LookupResult, ProfessionalOut
from hnce_cli.services.context import Actor
from hnce_cli.validation import mask_id_number, mask_mobile

LOOKUP_LIMIT = 50


def may_see_personal_data(viewer: Actor | None, account_id: int, unit_id: int) -> bool:
    if viewer is None:  # the registrant's own receipt
        return True
    if viewer.role == "system_admin" or viewer.account_id == account_id:
        return True
    return viewer.role == "unit_admin" and unit_id in viewer.unit_ids


_decider = aliased(Account)
VIEW_COLUMNS = (
    *[getattr(Professional, c) for c in (
        "id", "account_id", "id_number", "name", "gender", "birth_date", "mobile", "email",
        "unit_id", "department", "ethnicity", "native_place", "school", "major", "title",
        "status", "registered_at", "decided_at", "reject_reason")],
    Unit.name.label("unit_name"), Unit.kind.label("unit_kind"),
    Region.name.label("region_name"), _decider.name.label("decider_name"),
)


def view_statement() -> Select:
    """Everything a view of a professional shows, in one query (joins, no N+1)."""
    return (select(*VIEW_COLUMNS)
            .join(Unit, Unit.id == Professional.unit_id)
            .join(Region, Region.code == Unit.region_code)
            .outerjoin(_decider, _decider.id == Professional.decided_by))


def professional_views(session: Session, statement: Select, viewer: Actor | None,
                       params: dict[str, object] | None = None) -> list[ProfessionalOut]:
    """Run a view_statement() (filtered by the caller) and mask what the viewer may not see.

    `params` fill a cached statement's bind parameters: passing them here rather than
    through `statement.params()` keeps the statement object the same, so SQLAlchemy
    reuses its compiled form and result columns as they are (a third of a look-up's
    CPU otherwise)."""
    views = []
    for r in session.connection().execute(statement, params).mappings():
        full = may_see_personal_data(viewer, r["account_id"], r["unit_id"])
        views.append(ProfessionalOut(
            id=r["id"],
            id_number=r["id_number"] if full else mask_id_number(r["id_number"]),
            name=r["name"], gender=r["gender"],
            birth_date=r["birth_date"] if full else None,
            mobile=r["mobile"] if full else mask_mobile(r["mobile"]),
            email=r["email"] if full else None,
            unit_id=r["unit_id"], unit_name=r["unit_name"], unit_kind=r["unit_kind"],
            region_name=r["region_name"], department=r["department"],
            ethnicity=r["ethnicity"], native_place=r["native_place"], school=r["school"],
            major=r["major"], title=r["title"], status=r["status"],
            registered_at=r["registered_at"], decided_at=r["decided_at"],
            decided_by=r["decider_name"], reject_reason=r["reject_reason"], masked=not full,
        ))
    return views


def classify_query(query: str) -> str:
    """An ID number, a mobile number, or a name: support types whatever they were told."""
    q = query.strip()
    if re.fullmatch(r"\d{17}[\dXx]", q):
        return "id_number"
    if re.fullmatch(r"(\+?86)?1\d{10}", q.replace(" ", "").replace("-", "")):
        return "mobile"
    if re.search(r"\d", q):
        raise ValidationFailed.one("query", f"无法识别 {query!r}",
                                   "give an 18-digit ID number, an 11-digit mobile or a name")
    return "name"


@cache
def _lookup_statement(kind: str, scope: str) -> Select:
    """Built once per (query kind, scope kind): SQLAlchemy then reuses its compiled
    form and result metadata, which is most of a look-up's cost on the API."""
    column = {"id_number": Professional.id_number, "mobile": Professional.mobile,
              "name": Professional.name}[kind]
    statement = view_statement().where(column == bindparam("q"))
    if scope == "self":
        statement = statement.where(Professional.account_id == bindparam("account_id"))
    elif scope == "units":
        statement = statement.where(Professional.unit_id.in_(bindparam("units", expanding=True)))
    elif scope == "regions":
        statement = statement.where(Unit.region_code.in_(bindparam("regions", expanding=True)))
    return statement.order_by(Professional.id).limit(LOOKUP_LIMIT + 1)


def lookup(session: Session, actor: Actor, query: str) -> LookupResult:
    """Find professionals by ID number, mobile or exact name within the actor's scope."""
    kind = classify_query(query)
    q = query.strip()
    if kind == "id_number":
        q = q.upper()
    elif kind == "mobile":
        q = q.replace(" ", "").replace("-", "")[-11:]
    params: dict[str, object] = {"q": q}
    if actor.role == "professional":
        scope = "self"
        params["account_id"] = actor.account_id
    elif actor.role == "unit_admin":
        scope = "units"
        params["units"] = sorted(actor.unit_ids)
    elif actor.role == "hr":
        from hnce_cli.services.accounts import region_descendants

        scope = "regions"
        params["regions"] = sorted(region_descendants(session, actor.region_code or ""))
    else:
        actor.require("support", "system_admin", "professional", "unit_admin", "hr")
        scope = "all"
    people = professional_views(session, _lookup_statement(kind, scope), actor, params)
    if not people:
        raise NotFound(f"未找到 {q}（在您可查看的范围内）", {"query": q, "matched_by": kind})
    return LookupResult(query=q, matched_by=kind, matches=people[:LOOKUP_LIMIT],
                        total=len(people))
