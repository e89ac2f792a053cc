"""Registration (注册): a professional's form, checked whole, waiting for the unit admin.

The unit admin's decision is the `registration` review workflow (hnce_cli.workflows),
run by the review engine (services/review.py) like every other review.
"""

from __future__ import annotations

from hnce_cli import clock, text
from hnce_cli.errors import FieldProblem, ValidationFailed
from hnce_cli.schemas import DecisionRequest, PendingList, ProfessionalOut, RegistrationInput
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.services.lookup import people
from hnce_cli.services.security import hash_password
from hnce_cli.services.units import resolve_unit, temporary_unit_for
from hnce_cli.store import Db, IntegrityError, json_list
from hnce_cli.validation import (
    check_birth_and_gender,
    check_password_policy,
    name_missing,
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


def _how_to_give(field: str) -> str:
    """The fix for a missing field; a password never goes on the command line."""
    if field == "password":
        return "pipe it with --password-stdin, or set HNCE_PASSWORD"
    if field == "region":
        return "give --region with --no-employer (the county-level area, e.g. 金水区)"
    return f"give --{field.replace('_', '-')}"


def _profile_text(data: RegistrationInput) -> tuple[dict[str, str | None], list[FieldProblem]]:
    """The free-text fields of the form under the text policy (hnce_cli.text): their stored
    form, and what is wrong with each (named, with the fix)."""
    values: dict[str, str | None] = {}
    problems = []
    for field, rule in text.PROFILE.items():
        raw = getattr(data, field)
        found = text.problem(raw, field, rule, fix=f"correct --{field.replace('_', '-')}")
        if found is not None:
            problems.append(found)
        values[field] = None if raw is None or not raw.strip() else text.normalise(raw)
    return values, problems


def register(db: Db, data: RegistrationInput) -> ProfessionalOut:
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
    profile, more = _profile_text(data)
    problems.extend(more)
    name = profile["name"] or ""
    if not name and not any(p.field == "name" for p in more):
        problems.append(name_missing("name"))
    if data.has_employer:
        if data.region and not data.unit:
            problems.append(FieldProblem("unit", "有工作单位时须选择所在单位",
                                         "give --unit, or --no-employer --region"))
        unit = _collect(problems, resolve_unit, db, data.unit or "", field="unit")
        if unit is not None and unit.kind == "temporary":
            problems.append(FieldProblem("unit", "临时管理单位只接收无工作单位人员",
                                         "use --no-employer --region instead"))
    else:
        unit = _collect(problems, temporary_unit_for, db, data.region or "", field="region")
    if info is not None and db.one("SELECT id FROM professional WHERE id_number = :n", n=info.number):
        problems.append(FieldProblem("id_number", "该身份证号已注册",
                                     "log in with it, or ask your unit admin if it is pending"))
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise ValidationFailed(f"注册信息有误 (invalid fields): {fields}", problems=problems)
    assert info is not None and unit is not None and mobile and email
    now = clock.now()
    from hnce_cli.models import Account, Professional

    try:
        account_id = db.add(Account(login=info.number, password_hash=hash_password(data.password),
                                    role="professional", name=name, created_at=now)).id
    except IntegrityError as exc:  # registered at the same moment by another request
        raise ValidationFailed.one("id_number", "该身份证号已注册",
                                   "log in with it, or ask your unit admin if it is pending") from exc
    person_id = db.add(Professional(
        account_id=account_id, id_number=info.number, name=name, gender=info.gender, birth_date=info.birth_date,
        mobile=mobile, email=email, unit_id=unit.id, department=profile["department"],
        ethnicity=profile["ethnicity"], native_place=profile["native_place"], school=profile["school"],
        major=profile["major"], title=profile["title"],
        status="pending", registered_at=now)).id
    # Self-service: the actor is the registrant's own new account.
    registrant = Actor(account_id=account_id, login=info.number, name=name, role="professional")
    audit.record(db, registrant, "registration.submit", "professional", person_id, None,
                 {"status": "pending", "unit_id": unit.id})
    return people(db, "p.id = :id", None, id=person_id)[0]


def list_pending(db: Db, actor: Actor, request: DecisionRequest, limit: int | None = 100,
                 offset: int = 0) -> PendingList:
    """The registrations awaiting the unit admin (the workflow's queue), oldest first."""
    from hnce_cli.services.review import queue

    ids, total = queue(db, actor, "registration", request, limit, offset)
    found = {p.id: p for p in people(db, f"p.id IN (SELECT value FROM {db.json_values('ids', 'BIGINT')} AS x)",
                                      actor, ids=json_list(ids))} if ids else {}
    return PendingList(registrations=[found[i] for i in ids if i in found], total=total)
