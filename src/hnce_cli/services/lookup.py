"""Looking people up (support's first question: who is this and where do they stand).

Views mask the ID number and phone unless the viewer may see them: the person
themself, a system admin, or the admin of the person's own unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session

from hnce_cli.errors import NotFound, ValidationFailed
from hnce_cli.models import Account, Professional, Region, Unit
from hnce_cli.schemas import LookupResult, ProfessionalOut
from hnce_cli.services.context import Actor
from hnce_cli.validation import mask_id_number, mask_mobile

LOOKUP_LIMIT = 50


def may_see_personal_data(viewer: Actor | None, person: Professional) -> bool:
    if viewer is None:  # the registrant's own receipt
        return True
    if viewer.role == "system_admin" or viewer.account_id == person.account_id:
        return True
    return viewer.role == "unit_admin" and person.unit_id in viewer.unit_ids


def professional_views(session: Session, people: Sequence[Professional],
                       viewer: Actor | None) -> list[ProfessionalOut]:
    unit_ids = {p.unit_id for p in people}
    units = {u.id: u for u in session.execute(select(Unit).where(Unit.id.in_(unit_ids)))
             .scalars()} if unit_ids else {}
    codes = {u.region_code for u in units.values()}
    regions = dict(session.execute(select(Region.code, Region.name)
                                   .where(Region.code.in_(codes))).all()) if codes else {}
    decider_ids = {p.decided_by for p in people if p.decided_by}
    deciders = dict(session.execute(select(Account.id, Account.name)
                                    .where(Account.id.in_(decider_ids))).all()) if decider_ids else {}
    views = []
    for p in people:
        unit = units[p.unit_id]
        full = may_see_personal_data(viewer, p)
        views.append(ProfessionalOut(
            id=p.id,
            id_number=p.id_number if full else mask_id_number(p.id_number),
            name=p.name, gender=p.gender,
            birth_date=p.birth_date if full else None,
            mobile=p.mobile if full else mask_mobile(p.mobile),
            email=p.email if full else None,
            unit_id=unit.id, unit_name=unit.name, unit_kind=unit.kind,
            region_name=regions.get(unit.region_code, unit.region_code),
            department=p.department, ethnicity=p.ethnicity, native_place=p.native_place,
            school=p.school, major=p.major, title=p.title,
            status=p.status, registered_at=p.registered_at, decided_at=p.decided_at,
            decided_by=deciders.get(p.decided_by) if p.decided_by else None,
            reject_reason=p.reject_reason, masked=not full,
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


def lookup(session: Session, actor: Actor, query: str) -> LookupResult:
    """Find professionals by ID number, mobile or exact name within the actor's scope."""
    kind = classify_query(query)
    q = query.strip()
    if kind == "id_number":
        clause = Professional.id_number == q.upper()
    elif kind == "mobile":
        clause = Professional.mobile == q.replace(" ", "").replace("-", "")[-11:]
    else:
        clause = Professional.name == q
    statement = select(Professional).where(clause)
    if actor.role == "professional":
        statement = statement.where(Professional.account_id == actor.account_id)
    elif actor.role == "unit_admin":
        statement = statement.where(Professional.unit_id.in_(sorted(actor.unit_ids)))
    elif actor.role == "hr":
        from hnce_cli.services.accounts import region_descendants

        codes = region_descendants(session, actor.region_code or "")
        statement = statement.join(Unit, Unit.id == Professional.unit_id).where(
            Unit.region_code.in_(codes))
    else:
        actor.require("support", "system_admin", "professional", "unit_admin", "hr")
    people = session.execute(
        statement.order_by(Professional.id).limit(LOOKUP_LIMIT + 1)
    ).scalars().all()
    if not people:
        raise NotFound(f"未找到 {q}（在您可查看的范围内）", {"query": q, "matched_by": kind})
    return LookupResult(query=q, matched_by=kind,
                        matches=professional_views(session, people[:LOOKUP_LIMIT], actor),
                        total=len(people))
