"""Detail views and yes/no cells by language (docs/i18n.md): the labels of a record's view
(`hnce status ID`: 姓名, 身份证号, 所在单位 …), a view's constant title and the renderer's
是/否 are English with --lang en or an English locale, and a Chinese desk sees them byte for
byte as before; the data (names, units, 审核通过 as the service words it) is never translated.
And a label written in a command without its English fails here."""

from __future__ import annotations

import ast
import re
from gettext import NullTranslations

import pytest
from conftest import World

from hnce_cli import catalogues, i18n

HAN = re.compile(r"[\u3400-\u9fff]")
ENGLISH = {"LANG": "en_US.UTF-8"}
FIX = ("fix: python -m hnce_cli.catalogues extract; give each new label or title its English in "
       "src/hnce_cli/locale/en/LC_MESSAGES/hnce.po; python -m hnce_cli.catalogues compile (docs/i18n.md)")


pytestmark = pytest.mark.usefixtures("plain_locale")


# --- the catalogue holds every label and constant title of the code -------------------------


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _details_written_in_the_code() -> tuple[set[str], set[str]]:
    """The plainest cases, found independently of the catalogue tool: print_details("title",
    [("label", value), …]) with a literal title and a list literal of pairs, and
    TableView(title="…")."""
    labels: set[str] = set()
    titles: set[str] = set()
    for path in catalogues.SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "print_details" and node.args:
                titles.update(t for t in [_literal(node.args[0])] if t)
                if len(node.args) > 1 and isinstance(node.args[1], ast.List):
                    labels.update(label for pair in node.args[1].elts if isinstance(pair, ast.Tuple)
                                  and (label := _literal(pair.elts[0])))
            if name == "TableView":
                titles.update(t for k in node.keywords if k.arg == "title" and (t := _literal(k.value)))
    return labels, titles


def test_every_detail_label_and_view_title_of_the_code_has_its_english() -> None:
    """A new ("标签", value) pair of a detail view, or a constant title, fails here until the
    English catalogue has its English: an English desk would otherwise read a Chinese label."""
    found = catalogues.source_strings()
    labels, titles = found["label"], found["title"]
    plain_labels, plain_titles = _details_written_in_the_code()
    assert plain_labels <= set(labels) and plain_titles <= set(titles), "the catalogue tool misses some"
    # Built in a list named `pairs` (status, declare show, certificate verify) and a title a
    # caller hands over (render_account's "当前账号" from whoami).
    assert {"姓名", "身份证号", "所在单位", "专业技术职务", "撤销原因", "计入科目", "统一社会信用代码"} <= set(labels)
    assert {"当前账号", "已创建系统管理员 (system admin created)", "附件", "数据库已是最新 (database up to date)"} \
        <= set(titles)
    assert {"是", "否"} <= set(found["word"])
    yes_no = {word: found["word"][word] for word in ("是", "否")}
    missing = [f"en: {msgid!r} ({kind} {where[0]}): no English"
               for kind, texts in (("label", labels), ("title", titles), ("word", yes_no))
               for msgid, where in texts.items()
               if not (english := i18n.translated(msgid, "en"))
               or (HAN.search(msgid) and (english == msgid or HAN.search(english)))]
    assert not missing, "\n".join([*missing, FIX])
    # A Chinese desk: every label and title as written.
    assert all(i18n.translated(msgid, "zh") == msgid for msgid in [*labels, *titles] if HAN.search(msgid))


# --- end to end: one person's record, as support sees it --------------------------------------


def _labels(stdout: str) -> list[str]:
    """The labels of a detail view: the first words of its indented lines (before two spaces)."""
    return [m.group(1) for m in re.finditer(r"^  (\S(?:.*?\S)?)  +\S", stdout, re.MULTILINE)]


