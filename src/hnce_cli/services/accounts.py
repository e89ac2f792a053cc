"""Accounts, login and sessions.

Login messages are the platform's own. A wrong account and a wrong password give
the same text and take the same time (a dummy hash is verified). An account's
registration state (pending, rejected, cancelled) and a disabled account are only
revealed to someone who knows its password. Wrong passwords slow down the address
they come from, not the account (services/throttle.py): while an address must wait,
its tries on that login are refused before any password is checked, in words that are
the same whether or not the account exists.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from hnce_cli import clock, text
from hnce_cli.errors import AuthRequired, Conflict, LoginFailed, NotFound, ValidationFailed
from hnce_cli.services import audit, throttle
from hnce_cli.services.context import Actor
from hnce_cli.services.security import (
    dummy_hash,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from hnce_cli.services.sessions import MSG_DISABLED, session_refusal
from hnce_cli.store import Db, Hot

if TYPE_CHECKING:
    from hnce_cli.schemas import AccountInput, AccountOut, LoggedOut, LoginResult

MSG_BAD_CREDENTIALS = throttle.MSG_BAD_CREDENTIALS  # 账户或密码错误, the manual's wording
MSG_NOT_APPROVED = "此账号还未被审核，请耐心等待用人单位管理员的审核，或联系用人单位管理员催其审核"
MSG_REJECTED = "此账号注册审核不通过"
MSG_CANCELLED = "此账号已注销"
# A database with no account at all has not been initialised: say how, rather than 账户或密码错误.
MSG_NO_ACCOUNTS = ("数据库中还没有任何账号：先用 hnce db init --login admin --name 姓名 创建第一个系统管理员 "
                   "(this database has no accounts yet: create the first system admin with hnce db init)")

def session_hours() -> float:
    return float(os.environ.get("HNCE_SESSION_HOURS", "12"))


_SCOPES = Hot("SELECT unit_id, region_code FROM admin_scope WHERE account_id = :a")
_OWN_UNIT = Hot("SELECT unit_id FROM professional WHERE account_id = :a")


def _scopes(db: Db, account_id: int) -> tuple[list[int], str | None]:
    rows = db.rows(_SCOPES, a=account_id)
    return (sorted(u for u, _ in rows if u is not None), next((r for _, r in rows if r), None))


def account_out(db: Db, account_id: int, login: str, name: str, role: str) -> AccountOut:
    from hnce_cli.schemas import AccountOut

    unit_ids, region_code = _scopes(db, account_id)
    return AccountOut.model_construct(id=account_id, login=login, name=name, role=role, unit_ids=unit_ids,
                                      region_code=region_code)


def _create_account(db: Db, actor: Actor | None, *, login: str, name: str, role: str, password: str) -> int:
    login = text.clean(login, "login", text.LOGIN)
    if not login:
        raise ValidationFailed.one("login", "账号不能为空", "give --login")
    name = text.clean(name, "name", text.ACCOUNT_NAME)
    if not name:
        raise ValidationFailed.one("name", "姓名不能为空", "give --name")
    from hnce_cli.validation import check_password_policy

    check_password_policy(password)
    if db.one("SELECT id FROM account WHERE login = :l", l=login):
        raise Conflict(f"账号 {login} 已存在 (login already taken)", {"login": login})
    from hnce_cli.models import Account

    account_id = db.add(Account(login=login, password_hash=hash_password(password), role=role, name=name,
                                created_at=clock.now(), created_by=actor.account_id if actor else None)).id
    audit.record(db, actor, "account.create", "account", account_id, None, {"login": login, "role": role})
    return account_id


def init_system_admin(db: Db, login: str, name: str, password: str) -> AccountOut:
    """Create the first system admin; refused once any system admin exists."""
    if db.scalar("SELECT count(*) FROM account WHERE role = 'system_admin'"):
        raise Conflict(
            "系统管理员已存在：数据库已初始化 (the database already has a system admin; "
            "ask them to create your account)"
        )
    account_id = _create_account(db, None, login=login, name=name, role="system_admin", password=password)
    return account_out(db, account_id, text.normalise(login), text.normalise(name), "system_admin")


def create_account(db: Db, actor: Actor, data: AccountInput) -> AccountOut:
    """System admin creates an admin, HR, support or institution account with its scope."""
    from hnce_cli.services.units import resolve_region, resolve_unit

    actor.require("system_admin")
    unit_ids: list[int] = []
    region_code: str | None = None
    if data.role == "unit_admin":
        if not data.units:
            raise ValidationFailed.one("units", "用人单位管理员必须指定所管理的单位",
                                       "give --unit (repeatable)")
        unit_ids = [resolve_unit(db, u, field="units").id for u in data.units]
    elif data.role == "hr":
        if not data.region:
            raise ValidationFailed.one("region", "人社部门审核员必须指定所属区域",
                                       "give --region 410100 (a city) or 410000 (the province)")
        region = resolve_region(db, data.region, field="region")
        if region.level not in ("province", "city"):
            raise ValidationFailed.one("region", f"{region.name} 不是市或省",
                                       "HR reviewers work for a city or the province")
        region_code = region.code
    elif data.units or data.region:
        raise ValidationFailed.one("units", "只有用人单位管理员和人社部门审核员有管理范围",
                                   "drop --unit / --region for this role")
    account_id = _create_account(db, actor, login=data.login, name=data.name, role=data.role,
                                 password=data.password)
    from hnce_cli.models import AdminScope

    for unit_id in dict.fromkeys(unit_ids):
        db.add(AdminScope(account_id=account_id, unit_id=unit_id))
    if region_code:
        db.add(AdminScope(account_id=account_id, region_code=region_code))
    return account_out(db, account_id, text.normalise(data.login), text.normalise(data.name), data.role)


_ACCOUNT = "SELECT id, login, name, role, active, password_hash FROM account WHERE login = :login"


def _account_for_login(db: Db, login: str) -> tuple | None:
    row = db.one(_ACCOUNT, login=login.strip().upper())
    if row is None and login.strip() != login.strip().upper():
        row = db.one(_ACCOUNT, login=login.strip())
    return row


def login(db: Db, login: str, password: str, client: str | None = None) -> LoginResult:
    """Check the password and open a session, throttled per login and address (`client`: the
    caller's address as `hnce serve` saw it; None next to the database). The login is held to
    the text policy first, as when the account was made: a NUL or 40,000 characters are no
    one's login (and PostgreSQL refuses a NUL as a parameter)."""
    now = clock.now()
    typed = text.clean(login, "login", text.LOGIN)
    attempt = throttle.attempt(db, typed, client, now)  # refused here while this address must wait
    row = _account_for_login(db, typed)
    if row is None:
        verify_password(dummy_hash(), password)
        if db.scalar("SELECT 1 FROM account LIMIT 1") is None:  # a new database: no one to log in as yet
            raise LoginFailed(MSG_NO_ACCOUNTS, {"fix": "hnce db init"})
        raise attempt.failed(db, now)
    account_id, login_value, name, role, active, password_hash = row
    if not verify_password(password_hash, password):
        raise attempt.failed(db, now)
    if not active:
        raise LoginFailed(MSG_DISABLED)
    if role == "professional":
        status = db.scalar("SELECT status FROM professional WHERE account_id = :a", a=account_id)
        if status == "pending":
            raise LoginFailed(MSG_NOT_APPROVED, {"status": status})
        if status == "rejected":
            raise LoginFailed(MSG_REJECTED, {"status": status})
        if status == "cancelled":
            raise LoginFailed(MSG_CANCELLED, {"status": status})
    attempt.succeeded(db)
    token = new_token()
    expires = now + timedelta(hours=session_hours())
    from hnce_cli.models import AuthSession

    db.add(AuthSession(token_hash=token_digest(token), account_id=account_id, created_at=now, expires_at=expires))
    db.execute("UPDATE account SET last_login_at = :now WHERE id = :id", now=now, id=account_id)
    from hnce_cli.schemas import LoginResult

    return LoginResult(token=token, expires_at=expires,
                       account=account_out(db, account_id, login_value, name, role))


def logout(db: Db, actor: Actor, token: str) -> LoggedOut:
    """End the caller's session (a session already ended or expired is refused as any request is)."""
    db.execute("UPDATE auth_session SET revoked_at = :now WHERE token_hash = :h AND revoked_at IS NULL",
               now=clock.now(), h=token_digest(token))
    from hnce_cli.schemas import LoggedOut

    return LoggedOut(logged_out=True)


# The session of a token, with the account's scope, in one indexed query (every request).
SESSION_OF_TOKEN = Hot(
    "SELECT s.expires_at, s.revoked_at, a.id, a.login, a.name, a.role, a.active FROM auth_session s "
    "JOIN account a ON a.id = s.account_id WHERE s.token_hash = :token_hash")


def actor_for_token(db: Db, token: str | None) -> Actor:
    """Resolve a session token to an Actor with its scope, or ask to log in."""
    if not token:
        raise AuthRequired("请先登录：hnce login (login required)")
    row = db.one(SESSION_OF_TOKEN, token_hash=token_digest(token))
    if row is None:
        raise AuthRequired("登录已失效，请重新登录：hnce login (session not found)")
    expires_at, revoked_at, account_id, login_name, name, role, active = row
    refusal = session_refusal(expires_at, revoked_at, active, clock.now())
    if refusal is not None:
        raise refusal
    unit_ids: frozenset[int] = frozenset()
    region = None
    if role in ("unit_admin", "hr"):
        units, region = _scopes(db, account_id)
        unit_ids = frozenset(units)
    elif role == "professional":
        unit_ids = frozenset(db.column(_OWN_UNIT, a=account_id))
    return Actor(account_id=account_id, login=login_name, name=name, role=role,
                 unit_ids=unit_ids, region_code=region)


def whoami(db: Db, actor: Actor) -> AccountOut:
    row = db.one("SELECT id, login, name, role FROM account WHERE id = :id", id=actor.account_id)
    if row is None:
        raise NotFound("账号不存在")
    return account_out(db, *row)


def region_descendants(db: Db, code: str) -> set[str]:
    """A region and everything under it (for an HR reviewer's scope)."""
    children: dict[str, list[str]] = {}
    for child, parent in db.rows("SELECT code, parent_code FROM region"):
        if parent:
            children.setdefault(parent, []).append(child)
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def units_in_regions(db: Db, codes: set[str]) -> set[int]:
    from hnce_cli.store import json_list

    return set(db.column(f"SELECT id FROM unit WHERE region_code IN (SELECT value FROM "
                         f"{db.json_values('codes')} AS c)", codes=json_list(sorted(codes))))
