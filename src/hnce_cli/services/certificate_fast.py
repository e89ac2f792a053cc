"""A professional printing their own certificate, without SQLAlchemy, SQLModel or pydantic.

Issuing one certificate is a handful of indexed statements, but importing the ORM
stack costs more than half a second of a `hnce certificate --year Y` that should take
0.6 s in all. So the everyday case — a local database at the current schema, a valid
session of a professional asking for their own approved registration's passed year —
is answered here with the DB-API driver alone, and gives exactly what
`services.certificates.issue` gives (`CertificateOut.model_dump(mode="json")` as plain
data; a test holds the two equal on every storage).

Only two outcomes are handled: the first issue (one INSERT … ON CONFLICT DO NOTHING
plus its `certificate.issue` audit row, in one transaction that holds the write lock
from its start, as the service's) and an unchanged re-print (a read). Anything else —
another role, someone else's ID number, a year that is not passed or has no rules, a
revoked certificate, changed facts (re-issue), a rotated key, a remote profile, an
unexpected schema — returns None before anything is written, and the caller takes the
full path, which applies every rule and raises the right error. The recorded facts,
their signature and the audit row's shape are those of `certificates.facts`, shared
with the service.
"""

from __future__ import annotations

import hmac
import json
import re
from datetime import UTC, date, datetime
from typing import Any

from hnce_cli import clock
from hnce_cli.certificates import facts as cf
from hnce_cli.services import audit
from hnce_cli.services.progress_view import _actor, _Db, open_db
from hnce_cli.services.rules import PASSED, result_of
from hnce_cli.terms import COMPLETION_RESULTS
from hnce_cli.validation import mask_id_number


class _Person:
    """A completion row of one person (the attributes certificates.facts reads)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def issue(url: str, token: str | None, *, person: str | None, year: int) -> dict[str, Any] | None:
    """The caller's own certificate of `year` as CertificateOut data, or None: take the full path."""
    if not token:
        return None
    db = open_db(url)
    if db is None:
        return None
    try:
        if not db.pg:
            db.conn.isolation_level = None
            db.conn.execute("BEGIN IMMEDIATE")  # the writer's lock up front, as db.py does
        result = _issue(db, token, person, year)
        if result is None:
            db.conn.rollback()
        else:
            db.conn.commit()
        return result
    except Exception:  # a schema or data surprise: never guess, take the full path (closing rolls back)
        return None
    finally:
        db.close()


def _stored_time(db: _Db, value: datetime) -> Any:
    """A UTC time as the ORM stores it: SQLite text without zone, PostgreSQL the aware value."""
    if db.pg:
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _issue(db: _Db, token: str, person: str | None, year: int) -> dict[str, Any] | None:
    from hnce_cli.db import HEAD_REVISION
    from hnce_cli.services.rules import SETTING_KEY, merge

    if db.rows("SELECT version_num FROM alembic_version") != [(HEAD_REVISION,)]:
        return None
    viewer = _actor(db, token)
    if viewer is None or viewer[1] != "professional":
        return None
    account_id = viewer[0]
    own = db.rows("SELECT p.id, p.id_number, p.name, p.status, p.unit_id, u.name, u.region_code, r.name "
                  "FROM professional p JOIN unit u ON u.id = p.unit_id "
                  "LEFT JOIN region r ON r.code = u.region_code WHERE p.account_id = :a", a=account_id)
    if len(own) != 1:
        return None
    pid, id_number, name, status, unit_id, unit_name, region_code, region_name = own[0]
    if status != "approved" or (person and person.strip() and person.strip().upper() != id_number):
        return None
    stored_rules = db.rows("SELECT value FROM setting WHERE key = :k", k=SETTING_KEY)
    rules = merge(stored_rules[0][0] if stored_rules else None).get(year)
    if rules is None:
        return None
    # The aggregate of services.completion._sums_statement, so that floats add up in the same order.
    sums = db.rows("SELECT sum(CASE WHEN subject = 'public' THEN credits ELSE 0 END), "
                   "sum(CASE WHEN subject = 'professional' THEN credits ELSE 0 END) FROM credit_record "
                   "WHERE year = :y AND professional_id = :p GROUP BY professional_id", y=year, p=pid)
    public, professional = (float(sums[0][0]), float(sums[0][1])) if sums else (0.0, 0.0)
    if result_of(public, professional, rules) != PASSED:
        return None
    row = _Person(professional_id=pid, id_number=id_number, name=name, public=public,
                  professional=professional, unit_name=unit_name)
    fresh = cf.facts(year, row)
    key = _key()
    if key is None:
        return None
    recorded = _recorded(db, year, pid)
    if recorded is None:
        now = clock.now()
        fresh["issue_date"] = clock.today().isoformat()
        code = cf.sign(fresh, key)
        _execute(db, "INSERT INTO certificate (professional_id, year, number, code, content, issued_at, issued_by) "
                "VALUES (:p, :y, :n, :c, :t, :at, :by) ON CONFLICT DO NOTHING",
                p=pid, y=year, n=fresh["number"], c=code, t=cf.dump(fresh), at=_stored_time(db, now), by=account_id)
        recorded = _recorded(db, year, pid)
        if recorded is None or recorded[1] != code:
            return None  # a concurrent first issue won: the full path reads what it recorded
        _execute(db, "INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
                "VALUES (:at, :a, 'certificate.issue', 'certificate', :s, NULL, :after)",
                at=_stored_time(db, clock.now()), a=account_id, s=fresh["number"],
                after=audit.dump({"code": code, **cf.audited(fresh)}))
        outcome = "issued"
    else:
        stored = json.loads(recorded[2])
        if recorded[3] is not None or not cf.same_facts(stored, fresh) \
                or not hmac.compare_digest(recorded[1], cf.sign(stored, key)):
            return None  # revoked, re-issue or a rotated key: the full path decides and records
        outcome = "unchanged"
    issued_at, facts = recorded[4], json.loads(recorded[2])
    code = recorded[1]
    pub, pro = float(facts["public"]), float(facts["professional"])
    return {
        "number": facts["number"], "verification_code": code, "verify_url": cf.verify_url(code),
        "professional_id": pid, "name": facts["name"], "id_number_masked": mask_id_number(facts["id_number"]),
        "unit_id": unit_id, "unit_name": facts["unit_name"], "region_code": region_code,
        "region_name": region_name if region_name is not None else region_code, "year": int(facts["year"]),
        "public_credits": pub, "professional_credits": pro, "total_credits": pub + pro,
        "result": COMPLETION_RESULTS[PASSED],
        "issue_date": date.fromisoformat(facts["issue_date"]), "issued_at": db.when(issued_at),
        "outcome": outcome, "revoked_at": None, "revoke_reason": None,
    }


def _execute(db: _Db, sql: str, **params: Any) -> None:
    """A statement without rows (the driver's cursor, :name parameters as in _Db.rows)."""
    if db.pg:
        sql = re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", sql)
    db.conn.cursor().execute(sql, params)


def _recorded(db: _Db, year: int, pid: int) -> tuple | None:
    found = db.rows("SELECT number, code, content, revoked_at, issued_at FROM certificate "
                    "WHERE year = :y AND professional_id = :p", y=year, p=pid)
    return found[0] if found else None


def _key() -> bytes | None:
    from hnce_cli.certificates.signing import load_key

    try:
        return load_key()
    except ValueError:  # a bad key: the full path names the fix
        return None
