"""Annual completion 年度完成情况 on every storage: the pass/fail boundaries, credits
only in their own year, the person view with details, admin views with role scoping,
and the CSV/XLSX exports read back."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Person, World, error_fields, json_out

from hnce_cli import clock, store
from hnce_cli.errors import ValidationFailed
from hnce_cli.schemas import CompletionQuery
from hnce_cli.services import completion
from hnce_cli.tabular import read_rows

YEAR = 2025


def approved_person(world: World, unit=None, name: str = "王测试") -> Person:  # noqa: ANN001
    return world.approved_person(unit, name=name)


_refs = iter(range(1, 10**9))


def give(world: World, person: Person, year: int, subject: str, credits: float,
         source: str = "national") -> None:
    """A credit record as an import or an approval would leave it."""
    world.setup.execute(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source,"
        " source_ref, created_at) VALUES (:p, :i, :y, :s, :c, :src, :ref, :at)",
        p=person.id, i=person.id_number, y=year, s=subject, c=credits, src=source,
        ref=f"T-{next(_refs)}", at=datetime(2025, 6, 1))


# --- the bulk query (used by admin views and certificate batches) -----------------


def test_year_rows_one_row_per_approved_person_with_zeros_and_filters(world: World) -> None:
    passed = approved_person(world, name="通过者")
    give(world, passed, YEAR, "public", 30)
    give(world, passed, YEAR, "professional", 60)
    give(world, passed, YEAR - 1, "professional", 100)  # another year: not counted
    nothing = approved_person(world, world.unit_b, name="无学时")
    pending = world.register(world.unit_a)  # not approved: not listed
    with store.transaction(world.setup.db_url) as session:
        rows = {r.professional_id: r for r in completion.year_rows(session, YEAR)}
        assert pending.id not in rows
        assert rows[passed.id].result == completion.PASSED
        assert (rows[passed.id].public, rows[passed.id].professional, rows[passed.id].total) == (30, 60, 90)
        assert rows[nothing.id][6:] == (0, 0, 0, completion.NOT_PASSED)
        assert rows[nothing.id].unit_name == world.unit_b.name
        only_a = list(completion.year_rows(session, YEAR, unit_ids=[world.unit_a.id]))
        assert {r.unit_id for r in only_a} == {world.unit_a.id} and passed.id in {r.professional_id for r in only_a}
        luoyang = list(completion.year_rows(session, YEAR, region_prefix="4103"))
        assert [r.professional_id for r in luoyang] == [nothing.id]
        failed = list(completion.year_rows(session, YEAR, result=completion.NOT_PASSED))
        assert passed.id not in {r.professional_id for r in failed}
        assert nothing.id in {r.professional_id for r in failed}
        some = list(completion.year_rows(session, YEAR, professional_ids=[passed.id]))
        assert [r.professional_id for r in some] == [passed.id]


# --- one person: the boundaries, through the real command ----------------------------


def years_of(world: World, person: Person, *args: str, token: str | None = None) -> dict[int, dict]:
    proc = world.setup.run("completion", *args, "--json", token=token or person.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {y["year"]: y for y in json_out(proc)["years"]}


@pytest.mark.parametrize(("public", "professional", "expected"), [
    (30, 60, "通过"),        # exactly the minimums pass (inclusive)
    (29, 61, "未通过"),      # 29 public fails even with 90 in all
    (29.5, 70, "未通过"),
    (30, 59, "未通过"),      # 59 professional fails
    (31, 59.5, "未通过"),
    (40, 60, "通过"),
])
def test_pass_and_fail_at_the_exact_boundaries(world: World, public: float, professional: float,
                                               expected: str) -> None:
    me = approved_person(world)
    # split over sources and records: sums from both platforms count together
    give(world, me, YEAR, "public", public - 10, source="declaration")
    give(world, me, YEAR, "public", 10, source="online")
    give(world, me, YEAR, "professional", professional, source="national")
    year = years_of(world, me, "--year", str(YEAR))[YEAR]
    assert (year["public"], year["professional"], year["total"]) == (public, professional, public + professional)
    assert year["result_label"] == expected
    assert (year["min_public"], year["min_professional"], year["min_total"]) == (30, 60, 90)


def test_total_below_the_rule_fails_even_with_both_subjects_met(world: World) -> None:
    """The total is a rule of its own: a year whose total exceeds the subject sums fails at 89."""
    admin = world.admin.token
    rules = world.setup.run("rules", "load", "-", "--json", token=admin, input=json.dumps(
        {"year": 2024, "min_total": 90, "min_professional": 50, "min_public": 30, "deadline": "2024-12-31",
         "source": "测试通知"}))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    me = approved_person(world)
    world.setup.execute("UPDATE professional SET registered_at = :at WHERE id = :i", at=datetime(2024, 1, 2), i=me.id)
    give(world, me, 2024, "public", 30)
    give(world, me, 2024, "professional", 59)
    assert years_of(world, me)[2024]["result_label"] == "未通过"  # 89 < 90
    give(world, me, 2024, "professional", 1)
    assert years_of(world, me)[2024]["result_label"] == "通过"  # 90


def test_credits_count_only_in_their_own_year(world: World) -> None:
    me = approved_person(world)
    give(world, me, YEAR - 1, "public", 100)
    give(world, me, YEAR - 1, "professional", 100)
    give(world, me, YEAR, "public", 30)
    give(world, me, YEAR, "professional", 40)
    years = years_of(world, me)
    assert years[YEAR]["result_label"] == "未通过" and years[YEAR]["total"] == 70
    assert years[YEAR - 1]["result_label"] == "未到要求年度"  # 2024 has no rules: nothing asked
    assert years[YEAR - 1]["total"] == 200  # shown, but does not help 2025


def test_every_year_is_listed_and_details_say_where_credits_came_from(world: World) -> None:
    me = approved_person(world)
    give(world, me, YEAR, "public", 12, source="online")
    give(world, me, YEAR, "professional", 60, source="national")
    proc = world.setup.run("completion", "--details", "--json", token=me.token)
    data = json_out(proc)
    this_year = clock.today().year  # registered this year; credits of 2025 bring that year in too
    assert [y["year"] for y in data["years"]] == sorted({this_year, YEAR}, reverse=True)
    details = data["details"]
    assert sorted((d["source_label"], d["subject_label"], d["credits"]) for d in details) == [
        ("全国平台", "专业科目", 60), ("网络学习", "公需科目", 12)]
    table = world.setup.run("completion", "--year", str(YEAR), "--details", token=me.token)
    assert table.returncode == 0, table.stderr
    assert "详细" in table.stdout and "全国平台记录" in table.stdout and "网络学习" in table.stdout
    assert "未通过" in table.stdout and "12 / 30" in table.stdout


def test_an_approved_declaration_shows_in_details_with_its_form(world: World) -> None:
    me = approved_person(world)
    world.setup.execute(
        "INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, status,"
        " created_at, updated_at) VALUES (:p, :u, 'conference', 'public', :y, 16, '{}', 'approved', :at, :at)",
        p=me.id, u=world.unit_a.id, y=YEAR, at=datetime(2025, 6, 1))
    did = world.setup.scalar("SELECT max(id) FROM declaration")
    world.setup.execute(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref,"
        " created_at) VALUES (:p, :i, :y, 'public', 16, 'declaration', :ref, :at)",
        p=me.id, i=me.id_number, y=YEAR, ref=f"declaration:{did}", at=datetime(2025, 6, 2))
    details = json_out(world.setup.run("completion", "--year", str(YEAR), "--details", "--json",
                                       token=me.token))["details"]
    assert details[0]["origin"].startswith(f"学时申报 #{did}（学术会议")


# --- who may see whom -----------------------------------------------------------------


def test_roles_see_a_persons_completion_within_their_scope_with_masking(world: World) -> None:
    me = approved_person(world)
    give(world, me, YEAR, "public", 30)
    masked = me.id_number[:6] + "********" + me.id_number[-4:]
    for user, expect in ((world.kefu, masked), (world.hr, masked), (world.a_admin1, me.id_number),
                         (world.admin, me.id_number)):
        proc = world.setup.run("completion", me.id_number, "--year", str(YEAR), "--json", token=user.token)
        assert proc.returncode == 0, (user.login, proc.stdout, proc.stderr)
        data = json_out(proc)
        assert data["id_number"] == expect, user.login
        assert data["years"][0]["public"] == 30
    other = world.setup.run("completion", me.id_number, "--json", token=world.b_admin.token)
    assert other.returncode == 3 and json_out(other)["error"]["code"] == "not_found"
    stranger = approved_person(world, world.unit_b)
    mine_only = world.setup.run("completion", me.id_number, "--json", token=stranger.token)
    assert mine_only.returncode == 3


# --- admin lists ----------------------------------------------------------------------


def _list(world: World, token: str, *args: str) -> dict:
    proc = world.setup.run("completion", "--year", str(YEAR), *args, "--json", token=token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json_out(proc)


def test_unit_admin_sees_only_their_units_and_counts_add_up(world: World) -> None:
    a1, a2 = approved_person(world, name="甲一"), approved_person(world, name="甲二")
    b1 = approved_person(world, world.unit_b, name="乙一")
    for p in (a1, b1):
        give(world, p, YEAR, "public", 30)
        give(world, p, YEAR, "professional", 60)
    mine = _list(world, world.a_admin1.token, "--all")
    assert {r["name"] for r in mine["rows"]} == {"甲一", "甲二"}
    assert mine["counts"]["passed"] == 1 and mine["counts"]["not_passed"] == 1
    assert {r["id_number"] for r in mine["rows"]} == {a1.id_number, a2.id_number}  # their own: unmasked
    refused = world.setup.run("completion", "--year", str(YEAR), "--unit", str(world.unit_b.id), "--json",
                              token=world.a_admin1.token)
    assert refused.returncode == 4 and json_out(refused)["error"]["code"] == "permission_denied"
    not_passed = _list(world, world.a_admin1.token, "--all", "--result", "未通过")
    assert [r["name"] for r in not_passed["rows"]] == ["甲二"]


def test_hr_sees_their_region_masked_and_support_the_province(world: World) -> None:
    zhengzhou = approved_person(world, name="郑州人")
    luoyang = approved_person(world, world.unit_b, name="洛阳人")
    hr = _list(world, world.hr.token, "--all")
    names = {r["name"] for r in hr["rows"]}
    assert "郑州人" in names and "洛阳人" not in names
    assert all("********" in r["id_number"] for r in hr["rows"])
    refused = world.setup.run("completion", "--year", str(YEAR), "--region", "410300", "--json", token=world.hr.token)
    assert refused.returncode == 4
    province = _list(world, world.kefu.token, "--region", "410000")
    ids = {r["professional_id"] for r in province["rows"]}
    assert {zhengzhou.id, luoyang.id} <= ids
    assert all("********" in r["id_number"] for r in province["rows"])
    only_luoyang = _list(world, world.admin.token, "--region", "洛阳市")
    assert [r["name"] for r in only_luoyang["rows"]] == ["洛阳人"]
    professional = world.setup.run("completion", "--year", str(YEAR), "--all", "--json", token=zhengzhou.token)
    assert professional.returncode == 4


def test_list_needs_a_year_and_a_sane_file_name(world: World) -> None:
    no_year = world.setup.run("completion", "--all", "--json", token=world.admin.token)
    assert no_year.returncode == 2 and error_fields(no_year) == ["year"]
    bad_file = world.setup.run("completion", "--all", "--year", str(YEAR), "-o", "out.pdf", "--json",
                               token=world.admin.token)
    assert bad_file.returncode == 2 and error_fields(bad_file) == ["output"]


@pytest.mark.parametrize(("call", "field"), [
    (lambda b: b.completion_summary(CompletionQuery(year=YEAR, result="通过"), "city"), "result"),
    (lambda b: b.completion_summary(CompletionQuery(year=YEAR), "province"), "by"),
    (lambda b: b.completion_page(CompletionQuery(year=YEAR, result="合格")), "result"),
    (lambda b: b.completion_page(CompletionQuery(region="410000")), "year"),
    (lambda b: b.completion_list(CompletionQuery(year=YEAR, person="王测试")), "person"),
])
def test_the_service_refuses_a_bad_list_request_the_same_way_on_every_setup(world: World, call, field: str
                                                                             ) -> None:  # noqa: ANN001
    """Remote: the server gets the request as asked and refuses it itself, with the CLI's error."""
    with pytest.raises(ValidationFailed) as refused:
        call(world.setup.backend(world.admin.token))
    assert [p.field for p in refused.value.problems] == [field]
    assert (refused.value.code, int(refused.value.exit_code)) == ("validation", 2)


