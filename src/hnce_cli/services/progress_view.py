"""The progress view 申报进度查询 without SQLAlchemy, pydantic or the ORM: a fast read path.

Looking up one person's declarations is two indexed queries (~0.04 s among
5,000,000 declarations), but importing SQLAlchemy, SQLModel and pydantic takes a
second. So for the everyday case this module answers with the DB-API driver alone
and builds exactly what `declarations.list_declarations` returns, as plain data
(`DeclarationList.model_dump(mode="json")`; a test holds the two equal).

It only ever answers the plain success case: a local database at the current
schema, a valid session of a professional (their own list) or of support / a
system admin (anyone's). Anything else — a remote profile, another role, an expired
session, nobody or several people found, an unknown filter — returns None and the
caller takes the full path, which applies every rule and raises the right error.
The scope and masking rules used here are those of services/lookup.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hnce_cli import clock
from hnce_cli.services.sessions import session_refusal
from hnce_cli.terms import DECLARATION_FILTERS, DECLARATION_STATUS, REGISTRATION_STATUS, SUBJECTS
from hnce_cli.validation import mask_id_number, mask_mobile

FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None, "draft": ("draft",), "pending": ("pending_unit", "pending_hr"), "approved": ("approved",),
    "rejected": ("rejected",),
}
_ID_NUMBER = re.compile(r"\d{17}[\dXx]")
_MOBILE = re.compile(r"(\+?86)?1\d{10}")


class _Db:
    """One DB-API connection with :name parameters on both drivers."""

    def __init__(self, url: str) -> None:
        self.pg = not url.startswith("sqlite")
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url))
        else:
            import sqlite3

            path = url.split(":///", 1)[-1]
            if not path or path == ":memory:" or not Path(path).is_file():
                raise LookupError("no such database file")
            self.conn = sqlite3.connect(path, timeout=10)

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self.pg:
            sql = re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", sql)
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()

    def when(self, value: Any) -> datetime | None:
        """A stored timestamp (naive UTC) as the ORM hands it out: aware, in UTC."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def day(self, value: Any) -> date | None:
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(value)

    def close(self) -> None:
        self.conn.close()


def open_db(url: str) -> _Db | None:
    """The database's DB-API connection, or None: no driver, no file, cannot connect —
    the full path explains those with its documented errors."""
    try:
        return _Db(url)
    except Exception:
        return None


def database_url(profile: Any, db_url: str | None) -> str | None:
    """The local database open_backend would use, or None when it would go remote."""
    from hnce_cli.backend import choose_target

    api, database = choose_target(profile, db_url)
    if api and not database:
        return None
    from hnce_cli.settings import default_database_url

    return database or default_database_url()


def _actor(db: _Db, token: str) -> tuple[int, str] | None:
    """(account id, role) of a valid, active session; None for anything else."""
    found = db.rows("SELECT s.expires_at, s.revoked_at, a.id, a.role, a.active FROM auth_session s "
                    "JOIN account a ON a.id = s.account_id WHERE s.token_hash = :h",
                    h=hashlib.sha256(token.encode()).hexdigest())
    if not found:
        return None
    expires_at, revoked_at, account_id, role, active = found[0]
    if session_refusal(db.when(expires_at), revoked_at, active, clock.now()):
        return None
    return account_id, role


def _forms(db: _Db) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Form names and field labels: the admin's stored list, else the package's file."""
    stored = db.rows("SELECT value FROM setting WHERE key = 'learning_forms'")
    if stored:
        data = json.loads(stored[0][0])
    else:
        from importlib import resources

        data = json.loads(resources.files("hnce_cli.data").joinpath("learning_forms.json").read_text("utf-8"))
    if isinstance(data, dict):
        data = data.get("forms", [])
    names = {f["code"]: f["name"] for f in data}
    labels = {f["code"]: {x["name"]: x["label"] for x in f.get("fields", [])} for f in data}
    return names, labels


_PERSON_SQL = (
    "SELECT p.id, p.account_id, p.id_number, p.name, p.gender, p.birth_date, p.mobile, p.email, p.unit_id, "
    "p.department, p.ethnicity, p.native_place, p.school, p.major, p.title, p.status, p.registered_at, "
    "p.decided_at, p.reject_reason, u.name, u.kind, r.name, d.name FROM professional p "
    "JOIN unit u ON u.id = p.unit_id JOIN region r ON r.code = u.region_code "
    "LEFT JOIN account d ON d.id = p.decided_by WHERE ")


def _person(db: _Db, query: str, viewer: tuple[int, str]) -> dict[str, Any] | None:
    """The one professional an ID number or mobile names (support / system admin)."""
    q = query.strip()
    if _ID_NUMBER.fullmatch(q):
        column, q = "p.id_number", q.upper()
    elif _MOBILE.fullmatch(q.replace(" ", "").replace("-", "")):
        column, q = "p.mobile", q.replace(" ", "").replace("-", "")[-11:]
    else:
        return None  # a name may match several: the full path offers a choice
    found = db.rows(_PERSON_SQL + f"{column} = :q ORDER BY p.id LIMIT 2", q=q)
    if len(found) != 1:
        return None
    (pid, account_id, id_number, name, gender, birth, mobile, email, unit_id, department, ethnicity,
     native_place, school, major, title, status, registered_at, decided_at, reject_reason, unit_name,
     unit_kind, region_name, decider) = found[0]
    full = viewer[1] == "system_admin" or viewer[0] == account_id
    return {
        "id": pid, "id_number": id_number if full else mask_id_number(id_number), "name": name,
        "gender": gender, "birth_date": db.day(birth) if full else None,
        "mobile": mobile if full else mask_mobile(mobile), "email": email if full else None,
        "unit_id": unit_id, "unit_name": unit_name, "unit_kind": unit_kind, "region_name": region_name,
        "department": department, "ethnicity": ethnicity, "native_place": native_place, "school": school,
        "major": major, "title": title, "status": status,
        "status_label": REGISTRATION_STATUS.get(status, status),
        "registered_at": db.when(registered_at), "decided_at": db.when(decided_at), "decided_by": decider,
        "reject_reason": reject_reason, "masked": not full,
    }


def progress(url: str, token: str | None, *, person: str | None, filter_: str,
             limit: int | None) -> dict[str, Any] | None:
    """One person's declarations (DeclarationList as plain data), or None: take the full path."""
    if not token or filter_ not in FILTERS:
        return None
    db = open_db(url)
    if db is None:
        return None
    try:
        return _progress(db, token, person, filter_, limit)
    except Exception:  # a schema or data surprise: never guess, take the full path
        return None
    finally:
        db.close()


