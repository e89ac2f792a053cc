"""National-platform reconciliation through the real `hnce sync`, on every storage:
the import matched by ID number, idempotent, with its report of unknown, bad and
duplicate rows; the encodings and XLSX people send; the export read back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import World, error_fields, json_out
from test_completion import Person, approved_person, give

from hnce_cli.tabular import read_rows

YEAR = 2025
HEADER = ["身份证号", "姓名", "年度", "科目类型", "学时", "记录编号", "完成日期"]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", header: list[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def sync_import(world: World, path: Path, *args: str):  # noqa: ANN201
    return world.setup.run("sync", "import", str(path), *args, "--json", token=world.admin.token)


def credits_of(world: World, person: Person, source: str = "national") -> float:
    return float(world.setup.scalar(
        "SELECT coalesce(sum(credits), 0) FROM credit_record WHERE professional_id = :p AND source = :s",
        p=person.id, s=source))


def test_import_adds_credits_that_count_and_the_same_file_twice_adds_nothing(world: World, tmp_path: Path) -> None:
    me = approved_person(world, name="张全国")
    give(world, me, YEAR, "public", 30, source="online")
    path = write_csv(tmp_path / "national.csv", [
        [me.id_number, "张全国", YEAR, "专业科目", 40, "N-1001", "2025-03-01"],
        [me.id_number, "张全国", YEAR, "专业科目", 20, "N-1002", "2025-09-30"],
    ])
    first = sync_import(world, path)
    assert first.returncode == 0, first.stdout + first.stderr
    result = json_out(first)
    assert result["added"] == 2 and result["credits"] == 60 and result["problems"] == [] and result["failed"] == 0
    assert credits_of(world, me) == 60
    view = json_out(world.setup.run("completion", "--year", str(YEAR), "--json", token=me.token))
    assert view["years"][0]["professional"] == 60 and view["years"][0]["result_label"] == "通过"
    again = sync_import(world, path)
    assert again.returncode == 0, again.stdout
    second = json_out(again)
    assert second["added"] == 0 and second["counts"]["already_imported"] == 2 and second["failed"] == 0
    assert credits_of(world, me) == 60  # nothing counted twice
    assert world.setup.count("audit_log", "action = 'sync.import'") == 2


def test_report_lists_unknown_bad_and_duplicate_rows_and_good_rows_still_count(world: World,
                                                                               tmp_path: Path) -> None:
    me = approved_person(world, name="李对账")
    unknown = "410105199001011237"  # a valid number nobody registered
    path = write_csv(tmp_path / "mixed.csv", [
        [me.id_number, "李对账", YEAR, "专业科目", 30, "R-1", "2025-05-01"],   # row 2: good
        [me.id_number, "李对账", YEAR, "专业科目", 30, "R-1", "2025-05-01"],   # row 3: same record again
        [unknown, "王某", YEAR, "专业科目", 10, "R-2", "2025-05-01"],          # row 4: not registered here
        [me.id_number, "李对账", YEAR, "专业课", 10, "R-3", "2025-05-01"],     # row 5: subject word
        [me.id_number, "李对账", YEAR, "公需科目", "abc", "R-4", ""],          # row 6: credits
        [me.id_number, "李对账", YEAR, "公需科目", 10, "R-5", "2024-12-31"],   # row 7: date outside the year
        [me.id_number, "张冒名", YEAR, "公需科目", 10, "R-6", ""],             # row 8: name does not match
        [me.id_number, "李对账", YEAR, "公需科目", 10, "R-7", ""],             # row 9: good
    ])
    proc = sync_import(world, path)
    assert proc.returncode == 7, proc.stdout + proc.stderr  # PARTIAL: some rows were not added
    result = json_out(proc)
    assert result["added"] == 2 and credits_of(world, me) == 40
    kinds = {(p["row"], p["kind"], p["field"]) for p in result["problems"]}
    assert kinds == {(3, "duplicate_in_file", "记录编号"), (4, "unknown_id", "身份证号"), (5, "bad", "科目类型"),
                     (6, "bad", "学时"), (7, "bad", "完成日期"), (8, "bad", "姓名")}
    assert result["counts"] == {"added": 2, "already_imported": 0, "duplicate_in_file": 1, "unknown_id": 1, "bad": 4}
    assert result["failed"] == 5  # the rows to fix: bad and unknown, not the duplicate
    report = read_rows(Path(result["report"]))
    assert [r["行"] for r in report] == ["3", "4", "5", "6", "7", "8"]
    assert report[1]["类别"] == "身份证号未注册" and unknown not in report[1]["原因"]  # masked in the report
    table = world.setup.run("sync", "import", str(path), token=world.admin.token)
    assert table.returncode == 7
    assert "已导入过 2" in table.stderr and "身份证号未注册 1" in table.stderr and "mixed-report.csv" in table.stdout


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_excel_csv_encodings_are_read(world: World, tmp_path: Path, encoding: str) -> None:
    me = approved_person(world, name="赵编码")
    path = write_csv(tmp_path / "n.csv", [[me.id_number, "赵编码", YEAR, "公需科目", 12.5, "E-1", "2025/06/01"]],
                     encoding=encoding)
    proc = sync_import(world, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert credits_of(world, me) == 12.5


def test_xlsx_import_and_online_source(world: World, tmp_path: Path) -> None:
    from openpyxl import Workbook

    me = approved_person(world, name="钱表格")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([me.id_number, "钱表格", YEAR, "公需科目", 30, "OL-77", "2025-10-01"])
    path = tmp_path / "online.xlsx"
    workbook.save(path)
    proc = sync_import(world, path, "--source", "online")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert credits_of(world, me, "online") == 30 and credits_of(world, me, "national") == 0


def test_missing_columns_and_wrong_roles_write_nothing(world: World, tmp_path: Path) -> None:
    me = approved_person(world)
    path = write_csv(tmp_path / "cols.csv", [[me.id_number, YEAR, 10]], header=["身份证号", "年度", "学时"])
    proc = sync_import(world, path)
    assert proc.returncode == 2 and error_fields(proc) == ["file"]
    assert "科目类型" in json_out(proc)["error"]["message"]
    good = write_csv(tmp_path / "good.csv", [[me.id_number, "王测试", YEAR, "公需科目", 10, "X-1", ""]])
    refused = world.setup.run("sync", "import", str(good), "--json", token=world.a_admin1.token)
    assert refused.returncode == 4
    assert world.setup.count("credit_record") == 0


def test_export_writes_henans_records_in_the_import_shape(world: World, tmp_path: Path) -> None:
    me = approved_person(world, name="孙导出")
    give(world, me, YEAR, "public", 16, source="declaration")
    give(world, me, YEAR, "public", 14, source="online")
    give(world, me, YEAR, "professional", 60, source="national")  # came from them: not sent back
    give(world, me, YEAR - 1, "public", 5, source="online")  # another year
    target = tmp_path / "hn.xlsx"
    proc = world.setup.run("sync", "export", "--year", str(YEAR), "-o", str(target), token=world.admin.token)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(target)
    assert sorted((r["科目类型"], r["学时"], r["来源"]) for r in rows) == [("公需科目", "14", "网络学习"),
                                                                          ("公需科目", "16", "学时申报")]
    assert {r["身份证号"] for r in rows} == {me.id_number} and {r["年度"] for r in rows} == {str(YEAR)}
    assert all(r["记录编号"].startswith("HN:") for r in rows)
    # the export is importable as it is (by the other side, or back here as a no-op check)
    stdout = world.setup.run("sync", "export", "--year", str(YEAR), token=world.admin.token)
    assert stdout.stdout.splitlines()[0] == ",".join(HEADER + ["来源"])
    refused = world.setup.run("sync", "export", "--year", str(YEAR), "--json", token=world.kefu.token)
    assert refused.returncode == 4


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_hnces_own_export_is_refused_whole(world: World, tmp_path: Path, suffix: str) -> None:
    """Henan's own records go out for the national platform; read back in as national credits they
    would count twice. The file is refused whole (exit 2), saying it is hnce's own export."""
    me = approved_person(world, name="周回流")
    give(world, me, YEAR, "public", 16, source="declaration")
    give(world, me, YEAR, "public", 14, source="online")
    target = tmp_path / f"河南平台-{YEAR}{suffix}"
    exported = world.setup.run("sync", "export", "--year", str(YEAR), "-o", str(target), token=world.admin.token)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    records = world.setup.count("credit_record")
    proc = sync_import(world, target)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    error = json_out(proc)["error"]
    assert error["code"] == "validation" and error_fields(proc) == ["file"]
    assert "hnce sync export" in error["message"] and "hnce's own sync export" in error["message"]
    assert "national platform" in error["problems"][0]["fix"]
    assert world.setup.count("credit_record") == records and credits_of(world, me) == 0
    assert world.setup.count("audit_log", "action = 'sync.import'") == 0
    text = world.setup.run("sync", "import", str(target), token=world.admin.token)
    assert text.returncode == 2 and "hnce sync export" in text.stderr and "Traceback" not in text.stderr


