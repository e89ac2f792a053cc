"""Credit declarations end to end through the real `hnce` command, on every storage:
declaring, the two-level review transition by transition (including the refused
ones), concurrent reviewers, attachments, the unit import and the progress view."""

from __future__ import annotations

import base64
import io
import itertools
import json
import zipfile
from pathlib import Path

import pytest
from conftest import Person, World, error_fields, json_out

from hnce_cli import clock

TODAY = clock.today()
YEAR = TODAY.year
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def approved_person(world: World, unit=None) -> Person:  # noqa: ANN001
    return world.approved_person(unit)


def conference(days: int = 2, meeting: str = "全省会计年会") -> list[str]:
    return ["--form", "conference", "--field", f"meeting_name={meeting}", "--field", "organizer=河南省会计学会",
            "--field", f"start_date={TODAY.isoformat()}", "--field", f"days={days}"]


_MEETINGS = itertools.count(1)


def declare(world: World, person: Person, *extra: str, days: int = 2) -> dict:
    """A new conference declaration; each one a different meeting (an identical one is refused)."""
    meeting = f"全省会计年会第{next(_MEETINGS)}场"
    proc = world.setup.run("declare", "new", *conference(days, meeting), *extra, "--json", token=person.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json_out(proc)


def status_of(world: World, declaration_id: int) -> str:
    return world.setup.scalar("SELECT status FROM declaration WHERE id = :i", i=declaration_id)


def audit_actions(world: World, declaration_id: int) -> list[str]:
    return [r[0] for r in world.setup.rows(
        "SELECT action FROM audit_log WHERE subject_type = 'declaration' AND subject_id = :s ORDER BY id",
        s=str(declaration_id))]


def history_actions(world: World, token: str, declaration_id: int) -> list[str]:
    """The review history as `hnce declare show` gives it."""
    shown = json_out(world.setup.run("declare", "show", str(declaration_id), "--json", token=token))
    return [h["action"] for h in shown["history"]]


def review(world: World, token: str, *args: str):  # noqa: ANN201
    return world.setup.run("review", *args, "--yes", "--json", token=token)


# --- the happy path, transition by transition -----------------------------------


def test_draft_submit_unit_then_hr_approval_makes_a_credit_record(world: World) -> None:
    setup = world.setup
    me = approved_person(world)
    draft = declare(world, me)
    assert (draft["status"], draft["status_label"], draft["credits"]) == ("draft", "待提交", 20)
    assert (draft["subject"], draft["subject_label"], draft["year"]) == ("public", "公需科目", YEAR)
    assert draft["fields"]["days"] == 2 and draft["field_labels"]["days"] == "会议天数"
    assert audit_actions(world, draft["id"]) == ["declaration.create"]

    proc = setup.run("declare", "submit", str(draft["id"]), "--json", token=me.token)
    assert proc.returncode == 0, proc.stderr
    assert json_out(proc)["status"] == "pending_unit"

    proc = review(world, world.a_admin1.token, str(draft["id"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    # The unit's outcome is its decision (审核通过); the declaration goes on to HR.
    assert (out["level"], out["counts"]) == ("unit", {"approved": 1})
    assert (out["items"][0]["outcome"], out["items"][0]["status"]) == ("approved", "pending_hr")
    assert status_of(world, draft["id"]) == "pending_hr"
    assert setup.count("credit_record") == 0  # the unit's approval does not count yet

    proc = review(world, world.hr.token, str(draft["id"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert out["level"] == "hr" and out["counts"] == {"approved": 1}
    assert out["items"][0]["credits"] == 20
    assert status_of(world, draft["id"]) == "approved"
    credit = setup.rows("SELECT professional_id, id_number, year, subject, credits, source, source_ref "
                        "FROM credit_record")
    assert [tuple(r) for r in credit] == [(me.id, me.id_number, YEAR, "public", 20, "declaration",
                                           f"declaration:{draft['id']}")]
    # One audit row per transition, and the history shows each transition once.
    assert audit_actions(world, draft["id"]) == ["declaration.create", "declaration.submit",
                                                 "declaration.unit_approve", "declaration.hr_approve"]
    assert history_actions(world, me.token, draft["id"]) == ["create", "submit", "unit_approve", "hr_approve"]
    shown = json_out(setup.run("declare", "show", str(draft["id"]), "--json", token=me.token))
    assert [h["action_label"] for h in shown["history"]] == ["保存暂不提交", "提交", "用人单位审核通过",
                                                             "人社部门审核通过"]
    # The same decision again changes nothing and says so.
    again = review(world, world.hr.token, str(draft["id"]))
    assert again.returncode == 0 and json_out(again)["counts"] == {"skipped": 1}
    assert setup.count("credit_record") == 1


def test_submit_at_once_and_table_output(world: World) -> None:
    me = approved_person(world)
    out = declare(world, me, "--submit")
    assert out["status"] == "pending_unit"
    assert audit_actions(world, out["id"]) == ["declaration.create", "declaration.submit"]
    table = world.setup.run("declare", "list", token=me.token)
    assert table.returncode == 0, table.stderr
    assert "待审核（单位）" in table.stdout and "学术会议" in table.stdout and "公需科目" in table.stdout
    csv_out = world.setup.run("declare", "list", "--csv", token=me.token)
    assert csv_out.stdout.splitlines()[0].startswith("编号,学习形式,计入年度")


def test_withdraw_then_edit_then_delete(world: World) -> None:
    setup = world.setup
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    proc = setup.run("declare", "withdraw", str(decl["id"]), "--json", token=me.token)
    assert proc.returncode == 0 and json_out(proc)["status"] == "draft"
    proc = setup.run("declare", "edit", str(decl["id"]), "--field", "days=3", "--json", token=me.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (json_out(proc)["credits"], json_out(proc)["fields"]["days"]) == (30, 3)
    proc = setup.run("declare", "delete", str(decl["id"]), "--yes", "--json", token=me.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert setup.count("declaration", "id = :i", i=decl["id"]) == 0
    assert audit_actions(world, decl["id"]) == ["declaration.create", "declaration.submit",
                                                "declaration.withdraw", "declaration.edit",
                                                "declaration.delete"]
    # SQLite gives the highest number out again: the new draft's history is its own.
    again = declare(world, me)
    assert history_actions(world, me.token, again["id"]) == ["create"]


def test_review_history_survives_the_migration_both_ways(world: World) -> None:
    """Migration 0006 reads the history from the audit log and drops declaration_event:
    going back rebuilds the events; an event with no audit row is copied into the log."""
    from alembic import command
    from alembic.config import Config

    from hnce_cli.store import migrate as db

    setup = world.setup
    if setup.remote:
        pytest.skip("a migration runs where the database is; the local setups cover it")
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    assert review(world, world.a_admin1.token, str(decl["id"]), "--reject", "--reason", "证明材料不清晰"
                  ).returncode == 0
    engine = db.get_engine(setup.db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005")
        events = setup.rows("SELECT action, reason FROM declaration_event WHERE declaration_id = :i "
                            "ORDER BY id", i=decl["id"])
        assert [tuple(e) for e in events] == [("create", None), ("submit", None),
                                              ("unit_reject", "证明材料不清晰")]
        with engine.begin() as conn:  # an event from before, with no audit row of its own
            conn.exec_driver_sql(
                "INSERT INTO declaration_event (declaration_id, at, actor_id, action, reason) "
                f"VALUES ({decl['id']}, '2099-01-01 00:00:00', NULL, 'withdraw', NULL)")
        db.upgrade(setup.db_url)
    finally:
        engine.dispose()
        db.get_engine.cache_clear()
    assert setup.scalar("SELECT count(*) FROM audit_log WHERE action = 'declaration.withdraw' "
                        "AND subject_id = :s", s=str(decl["id"])) == 1
    shown = json_out(setup.run("declare", "show", str(decl["id"]), "--json", token=me.token))
    assert [(h["action"], h["reason"]) for h in shown["history"]] == [
        ("create", None), ("submit", None), ("unit_reject", "证明材料不清晰"), ("withdraw", None)]


def test_withdraw_while_pending_at_hr(world: World) -> None:
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    assert review(world, world.a_admin1.token, str(decl["id"])).returncode == 0
    proc = world.setup.run("declare", "withdraw", str(decl["id"]), "--json", token=me.token)
    assert proc.returncode == 0 and json_out(proc)["status"] == "draft"
    # HR can no longer approve it.
    proc = review(world, world.hr.token, str(decl["id"]))
    assert proc.returncode == 5 and json_out(proc)["items"][0]["outcome"] == "conflict"


# --- refused transitions ---------------------------------------------------------


def test_refused_transitions_change_nothing(world: World) -> None:
    setup = world.setup
    me = approved_person(world)
    pending = declare(world, me, "--submit")
    # Edit and delete a submitted one: refused (conflict), state unchanged.
    proc = setup.run("declare", "edit", str(pending["id"]), "--field", "days=1", "--json", token=me.token)
    assert proc.returncode == 5, proc.stdout
    assert "待审核" in json_out(proc)["error"]["message"]
    proc = setup.run("declare", "delete", str(pending["id"]), "--yes", "--json", token=me.token)
    assert proc.returncode == 5
    # HR approving before the unit: a conflict, nothing written.
    proc = review(world, world.hr.token, str(pending["id"]))
    assert proc.returncode == 5
    item = json_out(proc)["items"][0]
    assert item["outcome"] == "conflict" and "尚未经用人单位审核" in item["reason"]
    # A unit admin of another unit: outside their scope.
    proc = review(world, world.b_admin.token, str(pending["id"]))
    assert proc.returncode == 7 and json_out(proc)["items"][0]["outcome"] == "failed"
    # A professional cannot review at all.
    proc = review(world, me.token, str(pending["id"]))
    assert proc.returncode == 4
    assert status_of(world, pending["id"]) == "pending_unit"
    assert audit_actions(world, pending["id"]) == ["declaration.create", "declaration.submit"]
    # Withdraw an approved one: refused.
    assert review(world, world.a_admin1.token, str(pending["id"])).returncode == 0
    assert review(world, world.hr.token, str(pending["id"])).returncode == 0
    proc = setup.run("declare", "withdraw", str(pending["id"]), "--json", token=me.token)
    assert proc.returncode == 5 and "审核通过" in json_out(proc)["error"]["message"]
    assert status_of(world, pending["id"]) == "approved"
    # Submitting a draft twice: the second is refused.
    draft = declare(world, me)
    assert setup.run("declare", "submit", str(draft["id"]), token=me.token).returncode == 0
    assert setup.run("declare", "submit", str(draft["id"]), token=me.token).returncode == 5


def test_hr_outside_their_region_and_other_peoples_declarations(world: World) -> None:
    setup = world.setup
    luoyang = approved_person(world, world.unit_b)
    decl = declare(world, luoyang, "--submit")
    assert review(world, world.b_admin.token, str(decl["id"])).returncode == 0
    proc = review(world, world.hr.token, str(decl["id"]))  # 郑州 HR, a 洛阳 unit
    assert proc.returncode == 7 and json_out(proc)["items"][0]["outcome"] == "failed"
    assert status_of(world, decl["id"]) == "pending_hr"
    other = approved_person(world)
    for command in (["show"], ["withdraw"], ["delete", "--yes"], ["submit"]):
        proc = setup.run("declare", command[0], str(decl["id"]), *command[1:], "--json", token=other.token)
        assert proc.returncode == 3, (command, proc.stdout)


def test_reject_needs_a_reason_and_shows_it(world: World) -> None:
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    proc = review(world, world.a_admin1.token, str(decl["id"]), "--reject")
    assert proc.returncode == 2 and error_fields(proc) == ["reason"]
    proc = review(world, world.a_admin1.token, str(decl["id"]), "--reject", "--reason", "证明材料不清晰")
    assert proc.returncode == 0 and json_out(proc)["counts"] == {"rejected": 1}
    shown = json_out(world.setup.run("declare", "show", str(decl["id"]), "--json", token=me.token))
    assert (shown["status_label"], shown["reject_reason"], shown["rejected_level"]) == (
        "审核不通过", "证明材料不清晰", "unit")
    assert shown["history"][-1]["reason"] == "证明材料不清晰"
    assert world.setup.count("credit_record") == 0


def test_batch_review_all_matching_with_dry_run(world: World) -> None:
    setup = world.setup
    people = [approved_person(world) for _ in range(3)]
    ids = [declare(world, p, "--submit")["id"] for p in people]
    proc = setup.run("review", "--all", "--year", str(YEAR), "--dry-run", "--json", token=world.a_admin1.token)
    assert proc.returncode == 0 and json_out(proc)["counts"] == {"would_approve": 3}
    assert {status_of(world, i) for i in ids} == {"pending_unit"}
    listed = json_out(setup.run("review", "--list", "--json", token=world.a_admin1.token))
    assert sorted(d["id"] for d in listed["declarations"]) == sorted(ids)
    assert review(world, world.a_admin1.token, "--all").returncode == 0
    proc = review(world, world.hr.token, "--all", "--form", "学术会议")
    assert json_out(proc)["counts"] == {"approved": 3}
    assert setup.count("credit_record") == 3
    assert setup.count("audit_log", "action = 'declaration.hr_approve'") == 3


def test_the_review_queue_lists_the_oldest_submission_first_a_page_at_a_time(world: World) -> None:
    """`review --list` is the queue in submission order (not number order), one page
    of it with --limit, and its total counts the whole queue."""
    setup = world.setup
    people = [approved_person(world) for _ in range(3)]
    drafts = [declare(world, p)["id"] for p in people]
    # Submitted as 2nd, 3rd, 1st: an order that is neither ascending nor descending by number.
    for i in (1, 2, 0):
        proc = setup.run("declare", "submit", str(drafts[i]), "--json", token=people[i].token)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = json_out(setup.run("review", "--list", "--limit", "2", "--json", token=world.a_admin1.token))
    assert [d["id"] for d in listed["declarations"]] == [drafts[1], drafts[2]]
    assert listed["total"] == 3


def test_batch_items_carry_every_field_in_json(world: World) -> None:
    """Each item of a batch prints all its fields (null included), whatever the storage
    or the outcome: scripts read them by name, and the remote path must say the same."""
    setup = world.setup
    me = approved_person(world)
    first, second = declare(world, me, "--submit"), declare(world, me, "--submit")
    assert review(world, world.a_admin1.token, str(first["id"])).returncode == 0
    proc = review(world, world.a_admin1.token, str(second["id"]), str(first["id"]), "99999")
    assert proc.returncode == 7, proc.stdout + proc.stderr
    out = json_out(proc)
    name = setup.scalar("SELECT name FROM professional WHERE id = :i", i=me.id)
    assert out["counts"] == {"approved": 1, "skipped": 1, "failed": 1}
    assert out["items"] == [
        {"id": second["id"], "outcome": "approved", "status": "pending_hr", "reason": None, "name": name,
         "unit_name": world.unit_a.name, "credits": 20.0},
        {"id": first["id"], "outcome": "skipped", "status": "pending_hr",
         "reason": "您已用人单位审核通过（重复操作，未改变）", "name": None, "unit_name": None, "credits": None},
        {"id": 99999, "outcome": "failed", "status": None, "reason": "未找到该申报", "name": None,
         "unit_name": None, "credits": None},
    ]


def test_two_reviewers_approve_the_same_declaration_at_once(world: World) -> None:
    setup = world.setup
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    procs = [setup.popen("review", str(decl["id"]), "--yes", "--json", token=admin.token)
             for admin in (world.a_admin1, world.a_admin2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert sorted(code for code, _, _ in results) == [0, 5], results
    outcomes = sorted(json.loads(out)["items"][0]["outcome"] for _, out, _ in results)
    assert outcomes == ["approved", "conflict"]
    loser = next(json.loads(out)["items"][0] for code, out, _ in results if code == 5)
    assert "已被" in loser["reason"] and "用人单位审核通过" in loser["reason"]
    assert status_of(world, decl["id"]) == "pending_hr"
    assert setup.count("audit_log", "action = 'declaration.unit_approve' AND subject_id = :s",
                       s=str(decl["id"])) == 1
    assert history_actions(world, world.a_admin1.token, decl["id"]).count("unit_approve") == 1


def test_review_ids_with_all_is_refused_naming_both(world: World) -> None:
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    other = declare(world, me, "--submit")
    proc = review(world, world.a_admin1.token, str(decl["id"]), "--all")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert error_fields(proc) == ["ids", "all"]
    assert {status_of(world, decl["id"]), status_of(world, other["id"])} == {"pending_unit"}
    assert world.setup.count("audit_log", "action LIKE 'declaration.unit_%'") == 0


def test_ids_outside_the_filters_fail_with_why(world: World) -> None:
    setup = world.setup
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    proc = review(world, world.a_admin1.token, str(decl["id"]), "--form", "论文")
    assert proc.returncode == 7, proc.stdout + proc.stderr
    item = json_out(proc)["items"][0]
    assert item["outcome"] == "failed" and "不符合筛选条件" in item["reason"]
    assert status_of(world, decl["id"]) == "pending_unit"
    # Already decided by the unit, then asked of the unit again outside the filters: still the filter.
    assert review(world, world.a_admin1.token, str(decl["id"])).returncode == 0
    proc = review(world, world.a_admin2.token, str(decl["id"]), "--form", "论文")
    assert proc.returncode == 7 and "不符合筛选条件" in json_out(proc)["items"][0]["reason"]
    # The same through the table output names the reason for a person.
    proc = setup.run("review", str(decl["id"]), "--form", "论文", "--yes", token=world.hr.token)
    assert proc.returncode == 7 and "不符合筛选条件" in proc.stdout


def test_reject_at_hr_through_the_cli_reports_the_decision(world: World) -> None:
    me = approved_person(world)
    decl = declare(world, me, "--submit")
    proc = review(world, world.a_admin1.token, str(decl["id"]), "--dry-run")
    assert proc.returncode == 0 and json_out(proc)["items"][0]["outcome"] == "would_approve"
    assert status_of(world, decl["id"]) == "pending_unit"
    assert review(world, world.a_admin1.token, str(decl["id"])).returncode == 0
    proc = review(world, world.hr.token, str(decl["id"]), "--reject", "--reason", "会议与会计无关")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    item = json_out(proc)["items"][0]
    assert (item["outcome"], item["status"]) == ("rejected", "rejected")
    table = world.setup.run("declare", "show", str(decl["id"]), token=me.token)
    assert "会议与会计无关" in table.stdout and "审核不通过" in table.stdout
    assert world.setup.count("credit_record") == 0


# --- year, form and credits --------------------------------------------------------


def test_year_not_open_is_refused(world: World) -> None:
    me = approved_person(world)
    proc = world.setup.run("declare", "new", *conference(), "--year", str(YEAR - 1), "--json", token=me.token)
    assert proc.returncode == 2
    assert "year" in error_fields(proc)
    assert str(YEAR) in json_out(proc)["error"]["message"] or any(
        str(YEAR) in p["message"] for p in json_out(proc)["error"]["problems"])
    assert world.setup.count("declaration") == 0


def test_credits_beyond_the_form_limit_are_refused(world: World) -> None:
    me = approved_person(world)
    base = ["declare", "new", "--form", "基层服务", "--field", "service=乡镇财务辅导",
            "--field", "place=某乡镇", "--field", f"start_date={TODAY.isoformat()}"]
    proc = world.setup.run(*base, "--credits", "31", "--json", token=me.token)
    assert proc.returncode == 2 and error_fields(proc) == ["credits"]
    proc = world.setup.run(*base, "--credits", "12.5", "--json", token=me.token)
    assert proc.returncode == 0 and json_out(proc)["credits"] == 12.5
    # A computed form refuses a number of one's own.
    proc = world.setup.run("declare", "new", *conference(2), "--credits", "50", "--json", token=me.token)
    assert proc.returncode == 2 and error_fields(proc) == ["credits"]
    # Only the chosen form's fields; a field of another form is named.
    proc = world.setup.run("declare", "new", *conference(2), "--field", "isbn=978", "--json", token=me.token)
    assert proc.returncode == 2 and error_fields(proc) == ["isbn"]


def test_declare_from_a_file(world: World, tmp_path: Path) -> None:
    me = approved_person(world)
    (tmp_path / "proof.pdf").write_bytes(PDF)
    spec = tmp_path / "paper.json"
    spec.write_text(json.dumps({
        "form": "论文", "submit": True, "attachments": ["proof.pdf"],
        "fields": {"title": "论管理会计", "journal": "会计之友", "cn_number": "CN14-1063/F",
                   "published_on": TODAY.isoformat(), "author_rank": "独立或第一作者"}}, ensure_ascii=False),
        encoding="utf-8")
    proc = world.setup.run("declare", "new", "--from-file", str(spec), "--json", token=me.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert (out["form_code"], out["credits"], out["status"]) == ("paper", 30, "pending_unit")
    assert [a["filename"] for a in out["attachments"]] == ["proof.pdf"]


def test_declare_from_yaml_with_unquoted_dates(world: World, tmp_path: Path) -> None:
    me = approved_person(world)
    spec = tmp_path / "conference.yaml"
    spec.write_text(
        "form: 学术会议\nsubmit: true\nfields:\n  meeting_name: 全省会计年会\n  organizer: 河南省会计学会\n"
        f"  start_date: {TODAY.isoformat()}\n  days: 2\n", encoding="utf-8")
    proc = world.setup.run("declare", "new", "--from-file", str(spec), "--json", token=me.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert (out["fields"]["start_date"], out["credits"], out["status"]) == (TODAY.isoformat(), 20, "pending_unit")


# --- attachments ---------------------------------------------------------------------


def _nothing_stored(world: World) -> None:
    for table in ("declaration", "attachment", "blob"):
        assert world.setup.count(table) == 0, table


def test_attachment_whose_content_is_not_its_extension_is_refused(world: World, tmp_path: Path) -> None:
    me = approved_person(world)
    fake = tmp_path / "certificate.pdf"
    fake.write_bytes(PNG)
    proc = world.setup.run("declare", "new", *conference(), "--attach", str(fake), "--json", token=me.token)
    assert proc.returncode == 2
    problem = json_out(proc)["error"]["problems"][0]
    assert "certificate.pdf" in problem["field"] and "PNG" in problem["message"]
    renamed = tmp_path / "notes.jpg"
    renamed.write_bytes(b"just some text, not a scan")
    proc = world.setup.run("declare", "new", *conference(), "--attach", str(renamed), "--json", token=me.token)
    assert proc.returncode == 2
    _nothing_stored(world)


def test_attachment_too_large_is_refused(world: World, tmp_path: Path) -> None:
    from hnce_cli.services.attachments import MAX_ATTACHMENT_BYTES

    me = approved_person(world)
    big = tmp_path / "scan.pdf"
    big.write_bytes(PDF + b"0" * MAX_ATTACHMENT_BYTES)
    proc = world.setup.run("declare", "new", *conference(), "--attach", str(big), "--json", token=me.token)
    assert proc.returncode == 2
    assert "过大" in json_out(proc)["error"]["problems"][0]["message"]
    _nothing_stored(world)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_attachments_are_checked_member_by_member(world: World, tmp_path: Path) -> None:
    me = approved_person(world)
    bad = {"exe.zip": {"a.pdf": PDF, "tool.exe": b"MZ\x90\x00"},
           "traversal.zip": {"../../etc/a.pdf": PDF},
           "liar.zip": {"a.pdf": PNG}}
    for name, members in bad.items():
        path = tmp_path / name
        path.write_bytes(_zip(members))
        proc = world.setup.run("declare", "new", *conference(), "--attach", str(path), "--json", token=me.token)
        assert proc.returncode == 2, name
    _nothing_stored(world)
    good = tmp_path / "proofs.zip"
    good.write_bytes(_zip({"证书.pdf": PDF, "scans/page1.png": PNG, "scans/page2.jpg": JPEG}))
    out = declare(world, me, "--attach", str(good), "--attach", str(good))
    assert [a["media_type"] for a in out["attachments"]] == ["application/zip"] * 2
    assert world.setup.count("blob") == 1  # the same bytes are stored once
    # A reviewer exports them, byte for byte.
    assert world.setup.run("declare", "submit", str(out["id"]), token=me.token).returncode == 0
    folder = tmp_path / "export"
    proc = world.setup.run("review", "--export-attachments", str(folder), "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (folder / str(out["id"]) / "proofs.zip").read_bytes() == good.read_bytes()
    # Removing one attachment of a withdrawn draft keeps the blob (still used), removing both drops it.
    assert world.setup.run("declare", "withdraw", str(out["id"]), token=me.token).returncode == 0
    ids = [str(a["id"]) for a in out["attachments"]]
    proc = world.setup.run("declare", "edit", str(out["id"]), "--remove-attachment", ids[0], "--json",
                           token=me.token)
    assert proc.returncode == 0 and world.setup.count("blob") == 1
    proc = world.setup.run("declare", "edit", str(out["id"]), "--remove-attachment", ids[1], "--json",
                           token=me.token)
    assert proc.returncode == 0 and world.setup.count("blob") == 0


# --- unit bulk import -------------------------------------------------------------------


def _import_file(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    header = ["身份证号", "姓名", "学习形式", "计入年度", "meeting_name", "organizer", "start_date", "days"]
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def test_import_with_one_bad_row_writes_nothing_and_names_row_and_field(world: World, tmp_path: Path) -> None:
    setup = world.setup
    people = [approved_person(world) for _ in range(3)]
    day = TODAY.isoformat()
    rows = [[p.id_number, "王测试", "学术会议", str(YEAR), "年会", "学会", day, "2"] for p in people]
    rows[1][7] = "99"  # row 3 of the file: days beyond the form's limit
    path = _import_file(tmp_path / "申报.csv", rows, encoding="gbk")
    proc = setup.run("declare", "import", str(path), token=world.a_admin1.token)
    assert proc.returncode == 2
    assert "第" in proc.stdout or "行" in proc.stdout
    report = tmp_path / "申报-errors.csv"
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,field,message" and lines[1].startswith("3,days,")
    assert setup.count("declaration") == 0 and setup.count("audit_log", "action = 'declaration.import'") == 0
    proc = setup.run("declare", "import", str(path), "--json", token=world.a_admin1.token)
    assert json_out(proc)["error"]["details"]["rows"] == [
        {"row": 3, "field": "days", "message": json_out(proc)["error"]["details"]["rows"][0]["message"]}]

    rows[1][7] = "3"
    _import_file(path, rows, encoding="gbk")
    proc = setup.run("declare", "import", str(path), "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert (out["created"], out["status"], out["credits"]) == (3, "pending_hr", 70)
    assert setup.count("declaration", "status = 'pending_hr'") == 3
    assert setup.count("audit_log", "action = 'declaration.import'") == 3
    listed = json_out(setup.run("declare", "list", "--json", token=world.a_admin1.token))["declarations"]
    assert history_actions(world, world.a_admin1.token, listed[0]["id"]) == ["import"]
    assert sorted(d["id_number"] for d in listed) == sorted(p.id_number for p in people)
    assert {json.dumps(d["fields"], ensure_ascii=False) for d in listed} == {json.dumps(
        {"meeting_name": "年会", "organizer": "学会", "start_date": day, "days": n}, ensure_ascii=False)
        for n in (2, 3)}  # the answers as checked, in the form's order
    assert review(world, world.hr.token, "--all").returncode == 0
    assert setup.count("credit_record") == 3


def test_import_refuses_people_of_other_units_and_unknown_forms(world: World, tmp_path: Path) -> None:
    other = approved_person(world, world.unit_b)
    mine = approved_person(world)
    day = TODAY.isoformat()
    path = _import_file(tmp_path / "x.csv", [
        [other.id_number, "", "学术会议", str(YEAR), "年会", "学会", day, "1"],
        [mine.id_number, "张冒名", "学术会议", str(YEAR), "年会", "学会", day, "1"],
        [mine.id_number, "", "打麻将", str(YEAR), "", "", "", ""],
        [mine.id_number, "", "学术会议", str(YEAR - 1), "年会", "学会", day, "1"],
    ])
    proc = world.setup.run("declare", "import", str(path), "--json", token=world.a_admin1.token)
    assert proc.returncode == 2
    found = {(r["row"], r["field"]) for r in json_out(proc)["error"]["details"]["rows"]}
    assert found == {(2, "id_number"), (3, "name"), (4, "form"), (5, "year")}
    assert world.setup.count("declaration") == 0


def test_import_xlsx(world: World, tmp_path: Path) -> None:
    from openpyxl import Workbook

    me = approved_person(world)
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "学习形式", "书名", "出版社", "ISBN", "出版日期", "作者排名"])
    sheet.append([me.id_number, "著作", "管理会计实务", "经济科学出版社", "978-7-5218-0000-0", TODAY.isoformat(),
                  "其他作者"])
    path = tmp_path / "books.xlsx"
    book.save(path)
    proc = world.setup.run("declare", "import", str(path), "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["by_form"] == {"book": 1} and json_out(proc)["credits"] == 60


# --- the progress view -----------------------------------------------------------------


def test_progress_view_for_self_and_for_support(world: World) -> None:
    setup = world.setup
    me = approved_person(world)
    first = declare(world, me)
    second = declare(world, me, "--submit")
    third = declare(world, me, "--submit")
    assert review(world, world.a_admin1.token, str(third["id"]), "--reject", "--reason", "重复申报").returncode == 0
    mine = json_out(setup.run("declare", "list", "--json", token=me.token))
    assert mine["counts"] == {"all": 3, "draft": 1, "pending": 1, "approved": 0, "rejected": 1}
    assert [d["id"] for d in mine["declarations"]] == [third["id"], second["id"], first["id"]]
    pending = json_out(setup.run("declare", "list", "--filter", "待审核", "--json", token=me.token))
    assert [d["id"] for d in pending["declarations"]] == [second["id"]] and pending["filter_label"] == "待审核"
    proc = setup.run("status", me.id_number, "--declarations", "--filter", "rejected", "--json",
                     token=world.kefu.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = json_out(proc)
    assert [d["id"] for d in seen["declarations"]] == [third["id"]]
    assert seen["declarations"][0]["id_number"] == me.id_number[:6] + "********" + me.id_number[-4:]
    assert seen["declarations"][0]["reject_reason"] == "重复申报"
    table = setup.run("status", me.id_number, "--declarations", token=world.kefu.token)
    assert table.returncode == 0 and "审核不通过" in table.stdout and "待提交" in table.stdout
    # Outside one's scope the person is not found.
    assert setup.run("status", me.id_number, "--declarations", token=world.b_admin.token).returncode == 3


def test_progress_view_prints_exactly_what_the_backend_returns(world: World, tmp_path: Path) -> None:
    """What `hnce declare list` and `hnce status ID --declarations` print is what the
    backend returns, field for field, masking included."""
    from hnce_cli.schemas import DeclarationQuery

    setup = world.setup
    me = approved_person(world)
    declare(world, me)
    declare(world, me, "--submit")
    approved, rejected = declare(world, me, "--submit"), declare(world, me, "--submit", days=3)
    assert review(world, world.a_admin1.token, str(approved["id"])).returncode == 0
    assert review(world, world.hr.token, str(approved["id"])).returncode == 0
    assert review(world, world.a_admin1.token, str(rejected["id"]), "--reject", "--reason", "重复").returncode == 0
    mobile = setup.scalar("SELECT mobile FROM professional WHERE id = :i", i=me.id)

    def same(token: str, *args: str, query: DeclarationQuery, limit: int | None = 100) -> dict:
        proc = setup.run(*args, "--json", token=token)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        expected = setup.backend(token).list_declarations(query, limit).model_dump(mode="json")
        assert json_out(proc) == expected, args
        return expected

    for chosen in ("all", "draft", "pending", "approved", "rejected"):
        same(me.token, "declare", "list", "--filter", chosen, query=DeclarationQuery(filter=chosen))
    same(me.token, "declare", "list", "--limit", "2", query=DeclarationQuery(), limit=2)
    seen = same(world.kefu.token, "status", me.id_number, "--declarations", query=DeclarationQuery(person=me.id_number))
    assert seen["person"]["masked"] and seen["declarations"][0]["id_number"] != me.id_number
    assert seen["counts"] == {"all": 4, "draft": 1, "pending": 1, "approved": 1, "rejected": 1}
    same(world.kefu.token, "status", mobile, "--declarations", "--filter", "rejected",
         query=DeclarationQuery(person=mobile, filter="rejected"))
    full = same(world.admin.token, "status", me.id_number, "--declarations",
                query=DeclarationQuery(person=me.id_number))
    assert full["person"]["id_number"] == me.id_number and full["person"]["mobile"] == mobile
    # Names and labels follow forms the admin loaded.
    forms = json_out(setup.run("forms", "show", "--json", token=me.token))["forms"]
    next(f for f in forms if f["code"] == "conference")["name"] = "学术会议（省内）"
    (tmp_path / "forms.json").write_text(json.dumps(forms, ensure_ascii=False), encoding="utf-8")
    assert setup.run("forms", "load", str(tmp_path / "forms.json"), token=world.admin.token).returncode == 0
    renamed = same(me.token, "declare", "list", query=DeclarationQuery())
    assert {d["form_name"] for d in renamed["declarations"]} == {"学术会议（省内）"}


def test_forms_show_and_load(world: World, tmp_path: Path) -> None:
    setup = world.setup
    me = approved_person(world)
    forms = json_out(setup.run("forms", "show", "--json", token=me.token))
    assert forms["source"] == "package" and forms["subject_label"] == "公需科目"
    codes = {f["code"]: f for f in forms["forms"]}
    assert codes["conference"]["credits"] == {"mode": "per_day", "rate": 10, "count_field": "days",
                                              "role_field": None, "roles": None, "cap": None,
                                              "max_entered": None}
    changed = [f for f in forms["forms"] if f["code"] != "grassroots"]
    next(f for f in changed if f["code"] == "conference")["credits"]["rate"] = 8
    path = tmp_path / "forms.json"
    path.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    assert setup.run("forms", "load", str(path), token=world.a_admin1.token).returncode == 4
    proc = setup.run("forms", "load", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert setup.count("audit_log", "action = 'forms.load'") == 1
    assert declare(world, me, days=2)["credits"] == 16
    proc = setup.run("declare", "new", "--form", "grassroots", "--json", token=me.token)
    assert proc.returncode == 2 and error_fields(proc) == ["form"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([{**changed[0], "credits": {"mode": "per_day", "rate": 5,
                                                             "count_field": "nope"}}]), encoding="utf-8")
    proc = setup.run("forms", "load", str(broken), "--json", token=world.admin.token)
    assert proc.returncode == 2
    # The file as `forms show --json` writes it ({"forms": [...]}) loads as well, and a
    # file of another shape gets the same field error locally and through the server.
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"forms": changed}, ensure_ascii=False), encoding="utf-8")
    proc = setup.run("forms", "load", str(wrapped), "--json", token=world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert setup.count("audit_log", "action = 'forms.load'") == 2
    odd = tmp_path / "odd.json"
    odd.write_text("2027", encoding="utf-8")
    proc = setup.run("forms", "load", str(odd), "--json", token=world.admin.token)
    assert proc.returncode == 2 and error_fields(proc), proc.stdout + proc.stderr


@pytest.mark.parametrize("command", [["declare", "--help"], ["declare", "new", "--help"], ["review", "--help"],
                                     ["declare", "import", "--help"], ["forms", "show", "--help"]])
def test_help_has_an_example(sqlite_setup, command: list[str]) -> None:  # noqa: ANN001
    proc = sqlite_setup.run(*command)
    assert proc.returncode == 0 and "Example" in proc.stdout


@pytest.mark.parametrize("command,lines", [
    (["review", "--help"], ["hnce review --list", "hnce review --open 42", "hnce review 42 43 --yes"]),
    (["declare", "new", "--help"], ["hnce declare new", "hnce declare new --from-file paper.yaml"]),
])
def test_help_examples_keep_their_lines(sqlite_setup, command: list[str], lines: list[str]) -> None:  # noqa: ANN001
    proc = sqlite_setup.run(*command)
    shown = [line.strip() for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and all(line in shown for line in lines), proc.stdout


def test_attachment_content_is_base64_over_the_backend(world: World) -> None:
    """The backend carries file bytes as base64 (the same shape local and remote)."""
    from hnce_cli.schemas import AttachmentIn, DeclarationInput, DeclarationQuery

    me = approved_person(world)
    backend = world.setup.backend(me.token)
    out = backend.create_declaration(DeclarationInput(
        form="exam", fields={"exam_name": "中级会计专业技术资格考试", "subjects_passed": 2,
                             "pass_date": TODAY.isoformat()},
        attachments=[AttachmentIn(filename="成绩单.jpg", content_base64=base64.b64encode(JPEG).decode())]))
    assert out.credits == 180 and out.attachments[0].media_type == "image/jpeg"
    bundle = backend.declaration_attachments(DeclarationQuery(ids=[out.id]))
    assert base64.b64decode(bundle.files[0].content_base64) == JPEG
