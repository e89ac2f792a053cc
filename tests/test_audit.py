"""The audit trail: every state change leaves exactly one row saying who did what
to whom, with the state before and after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import PASSWORD, World, json_out, make_uscc, new_id_number, new_mobile

from hnce_cli.errors import LoginFailed


def audit_rows(world: World, after_id: int) -> list[Any]:
    return world.setup.rows("SELECT actor_id, action, subject_type, subject_id, before, after "
                            "FROM audit_log WHERE id > :i ORDER BY id", i=after_id)


def last_id(world: World) -> int:
    return int(world.setup.scalar("SELECT coalesce(max(id), 0) FROM audit_log"))


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def test_each_state_change_writes_one_audit_row(world: World) -> None:
    setup = world.setup
    admin, unit_admin = world.admin, world.a_admin1

    # registration (self-service: no one is logged in)
    mark = last_id(world)
    number = new_id_number()
    proc = setup.run("register", "--id-number", number, "--mobile", new_mobile(), "--email",
                     "a@example.cn", "--name", "审计甲", "--unit", world.unit_a.name,
                     "--password-stdin", "--json", input=PASSWORD + "\n")
    assert proc.returncode == 0, proc.stderr
    person_id = json_out(proc)["id"]
    [row] = audit_rows(world, mark)
    assert (row.action, row.subject_type, row.subject_id) == (
        "registration.submit", "professional", str(person_id))
    assert row.before is None
    assert loads(row.after) == {"status": "pending", "unit_id": world.unit_a.id}

    # approval
    mark = last_id(world)
    assert setup.run("approve", number, "--yes", token=unit_admin.token).returncode == 0
    [row] = audit_rows(world, mark)
    assert (row.actor_id, row.action, row.subject_type, row.subject_id) == (
        unit_admin.account_id, "registration.approve", "professional", str(person_id))
    assert (loads(row.before), loads(row.after)) == ({"status": "pending"}, {"status": "approved"})

    # rejection
    mark = last_id(world)
    other = world.people_a[0]
    assert setup.run("approve", other.id_number, "--reject", "--reason", "信息不全", "--yes",
                     token=world.a_admin2.token).returncode == 0
    [row] = audit_rows(world, mark)
    assert (row.actor_id, row.action, row.subject_id) == (
        world.a_admin2.account_id, "registration.reject", str(other.id))
    assert (loads(row.before), loads(row.after)) == (
        {"status": "pending"}, {"status": "rejected", "reason": "信息不全"})

    # account creation by the system admin
    mark = last_id(world)
    proc = setup.run("account", "add", "--role", "unit_admin", "--login", "a-admin3", "--name",
                     "审计乙", "--unit", world.unit_a.name, "--password-stdin", "--json",
                     input=PASSWORD + "\n", token=admin.token)
    assert proc.returncode == 0, proc.stderr
    account = json_out(proc)
    assert (account["role"], account["unit_ids"]) == ("unit_admin", [world.unit_a.id])
    [row] = audit_rows(world, mark)
    assert (row.actor_id, row.action, row.subject_type, row.subject_id) == (
        admin.account_id, "account.create", "account", str(account["id"]))
    assert row.before is None
    assert loads(row.after) == {"login": "a-admin3", "role": "unit_admin"}

    # unit creation by the system admin
    mark = last_id(world)
    uscc = make_uscc("410105", "MA44AUD01")
    proc = setup.run("unit", "add", "--name", "郑州审计丙有限公司", "--uscc", uscc, "--region",
                     "金水区", "--json", token=admin.token)
    assert proc.returncode == 0, proc.stderr
    unit = json_out(proc)
    [row] = audit_rows(world, mark)
    assert (row.actor_id, row.action, row.subject_type, row.subject_id) == (
        admin.account_id, "unit.create", "unit", str(unit["id"]))
    assert row.before is None
    assert loads(row.after) == {"name": "郑州审计丙有限公司", "uscc": uscc, "region": "410105"}


def test_refused_and_read_only_commands_write_no_audit_rows(sqlite_world: World) -> None:
    world = sqlite_world
    setup = world.setup
    mark = last_id(world)
    number = world.people_a[0].id_number
    assert setup.run("approve", number, "--yes", token=world.b_admin.token).returncode == 7
    assert setup.run("approve", number, "--dry-run", token=world.a_admin1.token).returncode == 0
    assert setup.run("status", number, token=world.kefu.token).returncode == 0
    assert audit_rows(world, mark) == []


def test_first_system_admin_and_lockout_are_audited(sqlite_world: World) -> None:
    setup = sqlite_world.setup
    first = setup.rows("SELECT actor_id, action, subject_id, after FROM audit_log ORDER BY id LIMIT 1")[0]
    assert (first.actor_id, first.action, first.subject_id) == (
        None, "account.create", str(sqlite_world.admin.account_id))
    assert loads(first.after) == {"login": "admin", "role": "system_admin"}
    mark = last_id(sqlite_world)
    backend = setup.backend()
    for _ in range(5):
        with pytest.raises(LoginFailed):
            backend.login("kefu", "not-the-password-1")
    [row] = audit_rows(sqlite_world, mark)
    assert (row.action, row.subject_type, row.subject_id, row.actor_id) == ("login.throttle", "login", "KEFU", None)
    assert loads(row.after) == {"client": "local", "failures": 5, "wait_seconds": 1}
