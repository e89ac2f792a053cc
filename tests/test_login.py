"""`hnce login` / `logout` / `whoami`: the platform's messages, the wait after wrong
passwords, the session kept in the profile file."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, Setup, World, json_out, set_now

from hnce_cli import clock
from hnce_cli.errors import LoginFailed
from hnce_cli.schemas import DecisionRequest

BAD_CREDENTIALS = "账户或密码错误"


def login(setup: Setup, account: str, password: str, *extra: str, now: datetime | None = None):  # noqa: ANN201
    env = {"HNCE_NOW": now.isoformat()} if now else None
    return setup.run("login", account, "--password-stdin", *extra, input=password + "\n", env=env)


def profiles(setup: Setup) -> Path:
    return Path(setup.env["HNCE_CONFIG_DIR"]) / "profiles.json"


def refusal(setup: Setup, login_name: str, password: str) -> str:
    """The message an in-process login gets (the same text the CLI prints)."""
    with pytest.raises(LoginFailed) as exc:
        setup.backend().login(login_name, password)
    return exc.value.message


def test_wrong_password_and_unknown_account_look_the_same(world: World) -> None:
    setup = world.setup
    wrong = login(setup, "a-admin1", "Wrong-pass-1")
    unknown = login(setup, "410105199001011237", "Wrong-pass-1")
    for proc in (wrong, unknown):
        assert proc.returncode == 6
        assert BAD_CREDENTIALS in proc.stderr
        assert "Traceback" not in proc.stderr
    assert wrong.stderr == unknown.stderr
    wrong_json = login(setup, "no-such-admin", "Wrong-pass-1", "--json")
    assert wrong_json.returncode == 6
    assert json_out(wrong_json)["error"]["code"] == "login_failed"
    assert json_out(wrong_json)["error"]["message"] == BAD_CREDENTIALS
    assert refusal(setup, "a-admin1", "Wrong-pass-1") == refusal(setup, "nobody", "Wrong-pass-1")
    assert not profiles(setup).exists() or '"token": null' in profiles(setup).read_text("utf-8")


def test_registration_state_is_told_only_with_the_right_password(world: World) -> None:
    setup = world.setup
    pending, rejected, cancelled = (p.id_number for p in world.people_a)
    setup.backend(world.a_admin1.token).decide(
        DecisionRequest(decision="reject", id_numbers=[rejected], reason="单位不符"))
    setup.backend(world.a_admin1.token).decide(
        DecisionRequest(decision="approve", id_numbers=[cancelled]))
    setup.execute("UPDATE professional SET status = 'cancelled' WHERE id_number = :n", n=cancelled)
    expected = {pending: "此账号还未被审核", rejected: "审核不通过", cancelled: "已注销"}
    for number, message in expected.items():
        right = login(setup, number, PASSWORD)
        assert right.returncode == 6, right.stdout
        assert message in right.stderr
        assert refusal(setup, number, "Wrong-pass-1") == BAD_CREDENTIALS
    assert "用人单位管理员" in refusal(setup, pending, PASSWORD)  # the manual's advice
    wrong = login(setup, pending, "Wrong-pass-1")
    assert wrong.returncode == 6
    assert BAD_CREDENTIALS in wrong.stderr and "审核" not in wrong.stderr


def test_five_wrong_passwords_make_this_address_wait(world: World) -> None:
    """The wait is short and belongs to the address (tests/test_lockout.py has the whole policy)."""
    setup = world.setup
    start = datetime.now(clock.CHINA_TZ).replace(tzinfo=None, microsecond=0)
    set_now(start.replace(tzinfo=clock.CHINA_TZ))
    for _ in range(5):
        assert refusal(setup, "kefu", "Wrong-pass-1") == BAD_CREDENTIALS
    set_now(None)
    # The subprocesses run with the clock frozen at the same moment, then a second later.
    waiting = login(setup, "kefu", PASSWORD, "--json", now=start)
    assert waiting.returncode == 6
    assert json_out(waiting)["error"]["details"] == {"retry_after": 1}
    assert "登录失败次数过多，请 1 秒后再试" in json_out(waiting)["error"]["message"]
    later = login(setup, "kefu", PASSWORD, "--json", now=start + timedelta(seconds=1))
    assert later.returncode == 0, later.stderr
    assert json_out(later)["role"] == "support"


def test_fewer_than_five_wrong_passwords_do_not_lock(sqlite_world: World) -> None:
    setup = sqlite_world.setup
    for _ in range(4):
        assert refusal(setup, "kefu", "Wrong-pass-1") == BAD_CREDENTIALS
    assert setup.login("kefu")
    # A success starts the count again: four more wrong ones still do not lock.
    for _ in range(4):
        assert refusal(setup, "kefu", "Wrong-pass-1") == BAD_CREDENTIALS
    assert setup.login("kefu")


def test_login_keeps_the_session_in_a_private_profile(world: World) -> None:
    setup = world.setup
    proc = login(setup, "a-admin1", PASSWORD)
    assert proc.returncode == 0, proc.stderr
    path = profiles(setup)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert PASSWORD not in text
    assert json.loads(text)["profiles"]["default"]["login"] == "a-admin1"
    who = setup.run("whoami", "--json")  # no HNCE_TOKEN: the profile's session
    assert who.returncode == 0, who.stderr
    me = json_out(who)
    assert (me["login"], me["role"], me["role_label"]) == ("a-admin1", "unit_admin", "用人单位管理员")
    assert me["unit_ids"] == [world.unit_a.id]


def test_an_approved_professional_logs_in_with_the_id_number(world: World) -> None:
    setup = world.setup
    person = world.people_a[0]
    setup.backend(world.a_admin1.token).decide(
        DecisionRequest(decision="approve", id_numbers=[person.id_number]))
    proc = login(setup, person.id_number.lower(), PASSWORD, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json_out(proc)["role"] == "professional"
    assert PASSWORD not in profiles(setup).read_text("utf-8")


def test_logout_revokes_the_session(world: World) -> None:
    setup = world.setup
    assert login(setup, "kefu", PASSWORD).returncode == 0
    token = json.loads(profiles(setup).read_text("utf-8"))["profiles"]["default"]["token"]
    assert setup.backend(token).whoami().login == "kefu"
    out = setup.run("logout")
    assert out.returncode == 0, out.stderr
    assert json.loads(profiles(setup).read_text("utf-8"))["profiles"]["default"]["token"] is None
    reused = setup.run("whoami", token=token)  # a copy of the old token is dead too
    assert reused.returncode == 6
    assert "hnce login" in reused.stderr
    assert "Traceback" not in reused.stderr


def test_a_session_expires(world: World) -> None:
    setup = world.setup
    later = (datetime.now() + timedelta(days=2)).isoformat()
    expired = setup.run("whoami", token=world.kefu.token, env={"HNCE_NOW": later})
    assert expired.returncode == 6
    assert "过期" in expired.stderr
    assert setup.backend(world.kefu.token).whoami().login == "kefu"
