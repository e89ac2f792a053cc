"""Accounts, logging in and the server's own answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from hnce_cli.schemas._base import BaseModel
from hnce_cli.terms import (
    ROLES,
)


class AccountOut(BaseModel):
    id: int
    login: str
    name: str
    role: str
    role_label: str = ""
    unit_ids: list[int] = []
    region_code: str | None = None

    def model_post_init(self, _context: object) -> None:
        self.role_label = ROLES.get(self.role, self.role)


class AccountInput(BaseModel):
    login: str
    name: str
    role: Literal["unit_admin", "hr", "support", "institution", "system_admin"]
    password: str
    units: list[str] = []  # unit ids, USCCs or exact names, for unit admins
    region: str | None = None  # region code or name, for HR reviewers


class LoginRequest(BaseModel):
    login: str
    password: str


class LoginLock(BaseModel):
    """One login and address made to wait after wrong passwords (services/throttle.py)."""

    login: str  # as counted: typed, upper-cased
    client: str  # the address the tries came from ("local": next to the database)
    failures: int  # wrong passwords in a row
    last_failed_at: datetime
    locked_until: datetime | None  # the address waits until then
    wait_seconds: int  # left to wait now (0: may try again; the next failure waits longer)
    account_name: str | None  # whose account the login is; None: no such account


class LoginLocks(BaseModel):
    locks: list[LoginLock]
    total: int  # every pair made to wait in the last 24 hours, even beyond the limit


class UnlockRequest(BaseModel):
    login: str
    client: str | None = None  # one address only; every address when left out


class Unlocked(BaseModel):
    login: str
    client: str | None
    cleared: int  # (login, address) records forgotten; 0 when there was nothing to clear


class LoggedOut(BaseModel):
    logged_out: bool


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class LoginResult(BaseModel):
    token: str
    expires_at: datetime
    account: AccountOut



class DbInfo(BaseModel):
    url: str
    dialect: str
    revision_before: str | None
    revision: str
