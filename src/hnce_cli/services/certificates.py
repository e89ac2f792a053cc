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

A professional printing their own certificate is an everyday command: one statement
finds the person, their region and any recorded certificate, then the year's sums,
then (first issue) one INSERT and one audit row. Imports here stay cheap; what only
some paths need (completion, units, signing, reference data) is imported where it is used.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from hnce_cli import clock, text
from hnce_cli.certificates.facts import NUMBER_PREFIX, verify_url
from hnce_cli.certificates.facts import audited as _audited
from hnce_cli.certificates.facts import content as _content
from hnce_cli.certificates.facts import dump as _dump
from hnce_cli.certificates.facts import facts as _facts
from hnce_cli.certificates.facts import same_facts as _same_facts
from hnce_cli.certificates.facts import sign as _sign
from hnce_cli.certificates.model import unprintable
from hnce_cli.errors import Conflict, NotFound, PermissionDenied, Unavailable, ValidationFailed
from hnce_cli.masking import mask_id_number
from hnce_cli.schemas import (
    CertificateBatchRequest,
    CertificateOut,
    CertificatePage,
    CertificateRequest,
    CertificateSkip,
    CertificateVerification,
    CompletionRow,
)
from hnce_cli.services import audit, rules
from hnce_cli.services.context import Actor
from hnce_cli.services.rules import NO_RULES, PASSED
from hnce_cli.store import Db, in_list, json_list, parse_time
from hnce_cli.terms import unit_label

if TYPE_CHECKING:
    from hnce_cli.certificates.signing import KeyRing

ISSUERS = ("professional", "unit_admin", "hr", "system_admin")
REVOKERS = ("system_admin", "hr")
CODE_FIX = ("请核对证书上印的验证码 (check the code printed on the certificate, under the QR code, "
            "or scan the QR code), e.g. HN2025-00000123-XXXX-XXXX-XXXX-XXXX")
# The numbers hnce issues (certificate_number: HN, the year, the person's id in 8 or more
# digits). A code whose number is not of this form lost or gained a character: it is not
# a code, rather than the code of a certificate that does not exist.
ISSUED_NUMBER = re.compile(rf"{NUMBER_PREFIX}[0-9]{{4}}-[0-9]{{8,10}}")

VERIFY_LABELS = {
    "genuine": "真实有效",
    "altered": "验证码与证书记录不符（证书可能被篡改或已被重新签发）",
    "revoked": "已撤销",
    "unknown": "无此证书",
}


class Recorded(NamedTuple):
    """A certificate row as recorded (times as aware UTC)."""

    id: int
    professional_id: int
    number: str
    code: str
    content: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    key_id: str | None  # the key that signed `code`; None: recorded before key ids were


class Person(NamedTuple):
    """The professional a certificate is asked for, with their unit's region."""

    id: int
    account_id: int
    id_number: str
    name: str
    status: str
    unit_id: int
    region_code: str
    region_name: str | None


_RECORDED = ("c.id, c.professional_id, c.number, c.code, c.content, c.issued_at, c.revoked_at, c.revoke_reason, "
             "c.key_id")
_RECORDED_COLUMNS = 9


def _recorded_row(values: Sequence[Any]) -> Recorded:
    """A certificate row; times through parse_time, so every path gives the same aware UTC value."""
    cid, pid, number, code, content, issued_at, revoked_at, reason, kid = values
    return Recorded(cid, pid, number, code, content, parse_time(issued_at), parse_time(revoked_at), reason, kid)


def _year_rows(db: Db, year: int, **filters: Any) -> list[CompletionRow]:
    """completion.year_rows of one page, consumed before the certificates are written (a
    stream must not stay open under the writes). Imported here: verify and revoke never need it."""
    from hnce_cli.services import completion

    return list(completion.year_rows(db, year, **filters))


# --- the signing key of the deployment (docs/deploy.md, "The certificate key") ----------

KEY_FIX = ("copy HNCE_CERT_KEY (or <data dir>/certificate.key) from a host that signs for this database, or "
           "put the old key in HNCE_CERT_OLD_KEYS after a rotation; see docs/deploy.md, 'The certificate key'")


