"""Login throttling: wrong passwords slow down the address they come from, never the account.

Failures are counted per (login, client address). After FREE_FAILURES in a row from one
address, that address must wait before its next try on that login — 1 s, then 2 s, 4 s …
up to MAX_WAIT — while the owner, from their own address, logs in as usual: a stranger's
guesses cannot lock anyone out (the system admin included). A login is counted as typed,
upper-cased, whether or not such an account exists, and the words of every refusal are the
same for both, so neither the count nor the wait tells whether a login (an ID number) is
registered. A command run next to the database has no network address: it counts as
LOCAL. A system admin sees the addresses that were made to wait (`locks`) and clears them
(`unlock`).

`attempt` locks the (login, address) row before the password is checked, so guesses sent
in parallel are checked one after another and get no more tries than guesses sent in turn.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from hnce_cli import clock, text
from hnce_cli.errors import LoginFailed
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.store import Db, json_list, parse_time

if TYPE_CHECKING:
    from hnce_cli.schemas import LoginLocks, Unlocked

FREE_FAILURES = 5  # wrong passwords in a row from one address before it must wait
FIRST_WAIT = 1  # seconds after the FREE_FAILURES-th; doubled after each further failure
MAX_WAIT = 15 * 60
FORGET_AFTER = timedelta(hours=24)  # an address quiet this long starts again at zero
LOCAL = "local"  # the address of a command run next to the database (no network)
CLIENT_LENGTH = 64
LOGIN_LENGTH = 64

MSG_BAD_CREDENTIALS = "账户或密码错误"  # the manual's wording
MSG_WAIT = ("登录失败次数过多，请 {wait}后再试 (too many failed logins for this account from your address: "
            "wait, then try again; the account's owner is not locked out)")

# The row of one (login, address), locked (created when new) for the rest of the transaction.
_HOLD = ("INSERT INTO login_failure (login, client, failures, last_at) VALUES (:login, :client, 0, :now) "
         "ON CONFLICT (login, client) DO UPDATE SET failures = login_failure.failures "
         "RETURNING failures, last_at, locked_until")


def login_key(login: str) -> str:
    """How a login is counted: as typed, trimmed and upper-cased (an ID number's x is X). The
    same for every spelling, and the same whether or not the account exists."""
    return login.strip().upper()[:LOGIN_LENGTH]  # upper-casing may lengthen (ß → SS)


def client_key(client: str | None) -> str:
    return (client or LOCAL)[:CLIENT_LENGTH]


def _wait_words(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{-(-seconds // 60)} 分钟"


def wait_after(failures: int) -> int:
    """Seconds an address waits after its `failures`-th wrong password in a row (0: none)."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_WAIT << min(failures - FREE_FAILURES, 20), MAX_WAIT)


class Attempt(NamedTuple):
    """One login attempt from one address, its row locked until the transaction ends."""

    login: str
    client: str
    failures: int  # wrong passwords in a row so far (after FORGET_AFTER of quiet: 0)

    def failed(self, db: Db, now: datetime) -> LoginFailed:
        """Count a wrong password (or an unknown login: the same); the refusal to raise, which
        keeps the count when the transaction is rolled back."""
        failures = self.failures + 1
        wait = wait_after(failures)
        db.execute("UPDATE login_failure SET failures = :n, last_at = :now, locked_until = :until "
                   "WHERE login = :login AND client = :client", n=failures, now=now,
                   until=now + timedelta(seconds=wait) if wait else None, login=self.login, client=self.client)
        if failures == FREE_FAILURES:
            audit.record(db, None, "login.throttle", "login", self.login, None,
                         {"client": self.client, "failures": failures, "wait_seconds": wait}, now)
        # What no one has tried for a day is forgotten (guesses at random logins leave rows).
        db.execute("DELETE FROM login_failure WHERE last_at < :stale", stale=now - FORGET_AFTER)
        refusal = LoginFailed(MSG_BAD_CREDENTIALS)
        refusal.keep_changes = True  # the count must survive the refusal
        return refusal

    def succeeded(self, db: Db) -> None:
        """The right password: this address starts again at zero."""
        db.execute("DELETE FROM login_failure WHERE login = :login AND client = :client",
                   login=self.login, client=self.client)


def attempt(db: Db, login: str, client: str | None, now: datetime) -> Attempt:
    """Begin an attempt: lock this (login, address); refuse it, before any password is checked,
    while the address must wait — in the same words whether or not the account exists."""
    key, where = login_key(login), client_key(client)
    failures, last_at, locked_until = db.one(_HOLD, login=key, client=where, now=now) or (0, None, None)
    locked_until, last_at = parse_time(locked_until), parse_time(last_at)
    if locked_until is not None and locked_until > now:
        seconds = max(1, int(-(-(locked_until - now).total_seconds() // 1)))
        raise LoginFailed(MSG_WAIT.format(wait=_wait_words(seconds)), {"retry_after": seconds})
    if last_at is not None and last_at < now - FORGET_AFTER:
        failures = 0
    return Attempt(key, where, int(failures))


# --- what a system admin sees and clears ---------------------------------------------------

def locks(db: Db, actor: Actor, limit: int = 100) -> LoginLocks:
    """The (login, address) pairs made to wait in the last FORGET_AFTER, latest first: how many
    wrong passwords in a row, until when the address waits, and whose account the login is
    (None: no such account — a system admin may know)."""
    from hnce_cli.schemas import LoginLock, LoginLocks

    actor.require("system_admin")
    now = clock.now()
    where = "failures >= :free AND last_at >= :since"
    params = {"free": FREE_FAILURES, "since": now - FORGET_AFTER}
    total = int(db.scalar(f"SELECT count(*) FROM login_failure WHERE {where}", **params) or 0)
    rows = db.rows(f"SELECT login, client, failures, last_at, locked_until FROM login_failure WHERE {where} "
                   f"ORDER BY last_at DESC, id DESC LIMIT {int(limit)}", **params)
    keys = sorted({row[0] for row in rows})
    names: dict[str, str] = {}
    if keys:  # ID numbers by the login index; admins' logins, in any case, among the few non-professionals
        for account_login, name in db.rows(
                f"SELECT login, name FROM account WHERE login IN (SELECT value FROM {db.json_values('keys')} AS k) "
                f"OR (role <> 'professional' AND upper(login) IN (SELECT value FROM {db.json_values('keys')} AS u)) "
                "ORDER BY id", keys=json_list(keys)):
            names.setdefault(login_key(account_login), name)
    out = []
    for login, client, failures, last_at, locked_until in rows:
        until = parse_time(locked_until)
        left = max(0, int(-(-(until - now).total_seconds() // 1))) if until is not None else 0
        out.append(LoginLock.model_construct(login=login, client=client, failures=int(failures),
                                             last_failed_at=parse_time(last_at), locked_until=until,
                                             wait_seconds=left, account_name=names.get(login)))
    return LoginLocks.model_construct(locks=out, total=total)


def unlock(db: Db, actor: Actor, login: str, client: str | None = None) -> Unlocked:
    """Forget the wrong passwords of a login — from every address, or from one — so that it
    may be tried at once (a colleague who kept mistyping, an address behind a shared proxy).
    Nothing to forget is no error: running it again changes nothing."""
    from hnce_cli.schemas import Unlocked

    actor.require("system_admin")
    key = login_key(text.clean(login, "login", text.LOGIN))
    sql, params = "DELETE FROM login_failure WHERE login = :login", {"login": key}
    where = None
    if client is not None and client.strip():
        where = client_key(text.clean(client, "client", text.TextRule("来源地址", CLIENT_LENGTH)))
        sql, params = sql + " AND client = :client", {**params, "client": where}
    cleared = db.execute(sql, **params)
    if cleared:
        audit.record(db, actor, "login.unlock", "login", key, None, {"client": where, "cleared": cleared})
    return Unlocked.model_construct(login=key, client=where, cleared=cleared)
