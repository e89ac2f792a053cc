"""Annual certificates 年度证书: issue (stable number, signed code), verify, revoke.

Only a passed year (通过, see `services.completion`) gets a certificate. The number
is derived from the person and the year (``HN2025-00000123``: year and the
professional's id), so the same person and year always get the same number, with no
counter to race on. The verification code is an HMAC over the signed facts
(`certificates.signing`); the key lives where the services run (the server in
remote mode), so services return the signed, printable facts (`CertificateOut`,
ID number masked) and the CLI renders the PDF.

Re-issuing returns the recorded certificate unchanged while its facts are the same.
If they changed (credits approved late, a corrected name, a new unit), the
certificate keeps its number but gets today's issue date and a new code, and the
old code no longer verifies; an audit row records before and after. Each change is
one conditional statement plus one audit row in the same transaction.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.certificates.facts import audited as _audited
from hnce_cli.certificates.facts import content as _content
from hnce_cli.certificates.facts import dump as _dump
from hnce_cli.certificates.facts import facts as _facts
from hnce_cli.certificates.facts import same_facts as _same_facts
from hnce_cli.certificates.facts import sign as _sign
from hnce_cli.certificates.facts import verify_url
from hnce_cli.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hnce_cli.models import Account, Certificate, Professional, Region, Unit
from hnce_cli.schemas import (
    CertificateBatchRequest,
    CertificateOut,
    CertificatePage,
    CertificateRequest,
    CertificateSkip,
    CertificateVerification,
)
from hnce_cli.services import audit
from hnce_cli.services.completion import NO_RULES, PASSED, CompletionRow, year_rows
from hnce_cli.services.context import Actor
from hnce_cli.services.reference import region_prefix
from hnce_cli.services.rules import refresh
from hnce_cli.validation import mask_id_number

ISSUERS = ("professional", "unit_admin", "hr", "system_admin")
REVOKERS = ("system_admin", "hr")
CODE_FIX = "copy the code printed under the QR code, e.g. HN2025-00000123-XXXX-XXXX-XXXX-XXXX"

VERIFY_LABELS = {
    "genuine": "真实有效",
    "altered": "验证码与证书记录不符（证书可能被篡改或已被重新签发）",
    "revoked": "已撤销",
    "unknown": "无此证书",
}


def _year_rows(session: Session, year: int, **filters: Any) -> list[CompletionRow]:
    """completion.year_rows of one page, consumed before the certificates are written."""
    return list(year_rows(session, year, **filters))


def _key() -> bytes:
    from hnce_cli.certificates.signing import load_key

    try:
        return load_key()
    except ValueError as exc:  # a configured key that is too short: the operator's fix
        raise ValidationFailed.one("HNCE_CERT_KEY", str(exc), "see docs/certificates.md, 'Settings'") from exc


def _out(cert: dict[str, Any], facts: dict[str, Any], person: CompletionRow, region_name: str,
         outcome: str) -> CertificateOut:
    public, professional = float(facts["public"]), float(facts["professional"])
    return CertificateOut(
        number=facts["number"], verification_code=cert["code"], verify_url=verify_url(cert["code"]),
        professional_id=person.professional_id, name=facts["name"],
        id_number_masked=mask_id_number(facts["id_number"]), unit_id=person.unit_id,
        unit_name=facts["unit_name"], region_code=person.region_code, region_name=region_name,
        year=int(facts["year"]), public_credits=public, professional_credits=professional,
        total_credits=public + professional, issue_date=date.fromisoformat(facts["issue_date"]),
        issued_at=cert["issued_at"], outcome=outcome, revoked_at=cert.get("revoked_at"),
        revoke_reason=cert.get("revoke_reason"),
    )


# --- issuing --------------------------------------------------------------------------

def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: a concurrent first issue of the same person and
    year leaves exactly one row (the caller reads back what is recorded)."""
    table = Certificate.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.connection().execute(insert(table).on_conflict_do_nothing(), rows)