def test_list_words_are_read_by_the_service_and_bad_combinations_refused_by_the_cli(world: World) -> None:
    passed, failed = approved_person(world, name="张通过"), approved_person(world, name="李未过")
    give(world, passed, YEAR, "public", 30)
    give(world, passed, YEAR, "professional", 60)
    page = world.setup.backend(world.admin.token).completion_page(CompletionQuery(year=YEAR, result="未通过"))
    assert [(r.name, r.result) for r in page.rows] == [(failed.name, "not_passed")]
    both = world.setup.run("completion", "--all", "--year", str(YEAR), "--result", "通过", "--by", "city", "--json",
                           token=world.admin.token)
    assert both.returncode == 2 and error_fields(both) == ["result"]
    person_and_list = world.setup.run("completion", passed.id_number, "--all", "--year", str(YEAR), "--json",
                                      token=world.admin.token)
    assert person_and_list.returncode == 2 and error_fields(person_and_list) == ["person"]


def test_unit_list_as_table_csv_and_xlsx_read_back(world: World, tmp_path: Path) -> None:
    passed = approved_person(world, name="张通过")
    give(world, passed, YEAR, "public", 30)
    give(world, passed, YEAR, "professional", 60)
    failed = approved_person(world, name="李未过")
    give(world, failed, YEAR, "public", 29)
    token = world.a_admin1.token
    table = world.setup.run("completion", "--unit", world.unit_a.name, "--year", str(YEAR), token=token)
    assert table.returncode == 0, table.stderr
    assert "张通过" in table.stdout and "通过 1 人，未通过" in table.stdout and passed.id_number in table.stdout
    csv_file, xlsx_file = tmp_path / "甲.csv", tmp_path / "甲.xlsx"
    for target in (csv_file, xlsx_file):
        proc = world.setup.run("completion", "--unit", str(world.unit_a.id), "--year", str(YEAR), "-o", str(target),
                               token=token)
        assert proc.returncode == 0, proc.stderr
        assert "已写入" in proc.stderr
        rows = {r["姓名"]: r for r in read_rows(target)}
        assert rows["张通过"]["认定结果"] == "通过" and rows["张通过"]["总学分"] == "90"
        assert rows["李未过"]["认定结果"] == "未通过" and rows["李未过"]["公需科目"] == "29"
        assert rows["李未过"]["身份证号"] == failed.id_number
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens the Chinese right
    stdout_csv = world.setup.run("completion", "--all", "--year", str(YEAR), "--csv", token=token)
    assert stdout_csv.stdout.splitlines()[0].split(",")[:3] == ["年度", "身份证号", "姓名"]


