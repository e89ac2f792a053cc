"""A declaration is made once, on every storage: a unit's import file run again (after a
time-out, or a kill just after COMMIT) creates nothing and says which declaration each row
already is; a 申报编号 reused for other content, or a row repeated inside one file, is
refused naming the row; `hnce declare new` of a declaration the person already has pending
or approved is a conflict naming it, unless --allow-duplicate."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import Person, World, error_fields, json_out

from hnce_cli import clock

TODAY = clock.today()
YEAR = TODAY.year
HEADER = ["身份证号", "姓名", "学习形式", "计入年度", "meeting_name", "organizer", "start_date", "days"]
PEOPLE = 4
ROWS = 200


def conference_row(person: Person, meeting: str, days: int = 1) -> list[str]:
    return [person.id_number, person.name, "学术会议", str(YEAR), meeting, "河南省会计学会", TODAY.isoformat(),
            str(days)]


def write_file(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """The rows as a unit's desk saves them: CSV (UTF-8 with BOM, Excel's) or XLSX, by the suffix."""
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return path


def run_import(world: World, path: Path, *args: str):  # noqa: ANN201
    return world.setup.run("declare", "import", str(path), *args, token=world.a_admin1.token)


def two_hundred_rows(world: World) -> list[list[str]]:
    """Four people of unit A, fifty different meetings each (one day, ten credits, apiece)."""
    people = [world.approved_person() for _ in range(PEOPLE)]
    return [conference_row(people[i % PEOPLE], f"专题讲座第{i // PEOPLE + 1}期") for i in range(ROWS)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_same_file_imported_twice_creates_each_declaration_once(world: World, tmp_path: Path,
                                                                    suffix: str) -> None:
    setup = world.setup
    path = write_file(tmp_path / f"2026-申报{suffix}", two_hundred_rows(world))
    first = run_import(world, path, "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    made = json_out(first)
    assert (made["created"], made["already_imported"], made["credits"]) == (ROWS, 0, ROWS * 10)  # ten credits a day
    assert [r["outcome"] for r in made["rows"]] == ["created"] * ROWS
    assert [r["row"] for r in made["rows"]] == list(range(2, ROWS + 2))  # as the spreadsheet numbers them
    numbers = {r["row"]: r["id"] for r in made["rows"]}
    assert not (tmp_path / "2026-申报-report.csv").exists()  # nothing to explain on a first run

    again = run_import(world, path, "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    second = json_out(again)
    assert (second["created"], second["already_imported"], second["credits"], second["by_form"]) == (0, ROWS, 0, {})
    assert all(r["outcome"] == "already_imported" and r["status"] == "pending_hr" for r in second["rows"])
    assert {r["row"]: r["id"] for r in second["rows"]} == numbers  # each row names the declaration it made
    assert "此行已导入过" in second["rows"][0]["reason"]
    assert setup.count("declaration") == ROWS
    assert setup.count("audit_log", "action = 'declaration.import'") == ROWS  # the re-run wrote nothing

    # The report beside the file lists every row with its number, for the desk's records.
    report = Path(second["report"])
    assert report == tmp_path / "2026-申报-report.csv"
    with report.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["row", "outcome", "id", "status", "ref", "message"]
    assert [(int(r[0]), r[1], int(r[2])) for r in lines[1:]] == [
        (row, "already_imported", did) for row, did in sorted(numbers.items())]

    # Without --json: a table of what was imported before, the summary, and still exit 0.
    shown = run_import(world, path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "此前已导入" in shown.stdout and str(numbers[2]) in shown.stdout
    assert f"{ROWS} 行此前已导入过" in shown.stderr and "Traceback" not in shown.stderr
    assert setup.count("declaration") == ROWS


def test_a_rerun_with_one_new_row_adds_only_that_row(world: World, tmp_path: Path) -> None:
    me = world.approved_person()
    path = write_file(tmp_path / "a.csv", [conference_row(me, "年会"), conference_row(me, "论坛")])
    first = json_out(run_import(world, path, "--json"))
    write_file(path, [conference_row(me, "年会"), conference_row(me, "论坛"), conference_row(me, "研讨会")])
    again = run_import(world, path, "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    second = json_out(again)
    assert (second["created"], second["already_imported"]) == (1, 2)
    assert [(r["row"], r["outcome"]) for r in second["rows"]] == [
        (2, "already_imported"), (3, "already_imported"), (4, "created")]
    assert [r["id"] for r in second["rows"][:2]] == [r["id"] for r in first["rows"]]
    assert world.setup.count("declaration") == 3


def test_a_reference_number_reused_for_other_content_is_refused_naming_the_row(world: World,
                                                                               tmp_path: Path) -> None:
    setup = world.setup
    me, other = world.approved_person(), world.approved_person()
    header = ["申报编号", *HEADER]
    path = write_file(tmp_path / "refs.csv", [["2026-0001", *conference_row(me, "年会")],
                                               ["2026-0002", *conference_row(other, "年会")]], header)
    first = run_import(world, path, "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    made = json_out(first)
    assert [r["ref"] for r in made["rows"]] == ["2026-0001", "2026-0002"]

    # The same numbers, the same content: already imported, each with its declaration.
    again = json_out(run_import(world, path, "--json"))
    assert (again["created"], again["already_imported"]) == (0, 2)
    assert [r["id"] for r in again["rows"]] == [r["id"] for r in made["rows"]]

    # 2026-0002 again, but for three days instead of one: refused whole, row 3 named.
    changed = write_file(tmp_path / "changed.csv", [["2026-0003", *conference_row(me, "论坛")],
                                                     ["2026-0002", *conference_row(other, "年会", days=3)]], header)
    proc = run_import(world, changed, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    rows = json_out(proc)["error"]["details"]["rows"]
    assert [(r["row"], r["field"]) for r in rows] == [(3, "ref")]
    assert "2026-0002" in rows[0]["message"] and str(made["rows"][1]["id"]) in rows[0]["message"]
    assert error_fields(proc) == ["第 3 行 ref"]
    assert setup.count("declaration") == 2  # not even row 2, which was fine

    # Rows a desk imported before it kept numbers are still known, by their content.
    numbered = write_file(tmp_path / "numbered.csv", [["2026-0009", *conference_row(me, "年会")]], header)
    plain = write_file(tmp_path / "plain.csv", [conference_row(me, "颁奖会")])
    assert json_out(run_import(world, plain, "--json"))["created"] == 1
    late = json_out(run_import(world, write_file(numbered, [["2026-0010", *conference_row(me, "颁奖会")]],
                                                 header), "--json"))
    assert (late["created"], late["already_imported"]) == (0, 1)
    assert "已有相同的申报" in late["rows"][0]["reason"]
    assert setup.count("declaration") == 3


def test_two_identical_rows_in_one_file_are_refused(world: World, tmp_path: Path) -> None:
    setup = world.setup
    me = world.approved_person()
    path = write_file(tmp_path / "twice.csv", [conference_row(me, "年会"), conference_row(me, "论坛"),
                                                conference_row(me, "年会")])
    proc = run_import(world, path, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    rows = json_out(proc)["error"]["details"]["rows"]
    assert [(r["row"], r["field"]) for r in rows] == [(4, "id_number")]
    assert "与第 2 行相同" in rows[0]["message"] and "申报编号" in rows[0]["message"]  # the way out, if meant
    assert setup.count("declaration") == 0

    # A reference number used twice in one file, likewise.
    header = ["申报编号", *HEADER]
    path = write_file(tmp_path / "same-ref.csv", [["R-1", *conference_row(me, "年会")],
                                                   ["R-1", *conference_row(me, "论坛")]], header)
    proc = run_import(world, path, "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    rows = json_out(proc)["error"]["details"]["rows"]
    assert [(r["row"], r["field"]) for r in rows] == [(3, "ref")] and "与第 2 行重复" in rows[0]["message"]
    assert setup.count("declaration") == 0

    # Two activities that really were the same: two numbers make two declarations.
    path = write_file(tmp_path / "meant.csv", [["R-1", *conference_row(me, "年会")],
                                                ["R-2", *conference_row(me, "年会")]], header)
    proc = run_import(world, path, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["created"] == 2


def conference(meeting: str = "全省会计年会") -> list[str]:
    return ["--form", "conference", "--field", f"meeting_name={meeting}", "--field", "organizer=河南省会计学会",
            "--field", f"start_date={TODAY.isoformat()}", "--field", "days=2"]


def test_declare_new_refuses_an_identical_pending_or_approved_declaration(world: World, tmp_path: Path) -> None:
    setup = world.setup
    me = world.approved_person()
    first = setup.run("declare", "new", *conference(), "--submit", "--json", token=me.token)
    assert first.returncode == 0, first.stdout + first.stderr
    pending = json_out(first)["id"]

    again = setup.run("declare", "new", *conference(), "--submit", "--json", token=me.token)
    assert again.returncode == 5, again.stdout + again.stderr
    error = json_out(again)["error"]
    assert error["code"] == "conflict"
    assert f"已有相同的申报 {pending}" in error["message"] and "--allow-duplicate" in error["message"]
    assert error["details"] == {"id": pending, "status": "pending_unit"}
    text = setup.run("declare", "new", *conference(), "--submit", token=me.token)  # as a person sees it
    assert text.returncode == 5 and f"已有相同的申报 {pending}" in text.stderr and "Traceback" not in text.stderr
    assert setup.count("declaration") == 1

    # Approved by the unit and by HR: still the same activity, still refused.
    for reviewer in (world.a_admin1, world.hr):
        decided = setup.run("review", str(pending), "--yes", "--json", token=reviewer.token)
        assert decided.returncode == 0, decided.stdout + decided.stderr
    assert setup.scalar("SELECT status FROM declaration WHERE id = :i", i=pending) == "approved"
    again = setup.run("declare", "new", *conference(), "--json", token=me.token)
    assert again.returncode == 5 and json_out(again)["error"]["details"] == {"id": pending, "status": "approved"}

    # A genuinely repeated activity: said so, it is made.
    allowed = setup.run("declare", "new", *conference(), "--submit", "--allow-duplicate", "--json", token=me.token)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert json_out(allowed)["id"] != pending and setup.count("declaration") == 2

    # An imported declaration counts too: the person cannot declare it again by hand.
    path = write_file(tmp_path / "unit.csv", [conference_row(me, "财务论坛")])
    imported = json_out(run_import(world, path, "--json"))["rows"][0]["id"]
    proc = setup.run("declare", "new", *conference("财务论坛")[:-1], "days=1", "--json", token=me.token)
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert json_out(proc)["error"]["details"]["id"] == imported


def test_a_rejected_declaration_may_be_declared_again(world: World) -> None:
    setup = world.setup
    me = world.approved_person()
    first = json_out(setup.run("declare", "new", *conference("会计年会"), "--submit", "--json", token=me.token))
    rejected = setup.run("review", str(first["id"]), "--reject", "--reason", "证明材料不清晰",
                         "--yes", "--json", token=world.a_admin1.token)
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    again = setup.run("declare", "new", *conference("会计年会"), "--submit", "--json", token=me.token)
    assert again.returncode == 0, again.stdout + again.stderr
    assert setup.count("declaration") == 2


def test_the_same_file_imported_twice_at_once_writes_each_row_once(world: World) -> None:
    """A desk that starts the import again while the first is still running (a time-out that
    was not one): between them every row is created once; the slower run names the faster's
    declarations."""
    import threading

    people = [world.approved_person() for _ in range(2)]
    rows = [dict(zip(HEADER, conference_row(people[i % 2], f"培训第{i}期"), strict=True)) for i in range(ROWS)]
    backends = [world.setup.backend(world.a_admin1.token), world.setup.backend(world.a_admin1.token)]
    if not world.setup.remote:  # two connections of their own, as two processes would have
        from hnce_cli.backend.local import LocalBackend

        backends = [LocalBackend(world.setup.db_url, world.a_admin1.token) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = backends[i].import_declarations(rows)
        except Exception as exc:  # kept for the assertion's message
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(r.created for r in results) == ROWS, [r.created for r in results]
    assert [r.created + r.already_imported for r in results] == [ROWS, ROWS]
    ids = [{row.row: row.id for row in r.rows} for r in results]
    assert ids[0] == ids[1]  # both runs name the same declaration for each row
    assert world.setup.count("declaration") == ROWS
    assert world.setup.count("audit_log", "action = 'declaration.import'") == ROWS


def test_the_xlsx_and_csv_copies_of_one_file_are_one_import(world: World, tmp_path: Path) -> None:
    """Desks save their sheet as they please: an XLSX with real date and number cells, a CSV in
    which Excel wrote the date as 2026/5/10. Both import, and each is the same rows as the other."""
    from datetime import datetime

    from openpyxl import Workbook

    me = world.approved_person()
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for meeting in ("年会", "论坛"):
        sheet.append([me.id_number, me.name, "学术会议", YEAR, meeting, "河南省会计学会",
                      datetime(TODAY.year, TODAY.month, TODAY.day), 1])  # a date cell, a number cell
    book.save(tmp_path / "sheet.xlsx")
    first = run_import(world, tmp_path / "sheet.xlsx", "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    made = json_out(first)
    assert made["created"] == 2
    assert world.setup.scalar("SELECT fields FROM declaration WHERE id = :i", i=made["rows"][0]["id"]).count(
        TODAY.isoformat()) == 1  # stored as the form's YYYY-MM-DD

    excel_day = f"{TODAY.year}/{TODAY.month}/{TODAY.day}"
    rows = [conference_row(me, meeting) for meeting in ("年会", "论坛")]
    for row in rows:
        row[6] = excel_day
    again = run_import(world, write_file(tmp_path / "sheet.csv", rows), "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    second = json_out(again)
    assert (second["created"], second["already_imported"]) == (0, 2)
    assert [r["id"] for r in second["rows"]] == [r["id"] for r in made["rows"]]


def test_the_same_declaration_sent_twice_at_once_is_made_once(world: World) -> None:
    """A person's `declare new` sent again while the first is still being written (a time-out
    that was not one): one declaration, and the other call is told its number (exit 5's conflict)."""
    import threading

    from hnce_cli.errors import Conflict
    from hnce_cli.schemas import DeclarationInput

    me = world.approved_person()
    data = DeclarationInput(form="conference", submit=True, fields={
        "meeting_name": "全省会计年会", "organizer": "河南省会计学会", "start_date": TODAY.isoformat(), "days": 2})
    if world.setup.remote:
        backends = [world.setup.backend(me.token) for _ in range(2)]
    else:  # two connections of their own, as two processes would have
        from hnce_cli.backend.local import LocalBackend

        backends = [LocalBackend(world.setup.db_url, me.token) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = backends[i].create_declaration(data)
        except Exception as exc:  # the loser's answer
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    made = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(made) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], Conflict) and refused[0].details["id"] == made[0].id, refused
    assert world.setup.count("declaration") == 1