def _recorded(session: Session, year: int, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    t = Certificate.__table__
    if not ids:
        return {}
    rows = session.connection().execute(
        sa.select(t.c.id, t.c.professional_id, t.c.number, t.c.code, t.c.content, t.c.issued_at,
                  t.c.revoked_at, t.c.revoke_reason)
        .where(t.c.year == year, t.c.professional_id.in_(sorted(ids)))
    ).mappings().all()
    return {r["professional_id"]: dict(r) for r in rows}


def _issue(session: Session, actor: Actor, year: int, people: Sequence[CompletionRow],
           regions: dict[str, str]) -> tuple[list[CertificateOut], list[CertificateSkip]]:
    """Issue (or re-read) the certificates of passed people; bulk statements for a page."""
    key = _key()
    now = clock.now()
    today = clock.today().isoformat()
    recorded = _recorded(session, year, [p.professional_id for p in people])
    fresh_rows: list[dict[str, Any]] = []
    fresh: dict[int, dict[str, Any]] = {}
    fresh_rows_code: dict[int, str] = {}
    items: list[CertificateOut] = []
    skipped: list[CertificateSkip] = []
    audits_new: list[tuple[str, None, dict[str, Any]]] = []
    for person in people:
        facts = _facts(year, person)
        cert = recorded.get(person.professional_id)
        region = regions.get(person.region_code, person.region_code)
        if cert is None:
            facts["issue_date"] = today
            code = _sign(facts, key)
            fresh[person.professional_id] = facts
            fresh_rows_code[person.professional_id] = code
            fresh_rows.append({"professional_id": person.professional_id, "year": year, "number": facts["number"],
                               "code": code, "content": _dump(facts), "issued_at": now,
                               "issued_by": actor.account_id})
            continue
        stored = json.loads(cert["content"])
        if cert["revoked_at"] is not None:
            skipped.append(_skip(person, facts["number"], "revoked",
                                 f"证书 {cert['number']} 已撤销：{cert['revoke_reason']}"))
            continue
        if _same_facts(stored, facts):
            if hmac.compare_digest(cert["code"], _sign(stored, key)):
                items.append(_out(cert, stored, person, region, "unchanged"))
                continue
            facts["issue_date"] = stored["issue_date"]  # the key was rotated: same facts, signed anew
        else:
            facts["issue_date"] = today
        code = _sign(facts, key)
        changed = session.connection().execute(
            sa.update(Certificate.__table__)
            .where(Certificate.id == cert["id"], Certificate.code == cert["code"],
                   Certificate.revoked_at.is_(None))
            .values(code=code, content=_dump(facts), issued_at=now, issued_by=actor.account_id)
        ).rowcount
        if changed != 1:
            skipped.append(_skip(person, facts["number"], "conflict",
                                 f"证书 {cert['number']} 刚刚被他人重新签发或撤销，请重试"))
            continue
        audit.record(session, actor, "certificate.reissue", "certificate", facts["number"],
                     {"code": cert["code"], **_audited(stored)}, {"code": code, **_audited(facts)})
        items.append(_out({**cert, "code": code, "issued_at": now}, facts, person, region, "reissued"))
    if fresh_rows:
        _insert_ignoring_duplicates(session, fresh_rows)
        now_recorded = _recorded(session, year, list(fresh))
        for person in people:
            facts = fresh.get(person.professional_id)
            if facts is None:
                continue
            cert = now_recorded[person.professional_id]
            region = regions.get(person.region_code, person.region_code)
            # Ours, unless a concurrent first issue won the insert (then it is audited there).
            mine = hmac.compare_digest(cert["code"], fresh_rows_code[person.professional_id])
            if mine:
                audits_new.append((facts["number"], None, {"code": cert["code"], **_audited(facts)}))
            stored = json.loads(cert["content"])
            items.append(_out(cert, stored, person, region, "issued" if mine else "unchanged"))
        audit.record_many(session, actor, "certificate.issue", "certificate", audits_new)
    order = {p.professional_id: i for i, p in enumerate(people)}
    items.sort(key=lambda c: order[c.professional_id])
    return items, skipped


def _skip(person: CompletionRow, number: str, status: str, reason: str) -> CertificateSkip:
    return CertificateSkip(professional_id=person.professional_id, number=number, name=person.name,
                           id_number_masked=mask_id_number(person.id_number), unit_name=person.unit_name,
                           status=status, reason=reason)


def _region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    return dict(session.connection().execute(
        sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def _person(session: Session, actor: Actor, person: str | None) -> Any:
    """The professional a certificate is for, if the actor may print theirs.

    The person themself, an admin of their unit, HR of their region, a system admin.
    """
    actor.require(*ISSUERS)
    p, u = Professional.__table__, Unit.__table__
    statement = sa.select(p.c.id, p.c.account_id, p.c.id_number, p.c.name, p.c.status, p.c.unit_id,
                          u.c.region_code).join(u, u.c.id == p.c.unit_id)
    if person is None or not person.strip():
        if actor.role != "professional":
            raise ValidationFailed.one("person", "请指定人员的身份证号",
                                       "e.g. hnce certificate 410105199001011233 --year 2025")
        row = session.connection().execute(statement.where(p.c.account_id == actor.account_id)).first()
    else:
        value = person.strip().upper()
        row = session.connection().execute(statement.where(p.c.id_number == value)).first()
    if row is None:
        raise NotFound(f"未找到人员 {person or ''}（在您可查看的范围内）".replace("  ", " "), {"person": person})
    if actor.role == "professional" and row.account_id != actor.account_id:
        raise PermissionDenied("专业技术人员只能打印本人的证书", {"person": person})
    if actor.role == "unit_admin" and row.unit_id not in actor.unit_ids:
        raise NotFound(f"未找到人员 {person}（在您可查看的范围内）", {"person": person})
    if actor.role == "hr" and not _in_region(row.region_code, actor.region_code):
        raise NotFound(f"未找到人员 {person}（在您可查看的范围内）", {"person": person})
    if row.status != "approved":
        raise ValidationFailed.one("person", f"{row.name} 的注册尚未审核通过，不能打印证书",
                                   "the unit admin approves the registration first (hnce approve)")
    return row


def _in_region(region_code: str, scope: str | None) -> bool:
    return bool(scope) and region_code.startswith(region_prefix(scope))


def issue(session: Session, actor: Actor, request: CertificateRequest) -> CertificateOut:
    """The certificate of one person's passed year (recorded on first issue)."""
    person = _person(session, actor, request.person)
    rows = _year_rows(session, request.year, professional_ids=[person.id])
    row = rows[0]
    if row.result != PASSED:
        rules = refresh(session).get(request.year)
        if row.result == NO_RULES or rules is None:
            raise ValidationFailed.one("year", f"没有 {request.year} 年度的学时规则，不能出具证书",
                                       "choose a year with rules (hnce rules show)")
        raise ValidationFailed.one(
            "year",
            f"{row.name} {request.year} 年度未通过，不能打印证书：公需科目 {row.public:g}/{rules.min_public:g}，"
            f"专业科目 {row.professional:g}/{rules.min_professional:g}，合计 {row.total:g}/{rules.min_total:g}",
            "certificates are issued only for a passed year (通过); see the year's completion",
        )
    items, skipped = _issue(session, actor, request.year, rows, _region_names(session, [row.region_code]))
    if skipped:
        s = skipped[0]
        raise Conflict(s.reason, {"number": s.number, "status": s.status})
    return items[0]


def batch(session: Session, actor: Actor, request: CertificateBatchRequest) -> CertificatePage:
    """One page of a unit's, region's or the province's certificates of a year.

    Pages go by professional id (keyset): `after` is the last id of the previous page,
    `next_after` is None on the last page. Issuing is idempotent, so an interrupted
    batch asks again for the same pages and gets the same numbers and codes.
    """
    from hnce_cli.services.units import resolve_region, resolve_unit

    actor.require("unit_admin", "hr", "system_admin")
    chosen = [x for x in (request.unit, request.region) if x] + (["province"] if request.province else [])
    if len(chosen) > 1:
        raise ValidationFailed.one("scope", "只能选择一个范围", "give one of --unit, --region, --province")
    unit_ids: list[int] | None = None
    prefix: str | None = None
    if request.unit:
        unit = resolve_unit(session, request.unit)
        if actor.role == "unit_admin" and unit.id not in actor.unit_ids:
            raise PermissionDenied(f"{unit.name} 不是您管理的单位", {"unit_id": unit.id})
        if actor.role == "hr" and not _in_region(unit.region_code, actor.region_code):
            raise PermissionDenied(f"{unit.name} 不在您的审核区域内", {"unit_id": unit.id})
        unit_ids, scope = [unit.id], f"单位 {unit.name}"
    elif request.region:
        region = resolve_region(session, request.region)
        if actor.role == "unit_admin":
            raise PermissionDenied("用人单位管理员只能打印本单位的证书", {"region": region.code})
        if actor.role == "hr" and not _in_region(region.code, actor.region_code):
            raise PermissionDenied(f"{region.name} 不在您的审核区域内", {"region": region.code})
        prefix, scope = region_prefix(region.code), f"区域 {region.name}"
    elif request.province:
        if actor.role == "unit_admin" or (actor.role == "hr" and region_prefix(actor.region_code or "") != "41"):
            raise PermissionDenied("只有系统管理员或省级人社部门可以打印全省证书", {"role": actor.role})
        scope = "全省"
    elif actor.role == "unit_admin":
        unit_ids, scope = sorted(actor.unit_ids), "本单位"
    elif actor.role == "hr":
        prefix, scope = region_prefix(actor.region_code or ""), "本区域"
    else:
        raise ValidationFailed.one("scope", "请选择范围", "give --unit, --region or --province")
    if refresh(session).get(request.year) is None:
        raise ValidationFailed.one("year", f"没有 {request.year} 年度的学时规则，不能出具证书",
                                   "choose a year with rules")
    rows = _year_rows(session, request.year, unit_ids=unit_ids, region_prefix=prefix,
                      after_id=request.after, limit=request.limit)
    passed = [r for r in rows if r.result == PASSED]
    regions = _region_names(session, [r.region_code for r in passed])
    items, skipped = _issue(session, actor, request.year, passed, regions)
    last = rows[-1].professional_id if rows else None
    return CertificatePage(year=request.year, scope=scope, items=items, skipped=skipped, scanned=len(rows),
                           not_passed=len(rows) - len(passed),
                           next_after=last if len(rows) == request.limit else None)


# --- verifying and revoking -----------------------------------------------------------

def verify(session: Session, code: str) -> CertificateVerification:
    """Genuine, altered, revoked or unknown: what a verifier (or the QR page) is told.

    Only a code that matches the record shows the certificate's facts (as printed,
    ID masked); an altered or unknown code shows nothing, so certificate numbers
    cannot be used to look people up.
    """
    from hnce_cli.certificates.signing import InvalidCode, parse
    from hnce_cli.certificates.signing import verify as check

    try:
        parsed = parse(code)
    except InvalidCode as exc:
        raise ValidationFailed.one("code", f"不是有效的验证码：{exc}", CODE_FIX) from exc
    given = str(parsed)
    t = Certificate.__table__
    cert = session.connection().execute(
        sa.select(t.c.code, t.c.content, t.c.revoked_at, t.c.revoke_reason)
        .where(t.c.number == parsed.certificate_number)
    ).mappings().first()
    base = {"certificate_number": parsed.certificate_number, "verification_code": given}
    if cert is None:
        return _verdict("unknown", f"没有编号为 {parsed.certificate_number} 的证书", **base)
    facts = json.loads(cert["content"])
    genuine = hmac.compare_digest(cert["code"], given) and check(given, _content(facts), _key())
    if not genuine:
        return _verdict("altered", "验证码与证书记录不符：证书可能被篡改，或已被重新签发"
                                   "（请向持证人索取最新证书）", **base)
    shown = {
        "name": facts["name"], "id_number_masked": mask_id_number(facts["id_number"]),
        "unit_name": facts.get("unit_name"), "year": int(facts["year"]),
        "public_credits": float(facts["public"]), "professional_credits": float(facts["professional"]),
        "total_credits": float(facts["public"]) + float(facts["professional"]),
        "issue_date": date.fromisoformat(facts["issue_date"]),
    }
    if cert["revoked_at"] is not None:
        return _verdict("revoked", f"证书已撤销：{cert['revoke_reason']}", revoked_at=cert["revoked_at"],
                        revoke_reason=cert["revoke_reason"], **base, **shown)
    return _verdict("genuine", "证书真实有效，内容以本页为准", **base, **shown)


def _verdict(status: str, message: str, **fields: Any) -> CertificateVerification:
    return CertificateVerification(status=status, status_label=VERIFY_LABELS[status], message=message, **fields)


def revoke(session: Session, actor: Actor, number: str, reason: str) -> CertificateOut:
    """Revoke a certificate with a reason (system admin; HR within their region).

    One conditional UPDATE (… WHERE revoked_at IS NULL): a second revoke is a conflict
    that names who revoked it first.
    """
    from hnce_cli.certificates.signing import check_certificate_number

    actor.require(*REVOKERS)
    try:
        number = check_certificate_number(number)
    except ValueError as exc:
        raise ValidationFailed.one("number", f"证书编号格式不对：{number}", "e.g. HN2025-00000123") from exc
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.one("reason", "请填写撤销原因", "give --reason, e.g. --reason \"学分记录有误\"")
    if len(reason) > 500:
        raise ValidationFailed.one("reason", "撤销原因不能超过 500 字", "shorten the reason")
    t, p, u = Certificate.__table__, Professional.__table__, Unit.__table__
    row = session.connection().execute(
        sa.select(t.c.id, t.c.professional_id, t.c.code, t.c.content, t.c.issued_at, t.c.revoked_at,
                  t.c.revoke_reason, t.c.revoked_by, p.c.id_number, p.c.name, p.c.unit_id, u.c.name.label("unit_name"),
                  u.c.region_code)
        .join(p, p.c.id == t.c.professional_id).join(u, u.c.id == p.c.unit_id)
        .where(t.c.number == number)
    ).mappings().first()
    if row is None or (actor.role == "hr" and not _in_region(row["region_code"], actor.region_code)):
        raise NotFound(f"未找到证书 {number}（在您可管理的范围内）", {"number": number})
    if row["revoked_at"] is None:
        now = clock.now()
        changed = session.connection().execute(
            sa.update(t).where(t.c.id == row["id"], t.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=actor.account_id, revoke_reason=reason)
        ).rowcount
        if changed == 1:
            audit.record(session, actor, "certificate.revoke", "certificate", number,
                         {"revoked": False}, {"revoked": True, "reason": reason})
            row = {**row, "revoked_at": now, "revoke_reason": reason}
            facts = json.loads(row["content"])
            person = CompletionRow(row["professional_id"], row["id_number"], row["name"], row["unit_id"],
                                   row["unit_name"], row["region_code"], 0.0, 0.0, 0.0, PASSED)
            region = _region_names(session, [row["region_code"]]).get(row["region_code"], row["region_code"])
            return _out(row, facts, person, region, "revoked")
        row = session.connection().execute(
            sa.select(t.c.revoked_at, t.c.revoked_by, t.c.revoke_reason).where(t.c.id == row["id"])).mappings().one()
    who = session.connection().execute(sa.select(Account.name).where(Account.id == row["revoked_by"])).scalar()
    when = _shown_time(row["revoked_at"])
    raise Conflict(f"证书 {number} 已于 {when} 被 {who or '他人'} 撤销：{row['revoke_reason']}",
                   {"number": number, "revoked_by": who, "reason": row["revoke_reason"]})


def _shown_time(value: Any) -> str:
    """A stored UTC time in Beijing time, for messages."""
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M")