def test_a_persons_record_in_english_and_byte_for_byte_as_before_in_chinese(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, token = world.setup, world.kefu.token
    person = world.people_a[0]
    zh = setup.run("status", person.id_number, token=token)
    assert zh.returncode == 0, zh.stderr
    assert _labels(zh.stdout) == ["姓名", "身份证号", "性别", "手机号码", "所在单位", "所属区域", "工作部门",
                                  "注册状态", "注册时间"], zh.stdout

    en = setup.run("status", person.id_number, token=token, env=ENGLISH)
    assert en.returncode == 0, en.stderr
    assert _labels(en.stdout) == ["Name", "ID number", "Gender", "Mobile", "Unit", "Region", "Department",
                                  "Registration status", "Registered"], en.stdout
    # The data as stored and as the service words it: the name, the unit, 待审核.
    assert person.name in en.stdout and "河南测试甲会计师事务所有限公司" in en.stdout
    assert f"{person.name} · {person.status_label}" in en.stdout  # a title built from the record
    assert "Times are Beijing time (UTC+8)" in en.stdout and "时间为北京时间" not in en.stdout
    assert setup.run("--lang", "en", "status", person.id_number, token=token).stdout == en.stdout

    # Chinese, byte for byte what the view printed before its labels were msgids: the same run
    # with no catalogue at all (every label as written in the command).
    monkeypatch.setitem(i18n._catalogues, "zh", NullTranslations())
    before = setup.run("status", person.id_number, token=token)
    assert before.returncode == 0 and before.stdout == zh.stdout


def test_a_constant_title_and_yes_no_cells_in_english_and_the_csv_as_the_platform_writes_it(
        world: World) -> None:
    """`hnce whoami` (a title handed to the detail view) and `hnce forms show` (a 必填 column of
    yes/no): English with an English locale; --csv keeps 是/否 whatever the language."""
    setup, token = world.setup, world.kefu.token
    zh = setup.run("whoami", token=token)
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.startswith("当前账号\n") and _labels(zh.stdout)[:3] == ["账号", "姓名", "角色"], zh.stdout
    en = setup.run("whoami", token=token, env=ENGLISH)
    assert en.returncode == 0, en.stderr
    assert en.stdout.startswith("Current account\n") and _labels(en.stdout)[:3] == ["Login", "Name", "Role"], \
        en.stdout
    assert "kefu 姓名" in en.stdout  # the account's name as stored

    form = "学术会议"
    zh = setup.run("forms", "show", form, token=token)
    assert zh.returncode == 0, zh.stderr
    assert "必填" in zh.stdout and re.search(r"\s是\s", zh.stdout), zh.stdout
    en = setup.run("forms", "show", form, token=token, env=ENGLISH)
    assert en.returncode == 0, en.stderr
    assert "Required" in en.stdout and re.search(r"\sYes\s", en.stdout), en.stdout
    assert not re.search(r"\s[是否]\s", en.stdout), en.stdout
    csv_zh = setup.run("forms", "show", form, "--csv", token=token)
    csv_en = setup.run("forms", "show", form, "--csv", token=token, env=ENGLISH)
    assert csv_en.stdout == csv_zh.stdout and ",是" in csv_en.stdout, csv_en.stdout


def test_a_title_that_is_data_is_never_translated(world: World) -> None:
    """A unit's name is data: shown as stored in every language, even when it happens to be
    a word the catalogue translates (当前账号 is a view title there)."""
    from conftest import make_uscc

    from hnce_cli.schemas import UnitInput

    unit = world.setup.backend(world.admin.token).add_unit(
        UnitInput(name="当前账号", uscc=make_uscc("410105", "MA44CCCC3"), region="410105"))
    assert i18n.catalogue("en").gettext("当前账号") == "Current account"  # the test can fail
    for env in (ENGLISH, {}):
        shown = world.setup.run("unit", "show", str(unit.id), env=env)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("当前账号\n"), shown.stdout


def test_a_listings_counted_title_in_either_language(world: World) -> None:
    """The titles that count what a list holds (待审核注册：共 N 条) are catalogue entries with the
    count filled in: English with an English locale, Chinese as before."""
    setup, token = world.setup, world.a_admin1.token
    zh = setup.run("approve", "--list", token=token)
    en = setup.run("approve", "--list", token=token, env=ENGLISH)
    assert zh.returncode == en.returncode == 0, zh.stderr + en.stderr
    total = re.search(r"待审核注册：共 (\d+) 条", zh.stdout)
    assert total, zh.stdout
    assert f"Registrations pending: {total.group(1)}" in en.stdout and "待审核注册" not in en.stdout
    inbox = setup.run("inbox", token=token, env=ENGLISH)
    assert inbox.returncode == 0 and "Awaiting your review:" in inbox.stdout, inbox.stdout
