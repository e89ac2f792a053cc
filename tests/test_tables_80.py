"""Tables on an 80-column terminal: the listings a person reads every day keep their key
columns (the declaration's 编号, the ID number, the whole name, the state) whole and say
which columns they left out and how to see them; at 200 columns nothing is left out. A
long table is paged on a terminal like git's output, and never in a pipe.

The renderer takes the width from COLUMNS as a terminal does (rich reads it), so the
narrow views are real command runs with COLUMNS=80, on every storage."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import World, hnce_command, json_out, on_a_terminal

from hnce_cli import clock
from hnce_cli.render import cell_width

TODAY = clock.today()
UYGHUR = "买买提·艾力"  # a whole name with its middle dot: never cut, never wrapped
NOTE = "未显示的列："
ZONE = "时间为北京时间 (UTC+8)"


def masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def headers(out: str, first: str) -> list[str]:
    """The header row of the table that has the header `first`, split into its headers."""
    rows = (re.split(r"\s{2,}", line.strip()) for line in out.splitlines())
    return next(row for row in rows if first in row)


def left_out(out: str) -> list[str]:
    """The columns the note under the table names as left out ([] when there is no note)."""
    if NOTE not in out:
        return []
    rest = out.split(NOTE, 1)[1].replace("\n", "")
    return rest.split("（", 1)[0].split("、")


def fits(out: str, width: int) -> None:
    """Every line within the terminal, nothing abbreviated."""
    too_wide = [line for line in out.splitlines() if cell_width(line.rstrip()) > width]
    assert not too_wide, too_wide
    assert "…" not in out


def narrow(world: World, token: str, *args: str) -> str:
    proc = world.setup.run(*args, token=token, env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def wide(world: World, token: str, *args: str) -> str:
    proc = world.setup.run(*args, token=token, env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def check(out: str, first: str, keys: list[str], values: list[str], every: list[str]) -> list[str]:
    """At 80 columns: the key headers and the whole values shown (each on one line), the
    left-out note naming exactly the headers missing from the table, with the ways to see
    them. Returns the columns left out."""
    fits(out, 80)
    shown = headers(out, first)
    assert set(keys) <= set(shown), shown
    for value in values:
        assert any(value in line for line in out.splitlines()), (value, out)
    gone = left_out(out)
    assert gone, out
    assert set(gone) == set(every) - set(shown) and set(shown) | set(gone) == set(every), (shown, gone)
    note = out.split(NOTE, 1)[1].replace("\n", "")  # a long note wraps like any text
    assert "--wide 显示全部" in note and "--json 取得全部字段" in note
    return gone


def check_all(out: str, first: str, every: list[str]) -> None:
    assert headers(out, first) == every, out
    assert NOTE not in out and "…" not in out


def conference(meeting: str) -> list[str]:
    return ["--form", "conference", "--field", f"meeting_name={meeting}", "--field", "organizer=河南省会计学会",
            "--field", f"start_date={TODAY.isoformat()}", "--field", "days=2"]


APPROVE = ["身份证号", "姓名", "性别", "手机", "所在单位", "工作部门", "注册时间", "状态"]


def test_approve_list_keeps_id_name_and_state_whole_at_80_columns(world: World) -> None:
    person = world.register(name=UYGHUR, department="财务管理部（会计核算中心）")
    token = world.a_admin1.token
    out = narrow(world, token, "approve", "--list")
    gone = check(out, "身份证号", ["身份证号", "姓名", "状态"],
                 [person.id_number, UYGHUR, *(p.id_number for p in world.people_a), "待审核"], APPROVE)
    assert gone == ["性别", "手机", "工作部门"]  # the stated order: gender, mobile, department go first
    assert ZONE in out and out.count("UTC+8") == 1  # the zone once, not on every time
    # --wide: every column, even wider than the terminal; nothing cut
    every = world.setup.run("approve", "--list", "--wide", token=token, env={"COLUMNS": "80"})
    assert headers(every.stdout, "身份证号") == APPROVE and NOTE not in every.stdout
    assert person.mobile in every.stdout and "…" not in every.stdout
    check_all(wide(world, token, "approve", "--list"), "身份证号", APPROVE)
    # scripts get every field whatever the width
    assert json_out(world.setup.run("approve", "--list", "--json", token=token,
                                    env={"COLUMNS": "80"}))["registrations"][0]["mobile"]


DECLARE = ["编号", "学习形式", "计入年度", "计入科目", "学分", "状态", "提交时间", "审核时间", "不通过原因"]
DECLARE_HR = ["编号", "姓名", "身份证号", "单位", "学习形式", "计入年度", "计入科目", "学分", "状态",
              "提交时间", "审核时间", "不通过原因"]


def test_declare_list_keeps_the_number_for_declare_show_at_80_columns(world: World) -> None:
    setup = world.setup
    me = world.approved_person(name=UYGHUR)
    numbers = []
    for meeting in ("全省会计年会", "全省内部控制研讨会"):
        proc = setup.run("declare", "new", *conference(meeting), "--submit", "--json", token=me.token)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        numbers.append(str(json_out(proc)["id"]))
    # the professional's own progress view: 编号 (what `declare show` takes) and the state whole
    mine = narrow(world, me.token, "declare", "list")
    gone = check(mine, "编号", ["编号", "状态"], [*numbers, "学术会议"], DECLARE)
    assert "编号" not in gone and len(gone) <= 4
    assert "详细：hnce declare show 编号" in mine
    check_all(wide(world, me.token, "declare", "list"), "编号", DECLARE)
    # HR's view of the region: the person (masked ID, whole name) and the number
    assert setup.run("review", *numbers, "--yes", token=world.a_admin1.token).returncode == 0
    hr = narrow(world, world.hr.token, "review", "--list")
    check(hr, "编号", ["编号", "姓名", "身份证号", "状态"], [*numbers, UYGHUR, masked(me.id_number)], DECLARE_HR)
    check_all(wide(world, world.hr.token, "review", "--list"), "编号", DECLARE_HR)
    other = world.approved_person()  # two people: HR's progress view names each
    proc = setup.run("declare", "new", *conference("全省会计年会"), "--submit", "--json", token=other.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    numbers.append(str(json_out(proc)["id"]))
    assert setup.run("review", numbers[-1], "--yes", token=world.a_admin1.token).returncode == 0
    scoped = narrow(world, world.hr.token, "declare", "list")
    check(scoped, "编号", ["编号", "姓名", "身份证号", "状态"], [*numbers, UYGHUR, masked(me.id_number)],
          DECLARE_HR)


INBOX_ITEMS = ["编号 / 身份证号", "姓名", "单位", "提交时间"]


def test_inbox_keeps_every_key_whole_and_says_the_zone_once(world: World) -> None:
    person = world.register(name=UYGHUR)
    out = narrow(world, world.a_admin1.token, "inbox")
    fits(out, 80)
    assert {"审核事项", "待审核", "查看全部"} <= set(headers(out, "审核事项"))
    assert "hnce approve --list" in out  # the command to copy, on one line
    assert set(INBOX_ITEMS[:2]) <= set(headers(out, "编号 / 身份证号"))
    assert person.id_number in out and UYGHUR in out
    assert out.count("UTC+8") == 1  # once for the whole view, though two tables show times
    assert NOTE not in out or set(left_out(out)) <= {"审核环节", "最早提交", "单位", "提交时间"}
    full = wide(world, world.a_admin1.token, "inbox")
    assert headers(full, "审核事项") == ["审核事项", "审核环节", "待审核", "最早提交", "查看全部"]
    assert headers(full, "编号 / 身份证号") == INBOX_ITEMS and NOTE not in full


COMPLETION = ["身份证号", "姓名", "单位", "公需科目", "专业科目", "总学分", "认定结果"]


def test_completion_views_keep_people_and_results_whole_at_80_columns(world: World) -> None:
    me = world.approved_person(name=UYGHUR)
    year = str(TODAY.year)
    unit = narrow(world, world.a_admin1.token, "completion", "--unit", str(world.unit_a.id), "--year", year)
    fits(unit, 80)
    shown = headers(unit, "身份证号")
    assert {"身份证号", "姓名", "认定结果"} <= set(shown)
    assert me.id_number in unit and UYGHUR in unit
    assert set(left_out(unit)) == set(COMPLETION) - set(shown)
    check_all(wide(world, world.a_admin1.token, "completion", "--unit", str(world.unit_a.id), "--year", year),
              "身份证号", COMPLETION)
    # the region's list as HR sees it: masked ID numbers, whole
    region = narrow(world, world.hr.token, "completion", "--region", "410100", "--year", year)
    fits(region, 80)
    assert masked(me.id_number) in region and UYGHUR in region
    # the summaries per county and per unit (unit names are the key: whole)
    for by, name in (("county", "金水区"), ("unit", world.unit_a.name)):
        summary = narrow(world, world.hr.token, "completion", "--region", "410100", "--year", year,
                         "--by", by, "--no-bars")
        fits(summary, 80)
        assert name in summary and "通过率" in headers(summary, "人数")
    # one person's years: the year and the result whole
    person = narrow(world, me.token, "completion")
    fits(person, 80)
    assert {"年度", "认定结果"} <= set(headers(person, "年度"))


STATUS = ["身份证号", "姓名", "手机", "所在单位", "区域", "状态"]


def test_status_matches_keep_the_masked_id_and_the_whole_name_at_80_columns(world: World) -> None:
    person = world.register(name=UYGHUR)
    world.register(world.unit_b, name=UYGHUR)  # two people of that name: a table of matches
    out = narrow(world, world.kefu.token, "status", UYGHUR)
    check(out, "身份证号", ["身份证号", "姓名", "状态"], [masked(person.id_number), UYGHUR, "待审核"], STATUS)
    check_all(wide(world, world.kefu.token, "status", UYGHUR), "身份证号", STATUS)


# --- paging: like git, on a terminal only --------------------------------------------------


def paged(argv: list[str], env: dict[str, str], lines: int = 12) -> str:
    """`argv`'s output on a pseudo-terminal of 80 columns and `lines` lines (it must succeed)."""
    screen = on_a_terminal(argv, env, lines=lines)
    assert screen.code == 0, screen.shown
    return screen.shown.replace("\r\n", "\n")