def _ring() -> KeyRing:
    """The keys this process holds; never creates one (a verify request must not make a key)."""
    from hnce_cli.certificates.signing import load_ring

    try:
        return load_ring()
    except ValueError as exc:  # a configured key that is too short: the operator's fix
        raise ValidationFailed.one("HNCE_CERT_KEY", str(exc), "see docs/certificates.md, 'Settings'") from exc


def _key_missing(expected: str | None, ring: KeyRing, number: str) -> Unavailable:
    """This host cannot vouch for the database's certificates: it does not hold their key."""
    held = f"本机的密钥为 {ring.current_id}" if ring.current_id else "本机没有签发密钥"
    if expected is None:
        wanted = (f"证书 {number} 签发于记录密钥编号之前，本机持有的密钥都不能验证它 (signed before key ids were "
                  "recorded, by a key this host does not hold)")
    else:
        wanted = (f"证书 {number} 由密钥 {expected} 签发，本机没有该密钥 (signed with key id {expected}, which this "
                  "host does not hold)")
    return Unavailable(f"证书签发密钥与数据库不符：{wanted}；{held}。请安装该部署的签发密钥 ({KEY_FIX})",
                       {"expected_key_id": expected, "key_id": ring.current_id, "certificate": number})


def _check_deployment(db: Db, ring: KeyRing) -> None:
    """The newest certificate of the database was signed by a key this process holds (or has
    withdrawn): a host with another key must neither sign beside it nor call its certificates altered."""
    from hnce_cli.certificates.signing import LEGACY

    newest = db.one("SELECT number, code, content, key_id FROM certificate ORDER BY id DESC LIMIT 1")
    if newest is None:
        return
    number, code, content, kid = newest
    if (kid or LEGACY) in ring.withdrawn:
        return
    if kid is not None and kid in ring.keys:
        return
    if kid is None and ring.verifies(code, _content(json.loads(content)), None):
        return
    raise _key_missing(kid, ring, number)


def check_signing_key(db: Db) -> str | None:
    """What `hnce serve` checks before it starts: the database's certificates were signed with
    a key this host holds. Returns the current key's id (None: no key yet, no certificate yet)."""
    ring = _ring()
    _check_deployment(db, ring)
    return ring.current_id


def _signing_ring(db: Db, ring: KeyRing) -> KeyRing:
    """The keys to sign with: the deployment's key file is created for the first certificate a
    database records, and only then; a host whose key is not the database's is refused."""
    if ring.current is None:
        newest = db.one("SELECT number, key_id FROM certificate ORDER BY id DESC LIMIT 1")
        if newest is not None:  # certificates there and no key here: refused, naming the key
            raise _key_missing(newest[1], ring, newest[0])
        from hnce_cli.certificates.signing import create_key

        create_key()
        return _ring()
    _check_deployment(db, ring)
    return ring


def _standing(cert: Recorded, stored: dict[str, Any], ring: KeyRing) -> bool:
    """Whether a recorded certificate (with today's facts) may be handed out again as it is:
    its code verifies under the key that signed it. False: sign it anew (its key was withdrawn,
    or the stored content no longer matches its code). A key this host does not hold is refused."""
    from hnce_cli.certificates.signing import LEGACY

    if (cert.key_id or LEGACY) in ring.withdrawn:
        return False
    if cert.key_id is not None and cert.key_id not in ring.keys:
        raise _key_missing(cert.key_id, ring, cert.number)
    return ring.verifies(cert.code, _content(stored), cert.key_id)


def _out(cert: Recorded, facts: dict[str, Any], person: CompletionRow, region_name: str,
         outcome: str) -> CertificateOut:
    public, professional = float(facts["public"]), float(facts["professional"])
    return CertificateOut.model_construct(
        number=facts["number"], verification_code=cert.code, verify_url=verify_url(cert.code),
        professional_id=person.professional_id, name=facts["name"],
        id_number_masked=mask_id_number(facts["id_number"]), unit_id=person.unit_id,
        unit_name=facts["unit_name"], region_code=person.region_code, region_name=region_name,
        year=int(facts["year"]), public_credits=public, professional_credits=professional,
        total_credits=public + professional, issue_date=date.fromisoformat(facts["issue_date"]),
        issued_at=cert.issued_at, outcome=outcome, revoked_at=cert.revoked_at,
        revoke_reason=cert.revoke_reason,
    )


