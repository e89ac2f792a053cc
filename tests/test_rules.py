"""Year rules 学时要求 as data: the shipped years, `hnce rules show`, and the system
admin's `hnce rules load` (checked, stored in the database, seen by declarations and
the completion view), on every storage."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import World, error_fields, json_out

from hnce_cli.errors import ValidationFailed
from hnce_cli.services import rules

RULES_2027 = {"year": 2027, "min_total": 96, "min_professional": 64, "min_public": 32,
              "deadline": "2027-12-31", "source": "豫财会〔2027〕1号（测试）"}


def test_package_years_2025_per_the_manual_and_2026_the_same_until_its_notice() -> None:
    shipped = rules.package_rules()
    r2025, r2026 = shipped[2025], shipped[2026]
    assert (r2025.min_total, r2025.min_professional, r2025.min_public) == (90, 60, 30)
    assert r2025.deadline == date(2025, 12, 31) and "豫财会〔2025〕4号" in (r2025.source or "")
    assert (r2026.min_total, r2026.min_professional, r2026.min_public) == (90, 60, 30)
    assert "同2025" in (r2026.source or "")


@pytest.mark.parametrize(("change", "fields"), [
    ({"min_total": 80}, ["min_total"]),  # below 60 + 30
    ({"min_public": -1}, ["min_public"]),
    ({"year": 1999}, ["year"]),
    ({"deadline": "2027-02-30"}, ["deadline"]),
    ({"deadline": "2029-01-01"}, ["deadline"]),
    ({"source": ""}, ["source"]),
    ({"min_totl": 90}, ["min_totl"]),
    ({"min_professional": "sixty", "deadline": "soon"}, ["min_professional", "deadline"]),
])
def test_bad_rules_name_every_field_and_the_fix(change: dict, fields: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.parse_rules({**RULES_2027, **change})
    assert [p.field for p in caught.value.problems] == fields
    assert all(p.fix for p in caught.value.problems)


def test_rules_show_lists_every_year_with_its_source(world: World) -> None:
    proc = world.setup.run("rules", "show", token=world.kefu.token)
    assert proc.returncode == 0, proc.stderr
    assert "2025" in proc.stdout and "2026" in proc.stdout and "豫财会〔2025〕4号" in proc.stdout
    assert "软件内置" in proc.stdout
    one = json_out(world.setup.run("rules", "show", "2025", "--json", token=world.kefu.token))
    assert [y["year"] for y in one["years"]] == [2025] and one["years"][0]["min_total"] == 90
    missing = world.setup.run("rules", "show", "2031", "--json", token=world.kefu.token)
    assert missing.returncode == 2 and error_fields(missing) == ["year"]


def test_system_admin_loads_a_year_everyone_sees_it_and_it_is_audited(world: World, tmp_path) -> None:
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(RULES_2027, ensure_ascii=False), encoding="utf-8")
    refused = world.setup.run("rules", "load", str(path), "--json", token=world.a_admin1.token)
    assert refused.returncode == 4
    loaded = world.setup.run("rules", "load", str(path), token=world.admin.token)
    assert loaded.returncode == 0, loaded.stderr
    assert "已载入 2027 年度" in loaded.stderr
    seen = json_out(world.setup.run("rules", "show", "--json", token=world.hr.token))
    by_year = {y["year"]: y for y in seen["years"]}
    assert by_year[2027]["min_total"] == 96 and by_year[2027]["origin"] == "database"
    assert by_year[2025]["origin"] == "package"
    assert world.setup.count("audit_log", "action = 'rules.load'") == 1
    # replacing 2026 (a notice changed it) keeps 2027
    world.setup.run("rules", "load", "-", token=world.admin.token, input=json.dumps(
        [{**RULES_2027, "year": 2026, "deadline": "2026-12-31", "min_total": 100}]))
    after = {y["year"]: y for y in json_out(world.setup.run("rules", "show", "--json",
                                                             token=world.hr.token))["years"]}
    assert after[2026]["min_total"] == 100 and after[2027]["min_total"] == 96


def test_a_bad_rules_file_changes_nothing(world: World, tmp_path) -> None:
    path = tmp_path / "bad.json"
    bad_2028 = {**RULES_2027, "year": 2028, "deadline": "2028-12-31", "min_total": 10}
    path.write_text(json.dumps([RULES_2027, bad_2028]), encoding="utf-8")
    proc = world.setup.run("rules", "load", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 2 and error_fields(proc) == ["years[1].min_total"]
    assert world.setup.count("setting", "key = 'year_rules'") == 0
    not_json = tmp_path / "x.json"
    not_json.write_text("{nope", encoding="utf-8")
    bad = world.setup.run("rules", "load", str(not_json), token=world.admin.token)
    assert bad.returncode == 2 and "file" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(("data", "fields"), [
    (2027, ["file"]),  # not an object or a list: the server used to refuse it before the service
    ([], ["file"]),
    ([RULES_2027, "2028"], ["years[1]"]),
    ({"years": [RULES_2027, RULES_2027]}, ["years[1].year"]),
])
def test_one_check_of_a_rules_file_on_every_setup(world: World, tmp_path, data: object, fields: list[str]) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    proc = world.setup.run("rules", "load", str(path), "--json", token=world.admin.token)
    assert proc.returncode == 2 and error_fields(proc) == fields


def test_the_result_names_the_years_this_load_replaced(world: World) -> None:
    r2028 = {**RULES_2027, "year": 2028, "deadline": "2028-12-31"}
    result = world.setup.backend(world.admin.token).load_rules({"years": [r2028, RULES_2027]})
    assert result.loaded == [2027, 2028]
    assert {2025, 2026, 2027, 2028} <= {y.year for y in result.years}
    table = world.setup.run("rules", "load", "-", token=world.admin.token, input=json.dumps(r2028))
    assert "已载入 2028 年度" in table.stderr and "2027 年度" not in table.stderr


def test_loaded_rules_decide_the_completion_result(world: World) -> None:
    """A notice raising 2025's public minimum to 32 turns a 30-credit year into 未通过."""
    from test_completion import approved_person, give

    me = approved_person(world)
    give(world, me, 2025, "public", 30)
    give(world, me, 2025, "professional", 60)
    view = json_out(world.setup.run("completion", "--year", "2025", "--json", token=me.token))
    assert view["years"][0]["result_label"] == "通过"
    world.setup.run("rules", "load", "-", token=world.admin.token, input=json.dumps(
        {**RULES_2027, "year": 2025, "deadline": "2025-12-31", "min_total": 92, "min_public": 32,
         "min_professional": 60}))
    view = json_out(world.setup.run("completion", "--year", "2025", "--json", token=me.token))
    assert view["years"][0]["result_label"] == "未通过" and view["years"][0]["min_public"] == 32