def _progress(db: _Db, token: str, person: str | None, filter_: str, limit: int | None) -> dict[str, Any] | None:
    from hnce_cli.db import HEAD_REVISION

    if db.rows("SELECT version_num FROM alembic_version") != [(HEAD_REVISION,)]:
        return None  # behind (or ahead): the full path upgrades or refuses
    viewer = _actor(db, token)
    if viewer is None:
        return None
    account_id, role = viewer
    shown_person = None
    if person is None and role == "professional":
        own = db.rows("SELECT id, status FROM professional WHERE account_id = :a", a=account_id)
        if len(own) != 1 or own[0][1] != "approved":
            return None
        professional_id = own[0][0]
    elif person is not None and role in ("support", "system_admin"):
        shown_person = _person(db, person, viewer)
        if shown_person is None:
            return None
        professional_id = shown_person["id"]
    else:
        return None
    by_status = dict(db.rows("SELECT status, count(*) FROM declaration WHERE professional_id = :p "
                             "GROUP BY status", p=professional_id))
    counts = {name: sum(by_status.get(s, 0) for s in (statuses or by_status)) for name, statuses in FILTERS.items()}
    statuses = FILTERS[filter_]
    where = "d.professional_id = :p"
    params: dict[str, Any] = {"p": professional_id}
    if statuses:
        where += " AND d.status IN (" + ", ".join(f":s{i}" for i in range(len(statuses))) + ")"
        params.update((f"s{i}", s) for i, s in enumerate(statuses))
    sql = ("SELECT d.id, d.professional_id, p.id_number, p.name, p.account_id, d.unit_id, u.name, d.form_code, "
           "d.subject, d.year, d.credits, d.status, d.fields, d.created_at, d.updated_at, d.submitted_at, "
           "d.decided_at, d.reject_reason, d.rejected_level FROM declaration d "
           "JOIN professional p ON p.id = d.professional_id JOIN unit u ON u.id = d.unit_id "
           f"WHERE {where} ORDER BY d.id DESC")
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    names, labels = _forms(db)
    full_roles = role == "system_admin"
    declarations = []
    for (did, pid, id_number, name, owner, unit_id, unit_name, form_code, subject, year, credits, status,
         fields, created_at, updated_at, submitted_at, decided_at, reject_reason,
         rejected_level) in db.rows(sql, **params):
        full = full_roles or owner == account_id
        declarations.append({
            "id": did, "professional_id": pid, "id_number": id_number if full else mask_id_number(id_number),
            "name": name, "unit_id": unit_id, "unit_name": unit_name, "form_code": form_code,
            "form_name": names.get(form_code, form_code), "subject": subject,
            "subject_label": SUBJECTS.get(subject, subject), "year": year, "credits": float(credits),
            "status": status, "status_label": DECLARATION_STATUS.get(status, status),
            "fields": json.loads(fields), "field_labels": labels.get(form_code, {}),
            "created_at": db.when(created_at), "updated_at": db.when(updated_at),
            "submitted_at": db.when(submitted_at), "decided_at": db.when(decided_at),
            "reject_reason": reject_reason, "rejected_level": rejected_level, "attachments": [], "history": [],
        })
    return {"person": shown_person, "filter": filter_, "filter_label": DECLARATION_FILTERS.get(filter_, filter_),
            "counts": counts, "total": counts[filter_], "declarations": declarations}


def jsonable(value: Any) -> Any:
    """Plain data as pydantic's JSON mode writes it (ISO dates and times)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    return value


class Obj(dict):
    """Plain data with attribute access, for the same table renderer as the models."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(value, dict) and name not in ("fields", "field_labels", "counts"):
            return Obj(value)
        if isinstance(value, list):
            return [Obj(v) if isinstance(v, dict) else v for v in value]
        return value
