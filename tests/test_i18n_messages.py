"""Errors, fix hints and table words by language (docs/i18n.md): a Chinese desk sees hnce's
messages as they are written, "中文 (english)"; an English locale or --lang en sees the
English part, the fix hints and the table headers from the English catalogue; --json never
changes. And a header or fix hint written in the code without a translation fails here."""

from __future__ import annotations

import ast
import json
import re

import pytest
from conftest import World, run_hnce

from hnce_cli import catalogues, i18n

HAN = re.compile(r"[\u3400-\u9fff]")
FIX = ("fix: python -m hnce_cli.catalogues extract; give each new entry its English in "
       "src/hnce_cli/locale/en/LC_MESSAGES/hnce.po (a Chinese header) or its Chinese in "
       "locale/zh (an English fix hint: 中文 (english)); python -m hnce_cli.catalogues compile (docs/i18n.md)")
BAD_MOBILE = ["register", "--id-number", "410105199001011233", "--mobile", "12345", "--email", "a@b.cn",
              "--name", "王五", "--unit", "河南测试甲会计师事务所有限公司", "--password-stdin"]
ENGLISH = {"LANG": "en_US.UTF-8"}


pytestmark = pytest.mark.usefixtures("plain_locale")


# --- the catalogue holds every header and fix hint of the code ----------------------------


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _written_in_the_code() -> tuple[set[str], set[str]]:
    """The plainest cases, found independently of the catalogue tool: a string literal as
    render.Column's header, or as a fix (ValidationFailed.one / FieldProblem's third
    argument, a `fix=` keyword)."""
    headers: set[str] = set()
    fixes: set[str] = set()
    for path in catalogues.SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses_render = "from hnce_cli.render import" in path.read_text(encoding="utf-8")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "Column" and uses_render and node.args and _literal(node.args[0]):
                headers.add(_literal(node.args[0]) or "")
            if name in ("one", "FieldProblem") and len(node.args) >= 3 and _literal(node.args[2]):
                fixes.add(_literal(node.args[2]) or "")
            fixes.update(_literal(k.value) or "" for k in node.keywords if k.arg == "fix" and _literal(k.value))
    return headers, fixes


def test_every_table_header_and_fix_hint_of_the_code_is_in_the_catalogues() -> None:
    """A new Column("…") header or constant fix hint fails here until it has its English (and
    an English hint its Chinese): a desk would otherwise see one language whatever it chose."""
    found = catalogues.source_strings()
    headers, fixes, words = found["header"], found["fix"], found["word"]
    plain_headers, plain_fixes = _written_in_the_code()
    assert plain_headers <= set(headers) and plain_fixes <= set(fixes), "the catalogue tool misses some"
    assert {"身份证号", "状态", "代码"} <= set(headers) and "check the path" in fixes
    assert {"错误", "时间为北京时间 (UTC+8)", "未显示的列：{columns}（{ways}）"} <= set(words)
    missing = []
    # A detail view's labels and a view's constant title (tests/test_i18n_views.py) too.
    for msgid, where in [*headers.items(), *words.items(), *found["label"].items(), *found["title"].items()]:
        english = i18n.translated(msgid, "en")
        if not english or (HAN.search(msgid) and (english == msgid or HAN.search(english))):
            missing.append(f"en: {msgid!r} ({where[0]}): no English")
    for msgid, where in fixes.items():
        if not i18n.translated(msgid, "en"):
            missing.append(f"en: {msgid!r} ({where[0]}): no English")
        chinese = i18n.translated(msgid, "zh")
        if not HAN.search(msgid) and not (chinese and HAN.search(chinese)):
            missing.append(f"zh: {msgid!r} ({where[0]}): no Chinese")
    assert not missing, "\n".join([*missing, FIX])