# --- issuing --------------------------------------------------------------------------

_FRESH_COLUMNS = (("professional_id", "BIGINT"), ("number", "TEXT"), ("code", "TEXT"), ("content", "TEXT"))


def _insert_ignoring_duplicates(db: Db, year: int, rows: list[list[Any]], at: datetime,
                                by: int, kid: str) -> dict[int, Recorded]:
    """INSERT … ON CONFLICT DO NOTHING in one statement: a concurrent first issue of the same
    person and year leaves exactly one row. RETURNING gives only the rows this insert wrote
    (by professional id); the caller reads back the others (a concurrent issue won them).
    The WHERE is SQLite's: an INSERT … SELECT before ON CONFLICT needs one (a parsing ambiguity)."""
    inserted = db.rows(
        "INSERT INTO certificate (professional_id, year, number, code, content, issued_at, issued_by, key_id) "
        "SELECT fresh.professional_id, :year, fresh.number, fresh.code, fresh.content, :at, :by, :kid "
        f"FROM {db.json_table(_FRESH_COLUMNS, 'fresh')} AS fresh WHERE 1 = 1 ON CONFLICT DO NOTHING "
        "RETURNING id, professional_id, number, code, content, issued_at, revoked_at, revoke_reason, key_id",
        fresh=json_list(rows), year=year, at=at, by=by, kid=kid)
    return {r.professional_id: r for r in map(_recorded_row, inserted)}


def _recorded(db: Db, year: int, ids: Sequence[int]) -> dict[int, Recorded]:
    if not ids:
        return {}
    rows = db.rows(f"SELECT {_RECORDED} FROM certificate c WHERE c.year = :year AND "
                   f"{in_list(db, 'c.professional_id', 'ids', 'BIGINT')}", year=year, ids=json_list(sorted(ids)))
    return {r.professional_id: r for r in map(_recorded_row, rows)}


def _issue(db: Db, actor: Actor, year: int, people: Sequence[CompletionRow], regions: dict[str, str],
           recorded: dict[int, Recorded] | None = None) -> tuple[list[CertificateOut], list[CertificateSkip]]:
    """Issue (or re-read) the certificates of passed people; one statement each for a page's
    reads and first issues, one conditional UPDATE per re-issue. `recorded`: already read.

    Facts are signed with the current key once the deployment's key is known good
    (`_signing_ring`): a page of unchanged certificates signs nothing and checks nothing more."""
    ring = _ring()
    signing: KeyRing | None = None

    def key() -> bytes:
        nonlocal signing
        if signing is None:
            signing = _signing_ring(db, ring)
        assert signing.current is not None
        return signing.current

    now = clock.now()
    today = clock.today().isoformat()
    if recorded is None:
        recorded = _recorded(db, year, [p.professional_id for p in people])
    fresh_rows: list[list[Any]] = []
    fresh: dict[int, tuple[dict[str, Any], str]] = {}
    items: list[CertificateOut] = []
    skipped: list[CertificateSkip] = []
    for person in people:
        facts = _facts(year, person)
        refused = unprintable(name=facts["name"], unit_name=facts["unit_name"], id_number=facts["id_number"])
        if refused:  # a record an official document cannot show: that person alone is refused
            skipped.append(_skip(person, facts["number"], "failed", refused))
            continue
        cert = recorded.get(person.professional_id)
        region = regions.get(person.region_code, person.region_code)
        if cert is None:
            facts["issue_date"] = today
            code = _sign(facts, key())
            fresh[person.professional_id] = facts, code
            fresh_rows.append([person.professional_id, facts["number"], code, _dump(facts)])
            continue
        stored = json.loads(cert.content)
        if cert.revoked_at is not None:
            skipped.append(_skip(person, facts["number"], "revoked",
                                 f"证书 {cert.number} 已撤销：{cert.revoke_reason}"))
            continue
        if _same_facts(stored, facts):
            if _standing(cert, stored, ring):
                items.append(_out(cert, stored, person, region, "unchanged"))
                continue
            facts["issue_date"] = stored["issue_date"]  # its key withdrawn: the same facts, signed anew
        else:
            facts["issue_date"] = today
        code = _sign(facts, key())
        kid = signing.current_id if signing is not None else None
        changed = db.execute(
            "UPDATE certificate SET code = :code, content = :content, issued_at = :at, issued_by = :by, "
            "key_id = :kid WHERE id = :id AND code = :old AND revoked_at IS NULL",
            code=code, content=_dump(facts), at=now, by=actor.account_id, kid=kid, id=cert.id, old=cert.code)
        if changed != 1:
            skipped.append(_skip(person, facts["number"], "conflict",
                                 f"证书 {cert.number} 刚刚被他人重新签发或撤销，请重试"))
            continue
        audit.record(db, actor, "certificate.reissue", "certificate", facts["number"],
                     {"code": cert.code, **_audited(stored)}, {"code": code, **_audited(facts)})
        items.append(_out(cert._replace(code=code, issued_at=parse_time(now), key_id=kid), facts, person, region,
                          "reissued"))
    if fresh_rows:
        assert signing is not None and signing.current_id is not None
        mine = _insert_ignoring_duplicates(db, year, fresh_rows, now, actor.account_id, signing.current_id)
        theirs = _recorded(db, year, [pid for pid in fresh if pid not in mine])
        audits_new: list[tuple[str, None, dict[str, Any]]] = []
        for person in people:
            if person.professional_id not in fresh:
                continue
            facts, code = fresh[person.professional_id]
            region = regions.get(person.region_code, person.region_code)
            if person.professional_id in mine:
                cert = mine[person.professional_id]
                audits_new.append((facts["number"], None, {"code": code, **_audited(facts)}))
                items.append(_out(cert, facts, person, region, "issued"))
            else:  # a concurrent first issue won the insert (and is audited there)
                cert = theirs[person.professional_id]
                items.append(_out(cert, json.loads(cert.content), person, region, "unchanged"))
        audit.record_many(db, actor, "certificate.issue", "certificate", audits_new)
    order = {p.professional_id: i for i, p in enumerate(people)}
    items.sort(key=lambda c: order[c.professional_id])
    return items, skipped