def test_lists_page_by_id_with_the_same_rows_as_one_stream(world: World) -> None:
    """Over HTTP a list travels in keyset pages; page by page equals the whole stream."""
    people = [approved_person(world, name=f"分页{i}") for i in range(5)]
    give(world, people[1], YEAR, "public", 30)
    backend = world.setup.backend(world.a_admin1.token)
    query = CompletionQuery(year=YEAR, unit=str(world.unit_a.id))
    seen, after = [], None
    while True:
        page = backend.completion_page(query, after, 2)
        assert len(page.rows) <= 2 and page.scope == world.unit_a.name and page.masked is False
        seen.extend(r.professional_id for r in page.rows)
        if page.next_after is None:
            break
        after = page.next_after
    header, rows = backend.completion_list(query)
    streamed = [r.professional_id for r in rows]
    assert seen == streamed == sorted(streamed)
    assert {p.id for p in people} <= set(seen)
    assert header.rules is not None and header.rules.min_total == 90


# --- the summary: people / 通过 / 未通过 per city, county or unit ------------------------


def _summary(world: World, token: str, *args: str) -> dict:
    proc = world.setup.run("completion", "--year", str(YEAR), *args, "--json", token=token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json_out(proc)


def _boundary_world(world: World) -> dict[str, Person]:
    """People at the boundaries in two units in two cities (郑州 410105, 洛阳 410302)."""
    grid = {"甲30+60": (world.unit_a, 30, 60), "甲29+60": (world.unit_a, 29, 60),
            "甲30+59": (world.unit_a, 30, 59), "甲小数": (world.unit_a, 29.9, 60.1),
            "甲无学时": (world.unit_a, 0, 0), "乙30+60": (world.unit_b, 30, 60),
            "乙29.5+0.5": (world.unit_b, 30, 60), "乙30+59.5": (world.unit_b, 30, 59.5)}
    people = {}
    for name, (unit, pub, pro) in grid.items():
        person = people[name] = approved_person(world, unit, name=name)
        if name == "乙29.5+0.5":  # sums of decimals: 29.5 + 0.5 is 30 and passes
            give(world, person, YEAR, "public", 29.5)
            give(world, person, YEAR, "public", 0.5)
            give(world, person, YEAR, "professional", pro)
            continue
        if pub:
            give(world, person, YEAR, "public", pub)
        if pro:
            give(world, person, YEAR, "professional", pro)
    return people


def test_summary_counts_equal_the_per_person_list_at_the_boundaries(world: World, tmp_path: Path) -> None:
    """The SQL decision of the summary is result_of's: per city, county and unit the counts
    are what the per-person list says (29/30 public, 59/60 professional, decimals)."""
    _boundary_world(world)
    admin = world.admin.token
    rows = _list(world, admin, "--all")["rows"]
    by_unit: dict[int, list[int]] = {}
    for r in rows:
        acc = by_unit.setdefault(r["unit_id"], [0, 0])
        acc[0] += 1
        acc[1] += r["result"] == "passed"
    assert by_unit[world.unit_a.id] == [5, 1] and by_unit[world.unit_b.id] == [3, 2]
    units = _summary(world, admin, "--all", "--by", "unit")
    assert {int(g["code"]): [g["people"], g["passed"]] for g in units["groups"]} == by_unit
    assert all(g["not_passed"] == g["people"] - g["passed"] for g in units["groups"])
    cities = _summary(world, admin, "--region", "410000", "--by", "city")
    assert [(g["code"], g["name"], g["people"], g["passed"], g["pass_rate"]) for g in cities["groups"]] == [
        ("410100", "郑州市", 5, 1, 0.2), ("410300", "洛阳市", 3, 2, 0.6667)]
    assert (cities["total"]["people"], cities["total"]["passed"], cities["total"]["not_passed"]) == (8, 3, 5)
    counties = _summary(world, admin, "--all", "--by", "county")
    assert [(g["code"], g["name"]) for g in counties["groups"]] == [("410105", "金水区"), ("410302", "老城区")]
    table = world.setup.run("completion", "--region", "410000", "--year", str(YEAR), "--by", "city", token=admin)
    assert table.returncode == 0, table.stderr
    assert "郑州市" in table.stdout and "合计" in table.stdout and "66.7%" in table.stdout
    target = tmp_path / "全省.csv"
    written = world.setup.run("completion", "--region", "410000", "--year", str(YEAR), "--by", "city",
                              "-o", str(target), token=admin)
    assert written.returncode == 0 and "已写入" in written.stderr, written.stderr
    back = read_rows(target)
    assert [(r["市"], r["人数"], r["通过"], r["未通过"], r["通过率"]) for r in back] == [
        ("郑州市", "5", "1", "4", "20.0%"), ("洛阳市", "3", "2", "1", "66.7%"), ("合计", "8", "3", "5", "37.5%")]


def test_summary_total_rule_boundary_89_90_matches_result_of(world: World) -> None:
    """A year whose total (90) is above its two minimums (30 + 50): 89 fails, 90 passes, in SQL too."""
    admin = world.admin.token
    loaded = world.setup.run("rules", "load", "-", "--json", token=admin, input=json.dumps(
        {"year": 2024, "min_total": 90, "min_professional": 50, "min_public": 30, "deadline": "2024-12-31",
         "source": "测试通知"}))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    for name, pro in (("八十九", 59), ("九十", 60)):
        person = approved_person(world, name=name)
        give(world, person, 2024, "public", 30)
        give(world, person, 2024, "professional", pro)
    listed = json_out(world.setup.run("completion", "--year", "2024", "--all", "--json", token=admin))
    assert {r["name"]: r["result"] for r in listed["rows"]} == {"八十九": "not_passed", "九十": "passed"}
    summary = json_out(world.setup.run("completion", "--year", "2024", "--all", "--by", "unit", "--json",
                                       token=admin))
    assert [(g["people"], g["passed"]) for g in summary["groups"]] == [(2, 1)]


def test_summary_is_scoped_like_the_list(world: World) -> None:
    _boundary_world(world)
    mine = _summary(world, world.a_admin1.token, "--all", "--by", "unit")
    assert [int(g["code"]) for g in mine["groups"]] == [world.unit_a.id]
    assert (mine["total"]["people"], mine["total"]["passed"]) == (5, 1)
    cities = _summary(world, world.a_admin1.token, "--all", "--by", "city")  # their units, rolled up
    assert [g["name"] for g in cities["groups"]] == ["郑州市"]
    refused = world.setup.run("completion", "--year", str(YEAR), "--region", "410300", "--by", "city", "--json",
                              token=world.hr.token)
    assert refused.returncode == 4 and json_out(refused)["error"]["code"] == "permission_denied"
    hr = _summary(world, world.hr.token, "--all", "--by", "county")
    assert [g["code"] for g in hr["groups"]] == ["410105"] and hr["scope"] == "郑州市"
    person = world.setup.run("completion", "--year", str(YEAR), "--all", "--by", "city", "--json",
                             token=approved_person(world).token)
    assert person.returncode == 4
    bad = world.setup.run("completion", "--year", str(YEAR), "--all", "--by", "province", "--json",
                          token=world.admin.token)
    assert bad.returncode == 2 and error_fields(bad) == ["by"]