def test_a_chinese_fix_hint_keeps_its_english_in_parentheses() -> None:
    """The house's form: what the catalogue gives a Chinese desk for an English hint is Chinese
    first with the hint as written after it, so English guides still find it."""
    assert i18n.translated("check the path", "zh") == "请检查路径 (check the path)"
    assert i18n.translated("check the path", "en") == "check the path"
    assert i18n.translated("身份证号", "en") == "ID number"


@pytest.mark.parametrize(("message", "english"), [
    ("数据库正忙，请稍后重试 (database is busy)", "database is busy"),
    ("服务器无响应 (timed out): https://hnce.example.cn", "timed out: https://hnce.example.cn"),
    ("文件不存在：/tmp/a.csv (no such file)", "no such file: /tmp/a.csv"),
    ("内容过长（300 个字符），无法在请求地址中发送 (too long to send: at most 200 characters)",
     "too long to send: at most 200 characters"),
    ("无法连接服务器 x (server unreachable: [Errno 111] Connection refused (os error)); check the address",
     "server unreachable: [Errno 111] Connection refused (os error); check the address"),
    ("填写 男 或 女（也可用 M/F、male/female） (use 男/女, M/F or male/female)", "use 男/女, M/F or male/female"),
    ("截止时间为北京时间 (UTC+8)", None),
    ("不能含控制字符 (U+0000)", None),
    ("单位 省直 (410000-ZS) 已停用", None),
    ("文件不存在：/tmp/a.csv", None),
    ("certificates are issued only for a passed year (通过); see the year's completion", None),
], ids=["plain", "value after", "value before", "full-width in Chinese", "nested", "terms in English",
        "a zone", "a code point", "a code", "Chinese only", "English only"])
def test_a_bilingual_message_shows_its_english_part_in_english(message: str, english: str | None) -> None:
    previous = i18n.install("en")
    try:
        assert i18n.split_bilingual(message) == ((message, None) if english is None else
                                                 (i18n.split_bilingual(message)[0], english))
        assert i18n.message(message) == (english or message)
    finally:
        i18n.restore(previous)
    previous = i18n.install("zh")
    try:
        assert i18n.message(message) == message  # a Chinese desk: as written, byte for byte
    finally:
        i18n.restore(previous)


# --- end to end: the same error in both languages -------------------------------------------


def test_a_bad_mobile_number_is_told_in_the_language_of_the_locale(world: World) -> None:
    setup = world.setup
    env = {"HNCE_NO_PROMPT": "1"}
    zh = setup.run(*BAD_MOBILE, input="Passw0rd2025\n", env=env)
    assert zh.returncode == 2, zh.stdout + zh.stderr
    assert zh.stderr.startswith("错误：") and "手机号码 (mobile): 手机号码 '12345' 无效" in zh.stderr, zh.stderr
    assert "(mobile must be 11 digits starting with 13-19)" in zh.stderr
    assert "填写中国大陆手机号，如 13800138000 (enter a mainland mobile number)" in zh.stderr

    en = setup.run(*BAD_MOBILE, input="Passw0rd2025\n", env={**env, **ENGLISH})
    assert en.returncode == 2, en.stdout + en.stderr
    lines = " ".join(en.stderr.split())  # rich wraps at the terminal's width
    assert lines.startswith("Error: ") and "mobile: mobile must be 11 digits starting with 13-19" in lines, lines
    assert "→ enter a mainland mobile number" in lines
    assert "手机号码" not in en.stderr and "错误" not in en.stderr

    # Scripts read the same JSON whatever the language.
    as_zh = setup.run(*BAD_MOBILE, "--json", input="Passw0rd2025\n", env=env)
    as_en = setup.run(*BAD_MOBILE, "--json", input="Passw0rd2025\n", env={**env, **ENGLISH})
    assert as_zh.returncode == as_en.returncode == 2
    assert json.loads(as_zh.stdout) == json.loads(as_en.stdout)
    problem = next(p for p in json.loads(as_en.stdout)["error"]["problems"] if p["field"] == "mobile")
    assert problem["fix"] == "填写中国大陆手机号，如 13800138000 (enter a mainland mobile number)"


