"""Wrong passwords slow down the address they come from, never the account: a stranger
cannot lock the owner (the system admin included) out, the answers never tell whether a
login exists, and a system admin sees and lifts the waits (`hnce account locks`,
`hnce account unlock`) — locally and through `hnce serve`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import PASSWORD, Setup, World, json_out, new_id_number, set_now

from hnce_cli import clock
from hnce_cli.backend.local import LocalBackend
from hnce_cli.errors import HnceError

BAD = "账户或密码错误"
WRONG = "Wrong-pass-1"
# Beijing time, to the second: a while after the seeded world's sessions were opened, which still last.
START = datetime.now(clock.CHINA_TZ).replace(tzinfo=None, microsecond=0)


def at(moment: datetime) -> dict[str, str]:
    """Freeze the clock of this test's in-process calls and of the remote server at `moment`,
    and the environment that keeps a CLI run (and so the server) at the same moment."""
    set_now(moment.replace(tzinfo=clock.CHINA_TZ))
    frozen = clock.current().frozen_at
    assert frozen is not None
    return {"HNCE_NOW": frozen.isoformat()}


Login = Callable[[str, str], dict[str, Any]]


def answer(call: Callable[[], Any]) -> dict[str, Any]:
    """A login's answer as the API would send it: {"ok": login} or the error's JSON."""
    try:
        return {"ok": call().account.login}
    except HnceError as exc:
        return exc.to_dict()


@pytest.fixture
def stranger(setup: Setup) -> Iterator[Login]:
    """Logins from another address than the owner's: through `hnce serve`, an HTTP client bound
    to 127.0.0.2 (the owner's calls come from 127.0.0.1); next to the database, the backend
    `hnce serve` would make for a request from 203.0.113.7."""
    if not setup.remote:
        backend = LocalBackend(setup.db_url, client="203.0.113.7")
        yield lambda login, password: answer(lambda: backend.login(login, password))
        return
    setup.server_env()
    assert setup.server is not None
    client = httpx.Client(base_url=setup.server.url, timeout=30,
                          transport=httpx.HTTPTransport(local_address="127.0.0.2"))

    def login(name: str, password: str) -> dict[str, Any]:
        response = client.post("/api/v1/auth/login", json={"login": name, "password": password})
        body = response.json()
        return {"ok": body["account"]["login"]} if response.status_code == 200 else body["error"]

    try:
        yield login
    finally:
        client.close()


def own(setup: Setup, login: str, password: str) -> dict[str, Any]:
    """A login from the owner's own place (this machine, or 127.0.0.1 through the server)."""
    return answer(lambda: setup.backend().login(login, password))


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(world: World, stranger: Login) -> None:
    setup = world.setup
    at(START)
    answers = [stranger("admin", WRONG) for _ in range(8)]
    assert [a.get("message") for a in answers[:5]] == [BAD] * 5
    assert all(a["code"] == "login_failed" and "次数过多" in a["message"] for a in answers[5:]), answers
    # The stranger's address waits, even with the right password …
    refused = stranger("admin", PASSWORD)
    assert refused["code"] == "login_failed" and refused["details"]["retry_after"] >= 1
    # … and the system admin, from their own address, logs in at the same moment.
    assert own(setup, "admin", PASSWORD) == {"ok": "admin"}
    proc = setup.run("login", "admin", "--password-stdin", input=PASSWORD + "\n", env=at(START))
    assert proc.returncode == 0, proc.stderr


def test_the_wait_grows_with_each_failure_and_a_success_starts_again(world: World) -> None:
    setup = world.setup
    at(START)
    assert [own(setup, "kefu", WRONG)["message"] for _ in range(5)] == [BAD] * 5
    waiting = own(setup, "kefu", PASSWORD)  # the right password is not even checked
    assert waiting["details"] == {"retry_after": 1}
    assert waiting["message"].startswith("登录失败次数过多，请 1 秒后再试")
    at(START + timedelta(seconds=1))
    assert own(setup, "kefu", WRONG)["message"] == BAD  # the sixth: now 2 s
    assert own(setup, "kefu", PASSWORD)["details"] == {"retry_after": 2}
    at(START + timedelta(seconds=3))
    assert own(setup, "kefu", PASSWORD) == {"ok": "kefu"}
    assert [own(setup, "kefu", WRONG)["message"] for _ in range(4)] == [BAD] * 4  # counted from zero
    assert own(setup, "kefu", PASSWORD) == {"ok": "kefu"}


def test_the_wait_is_capped_and_said_in_minutes(sqlite_world: World) -> None:
    from hnce_cli.services import throttle

    assert [throttle.wait_after(n) for n in range(1, 9)] == [0, 0, 0, 0, 1, 2, 4, 8]
    assert throttle.wait_after(15) == throttle.wait_after(1000) == 15 * 60
    setup = sqlite_world.setup
    now = START.replace(tzinfo=clock.CHINA_TZ).astimezone(UTC)
    setup.execute("INSERT INTO login_failure (login, client, failures, last_at, locked_until) "
                  "VALUES ('KEFU', 'local', 30, :now, :until)", now=now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                  until=(now + timedelta(minutes=15)).strftime("%Y-%m-%d %H:%M:%S.%f"))
    at(START)
    waiting = own(setup, "kefu", PASSWORD)
    assert waiting["details"] == {"retry_after": 900}
    assert waiting["message"].startswith("登录失败次数过多，请 15 分钟后再试")


def test_unknown_logins_and_wrong_passwords_get_the_same_answers(world: World) -> None:
    """Step by step, throttled answers included: an admin login and one nobody has; a
    registered ID number (pending) and one that was never registered."""
    setup = world.setup
    at(START)
    pairs = [("kefu", "kefu-nobody"), (world.people_a[0].id_number, new_id_number())]
    for existing, unknown in pairs:
        seen = [[own(setup, login, WRONG) for _ in range(7)] for login in (existing, unknown)]
        assert seen[0] == seen[1], seen
        assert [a["message"] for a in seen[0][:5]] == [BAD] * 5
        assert {a["code"] for a in seen[0]} == {"login_failed"}
    # The CLI prints the same too, exit 6 for both.
    procs = [setup.run("login", login, "--password-stdin", "--json", input=WRONG + "\n", env=at(START))
             for login in ("kefu", "kefu-nobody")]
    assert [p.returncode for p in procs] == [6, 6]
    assert procs[0].stdout == procs[1].stdout


def test_a_login_is_counted_in_every_spelling(sqlite_world: World) -> None:
    """Upper and lower case of one login share their count: spelling it another way buys no tries."""
    setup = sqlite_world.setup
    at(START)
    number = sqlite_world.people_a[0].id_number[:17] + "X"
    for spelling in (number, number.lower(), f"  {number.lower()} ", number, number.lower()):
        assert own(setup, spelling, WRONG)["message"] == BAD
    assert "次数过多" in own(setup, number, WRONG)["message"]


def test_locks_are_listed_and_lifted_by_a_system_admin(world: World) -> None:
    setup = world.setup
    env = at(START)
    where = "127.0.0.1" if setup.remote else "local"
    for login in ("kefu", "kefu-nobody"):
        for _ in range(5):
            own(setup, login, WRONG)
    own(setup, "a-admin1", WRONG)  # one failure is no wait: not listed

    listed = setup.run("account", "locks", "--json", token=world.admin.token, env=env)
    assert listed.returncode == 0, listed.stderr
    locks = {row["login"]: row for row in json_out(listed)["locks"]}
    assert json_out(listed)["total"] == 2 and set(locks) == {"KEFU", "KEFU-NOBODY"}
    assert {k: locks["KEFU"][k] for k in ("client", "failures", "wait_seconds", "account_name")} == {
        "client": where, "failures": 5, "wait_seconds": 1, "account_name": "kefu 姓名"}
    assert locks["KEFU-NOBODY"]["account_name"] is None  # a system admin may know
    table = setup.run("account", "locks", token=world.admin.token, env=env)
    assert table.returncode == 0 and "KEFU" in table.stdout and "（无此账号）" in table.stdout

    for args in (("locks",), ("unlock", "kefu")):  # a system admin's alone
        for user in (world.kefu, world.a_admin1):
            refused = setup.run("account", *args, "--json", token=user.token, env=env)
            assert refused.returncode == 4, refused.stdout
            assert json_out(refused)["error"]["code"] == "permission_denied"

    assert "次数过多" in own(setup, "kefu", PASSWORD)["message"]
    other = setup.run("account", "unlock", "kefu", "--client", "198.51.100.1", "--json",
                      token=world.admin.token, env=env)
    assert other.returncode == 0 and json_out(other)["cleared"] == 0  # another address: nothing
    lifted = setup.run("account", "unlock", "kefu", "--json", token=world.admin.token, env=env)
    assert lifted.returncode == 0, lifted.stderr
    assert json_out(lifted) == {"login": "KEFU", "client": None, "cleared": 1}
    assert own(setup, "kefu", PASSWORD) == {"ok": "kefu"}  # at the same moment
    again = setup.run("account", "unlock", "kefu", token=world.admin.token, env=env)
    assert again.returncode == 0 and "没有需要解除" in again.stdout  # running it again is harmless

    actions = setup.rows("SELECT action, subject_type, subject_id, actor_id FROM audit_log "
                         "WHERE action LIKE 'login.%' ORDER BY id")
    assert [(a.action, a.subject_type, a.subject_id) for a in actions] == [
        ("login.throttle", "login", "KEFU"), ("login.throttle", "login", "KEFU-NOBODY"),
        ("login.unlock", "login", "KEFU")]
    assert actions[-1].actor_id == world.admin.account_id


def test_a_day_of_quiet_forgets_the_failures(sqlite_world: World) -> None:
    setup = sqlite_world.setup
    at(START)
    for _ in range(4):
        own(setup, "kefu", WRONG)
    at(START + timedelta(hours=25))
    for _ in range(4):  # four more after a day: still no wait
        assert own(setup, "kefu", WRONG)["message"] == BAD
    assert own(setup, "kefu", PASSWORD) == {"ok": "kefu"}


@pytest.mark.postgres
def test_through_hnce_serve_the_refusals_are_the_same_to_the_byte(remote_world: World) -> None:
    """What a guesser on the network sees — status, headers and body of every refusal, the
    throttled ones included — is the same for a login that exists and one that does not, for
    an admin's login as for an ID number: nothing tells which logins (ID numbers) are registered."""
    setup = remote_world.setup
    at(START)
    setup.server_env()  # the server at the same frozen moment: the waits it names are comparable
    assert setup.server is not None
    pairs = [("a-admin1", "a-admin9"), (remote_world.people_a[1].id_number, new_id_number())]
    with httpx.Client(base_url=setup.server.url, timeout=30,
                      transport=httpx.HTTPTransport(local_address="127.0.0.2")) as guesser:
        for existing, unknown in pairs:
            seen = []
            for login in (existing, unknown):
                answers = [guesser.post("/api/v1/auth/login", json={"login": login, "password": WRONG})
                           for _ in range(7)]
                seen.append([(a.status_code, sorted((k, v) for k, v in a.headers.items() if k != "date"),
                              a.content) for a in answers])
            assert seen[0] == seen[1], (existing, seen)
            assert {status for status, _, _ in seen[0]} == {401}
            bodies = [json.loads(body)["error"] for _, _, body in seen[0]]
            assert [b["message"] for b in bodies[:5]] == [BAD] * 5
            assert all("次数过多" in b["message"] and b["details"]["retry_after"] >= 1 for b in bodies[5:]), bodies
