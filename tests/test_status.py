"""`hnce status`: look a professional up by ID number, mobile or name, masked
unless the viewer may see personal data."""

from __future__ import annotations

import re

import pytest
from conftest import World, json_out

from hnce_cli.errors import NotFound


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
