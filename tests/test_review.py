"""Every review workflow through one engine: `hnce inbox` shows what awaits a decider
across workflows, `hnce review KIND` decides any of them as `hnce approve` and
`hnce review` (declarations) do, on every storage."""

from __future__ import annotations

from conftest import World, error_fields, json_out

from hnce_cli import clock

TODAY = clock.today()


def conference() -> list[str]:
    return ["--form", "conference", "--field", "meeting_name=全省会计年会", "--field", "organizer=河南省会计学会",
            "--field", f"start_date={TODAY.isoformat()}", "--field", "days=2"]


def submitted(world: World, unit=None) -> int:  # noqa: ANN001
    me = world.approved_person(unit)
    proc = world.setup.run("declare", "new", *conference(), "--submit", "--json", token=me.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json_out(proc)["id"]


def test_the_inbox_counts_every_workflow_awaiting_the_decider(world: World) -> None:
    setup = world.setup
    first = submitted(world)
    second = submitted(world)
    box = json_out(setup.run("inbox", "--json", token=world.a_admin1.token))
    queues = {q["workflow"]: q for q in box["queues"]}
    # unit A: its three pending registrations (the seeded world), and the two declarations
    assert queues["registration"]["total"] == len(world.people_a)
    assert {i["key"] for i in queues["registration"]["items"]} == {p.id_number for p in world.people_a}
    assert queues["declaration"]["total"] == 2 and queues["declaration"]["step"] == "unit"
    assert [i["key"] for i in queues["declaration"]["items"]] == [str(first), str(second)]  # oldest first
    assert box["total"] == len(world.people_a) + 2
    assert queues["registration"]["command"] == "hnce approve --list"
    # HR sees declarations only once the unit has passed them on
    assert json_out(setup.run("inbox", "--json", token=world.hr.token))["total"] == 0
    assert setup.run("review", str(first), "--yes", token=world.a_admin1.token).returncode == 0
    hr_box = json_out(setup.run("inbox", "--json", token=world.hr.token))
    assert [(q["workflow"], q["step"], q["total"]) for q in hr_box["queues"]] == [("declaration", "hr", 1)]
    # unit B's admin sees nothing of unit A; support decides nothing
    assert json_out(setup.run("inbox", "--json", token=world.b_admin.token))["queues"][0]["total"] == len(
        world.people_b)
    assert setup.run("inbox", token=world.kefu.token).returncode == 4
    table = setup.run("inbox", token=world.a_admin1.token)
    assert table.returncode == 0 and "注册审核" in table.stdout and "学时申报审核" in table.stdout


def test_review_kind_decides_registrations_as_approve_does(world: World) -> None:
    setup = world.setup
    number = world.people_a[0].id_number
    proc = setup.run("review", "registration", number, "--yes", "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert set(out) == {"decision", "dry_run", "counts", "items"}  # approve's shape
    assert out["items"][0]["id_number"] == number and out["items"][0]["outcome"] == "approved"
    again = setup.run("approve", number, "--yes", "--json", token=world.a_admin2.token)
    assert again.returncode == 5
    assert "已被 a-admin1 姓名" in json_out(again)["items"][0]["reason"]  # the first decider, by name
    listed = json_out(setup.run("review", "注册", "--list", "--json", token=world.a_admin1.token))
    assert listed["total"] == len(world.people_a) - 1
    assert setup.count("audit_log", "action = 'registration.approve'") == 1


def test_review_kind_refuses_unknown_workflows_and_foreign_filters(world: World) -> None:
    setup = world.setup
    number = world.people_a[0].id_number
    wrong_filter = setup.run("review", "registration", number, "--year", "2025", "--yes", "--json",
                             token=world.a_admin1.token)
    assert wrong_filter.returncode == 2 and error_fields(wrong_filter) == ["year"]
    not_a_number = setup.run("review", "12x", "--yes", "--json", token=world.a_admin1.token)
    assert not_a_number.returncode == 2 and error_fields(not_a_number) == ["ids"]
    assert setup.run("review", "registration", "--list", token=world.hr.token).returncode == 4
    assert setup.count("audit_log", "action LIKE 'registration.%' AND action <> 'registration.submit'") == 0


def test_the_api_decides_any_workflow_by_its_name(world: World) -> None:
    """POST /api/v1/reviews/{kind} takes the workflow's own request; a wrong shape is a 422
    naming the field, an unknown workflow a 422 naming `kind`."""
    from hnce_cli.errors import ValidationFailed

    backend = world.setup.backend(world.a_admin1.token)
    number = world.people_a[1].id_number
    result = backend.review("registration", {"decision": "approve", "id_numbers": [number], "dry_run": True})
    assert result.counts == {"would_approve": 1}
    declaration = submitted(world)
    decided = backend.review("declaration", {"decision": "reject", "ids": [declaration], "reason": "材料不清"})
    assert decided.level == "unit" and decided.items[0].status == "rejected"
    for kind, body, field in (("registration", {"decision": "maybe", "id_numbers": [number]}, "decision"),
                              ("no-such-review", {"decision": "approve"}, "kind")):
        try:
            backend.review(kind, body)
        except ValidationFailed as exc:
            assert field in [p.field for p in exc.problems], exc.problems
        else:
            raise AssertionError(f"{kind} {body} was accepted")
    queue = backend.awaiting("declaration")
    assert queue.total == 0 and queue.step == "unit"
