"""Accounts, login and sessions.

Login messages are the platform's own. A wrong account and a wrong password give
the same text and take the same time (a dummy hash is verified). An account's
registration state (pending, rejected, cancelled) and a disabled account are only
revealed to someone who knows its password. A lock is different: while it lasts,
every attempt on that account — right or wrong password — is told it is locked
and for how many minutes (密码错误次数过多，账号已锁定，请 N 分钟后再试), without
the password being checked, so the lock cannot be used to guess it.
"""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.errors import AuthRequired, Conflict, LoginFailed, NotFound, ValidationFailed
from hnce_cli.models import Account, AdminScope, AuthSession, Professional, Region, Unit
from hnce_cli.schemas import AccountInput, AccountOut, LoginResult
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.services.security import (
    dummy_hash,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from hnce_cli.services.sessions import MSG_DISABLED, session_refusal
from hnce_cli.services.units import resolve_region, resolve_unit
from hnce_cli.validation import check_password_policy

MSG_BAD_CREDENTIALS = "账户或密码错误"  # the manual's wording
MSG_NOT_APPROVED = "此账号还未被审核，请耐心等待用人单位管理员的审核，或联系用人单位管理员催其审核"
MSG_REJECTED = "此账号注册审核不通过"
MSG_CANCELLED = "此账号已注销"

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


def session_hours() -> float:
    return float(os.environ.get("HNCE_SESSION_HOURS", "12"))


def account_out(session: Session, account: Account) -> AccountOut:
    scopes = session.execute(
        select(AdminScope).where(AdminScope.account_id == account.id)
    ).scalars().all()
    return AccountOut(
        id=account.id,
        login=account.login,
        name=account.name,
        role=account.role,
        unit_ids=sorted(s.unit_id for s in scopes if s.unit_id is not None),
        region_code=next((s.region_code for s in scopes if s.region_code), None),
    )


def _create_account(
    session: Session,
    actor: Actor | None,
    *,
    login: str,
    name: str,
    role: str,
    password: str,
) -> Account:
    login = login.strip()
    if not login:
        raise ValidationFailed.one("login", "账号不能为空", "give --login")
    if not name.strip():
        raise ValidationFailed.one("name", "姓名不能为空", "give --name")
    check_password_policy(password)
    exists = session.execute(select(Account.id).where(Account.login == login)).first()
    if exists:
        raise Conflict(f"账号 {login} 已存在 (login already taken)", {"login": login})
    account = Account(
        login=login,
        password_hash=hash_password(password),
        role=role,
        name=name.strip(),
        created_at=clock.now(),
        created_by=actor.account_id if actor else None,
    )
    session.add(account)
    session.flush()
    audit.record(session, actor, "account.create", "account", account.id, None,
                 {"login": login, "role": role})
    return account


def init_system_admin(session: Session, login: str, name: str, password: str) -> AccountOut:
    """Create the first system admin; refused once any system admin exists."""
    count = session.execute(
        select(func.count()).select_from(Account).where(Account.role == "system_admin")
    ).scalar_one()
    if count:
        raise Conflict(
            "系统管理员已存在：数据库已初始化 (the database already has a system admin; "
            "ask them to create your account)"
        )
    account = _create_account(
        session, None, login=login, name=name, role="system_admin", password=password
    )
    return account_out(session, account)


def create_account(session: Session, actor: Actor, data: AccountInput) -> AccountOut:
    """System admin creates an admin, HR, support or institution account with its scope."""
    actor.require("system_admin")
    unit_ids: list[int] = []
    region_code: str | None = None
    if data.role == "unit_admin":
        if not data.units:
            raise ValidationFailed.one("units", "用人单位管理员必须指定所管理的单位",
                                       "give --unit (repeatable)")
        unit_ids = [resolve_unit(session, u, field="units").id for u in data.units]
    elif data.role == "hr":
        if not data.region:
            raise ValidationFailed.one("region", "人社部门审核员必须指定所属区域",
                                       "give --region 410100 (a city) or 410000 (the province)")
        region = resolve_region(session, data.region, field="region")
        if region.level not in ("province", "city"):
            raise ValidationFailed.one("region", f"{region.name} 不是市或省",
                                       "HR reviewers work for a city or the province")
        region_code = region.code
    elif data.units or data.region:
        raise ValidationFailed.one("units", "只有用人单位管理员和人社部门审核员有管理范围",
                                   "drop --unit / --region for this role")
    account = _create_account(
        session, actor, login=data.login, name=data.name, role=data.role, password=data.password
    )
    for unit_id in unit_ids:
        session.add(AdminScope(account_id=account.id, unit_id=unit_id))
    if region_code:
        session.add(AdminScope(account_id=account.id, region_code=region_code))
    session.flush()
    return account_out(session, account)


def login(session: Session, login_name: str, password: str) -> LoginResult:
    """Check the password, apply the lockout, and open a session."""
    now = clock.now()
    account = session.execute(
        select(Account).where(Account.login == login_name.strip().upper()).with_for_update()
    ).scalar_one_or_none()
    if account is None and login_name.strip() != login_name.strip().upper():
        account = session.execute(
            select(Account).where(Account.login == login_name.strip()).with_for_update()
        ).scalar_one_or_none()
    if account is None:
        verify_password(dummy_hash(), password)
        raise LoginFailed(MSG_BAD_CREDENTIALS)
    if account.locked_until and account.locked_until > now:
        verify_password(dummy_hash(), password)
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        raise LoginFailed(
            f"密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试", {"locked_minutes": minutes}
        )
    if not verify_password(account.password_hash, password):
        failed = account.failed_logins + 1
        values: dict[str, object] = {"failed_logins": failed}
        if failed >= MAX_FAILED_LOGINS:
            values = {"failed_logins": 0, "locked_until": now + timedelta(minutes=LOCK_MINUTES)}
        session.execute(update(Account).where(Account.id == account.id).values(**values))
        if "locked_until" in values:
            audit.record(session, None, "account.lock", "account", account.id, None,
                         {"locked_minutes": LOCK_MINUTES})
        failure = LoginFailed(MSG_BAD_CREDENTIALS)
        failure.keep_changes = True  # the failure count must survive the refusal
        raise failure
    if not account.active:
        raise LoginFailed(MSG_DISABLED)
    if account.role == "professional":
        status = session.execute(
            select(Professional.status).where(Professional.account_id == account.id)
        ).scalar_one()
        if status == "pending":
            raise LoginFailed(MSG_NOT_APPROVED, {"status": status})
        if status == "rejected":
            raise LoginFailed(MSG_REJECTED, {"status": status})
        if status == "cancelled":
            raise LoginFailed(MSG_CANCELLED, {"status": status})
    token = new_token()
    expires = now + timedelta(hours=session_hours())
    session.add(AuthSession(token_hash=token_digest(token), account_id=account.id,
                            created_at=now, expires_at=expires))
    session.execute(
        update(Account).where(Account.id == account.id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
    )
    return LoginResult(token=token, expires_at=expires, account=account_out(session, account))


def logout(session: Session, token: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == token_digest(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


_SESSION_QUERY = (
    select(AuthSession.expires_at, AuthSession.revoked_at, Account.id, Account.login,
           Account.name, Account.role, Account.active)
    .join(Account, Account.id == AuthSession.account_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def actor_for_token(session: Session, token: str | None) -> Actor:
    """Resolve a session token to an Actor with its scope, or ask to log in.

    On every request of the API, so it is one indexed query (two for admins),
    through SQLAlchemy Core rather than the ORM.
    """
    if not token:
        raise AuthRequired("请先登录：hnce login (login required)")
    conn = session.connection()
    row = conn.execute(_SESSION_QUERY, {"token_hash": token_digest(token)}).first()
    if row is None:
        raise AuthRequired("登录已失效，请重新登录：hnce login (session not found)")
    expires_at, revoked_at, account_id, login_name, name, role, active = row
    refusal = session_refusal(expires_at, revoked_at, active, clock.now())
    if refusal is not None:
        raise refusal
    unit_ids: frozenset[int] = frozenset()
    region = None
    if role in ("unit_admin", "hr"):
        scopes = conn.execute(
            select(AdminScope.unit_id, AdminScope.region_code)
            .where(AdminScope.account_id == account_id)
        ).all()
        unit_ids = frozenset(u for u, _ in scopes if u is not None)
        region = next((r for _, r in scopes if r), None)
    elif role == "professional":
        unit_ids = frozenset(conn.execute(
            select(Professional.unit_id).where(Professional.account_id == account_id)
        ).scalars())
    return Actor(account_id=account_id, login=login_name, name=name, role=role,
                 unit_ids=unit_ids, region_code=region)


def whoami(session: Session, actor: Actor) -> AccountOut:
    account = session.get(Account, actor.account_id)
    if account is None:
        raise NotFound("账号不存在")
    return account_out(session, account)


def region_descendants(session: Session, code: str) -> set[str]:
    """A region and everything under it (for an HR reviewer's scope)."""
    rows = session.execute(select(Region.code, Region.parent_code)).all()
    children: dict[str, list[str]] = {}
    for child, parent in rows:
        if parent:
            children.setdefault(parent, []).append(child)
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def units_in_regions(session: Session, codes: set[str]) -> set[int]:
    return set(session.execute(select(Unit.id).where(Unit.region_code.in_(codes))).scalars())