def _skip(person: CompletionRow, number: str, status: str, reason: str) -> CertificateSkip:
    return CertificateSkip(professional_id=person.professional_id, number=number, name=person.name,
                           id_number_masked=mask_id_number(person.id_number), unit_name=person.unit_name,
                           status=status, reason=reason)


_PERSON = (
    f"SELECT p.id, p.account_id, p.id_number, p.name, p.status, p.unit_id, u.region_code, r.name, {_RECORDED} "
    "FROM professional p JOIN unit u ON u.id = p.unit_id LEFT JOIN region r ON r.code = u.region_code "
    "LEFT JOIN certificate c ON c.professional_id = p.id AND c.year = :year WHERE ")


def _person(db: Db, actor: Actor, person: str | None, year: int) -> tuple[Person, Recorded | None]:
    """The professional a certificate is for, if the actor may print theirs, and their
    certificate of `year` if one is recorded (one statement: the everyday print's first).

    The person themself, an admin of their unit, HR of their region, a system admin.
    """
    actor.require(*ISSUERS)
    if person is None or not person.strip():
        if actor.role != "professional":
            raise ValidationFailed.one("person", "请指定人员的身份证号",
                                       "e.g. hnce certificate 410105199001011233 --year 2025")
        found = db.one(_PERSON + "p.account_id = :account", year=year, account=actor.account_id)
    else:
        person = text.clean(person, "person", text.SEARCH)  # no NUL, no 40,000 characters
        found = db.one(_PERSON + "p.id_number = :id_number", year=year, id_number=person.upper())
    if found is None:
        raise NotFound(f"未找到人员 {person or ''}（在您可查看的范围内）".replace("  ", " "), {"person": person})
    row = Person(*found[:8])
    if actor.role == "professional" and row.account_id != actor.account_id:
        raise PermissionDenied("专业技术人员只能打印本人的证书", {"person": person})
    if actor.role == "unit_admin" and row.unit_id not in actor.unit_ids:
        raise NotFound(f"未找到人员 {person}（在您可查看的范围内）", {"person": person})
    if actor.role == "hr" and not _in_region(row.region_code, actor.region_code):
        raise NotFound(f"未找到人员 {person}（在您可查看的范围内）", {"person": person})
    if row.status != "approved":
        raise ValidationFailed.one("person", f"{row.name} 的注册尚未审核通过，不能打印证书",
                                   "the unit admin approves the registration first (hnce approve)")
    return row, None if found[8] is None else _recorded_row(found[8:8 + _RECORDED_COLUMNS])


