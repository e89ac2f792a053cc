"""`hnce approve`: unit admins decide registrations, one at a time or in batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import World, error_fields, json_out, new_id_number

from hnce_cli.errors import LoginFailed, PermissionDenied, ValidationFailed
from hnce_cli.schemas import DecisionRequest


def statuses(world: World, ids: list[str]) -> dict[str, str]:
    rows = world.setup.rows("SELECT id_number, status FROM professional")
    return {number: status for number, status in rows if number in ids}


def decision_audits(world: World) -> list:
    return world.setup.rows("SELECT actor_id, action, subject_id, before, after FROM audit_log "
                            "WHERE action LIKE 'registration.%' AND action <> 'registration.submit' "
                            "ORDER BY id")


def ids_a(world: World) -> list[str]:
    return [p.id_number for p in world.people_a]


def test_approve_by_id_numbers(world: World) -> None:
    setup, admin = world.setup, world.a_admin1
    first, second, third = ids_a(world)
    proc = setup.run("approve", first, second.lower(), "--yes", "--json", token=admin.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert set(out) == {"decision", "dry_run", "counts", "items"}
    assert (out["decision"], out["dry_run"], out["counts"]) == ("approve", False, {"approved": 2})
    assert {i["id_number"] for i in out["items"]} == {first, second}
    for item in out["items"]:
        assert {"id_number", "outcome", "reason"} <= set(item)
        assert item["outcome"] == "approved"
        assert item["unit_name"] == world.unit_a.name
    assert statuses(world, ids_a(world)) == {first: "approved", second: "approved", third: "pending"}
    decided_by = setup.rows("SELECT decided_by FROM professional WHERE id_number IN (:a, :b)",
                            a=first, b=second)
    assert {r[0] for r in decided_by} == {admin.account_id}
    audits = decision_audits(world)
    assert len(audits) == 2
    for row in audits:
        assert (row.actor_id, row.action) == (admin.account_id, "registration.approve")
        assert json.loads(row.before) == {"status": "pending"}
        assert json.loads(row.after) == {"status": "approved"}
    # The approved person can log in now; the one still pending cannot.
    assert setup.login(first)
    with pytest.raises(LoginFailed):
        setup.login(third)


def test_approve_by_file(world: World, tmp_path: Path) -> None:
    first, second, third = ids_a(world)
    ids = tmp_path / "ids.csv"
    ids.write_text(f"身份证号,姓名\n# 第一批\n{first},王测试\n\n{second.lower()},王测试\n",
                   encoding="utf-8")
    proc = world.setup.run("approve", "--file", str(ids), "--yes", "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stderr
    assert json_out(proc)["counts"] == {"approved": 2}
    assert statuses(world, ids_a(world)) == {first: "approved", second: "approved", third: "pending"}


def test_approve_all_of_a_unit_with_date_filter(world: World) -> None:
    setup = world.setup
    old, *recent = ids_a(world)
    setup.execute("UPDATE professional SET registered_at = :t WHERE id_number = :n",
                  t="2020-01-01 00:00:00.000000", n=old)
    proc = setup.run("approve", "--all", "--unit", world.unit_a.name, "--since", "2021-01-01",
                     "--yes", "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert out["counts"] == {"approved": 2}
    assert sorted(i["id_number"] for i in out["items"]) == sorted(recent)
    assert statuses(world, ids_a(world)) == {old: "pending", **dict.fromkeys(recent, "approved")}
    # Unit B's registrations are untouched.
    assert set(statuses(world, [p.id_number for p in world.people_b]).values()) == {"pending"}


def test_all_for_a_unit_one_does_not_manage_is_refused(world: World) -> None:
    proc = world.setup.run("approve", "--all", "--unit", world.unit_b.name, "--yes",
                           token=world.a_admin1.token)
    assert proc.returncode == 4
    assert world.unit_b.name in proc.stderr
    assert set(statuses(world, [p.id_number for p in world.people_b]).values()) == {"pending"}


def test_dry_run_changes_nothing(world: World) -> None:
    setup = world.setup
    audit_before = setup.count("audit_log")
    proc = setup.run("approve", "--all", "--dry-run", "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert out["dry_run"] is True
    assert out["counts"] == {"would_approve": 3}
    assert {i["id_number"] for i in out["items"]} == set(ids_a(world))
    assert set(statuses(world, ids_a(world)).values()) == {"pending"}
    assert setup.count("audit_log") == audit_before
    table = setup.run("approve", ids_a(world)[0], "--reject", "--reason", "信息不全", "--dry-run",
                      token=world.a_admin1.token)
    assert table.returncode == 0
    assert "预览" in table.stdout and "将审核不通过" in table.stdout
    assert set(statuses(world, ids_a(world)).values()) == {"pending"}
    assert setup.count("audit_log") == audit_before


def test_without_yes_and_without_terminal_nothing_changes(world: World) -> None:
    setup = world.setup
    audit_before = setup.count("audit_log")
    proc = setup.run("approve", *ids_a(world), token=world.a_admin1.token)
    assert proc.returncode == 2
    assert "--yes" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert set(statuses(world, ids_a(world)).values()) == {"pending"}
    assert setup.count("audit_log") == audit_before


def test_reject_needs_a_reason_which_is_stored(world: World) -> None:
    setup = world.setup
    number = ids_a(world)[0]
    no_reason = setup.run("approve", number, "--reject", "--yes", token=world.a_admin1.token)
    assert no_reason.returncode == 2
    assert "reason" in no_reason.stderr
    with pytest.raises(ValidationFailed) as blank:
        setup.backend(world.a_admin1.token).decide(
            DecisionRequest(decision="reject", id_numbers=[number], reason="  "))
    assert [p.field for p in blank.value.problems] == ["reason"]
    assert statuses(world, [number]) == {number: "pending"}

    proc = setup.run("approve", number, "--reject", "--reason", "单位信息不符", "--yes", "--json",
                     token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stderr
    assert json_out(proc)["counts"] == {"rejected": 1}
    row = setup.rows("SELECT status, reject_reason FROM professional WHERE id_number = :n",
                     n=number)[0]
    assert tuple(row) == ("rejected", "单位信息不符")
    audit = decision_audits(world)
    assert len(audit) == 1
    assert audit[0].action == "registration.reject"
    assert json.loads(audit[0].after) == {"status": "rejected", "reason": "单位信息不符"}
    # The applicant's record shows why.
    shown = setup.backend(world.a_admin1.token).lookup(number)
    assert shown.matches[0].reject_reason == "单位信息不符"


def test_rerunning_an_approval_is_harmless(world: World) -> None:
    setup, token = world.setup, world.a_admin1.token
    number = ids_a(world)[0]
    setup.backend(token).decide(DecisionRequest(decision="approve", id_numbers=[number]))
    audit_after_first = setup.count("audit_log")
    decided_at = setup.scalar("SELECT decided_at FROM professional WHERE id_number = :n", n=number)
    for args in (["--yes", "--json"], ["--json"]):  # with and without --yes
        again = setup.run("approve", number, *args, token=token)
        assert again.returncode == 0, again.stdout + again.stderr
        items = json_out(again)["items"]
        assert [(i["id_number"], i["outcome"]) for i in items] == [(number, "skipped")]
    assert setup.count("audit_log") == audit_after_first
    assert setup.scalar("SELECT decided_at FROM professional WHERE id_number = :n",
                        n=number) == decided_at


def test_a_registration_decided_by_a_colleague_is_a_conflict(world: World) -> None:
    setup = world.setup
    number = ids_a(world)[0]
    setup.backend(world.a_admin1.token).decide(DecisionRequest(decision="approve", id_numbers=[number]))
    proc = setup.run("approve", number, "--reject", "--reason", "晚了", "--yes", "--json",
                     token=world.a_admin2.token)
    assert proc.returncode == 5
    item = json_out(proc)["items"][0]
    assert item["outcome"] == "conflict"
    assert "a-admin1" in item["reason"]  # who decided it (the colleague's name)
    assert statuses(world, [number]) == {number: "approved"}
    assert len(decision_audits(world)) == 1


def test_admin_of_another_unit_cannot_decide(world: World) -> None:
    setup = world.setup
    number = ids_a(world)[0]
    audit_before = setup.count("audit_log")
    proc = setup.run("approve", number, "--yes", "--json", token=world.b_admin.token)
    assert proc.returncode == 7
    out = json_out(proc)
    assert [(i["id_number"], i["outcome"]) for i in out["items"]] == [(number, "failed")]
    assert statuses(world, [number]) == {number: "pending"}
    assert setup.count("audit_log") == audit_before
    # The temporary unit's admin is a unit admin too, of another unit.
    other = setup.backend(world.jinshui.token).decide(
        DecisionRequest(decision="reject", id_numbers=[number], reason="x"))
    assert [i.outcome for i in other.items] == ["failed"]
    assert statuses(world, [number]) == {number: "pending"}


def test_a_batch_reports_each_item(world: World) -> None:
    setup = world.setup
    good = ids_a(world)[0]
    foreign = world.people_b[0].id_number
    unknown = new_id_number()  # well-formed, but nobody registered it
    proc = setup.run("approve", good, foreign, unknown, "41010519900101", "--yes", "--json",
                     token=world.a_admin1.token)
    assert proc.returncode == 7  # some failed: the batch says so
    outcomes = {i["id_number"]: i["outcome"] for i in json_out(proc)["items"]}
    assert outcomes == {good: "approved", foreign: "failed", unknown: "failed",
                        "41010519900101": "failed"}
    assert statuses(world, [good, foreign]) == {good: "approved", foreign: "pending"}


def test_support_may_not_approve(world: World) -> None:
    number = ids_a(world)[0]
    proc = world.setup.run("approve", number, "--yes", token=world.kefu.token)
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    with pytest.raises(PermissionDenied):
        world.setup.backend(world.hr.token).decide(
            DecisionRequest(decision="approve", id_numbers=[number]))
    assert statuses(world, [number]) == {number: "pending"}


def test_approve_needs_a_login(world: World) -> None:
    proc = world.setup.run("approve", ids_a(world)[0], "--yes")
    assert proc.returncode == 6
    assert "hnce login" in proc.stderr


def test_list_pending_of_own_units(world: World) -> None:
    proc = world.setup.run("approve", "--list", "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert out["total"] == 3
    assert {p["id_number"] for p in out["registrations"]} == set(ids_a(world))
    of_b = world.setup.backend(world.b_admin.token).list_pending(
        DecisionRequest(decision="approve", all_matching=True))
    assert {p.id_number for p in of_b.registrations} == {p.id_number for p in world.people_b}


def test_all_together_with_id_numbers_is_refused(world: World, tmp_path: Path) -> None:
    """--all with explicit numbers is ambiguous; it used to approve everything."""
    setup, token = world.setup, world.a_admin1.token
    audit_before = setup.count("audit_log")
    first = ids_a(world)[0]
    ids = tmp_path / "ids.txt"
    ids.write_text(first + "\n", encoding="utf-8")
    for args in ([first, "--all"], ["--file", str(ids), "--all"]):
        proc = setup.run("approve", *args, "--yes", "--json", token=token)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "--all" in json_out(proc)["error"]["message"]
    plain = setup.run("approve", first, "--all", "--yes", token=token)
    assert plain.returncode == 2 and "--all" in plain.stderr and "Traceback" not in plain.stderr
    assert set(statuses(world, ids_a(world)).values()) == {"pending"}
    assert setup.count("audit_log") == audit_before


def test_numbers_outside_the_filters_fail_as_not_matching(world: World) -> None:
    """A pending registration of one's own unit outside --since is not a conflict:
    nobody else decided it, it is simply not what the filters chose."""
    setup = world.setup
    old, recent, _ = ids_a(world)
    setup.execute("UPDATE professional SET registered_at = :t WHERE id_number = :n",
                  t="2020-01-01 00:00:00.000000", n=old)
    proc = setup.run("approve", old, recent, "--since", "2021-01-01", "--unit", world.unit_a.name,
                     "--yes", "--json", token=world.a_admin1.token)
    assert proc.returncode == 7, proc.stderr
    items = {i["id_number"]: i for i in json_out(proc)["items"]}
    assert items[recent]["outcome"] == "approved"
    assert items[old]["outcome"] == "failed"
    assert "不符合筛选条件" in items[old]["reason"]
    assert statuses(world, [old, recent]) == {old: "pending", recent: "approved"}


def test_a_reason_longer_than_500_characters_is_refused(world: World) -> None:
    number = ids_a(world)[0]
    proc = world.setup.run("approve", number, "--reject", "--reason", "长" * 501, "--yes", "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert error_fields(proc) == ["reason"]
    assert "500" in json_out(proc)["error"]["problems"][0]["message"]
    assert statuses(world, [number]) == {number: "pending"}
    ok = world.setup.run("approve", number, "--reject", "--reason", "长" * 500, "--yes", "--json",
                         token=world.a_admin1.token)
    assert ok.returncode == 0, ok.stderr
    assert statuses(world, [number]) == {number: "rejected"}


def test_a_large_batch_decides_every_item_once(world: World, tmp_path: Path) -> None:
    """The set-based path (one UPDATE over the bound list, one INSERT … SELECT of audit
    rows) on every storage: each registration approved once with its own audit row,
    and the items say so, with names and units."""
    setup = world.setup
    numbers = world.register_many(120)
    foreign = world.people_b[0].id_number
    file = tmp_path / "ids.txt"
    file.write_text("\n".join([*numbers, foreign, numbers[0].lower()]) + "\n", encoding="utf-8")
    proc = setup.run("approve", "--file", str(file), "--yes", "--json", token=world.a_admin1.token)
    assert proc.returncode == 7, proc.stderr  # the foreign one failed
    out = json_out(proc)
    assert out["counts"] == {"approved": 120, "failed": 1}
    approved = [i for i in out["items"] if i["outcome"] == "approved"]
    assert sorted(i["id_number"] for i in approved) == sorted(numbers)
    assert all(i["unit_name"] == world.unit_a.name and i["name"] for i in approved)
    rows = setup.rows("SELECT p.id, p.id_number, p.decided_by FROM professional p "
                      "WHERE p.status = 'approved'")
    ids_of = {r.id_number: str(r.id) for r in rows if r.id_number in set(numbers)}
    assert len(ids_of) == 120 and {r.decided_by for r in rows} == {world.a_admin1.account_id}
    audits = decision_audits(world)
    assert sorted(a.subject_id for a in audits) == sorted(ids_of.values())
    assert {(a.actor_id, a.action, a.before, a.after) for a in audits} == {
        (world.a_admin1.account_id, "registration.approve", '{"status": "pending"}',
         '{"status": "approved"}')}