def test_one_record_of_hnces_own_export_in_a_national_file_refuses_the_file(world: World, tmp_path: Path) -> None:
    """A national file into which someone pasted a row of hnce's export (its 记录编号 HN:declaration:N):
    nothing is imported, and the row is named — not the good rows imported around it."""
    me = approved_person(world, name="吴混入")
    path = write_csv(tmp_path / "national.csv", [
        [me.id_number, "吴混入", YEAR, "专业科目", 40, "N-2001", "2025-03-01"],
        [me.id_number, "吴混入", YEAR, "专业科目", 20, "N-2002", "2025-04-01"],
        [me.id_number, "吴混入", YEAR, "公需科目", 16, "HN:declaration:7", "2025-05-01"],  # row 4
        [me.id_number, "吴混入", YEAR, "专业科目", 10, "N-2003", "2025-06-01"],
    ])
    proc = sync_import(world, path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    error = json_out(proc)["error"]
    assert error_fields(proc) == ["row 4: 记录编号"]
    assert "HN:declaration:7" in error["message"] and "整个文件未导入" in error["message"]
    assert world.setup.count("credit_record") == 0 and credits_of(world, me) == 0
    proc = sync_import(world, write_csv(tmp_path / "national.csv", [
        [me.id_number, "吴混入", YEAR, "专业科目", 40, "N-2001", "2025-03-01"]]))
    assert proc.returncode == 0 and json_out(proc)["added"] == 1  # the file without it goes in