def _region_prefix(code: str) -> str:
    """reference.region_prefix, imported when a scope needs it (HR, batches), not
    on a professional's own print."""
    from hnce_cli.reference import region_prefix

    return region_prefix(code)


def _in_region(region_code: str, scope: str | None) -> bool:
    return bool(scope) and region_code.startswith(_region_prefix(scope or ""))


def recorded(db: Db, actor: Actor, request: CertificateRequest) -> CertificateOut | None:
    """The person's certificate of the year as recorded, if it is still true (not revoked,
    the same facts, its code verifying under the key that signed it): a re-print is a read and
    takes no write lock. None when `issue` has something to write (a first issue, a re-issue) or
    to refuse."""
    person, cert = _person(db, actor, request.person, request.year)
    if cert is None or cert.revoked_at is not None:
        return None
    row = _year_rows(db, request.year, professional_ids=[person.id])[0]
    stored = json.loads(cert.content)
    if row.result != PASSED or not _same_facts(stored, _facts(request.year, row)) \
            or not _standing(cert, stored, _ring()) \
            or unprintable(name=stored["name"], unit_name=stored["unit_name"], id_number=stored["id_number"]):
        return None  # `issue` writes, or refuses
    return _out(cert, stored, row, person.region_name or person.region_code, "unchanged")


def issue(db: Db, actor: Actor, request: CertificateRequest) -> CertificateOut:
    """The certificate of one person's passed year (recorded on first issue)."""
    person, cert = _person(db, actor, request.person, request.year)
    rows = _year_rows(db, request.year, professional_ids=[person.id])
    row = rows[0]
    if row.result != PASSED:
        limits = rules.current(db).get(request.year)
        if row.result == NO_RULES or limits is None:
            raise ValidationFailed.one("year", f"没有 {request.year} 年度的学时规则，不能出具证书",
                                       "choose a year with rules (hnce rules show)")
        raise ValidationFailed.one(
            "year",
            f"{row.name} {request.year} 年度未通过，不能打印证书：公需科目 {row.public:g}/{limits.min_public:g}，"
            f"专业科目 {row.professional:g}/{limits.min_professional:g}，合计 {row.total:g}/{limits.min_total:g}",
            "certificates are issued only for a passed year (通过); see the year's completion",
        )
    regions = {} if person.region_name is None else {person.region_code: person.region_name}
    items, skipped = _issue(db, actor, request.year, rows, regions,
                            recorded={} if cert is None else {person.id: cert})
    if skipped:
        s = skipped[0]
        if s.status == "failed":
            raise ValidationFailed.one("person", s.reason, "correct the person's record, then print again")
        raise Conflict(s.reason, {"number": s.number, "status": s.status})
    return items[0]