@pytest.mark.parametrize("how", ["pager", "--no-pager", "PAGER=cat", "pipe"])
def test_a_long_table_is_paged_on_a_terminal_only(sqlite_world: World, how: str) -> None:
    world = sqlite_world
    for _ in range(12):  # more rows than the 12-line screen
        world.register()
    env = {**world.setup.as_user(world.a_admin1.token), "HNCE_PAGER": "sed 's/^/PAGED|/'"}
    argv = [*hnce_command(), "approve", "--list"]
    if how == "pipe":
        out = subprocess.run(argv, env={**env, "COLUMNS": "80", "LINES": "12"}, capture_output=True,
                             text=True, timeout=60, stdin=subprocess.DEVNULL).stdout
    elif how == "PAGER=cat":
        env.pop("HNCE_PAGER")
        out = paged(argv, {**env, "PAGER": "cat"})
    else:
        out = paged([*argv, *([how] if how != "pager" else [])], env)
    assert world.people_a[0].id_number in out
    if how == "pager":
        assert all(line.startswith("PAGED|") for line in out.splitlines() if line.strip()), out
        assert ZONE in out and NOTE in out  # the notes are paged with their table
    else:
        assert "PAGED|" not in out


def test_a_short_table_is_not_paged(sqlite_world: World) -> None:
    env = {**sqlite_world.setup.as_user(sqlite_world.a_admin1.token), "HNCE_PAGER": "sed 's/^/PAGED|/'"}
    out = paged([*hnce_command(), "inbox", "--limit", "1"], env, lines=60)
    assert "注册审核" in out and "PAGED|" not in out
