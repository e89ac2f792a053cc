"""`hnce status`: look a professional up by ID number, mobile or name, masked
unless the viewer may see personal data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import Setup, Templates, World, json_out, seeded, set_now

from hnce_cli import clock
from hnce_cli.backend.local import LocalBackend
from hnce_cli.errors import AuthRequired, NotFound


def masked_id(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


def test_support_finds_by_id_number_and_sees_it_masked(world: World) -> None:
    person = world.people_a[0]
    proc = world.setup.run("status", person.id_number, "--json", token=world.kefu.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert (out["matched_by"], out["total"]) == ("id_number", 1)
    [match] = out["matches"]
    assert match["id_number"] == masked_id(person.id_number)
    assert re.fullmatch(r"410105\*{8}\d{3}[\dX]", match["id_number"])
    assert match["mobile"] == person.mobile[:3] + "****" + person.mobile[-4:]
    assert match["masked"] is True
    assert match["email"] is None and match["birth_date"] is None
    assert (match["name"], match["unit_name"], match["status"], match["status_label"]) == (
        person.name, world.unit_a.name, "pending", "待审核")
    # The detail view on a terminal-less run shows the same, masked.
    table = world.setup.run("status", person.id_number, token=world.kefu.token)
    assert table.returncode == 0
    assert masked_id(person.id_number) in table.stdout
    assert person.id_number not in table.stdout
    assert person.mobile not in table.stdout
    assert "待审核" in table.stdout


def test_support_finds_by_mobile(world: World) -> None:
    person = world.people_b[1]
    proc = world.setup.run("status", person.mobile, "--json", token=world.kefu.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert out["matched_by"] == "mobile"
    assert [m["id_number"] for m in out["matches"]] == [masked_id(person.id_number)]
    spelled = f"+86 {person.mobile[:3]}-{person.mobile[3:7]}-{person.mobile[7:]}"
    found = world.setup.backend(world.kefu.token).lookup(spelled)
    assert [m.id_number for m in found.matches] == [masked_id(person.id_number)]


def test_the_persons_own_unit_admin_sees_everything(world: World) -> None:
    person = world.people_a[1]
    proc = world.setup.run("status", person.mobile, "--json", token=world.a_admin2.token)
    assert proc.returncode == 0, proc.stderr
    [match] = json_out(proc)["matches"]
    assert (match["id_number"], match["mobile"], match["masked"]) == (
        person.id_number, person.mobile, False)


def test_an_admin_of_another_unit_does_not_find_the_person(world: World) -> None:
    person = world.people_a[0]
    proc = world.setup.run("status", person.id_number, token=world.b_admin.token)
    assert proc.returncode == 3
    assert "未找到" in proc.stderr
    assert person.name not in proc.stdout + proc.stderr
    with pytest.raises(NotFound):
        world.setup.backend(world.b_admin.token).lookup(person.mobile)
    # An HR reviewer of 郑州 sees 金水区 (unit A) but not 洛阳 (unit B).
    hr = world.setup.backend(world.hr.token)
    assert hr.lookup(person.id_number).matches[0].masked is True
    with pytest.raises(NotFound):
        hr.lookup(world.people_b[0].id_number)


def test_several_people_with_one_name(world: World) -> None:
    setup = world.setup
    namesakes = [world.register(name="张同名"), world.register(world.unit_b, name="张同名")]
    proc = setup.run("status", "张同名", "--json", token=world.kefu.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert (out["matched_by"], out["total"]) == ("name", 2)
    assert sorted(m["id_number"] for m in out["matches"]) == sorted(
        masked_id(p.id_number) for p in namesakes)
    table = setup.run("status", "张同名", token=world.kefu.token)  # no terminal: no pick list
    assert table.returncode == 0, table.stderr
    for person in namesakes:
        assert masked_id(person.id_number) in table.stdout
    assert world.unit_a.name in table.stdout and world.unit_b.name in table.stdout
    # The unit admin of A only finds the one in A.
    own = setup.backend(world.a_admin1.token).lookup("张同名")
    assert [m.id_number for m in own.matches] == [namesakes[0].id_number]


def test_unknown_person(world: World) -> None:
    setup = world.setup
    proc = setup.run("status", "410105199901019999", token=world.kefu.token)
    assert proc.returncode == 3, proc.stdout
    assert "Traceback" not in proc.stderr
    for query in ("13999999999", "查无此人"):
        with pytest.raises(NotFound):
            setup.backend(world.kefu.token).lookup(query)
    as_json = setup.run("status", "查无此人", "--json", token=world.kefu.token)
    assert as_json.returncode == 3
    assert json_out(as_json)["error"]["code"] == "not_found"


def test_status_needs_a_recognisable_query_and_a_login(world: World) -> None:
    setup = world.setup
    garbled = setup.run("status", "12345", "--json", token=world.kefu.token)
    assert garbled.returncode == 2
    assert json_out(garbled)["error"]["problems"][0]["field"] == "query"
    anonymous = setup.run("status", world.people_a[0].id_number)
    assert anonymous.returncode == 6


def test_a_session_ended_by_logout_a_disabled_account_or_expiry_is_refused_at_once(world: World) -> None:
    """The token is checked against the database on every request: no session outlives
    its logout, its account or its 12 hours by a single request."""
    setup = world.setup
    person = world.people_a[0]
    assert setup.backend(world.kefu.token).lookup(person.id_number).matches[0].masked is True
    other_desk = setup.login("kefu")
    setup.backend(world.kefu.token).logout()
    with pytest.raises(AuthRequired, match="已退出"):
        setup.backend(world.kefu.token).lookup(person.id_number)
    assert setup.run("status", person.id_number, token=world.kefu.token).returncode == 6
    assert setup.backend(other_desk).lookup(person.mobile).total == 1  # that session is its own

    setup.execute("UPDATE account SET active = false WHERE id = :a", a=world.kefu.account_id)
    with pytest.raises(AuthRequired):
        setup.backend(other_desk).lookup(person.mobile)

    assert setup.backend(world.admin.token).lookup(person.id_number).matches[0].masked is False
    set_now(clock.now() + timedelta(hours=13))
    with pytest.raises(AuthRequired, match="过期"):
        setup.backend(world.admin.token).lookup(person.id_number)


@pytest.fixture
def pg_world(postgres_setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    return seeded(postgres_setup, templates, request)


@pytest.mark.postgres
def test_look_ups_answer_every_query_form_and_survive_a_lost_connection(pg_world: World) -> None:
    """Support's and the system admin's look-ups by ID number (either case), mobile (with
    +86, spaces, dashes) and name, masked for support only; and a pooled connection the
    server dropped (a failover, a restart) is replaced on the next request, not reported."""
    world, url = pg_world, pg_world.setup.db_url
    person = world.people_a[0]
    namesakes = [world.register(name="王同名"), world.register(world.unit_b, name="王同名")]
    for viewer, masked in ((world.kefu, True), (world.admin, False)):
        backend = LocalBackend(url, viewer.token)
        for query in (person.id_number, person.id_number.lower(), person.mobile,
                      f"+86 {person.mobile[:3]}-{person.mobile[3:7]}-{person.mobile[7:]}"):
            found = backend.lookup(query)
            assert [(p.id, p.masked) for p in found.matches] == [(person.id, masked)], (viewer.login, query)
        assert backend.lookup("王同名").total == len(namesakes)
    with pytest.raises(NotFound, match="未找到"):
        LocalBackend(url, world.kefu.token).lookup("查无此人")
    world.setup.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert LocalBackend(url, world.admin.token).lookup(person.id_number).matches[0].id == person.id