def batch(db: Db, actor: Actor, request: CertificateBatchRequest) -> CertificatePage:
    """One page of a unit's, region's or the province's certificates of a year.

    Pages go by professional id (keyset): `after` is the last id of the previous page,
    `next_after` is None on the last page. Issuing is idempotent, so an interrupted
    batch asks again for the same pages and gets the same numbers and codes.
    """
    from hnce_cli.services import units

    actor.require("unit_admin", "hr", "system_admin")
    chosen = [x for x in (request.unit, request.region) if x] + (["province"] if request.province else [])
    if len(chosen) > 1:
        raise ValidationFailed.one("scope", "只能选择一个范围", "give one of --unit, --region, --province")
    unit_ids: list[int] | None = None
    prefix: str | None = None
    if request.unit:
        unit = units.resolve_unit(db, request.unit)
        if actor.role == "unit_admin" and unit.id not in actor.unit_ids:
            raise PermissionDenied(f"{unit.name} 不是您管理的单位", {"unit_id": unit.id})
        if actor.role == "hr" and not _in_region(unit.region_code, actor.region_code):
            raise PermissionDenied(f"{unit.name} 不在您的审核区域内", {"unit_id": unit.id})
        unit_ids, scope = [unit.id], f"单位 {unit.name}"
    elif request.region:
        region = units.resolve_region(db, request.region)
        if actor.role == "unit_admin":
            raise PermissionDenied("用人单位管理员只能打印本单位的证书", {"region": region.code})
        if actor.role == "hr" and not _in_region(region.code, actor.region_code):
            raise PermissionDenied(f"{region.name} 不在您的审核区域内", {"region": region.code})
        prefix, scope = _region_prefix(region.code), f"区域 {region.name}"
    elif request.province:
        if actor.role == "unit_admin" or (actor.role == "hr" and _region_prefix(actor.region_code or "") != "41"):
            raise PermissionDenied("只有系统管理员或省级人社部门可以打印全省证书", {"role": actor.role})
        scope = "全省"
    elif actor.role == "unit_admin":
        unit_ids, scope = sorted(actor.unit_ids), "本单位"
    elif actor.role == "hr":
        prefix, scope = _region_prefix(actor.region_code or ""), "本区域"
    else:
        raise ValidationFailed.one("scope", "请选择范围", "give --unit, --region or --province")
    if rules.current(db).get(request.year) is None:
        raise ValidationFailed.one("year", f"没有 {request.year} 年度的学时规则，不能出具证书",
                                   "choose a year with rules")
    rows = _year_rows(db, request.year, unit_ids=unit_ids, region_prefix=prefix,
                      after_id=request.after, limit=request.limit)
    passed = [r for r in rows if r.result == PASSED]
    regions = units.region_names(db, {r.region_code for r in passed})
    items, skipped = _issue(db, actor, request.year, passed, regions)
    last = rows[-1].professional_id if rows else None
    return CertificatePage(year=request.year, scope=scope, items=items, skipped=skipped, scanned=len(rows),
                           not_passed=len(rows) - len(passed),
                           next_after=last if len(rows) == request.limit else None)


# --- verifying and revoking -----------------------------------------------------------

def verify(db: Db, code: str) -> CertificateVerification:
    """Genuine, altered, revoked or unknown: what a verifier (or the QR page) is told.

    Anyone may ask (no login: the code is the credential). Only a code that matches the
    record shows the certificate's facts (as printed, ID masked); an altered or unknown
    code shows nothing, so certificate numbers cannot be used to look people up.
    """
    from hnce_cli.certificates.signing import LEGACY, InvalidCode, parse

    try:
        parsed = parse(code)
    except InvalidCode as exc:
        raise ValidationFailed.one("code", f"不是有效的验证码格式 (not a verification code): {exc}", CODE_FIX) from exc
    if not ISSUED_NUMBER.fullmatch(parsed.certificate_number):
        raise ValidationFailed.one(
            "code", "不是有效的验证码格式 (not a verification code): before its 16-character tag a code "
                    "holds the certificate number (HN, the year, a hyphen, 8 digits); a character is "
                    "missing or extra",
            CODE_FIX)
    given = str(parsed)
    cert = db.one("SELECT c.code, c.content, c.revoked_at, c.revoke_reason, c.key_id, u.name, u.kind "
                  "FROM certificate c JOIN professional p ON p.id = c.professional_id "
                  "JOIN unit u ON u.id = p.unit_id WHERE c.number = :number", number=parsed.certificate_number)
    base = {"certificate_number": parsed.certificate_number, "verification_code": given}
    if cert is None:
        return _verdict("unknown", f"没有编号为 {parsed.certificate_number} 的证书", **base)
    recorded_code, content, revoked_at, revoke_reason, kid, unit_name, unit_kind = cert
    altered = _verdict("altered", "验证码与证书记录不符：证书可能被篡改，或已被重新签发"
                                  "（请向持证人索取最新证书）", **base)
    if not hmac.compare_digest(recorded_code, given):
        return altered  # another code than the record's: no key is needed to say so
    facts = json.loads(content)
    ring = _ring()  # never creates a key: a host without the deployment's key says so below
    if (kid or LEGACY) in ring.withdrawn:
        return _verdict("altered", "签发该证书的密钥已停用，此验证码不再有效（请向持证人索取重新打印的证书）", **base)
    if kid is not None and kid not in ring.keys:
        raise _key_missing(kid, ring, parsed.certificate_number)
    if not ring.verifies(given, _content(facts), kid):
        if kid is None:  # recorded before key ids: is it this host's key that is wrong?
            _check_deployment(db, ring)
        return altered
    shown_unit = facts.get("unit_name")
    if shown_unit == unit_name:  # recorded before the wording: the no-employer unit is still named as such
        shown_unit = unit_label(unit_name, unit_kind)
    shown = {
        "name": facts["name"], "id_number_masked": mask_id_number(facts["id_number"]),
        "unit_name": shown_unit, "year": int(facts["year"]),
        "public_credits": float(facts["public"]), "professional_credits": float(facts["professional"]),
        "total_credits": float(facts["public"]) + float(facts["professional"]),
        "issue_date": date.fromisoformat(facts["issue_date"]),
    }
    if revoked_at is not None:
        return _verdict("revoked", f"证书已撤销：{revoke_reason}", revoked_at=parse_time(revoked_at),
                        revoke_reason=revoke_reason, **base, **shown)
    return _verdict("genuine", "证书真实有效，内容以本页为准", **base, **shown)


