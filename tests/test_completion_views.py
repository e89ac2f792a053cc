"""What a person sees of the year's completion and of long work: a bar per city / county /
unit, lowest pass rate first with those below the whole scope flagged, lined up at 80
columns (CJK names are two columns a character) and plain numbers in pipes, --json and
--csv; the XLSX summary with Excel's own chart beside its table; a progress display on a
terminal's standard error and nothing of it in a pipe; import summaries in people's
numbers and the forms' Chinese names."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from conftest import Setup, Templates, World, hnce_command, json_out, on_a_terminal, seeded
from test_completion import approved_person, give

from hnce_cli.figures import amount
from hnce_cli.render import cell_width
from hnce_cli.tabular import BarChart, read_rows, write_rows

YEAR = 2025
BARS = re.compile("[█░]+")


@pytest.fixture
def local_world(local_setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    """The seeded world on SQLite and PostgreSQL (the views are the command's; the numbers the store's)."""
    return seeded(local_setup, templates, request)


def _two_cities(world: World) -> None:
    """郑州市 (unit A, 金水区): 4 people, 3 pass (75 %); 洛阳市 (unit B): 4 people, 1 passes (25 %).
    The province: 8 people, 4 pass (50 %). By code 郑州 comes first; by rate 洛阳 lags."""
    for unit, passing in ((world.unit_a, 3), (world.unit_b, 1)):
        for n in range(4):
            person = approved_person(world, unit, name=f"{unit.name[:2]}{n}")
            if n < passing:
                give(world, person, YEAR, "public", 30)
                give(world, person, YEAR, "professional", 60)
            else:
                give(world, person, YEAR, "public", 29)


def _summary(world: World, *args: str, env: dict[str, str] | None = None):  # noqa: ANN202
    proc = world.setup.run("completion", "--region", "410000", "--year", str(YEAR), *args,
                           token=world.admin.token, env={"COLUMNS": "80", **(env or {})})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _bar_of(line: str) -> tuple[int, str]:
    """(display column where the bar starts, the bar) of one line of the bar view."""
    found = BARS.search(line)
    assert found, line
    return cell_width(line[:found.start()]), found.group()


def test_city_bars_lowest_share_first_flag_the_laggard_and_line_up_at_80_columns(local_world: World) -> None:
    world = local_world
    _two_cities(world)
    lines = _summary(world, "--by", "city", "--bars").stdout.splitlines()
    rows = [line for line in lines if BARS.search(line)]
    assert [("洛阳市" in r, "郑州市" in r, "合计" in r) for r in rows] == [
        (True, False, False), (False, True, False), (False, False, True)]  # lowest first, 合计 last
    luoyang, zhengzhou, total = rows
    assert luoyang.startswith("▼") and not zhengzhou.startswith("▼") and not total.startswith("▼")
    for row, share, numbers in ((luoyang, 0.25, ["1", "3", "4"]), (zhengzhou, 0.75, ["3", "1", "4"]),
                                (total, 0.5, ["4", "4", "8"])):
        _, drawn = _bar_of(row)
        assert drawn.count("█") == round(share * len(drawn)), row
        assert f"{share * 100:.1f}%" in row
        assert row.split()[-3:] == numbers  # 通过 / 未通过 / 人数
    assert len({_bar_of(r)[0] for r in rows}) == 1  # every bar starts in the same column
    assert len({cell_width(r) for r in rows}) == 1  # and the numbers end in the same column
    assert all(cell_width(line) <= 80 for line in lines)
    assert any("低于合计（50.0%）的市 1 个" in line for line in lines)


def test_unit_bars_keep_long_chinese_names_aligned(local_world: World) -> None:
    world = local_world
    _two_cities(world)
    long_name = "河南省某某某某某某某某某某某某某某某某某某某某某某会计师事务所有限责任公司"
    world.setup.execute("UPDATE unit SET name = :n WHERE id = :id", n=long_name, id=world.unit_b.id)
    lines = _summary(world, "--by", "unit", "--bars").stdout.splitlines()
    rows = [line for line in lines if BARS.search(line)]
    assert "…" in rows[0] and rows[0].startswith("▼")  # cut to fit, flagged, first
    assert world.unit_a.name in rows[1]
    assert len({_bar_of(r)[0] for r in rows}) == 1 and len({cell_width(r) for r in rows}) == 1
    assert all(cell_width(line) <= 80 for line in lines)


def test_pipes_json_and_csv_get_plain_numbers(local_world: World) -> None:
    world = local_world
    _two_cities(world)
    piped = _summary(world, "--by", "city").stdout  # a pipe: the table, no bars
    assert not BARS.search(piped)
    assert piped.index("洛阳市") < piped.index("郑州市") < piped.index("合计")  # still lowest first
    assert "25.0%" in piped and "低于合计" in piped
    for fmt in ("--json", "--csv"):
        out = _summary(world, "--by", "city", "--bars", fmt).stdout
        assert not BARS.search(out) and "▼" not in out
    data = json_out(_summary(world, "--by", "city", "--json"))
    assert [(g["name"], g["passed"], g["people"]) for g in data["groups"]] == [("郑州市", 3, 4), ("洛阳市", 1, 4)]
    rows = list(csv.reader(io.StringIO(_summary(world, "--by", "city", "--csv").stdout)))
    assert rows[1][2:6] == ["郑州市", "4", "3", "1"] and rows[-1][2] == "合计"


# --- the XLSX summary carries Excel's own chart ---------------------------------------------


def test_xlsx_summary_has_a_stacked_chart_of_its_own_cells_and_stays_text_safe(
        local_world: World, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    world = local_world
    _two_cities(world)
    hostile = "=HYPERLINK(\"http://example.invalid\",\"点我\")"
    world.setup.execute("UPDATE unit SET name = :n WHERE id = :id", n=hostile, id=world.unit_b.id)
    target = tmp_path / "各单位.xlsx"
    proc = _summary(world, "--by", "unit", "-o", str(target))
    assert "已写入" in proc.stderr
    sheet = load_workbook(target).active
    header = [c.value for c in sheet[1]]
    assert header == ["年度", "单位编号", "单位", "区域代码", "人数", "通过", "未通过", "通过率"]
    names = [sheet.cell(row=r, column=3) for r in (2, 3, 4)]
    assert [c.value for c in names] == [world.unit_a.name, "'" + hostile, "合计"]
    assert all(c.data_type == "s" for c in names)  # text, never a formula
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    (chart,) = sheet._charts
    assert (chart.type, chart.grouping, chart.overlap) == ("bar", "percentStacked", 100)
    assert [s.tx.strRef.f for s in chart.series] == ["'Sheet'!F1", "'Sheet'!G1"]  # 通过, 未通过
    assert [s.val.numRef.f for s in chart.series] == ["'Sheet'!$F$2:$F$3", "'Sheet'!$G$2:$G$3"]  # not 合计
    assert {s.cat.strRef.f for s in chart.series} == {"'Sheet'!$C$2:$C$3"}
    assert chart.anchor._from.col >= len(header)  # beside the table, not over it
    back = read_rows(target)
    assert [r["单位"] for r in back] == [world.unit_a.name, hostile, "合计"]


def test_write_rows_chart_counts_title_rules_and_csv_unchanged(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    header = ["市", "通过", "未通过"]
    rows = [["@SUM(1)", 3, 1], ["洛阳市", 1, 3]]
    spec = BarChart(title="全省\x1b[2J · 2025", categories="市", series=("通过", "未通过"), percent=False)
    assert write_rows(tmp_path / "a.xlsx", header, rows, chart=spec) == 2
    sheet = load_workbook(tmp_path / "a.xlsx").active
    (chart,) = sheet._charts
    assert chart.grouping == "stacked"
    assert [s.val.numRef.f for s in chart.series] == ["'Sheet'!$B$2:$B$3", "'Sheet'!$C$2:$C$3"]
    title = "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
    assert "\x1b" not in title and "\\x1b[2J" in title
    assert sheet["A2"].value == "'@SUM(1)"
    write_rows(tmp_path / "with.csv", header, rows, chart=spec)
    write_rows(tmp_path / "without.csv", header, rows)
    assert (tmp_path / "with.csv").read_bytes() == (tmp_path / "without.csv").read_bytes()


# --- summaries in people's numbers ------------------------------------------------------------


def test_amounts_for_people_never_have_an_exponent() -> None:
    assert f"{1_999_990.0:g}" == "1.99999e+06"  # what the import said before
    assert amount(1_999_990.0) == "1,999,990"
    assert amount(1_999_989.999_999_999_8) == "1,999,990"  # a float sum of 100,000 rows
    assert (amount(12.5), amount(0.25), amount(70.0), amount(0)) == ("12.5", "0.25", "70", "0")


def _declarations_file(world: World, path: Path, people: int) -> Path:
    from hnce_cli import clock

    today = clock.today()
    lines = ["身份证号,学习形式,计入年度,meeting_name,organizer,start_date,days"]
    for n in range(people):
        person = approved_person(world, name=f"导入{n}")
        lines.append(f"{person.id_number},学术会议,{today.year},年会{n},会计学会,{today.isoformat()},2")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_declare_import_summary_names_forms_in_chinese_with_separators(sqlite_world: World, tmp_path: Path) -> None:
    world = sqlite_world
    path = _declarations_file(world, tmp_path / "申报.csv", 3)
    proc = world.setup.run("declare", "import", str(path), token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "学术会议 3 条" in proc.stderr and "conference" not in proc.stderr, proc.stderr
    assert "e+" not in proc.stderr and re.search(r"共 [\d,.]+ 学分", proc.stderr)
    assert proc.stdout == ""  # the summary is a note on standard error


def test_sync_import_of_a_million_credits_says_1_000_000(sqlite_world: World, tmp_path: Path) -> None:
    """5,000 records of 200 credits: `:g` said 1e+06; people read 1,000,000."""
    world = sqlite_world
    me = approved_person(world, name="张百万")
    lines = ["身份证号,姓名,年度,科目类型,学时,记录编号,完成日期"]
    lines += [f"{me.id_number},张百万,{YEAR},专业科目,200,N-{n},{YEAR}-03-01" for n in range(5000)]
    path = tmp_path / "national.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = world.setup.run("sync", "import", str(path), token=world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "共 5,000 行：新增 5,000 条（1,000,000 学分）" in proc.stderr, proc.stderr
    assert "e+" not in proc.stderr
    exported = world.setup.run("sync", "export", "--year", str(YEAR), "-o", str(tmp_path / "out.csv"),
                               token=world.admin.token)
    assert exported.returncode == 0 and "学时记录 0 条" in exported.stderr, exported.stderr  # national: not ours


# --- long work shows life on a terminal, and only there -------------------------------------

SPINNER = re.compile("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]")


def test_declare_import_shows_progress_at_a_terminal_and_nothing_in_a_pipe(sqlite_world: World,
                                                                           tmp_path: Path) -> None:
    world = sqlite_world
    path = _declarations_file(world, tmp_path / "申报.csv", 40)
    env = world.setup.as_user(world.a_admin1.token)
    # Piped: the summary only, no progress, no terminal codes.
    first = tmp_path / "a.csv"
    first.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:21]) + "\n", encoding="utf-8")
    piped = world.setup.process("declare", "import", str(first), token=world.a_admin1.token)
    assert piped.returncode == 0, piped.stderr
    assert "学术会议 20 条" in piped.stderr
    assert "读取" not in piped.stderr and "\x1b[" not in piped.stderr and not SPINNER.search(piped.stderr)
    # At a terminal: the spinner with what it is doing, then the same summary.
    second = tmp_path / "b.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    second.write_text("\n".join([lines[0], *lines[21:]]) + "\n", encoding="utf-8")
    code, shown, out = on_a_terminal([*hnce_command(), "declare", "import", str(second)], env, stdin=False,
                                     stdout=False)
    assert code == 0, shown
    assert "读取 b.csv" in shown or "检查并导入 20 行" in shown, shown
    assert SPINNER.search(shown), shown
    assert "学术会议 20 条" in shown and out == ""


def test_json_at_a_terminal_and_a_summary_on_a_terminal(sqlite_world: World, tmp_path: Path) -> None:
    """--json at a terminal shows no progress (a script is reading); the summary at a terminal
    draws its bars by default, and the spinner while it counts never reaches standard output."""
    world = sqlite_world
    _two_cities(world)
    env = world.setup.as_user(world.admin.token)
    code, shown, out = on_a_terminal(
        [*hnce_command(), "completion", "--region", "410000", "--year", str(YEAR), "--by", "city", "--json"], env,
        stdin=False, stdout=False)
    assert code == 0 and json_out_text(out)["total"]["people"] == 8
    assert not SPINNER.search(shown) and "统计" not in shown
    code, shown, out = on_a_terminal(
        [*hnce_command(), "completion", "--region", "410000", "--year", str(YEAR), "--by", "city"], env,
        stdin=False, stdout=False)
    assert code == 0 and not BARS.search(out) and "洛阳市" in out  # stdout was a pipe: plain numbers
    assert "统计 2025 年度完成情况" in shown and SPINNER.search(shown)  # the spinner, on the terminal
    code, shown, _ = on_a_terminal(
        [*hnce_command(), "completion", "--region", "410000", "--year", str(YEAR), "--by", "city"], env,
        stdin=False)
    bars = [line for line in shown.replace("\r\n", "\n").split("\n") if "年度完成情况" not in line
            and BARS.search(line)]
    assert code == 0 and [("洛阳市" in b, b.lstrip("\r").startswith("▼")) for b in bars[:2]] == [
        (True, True), (False, False)], shown


def json_out_text(text: str) -> dict:
    import json

    return json.loads(text)


def test_exporting_attachments_shows_progress_at_a_terminal_only(sqlite_world: World, tmp_path: Path) -> None:
    """`review --all --export-attachments` (a reviewer's long download) shows the files being
    written on the terminal's standard error; piped, nothing but the table."""
    from test_attachment_export import declare_with_files

    world = sqlite_world
    person = world.approved_person()
    declare_with_files(world, person.token, 3, files=4)
    env = world.setup.as_user(world.a_admin1.token)
    code, shown, out = on_a_terminal(
        [*hnce_command(), "review", "--all", "--export-attachments", str(tmp_path / "终端")], env,
        stdin=False, stdout=False)
    assert code == 0, shown
    assert "写入附件" in shown and SPINNER.search(shown), shown
    assert "已导出 12 个附件" in out
    piped = world.setup.process("review", "--all", "--export-attachments", str(tmp_path / "管道"),
                                token=world.a_admin1.token)
    assert piped.returncode == 0, piped.stderr
    assert "写入附件" not in piped.stderr and not SPINNER.search(piped.stderr)
    assert len(list((tmp_path / "管道").rglob("*.png"))) == 12
