"""`hnce unit`: add, search and import units (用人单位)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import World, error_fields, json_out, make_uscc
from openpyxl import Workbook

from hnce_cli.errors import ValidationFailed
from hnce_cli.schemas import UnitInput

NO_MATCH = "单位全称或关键词"


def test_add_unit_checks_the_uscc(sqlite_world: World) -> None:
    world = sqlite_world
    setup, token = world.setup, world.admin.token
    units_before = setup.count("unit")
    good = make_uscc("410105", "MA44UNKT1")
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # one mistyped character
    proc = setup.run("unit", "add", "--name", "郑州新单位有限公司", "--uscc", bad, "--region",
                     "金水区", "--json", token=token)
    assert proc.returncode == 2, proc.stdout
    assert error_fields(proc) == ["uscc"]
    for uscc in ("91410105MA44UNIT", "91410105MA44OOOO1X"):  # too short; O is never used
        with pytest.raises(ValidationFailed) as exc:
            setup.backend(token).add_unit(UnitInput(name="郑州新单位有限公司", uscc=uscc, region="金水区"))
        assert [p.field for p in exc.value.problems] == ["uscc"]
    plain = setup.run("unit", "add", "--name", "郑州新单位有限公司", "--uscc", bad, "--region",
                      "金水区", token=token)
    assert plain.returncode == 2
    assert "uscc" in plain.stderr and "Traceback" not in plain.stderr
    assert setup.count("unit") == units_before

    ok = setup.run("unit", "add", "--name", "郑州新单位有限公司", "--uscc", good.lower(),
                   "--region", "郑州市市直", "--json", token=token)
    assert ok.returncode == 0, ok.stderr
    unit = json_out(ok)
    assert (unit["uscc"], unit["region_code"], unit["kind"]) == (good, "410100-ZS", "ordinary")
    found = setup.backend().search_units("新单位")
    assert [u.uscc for u in found.units] == [good]


def test_add_unit_refuses_a_duplicate_uscc(world: World) -> None:
    setup = world.setup
    units_before = setup.count("unit")
    proc = setup.run("unit", "add", "--name", "另一个名字有限公司", "--uscc", world.unit_a.uscc.lower(),
                     "--region", "金水区", token=world.admin.token)
    assert proc.returncode == 5
    assert world.unit_a.uscc in proc.stderr
    assert setup.count("unit") == units_before


def test_add_unit_needs_a_real_region_and_a_system_admin(sqlite_world: World) -> None:
    world = sqlite_world
    setup = world.setup
    uscc = make_uscc("410105", "MA44UNKT2")
    for region in ("河南省", "火星区"):
        with pytest.raises(ValidationFailed) as exc:
            setup.backend(world.admin.token).add_unit(UnitInput(name="某单位", uscc=uscc, region=region))
        assert [p.field for p in exc.value.problems] == ["region"]
    not_admin = setup.run("unit", "add", "--name", "某单位", "--uscc", uscc, "--region", "金水区",
                          token=world.a_admin1.token)
    assert not_admin.returncode == 4
    assert setup.count("unit", "uscc = :u", u=uscc) == 0


def test_search_without_a_match_gives_the_manuals_hint(sqlite_world: World) -> None:
    proc = sqlite_world.setup.run("unit", "search", "不存在的单位缩写")
    assert proc.returncode == 0
    assert NO_MATCH in proc.stderr
    assert NO_MATCH not in proc.stdout  # the hint never pollutes the output
    result = sqlite_world.setup.backend().search_units("不存在的单位缩写")
    assert result.units == [] and NO_MATCH in (result.hint or "")


def test_search_by_keywords_full_name_and_uscc(sqlite_world: World) -> None:
    world = sqlite_world
    setup = world.setup
    by_words = setup.backend().search_units("测试 会计师").units
    assert [u.name for u in by_words] == [world.unit_a.name]
    by_uscc = setup.backend().search_units(world.unit_b.uscc.lower()).units
    assert [u.name for u in by_uscc] == [world.unit_b.name]
    table = setup.run("unit", "search", "金水区")
    assert table.returncode == 0
    assert "金水区财政局" in table.stdout and "临时管理单位" in table.stdout


def write_csv(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_import_gbk_and_utf8_bom_csv(sqlite_world: World, tmp_path: Path) -> None:
    setup, token = sqlite_world.setup, sqlite_world.admin.token
    gbk = write_csv(tmp_path / "gbk.csv",
                    "单位名称,统一社会信用代码,所属区域\n"
                    f"郑州导入甲有限公司,{make_uscc('410105', 'MA44KMP01')},金水区\n"
                    f"洛阳导入乙有限公司,{make_uscc('410302', 'MA44KMP02')},410302\n", "gbk")
    proc = setup.run("unit", "import", str(gbk), "--json", token=token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert out["created"] == 2
    assert [u["name"] for u in out["units"]] == ["郑州导入甲有限公司", "洛阳导入乙有限公司"]

    bom = write_csv(tmp_path / "bom.csv",
                    "name,uscc,region\n"
                    f"开封导入丙有限公司,{make_uscc('410204', 'MA44KMP03')},开封市市直\n", "utf-8-sig")
    proc = setup.run("unit", "import", str(bom), "--json", token=token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["units"][0]["name"] == "开封导入丙有限公司"  # no BOM in the first column
    for name in ("郑州导入甲有限公司", "洛阳导入乙有限公司", "开封导入丙有限公司"):
        assert setup.count("unit", "name = :n", n=name) == 1
    assert setup.count("audit_log", "action = 'unit.create'") == 2 + 3


def test_import_xlsx(sqlite_world: World, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["单位名称", "统一社会信用代码", "所属区域"])
    sheet.append(["新乡导入丁有限公司", make_uscc("410711", "MA44KMP04"), "牧野区"])
    book.save(tmp_path / "units.xlsx")
    proc = sqlite_world.setup.run("unit", "import", str(tmp_path / "units.xlsx"), "--json",
                                  token=sqlite_world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["created"] == 1


def test_import_with_a_bad_row_writes_nothing(world: World, tmp_path: Path) -> None:
    setup = world.setup
    units_before, audit_before = setup.count("unit"), setup.count("audit_log")
    good = make_uscc("410105", "MA44KMP05")
    bad = make_uscc("410105", "MA44KMP06")[:17] + "0"
    bad = bad if make_uscc("410105", "MA44KMP06") != bad else bad[:17] + "1"
    csv = write_csv(tmp_path / "units.csv",
                    "单位名称,统一社会信用代码,所属区域\n"
                    f"郑州导入好有限公司,{good},金水区\n"
                    f"郑州导入坏有限公司,{bad},金水区\n"
                    f"郑州导入重有限公司,{world.unit_a.uscc},金水区\n"
                    f"郑州导入远有限公司,{make_uscc('410105', 'MA44KMP07')},火星区\n", "utf-8")
    proc = setup.run("unit", "import", str(csv), "--json", token=world.admin.token)
    assert proc.returncode == 2
    assert sorted(error_fields(proc)) == ["row 3: uscc", "row 4: uscc", "row 5: region"]
    assert (setup.count("unit"), setup.count("audit_log")) == (units_before, audit_before)
    plain = setup.run("unit", "import", str(csv), token=world.admin.token)
    assert plain.returncode == 2
    # the field in the platform's words, its key beside it (--json keeps the key alone)
    assert "row 3: 统一社会信用代码 (uscc)" in plain.stderr and "未导入" in plain.stderr
    assert "Traceback" not in plain.stderr
    assert setup.count("unit", "uscc = :u", u=good) == 0