def _verdict(status: str, message: str, **fields: Any) -> CertificateVerification:
    return CertificateVerification.model_construct(status=status, status_label=VERIFY_LABELS[status],
                                                   message=message, **fields)


_REVOKE_VIEW = (
    f"SELECT {_RECORDED}, p.id_number, p.name, p.unit_id, u.name, u.region_code, r.name, a.name "
    "FROM certificate c JOIN professional p ON p.id = c.professional_id JOIN unit u ON u.id = p.unit_id "
    "LEFT JOIN region r ON r.code = u.region_code LEFT JOIN account a ON a.id = c.revoked_by "
    "WHERE c.number = :number")


def revoke(db: Db, actor: Actor, number: str, reason: str) -> CertificateOut:
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
    reason = text.clean_optional(reason, "reason", text.REASON)
    if not reason:
        raise ValidationFailed.one("reason", "请填写撤销原因", "give --reason, e.g. --reason \"学分记录有误\"")
    row = db.one(_REVOKE_VIEW, number=number)
    if row is None:
        raise NotFound(f"未找到证书 {number}（在您可管理的范围内）", {"number": number})
    cert = _recorded_row(row[:_RECORDED_COLUMNS])
    id_number, name, unit_id, unit_name, region_code, region_name, who = row[_RECORDED_COLUMNS:]
    if actor.role == "hr" and not _in_region(region_code, actor.region_code):
        raise NotFound(f"未找到证书 {number}（在您可管理的范围内）", {"number": number})
    revoked_at, revoke_reason = cert.revoked_at, cert.revoke_reason
    if revoked_at is None:
        now = clock.now()
        changed = db.execute("UPDATE certificate SET revoked_at = :at, revoked_by = :by, revoke_reason = :reason "
                             "WHERE id = :id AND revoked_at IS NULL",
                             at=now, by=actor.account_id, reason=reason, id=cert.id)
        if changed == 1:
            audit.record(db, actor, "certificate.revoke", "certificate", number,
                         {"revoked": False}, {"revoked": True, "reason": reason})
            person = CompletionRow(cert.professional_id, id_number, name, unit_id, unit_name, region_code,
                                   0.0, 0.0, 0.0, PASSED)
            revoked = cert._replace(revoked_at=parse_time(now), revoke_reason=reason)
            return _out(revoked, json.loads(cert.content), person,
                        region_code if region_name is None else region_name, "revoked")
        # revoked by someone else between the read and the update: name them
        revoked_at, revoke_reason, who = db.one(
            "SELECT c.revoked_at, c.revoke_reason, a.name FROM certificate c "
            "LEFT JOIN account a ON a.id = c.revoked_by WHERE c.id = :id", id=cert.id) or (None, None, None)
    when = _shown_time(revoked_at)
    raise Conflict(f"证书 {number} 已于 {when} 被 {who or '他人'} 撤销：{revoke_reason}",
                   {"number": number, "revoked_by": who, "reason": revoke_reason})


def _shown_time(value: Any) -> str:
    """A stored UTC time in Beijing time, for messages."""
    shown = parse_time(value)
    return shown.astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M") if shown else ""