def test_login_required_in_chinese_and_in_english(tmp_path) -> None:  # noqa: ANN001
    args = ["--db", f"sqlite:///{tmp_path / 'x.db'}", "approve", "--list"]
    zh = run_hnce(*args)
    assert zh.returncode == 6 and zh.stderr == "错误：请先登录：hnce login (login required)\n", zh.stderr
    en = run_hnce(*args, env=ENGLISH)
    assert en.returncode == 6 and en.stderr == "Error: login required: hnce login\n", en.stderr
    flag = run_hnce("--lang", "en", *args)
    assert flag.stderr == en.stderr
    assert run_hnce("--lang", "zh", *args, env=ENGLISH).stderr == zh.stderr


def test_a_fix_hint_comes_from_the_catalogue_in_either_language(tmp_path) -> None:  # noqa: ANN001
    missing = str(tmp_path / "no-such.csv")
    zh = run_hnce("declare", "import", missing)
    assert zh.returncode == 2, zh.stderr
    assert f"文件不存在：{missing}" in zh.stderr and "→ 请检查路径 (check the path)" in zh.stderr, zh.stderr
    en = run_hnce("declare", "import", missing, env=ENGLISH)
    assert en.returncode == 2 and "→ check the path" in en.stderr and "请检查路径" not in en.stderr, en.stderr


# --- table words -----------------------------------------------------------------------------


def test_a_tables_headers_in_english_and_the_csv_as_the_platform_names_them(world: World) -> None:
    setup = world.setup
    zh = setup.run("unit", "regions", "--parent", "郑州市")
    assert zh.returncode == 0, zh.stderr
    assert re.search(r"代码\s+名称\s+级别\s+上级", zh.stdout), zh.stdout
    en = setup.run("unit", "regions", "--parent", "郑州市", env=ENGLISH)
    assert en.returncode == 0, en.stderr
    assert re.search(r"Code\s+Name\s+Level\s+Parent", en.stdout) and "代码" not in en.stdout, en.stdout
    assert "金水区" in en.stdout  # the data as stored
    # CSV headers are the platform's column names in any language (docs/i18n.md).
    assert setup.run("unit", "regions", "--csv", env=ENGLISH).stdout.splitlines()[0] == "代码,名称,级别,上级"


def test_the_renderers_own_notes_in_english(world: World) -> None:
    """A narrow terminal leaves columns out and says which, and a view with times names the
    zone: in English with an English locale, word for word as before in Chinese."""
    setup, token = world.setup, world.a_admin1.token
    narrow = {"COLUMNS": "70"}
    zh = setup.run("approve", "--list", token=token, env=narrow)
    assert zh.returncode == 0, zh.stderr
    assert "未显示的列：性别、手机、工作部门、注册时间（--wide 显示全部；--json 取得全部字段）" \
        in " ".join(zh.stdout.split()), zh.stdout
    en = setup.run("approve", "--list", token=token, env={**narrow, **ENGLISH})
    assert en.returncode == 0, en.stderr
    assert "Columns not shown: Gender, Mobile, Department, Registered (--wide shows them all; " \
           "--json gives every field)" in " ".join(en.stdout.split()), en.stdout
    assert re.search(r"ID number\s+Name\s+", en.stdout) and "Status" in en.stdout
    assert "身份证号" not in en.stdout and "未显示的列" not in en.stdout

    wide_zh = setup.run("approve", "--list", "--wide", token=token, env=narrow)
    assert "时间为北京时间 (UTC+8)" in wide_zh.stdout and "注册时间" in wide_zh.stdout, wide_zh.stdout
    wide_en = setup.run("approve", "--list", "--wide", token=token, env={**narrow, **ENGLISH})
    assert "Times are Beijing time (UTC+8)" in wide_en.stdout and "Registered" in wide_en.stdout, wide_en.stdout
    assert "时间为北京时间" not in wide_en.stdout
