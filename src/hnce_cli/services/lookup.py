"""Looking people up (support's first question: who is this and where do they stand).

Views mask the ID number and phone unless the viewer may see them: the person
themself, a system admin, or the admin of the person's own unit.

`lookup()` answers every role through an ORM session. The API's hottest route also
has `TokenLookup`: one SQL statement on a plain DB-API connection that checks the
token and finds the people at once, for the roles that may look up anyone
(support, system admin). Everything else falls back to `lookup()`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, join, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.errors import HnceError, NotFound, ValidationFailed
from hnce_cli.models import Account, AuthSession, Professional, Region, Unit
from hnce_cli.schemas import LookupResult, ProfessionalOut
from hnce_cli.services.context import Actor
from hnce_cli.services.security import token_digest
from hnce_cli.services.sessions import session_refusal
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
    return [_view(r, viewer) for r in session.connection().execute(statement, params).mappings()]


def _view(r: Mapping[str, Any], viewer: Actor | None) -> ProfessionalOut:
    """One row of VIEW_COLUMNS as the viewer may see it."""
    full = may_see_personal_data(viewer, r["account_id"], r["unit_id"])
    return ProfessionalOut(
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
    )


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


def normalise_query(query: str) -> tuple[str, str]:
    """(kind, the value to match): ID numbers upper-cased, mobiles without +86 and dashes."""
    kind = classify_query(query)
    q = query.strip()
    if kind == "id_number":
        q = q.upper()
    elif kind == "mobile":
        q = q.replace(" ", "").replace("-", "")[-11:]
    return kind, q


def _result(q: str, kind: str, people: list[ProfessionalOut]) -> LookupResult:
    if not people:
        raise NotFound(f"未找到 {q}（在您可查看的范围内）", {"query": q, "matched_by": kind})
    return LookupResult(query=q, matched_by=kind, matches=people[:LOOKUP_LIMIT],
                        total=len(people))


def lookup(session: Session, actor: Actor, query: str) -> LookupResult:
    """Find professionals by ID number, mobile or exact name within the actor's scope."""
    kind, q = normalise_query(query)
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
    return _result(q, kind, people)


# --- the API's look-up in one statement ------------------------------------------

# Roles whose look-up scope is everyone, so that no scope needs resolving before the
# query; the others (unit admins, HR, professionals) take `lookup()`.
ANYONE = ("support", "system_admin")
_SESSION_COLUMNS = (AuthSession.expires_at, AuthSession.revoked_at, Account.id, Account.login,
                    Account.name, Account.role, Account.active)
_VIEW_KEYS = tuple(c.key for c in VIEW_COLUMNS)


@cache
def _token_lookup_sql(kind: str) -> str:
    """The session of a token with the people a query names, in one statement.

    The same view as `view_statement()`, LEFT JOINed to the session so that a valid
    token with no match still returns its session row. Compiled once for psycopg's
    %(name)s parameters; executed on a plain DB-API connection, without SQLAlchemy."""
    from sqlalchemy.dialects import postgresql

    column = {"id_number": Professional.id_number, "mobile": Professional.mobile,
              "name": Professional.name}[kind]
    people = (join(Professional, Unit, Unit.id == Professional.unit_id)
              .join(Region, Region.code == Unit.region_code)
              .outerjoin(_decider, _decider.id == Professional.decided_by))
    statement = (select(*_SESSION_COLUMNS, *VIEW_COLUMNS)
                 .select_from(join(AuthSession, Account, Account.id == AuthSession.account_id)
                              .outerjoin(people, column == bindparam("q")))
                 .where(AuthSession.token_hash == bindparam("token_hash"))
                 .order_by(Professional.id)
                 .limit(LOOKUP_LIMIT + 1))
    compiled = statement.compile(dialect=postgresql.psycopg.dialect(),
                                 compile_kwargs={"literal_binds": False})
    sql = str(compiled)
    # The LIMIT is a bound parameter in SQLAlchemy; write it in, the statement is fixed.
    for name, value in compiled.params.items():
        if name not in ("q", "token_hash"):
            sql = sql.replace(f"%({name})s", str(int(value)))
    return sql


class TokenLookup:
    """Look-ups for the API on one DB-API connection per worker process (PostgreSQL).

    A look-up through the ORM session is five round trips (pool ping, BEGIN, the
    token, the people, COMMIT) and ~1.5 ms of CPU; this is one statement in
    autocommit, ~0.15 ms. The token is checked on every request against the
    database, as everywhere: a logout or a revoked account takes effect at once.

    `lookup()` returns None whenever it is not the plain case — another role, a
    missing, expired or revoked token, a query it cannot classify, SQLite, a lost
    connection — and the caller then takes the full path (`LocalBackend.lookup`),
    which applies every rule and raises the right error. It never raises for
    those; it raises NotFound for a valid support / system admin session that
    matches nobody, exactly as the full path would.
    """

    def __init__(self, url: str) -> None:
        from hnce_cli import db

        self.url = db.normalise_url(url)  # the schema check and its engine are keyed by it
        self._conn: Any = None
        # The route runs on the event loop, one request at a time per worker; the lock
        # only keeps a stray second thread off the connection (it then takes the full path).
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            from hnce_cli import db

            db.ensure_schema(self.url)  # an outdated schema raises here; the full path explains
            dsn = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", self.url)
            self._conn = psycopg.connect(dsn, autocommit=True)
        return self._conn

    def lookup(self, token: str | None, query: str) -> LookupResult | None:
        if not token or not self.url.startswith(("postgresql", "postgres:")):
            return None
        try:
            kind, q = normalise_query(query)
        except ValidationFailed:
            return None  # the token is checked first on the full path: it decides which error
        if not self._lock.acquire(blocking=False):
            return None
        try:
            conn = self._connection()
            rows = conn.execute(_token_lookup_sql(kind),
                                {"q": q, "token_hash": token_digest(token)}).fetchall()
        except HnceError:
            return None
        except Exception:  # a lost connection, a failover: reconnect next time
            self.close()
            return None
        finally:
            self._lock.release()
        if not rows:
            return None
        expires_at, revoked_at, account_id, login, name, role, active = rows[0][:7]
        if role not in ANYONE or session_refusal(expires_at, revoked_at, active, clock.now()):
            return None
        viewer = Actor(account_id=account_id, login=login, name=name, role=role)
        people = [_view(dict(zip(_VIEW_KEYS, row[7:], strict=True)), viewer)
                  for row in rows if row[7] is not None]
        return _result(q, kind, people)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()  # psycopg closes a broken connection without raising
            self._conn = None


@cache
def token_lookup(url: str) -> TokenLookup:
    """One per database URL per process."""
    return TokenLookup(url)
