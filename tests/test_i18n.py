"""Chinese first, English on request (docs/i18n.md): help, click's own messages,
questionary's hints and error fields in the language of the run, and catalogues that
hold every string a command shows."""

from __future__ import annotations

import io
import json

import pytest
from conftest import World, hnce_command, on_a_terminal, run_hnce

from hnce_cli import catalogues, i18n

FIX = ("fix: python -m hnce_cli.catalogues extract; translate the empty msgstr in "
       "src/hnce_cli/locale/zh/LC_MESSAGES/hnce.po; python -m hnce_cli.catalogues compile (docs/i18n.md)")


pytestmark = pytest.mark.usefixtures("plain_locale")


def test_every_string_a_command_shows_is_in_both_catalogues() -> None:
    """Walks every registered command (cli.COMMANDS) as --help shows it: each help
    paragraph, each option's help, each summary, and click's own words. A new or changed
    string fails here until `python -m hnce_cli.catalogues extract` and a translation."""
    missing = [p for p in catalogues.problems() if "untranslated" in p]
    assert not missing, "\n".join([*missing, FIX])
    found = catalogues.strings()
    assert {"Log in; the session is kept in the current profile (file mode 600).",
            "18-digit resident ID number (the login).", "No such option: {name}"} <= set(found)
    for msgid in found:
        assert i18n.translated(msgid, "zh") and i18n.translated(msgid, "en"), msgid


def test_the_compiled_catalogues_are_the_po_files() -> None:
    """The .mo files the CLI reads are committed; they must be what the .po files compile to."""
    stale = [p for p in catalogues.problems() if "compiled" in p]
    assert not stale, "\n".join([*stale, FIX])


def test_the_platforms_words_stay_in_the_chinese_catalogue() -> None:
    for msgid, words in [("all 全部 | draft 待提交 | pending 待审核 | approved 审核通过 | rejected 审核不通过.",
                          ("待提交", "待审核", "审核通过", "审核不通过")),
                         ("Lists: only passed 通过 | not_passed 未通过.", ("通过", "未通过"))]:
        shown = i18n.translated(msgid, "zh") or ""
        assert all(word in shown for word in words), shown


def test_root_help_is_chinese_by_default() -> None:
    proc = run_hnce("--help")
    assert proc.returncode == 0, proc.stderr
    assert "用法 Usage: hnce" in proc.stdout
    assert "命令 Commands:" in proc.stdout and "选项 Options:" in proc.stdout
    assert "登录；会话保存在当前配置中" in proc.stdout
    assert "显示本帮助并退出。" in proc.stdout
    assert "Log in; the session" not in proc.stdout
    assert "示例 Example: hnce demo" in proc.stdout


def test_hnce_alone_shows_the_chinese_help() -> None:
    proc = run_hnce()
    assert "命令 Commands:" in proc.stdout + proc.stderr and "显示本帮助并退出。" in proc.stdout + proc.stderr


def test_a_commands_help_is_chinese_by_default_with_its_example_as_written() -> None:
    proc = run_hnce("register", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "注册专业技术人员；注册信息等待所在单位审核（待审核）。" in proc.stdout
    assert "18 位居民身份证号（即登录账号）。" in proc.stdout
    assert "Mainland mobile number." not in proc.stdout
    # The example is a command to copy: its lines are kept exactly.
    assert any(line.strip().startswith('echo "$PW" | hnce register --id-number 410105199001011233')
               for line in proc.stdout.splitlines()), proc.stdout


def test_chinese_help_fits_the_terminal() -> None:
    """A Chinese character takes two columns: lines are wrapped by columns, not characters."""
    proc = run_hnce("certificate", "batch", "--help", env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    wide = [line for line in proc.stdout.splitlines()
            if i18n.cell_width(line) > 80 and "hnce " not in line  # example lines are kept whole
            and not any(len(word) > 40 for word in line.split())]  # so is a path template
    assert not wide, "\n".join(wide)
    # …and as Chinese is typeset: no line starts with closing punctuation or ends with an opening bracket.
    for line in proc.stdout.splitlines():
        assert line.strip()[:1] not in set("，。；：、）") and line.rstrip()[-1:] != "（", line


@pytest.mark.parametrize("how", [{"env": {"LANG": "en_US.UTF-8"}}, {"env": {"HNCE_LANG": "en"}},
                                 {"args": ["--lang", "en"]}, {"args": ["--lang=en"]}],
                         ids=["LANG=en_US", "HNCE_LANG=en", "--lang en", "--lang=en"])
def test_help_in_english_on_request(how: dict) -> None:
    args, env = how.get("args", []), how.get("env", {})
    root = run_hnce(*args, "--help", env=env)
    assert root.returncode == 0, root.stderr
    assert "Usage: hnce" in root.stdout and "\nCommands:\n" in root.stdout
    assert "Log in; the session is kept in the current profile" in root.stdout
    assert "命令" not in root.stdout and "登录；" not in root.stdout
    register = run_hnce(*args, "register", "--help", env=env)
    assert register.returncode == 0, register.stderr
    assert "18-digit resident ID number (the login)." in register.stdout
    assert "Example:" in register.stdout and "示例" not in register.stdout


@pytest.mark.parametrize("args, env, language", [
    (["--lang", "zh"], {"HNCE_LANG": "en", "LANG": "en_US.UTF-8"}, "zh"),  # the flag first
    ([], {"HNCE_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),                 # then HNCE_LANG
    ([], {"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),           # then LC_ALL …
    ([], {"LC_MESSAGES": "en_US.UTF-8"}, "en"),
    ([], {"LANG": "zh_CN.UTF-8"}, "zh"),
    ([], {"LANG": "C"}, "zh"),                                               # then Chinese
    ([], {"HNCE_LANG": "fr", "LANG": "en_US.UTF-8"}, "en"),                 # a language hnce lacks: the locale
])
def test_which_language_a_run_speaks(args: list[str], env: dict[str, str], language: str) -> None:
    proc = run_hnce(*args, "--help", env=env)
    assert proc.returncode == 0, proc.stderr
    assert ("命令 Commands:" in proc.stdout) == (language == "zh"), proc.stdout


def test_an_unknown_option_is_a_usage_error_in_the_runs_language() -> None:
    zh = run_hnce("approve", "--no-such-option")
    assert zh.returncode == 2
    assert "用法 Usage: hnce approve" in zh.stderr
    assert "错误：没有这个选项：--no-such-option" in zh.stderr
    assert "运行 'hnce approve -h' 查看帮助。" in zh.stderr
    assert "Traceback" not in zh.stderr and "No such option" not in zh.stderr
    en = run_hnce("--lang", "en", "approve", "--no-such-option")
    assert en.returncode == 2
    assert "Error: No such option: --no-such-option" in en.stderr
    assert "Try 'hnce approve -h' for help." in en.stderr and "错误" not in en.stderr


@pytest.mark.parametrize("args, zh, en", [
    (["status"], "错误：缺少参数 'query'", "Error: Missing argument 'query'."),
    (["aprove"], "错误：没有这个命令：'aprove'", "Error: No such command 'aprove'."),
    (["--lang", "fr", "whoami"], "错误：'--lang' 的值无效 (invalid value)：'fr' 不是可选的值之一",
     "Error: Invalid value for '--lang': 'fr' is not one of 'zh', 'en'."),
    (["unit", "regions", "--limit", "x"], "错误：没有这个选项：--limit", "Error: No such option: --limit"),
    (["certificate", "batch", "--year", "abc", "--out", "x"], "'abc' 不是有效的整数",
     "Error: Invalid value for '--year': 'abc' is not a valid int range."),
    (["certificate", "batch", "--year", "1800", "--out", "x"], "1800 不在范围 2000<=x<=2100 内",
     "1800 is not in the range 2000<=x<=2100."),
], ids=["missing argument", "unknown command", "bad --lang", "nested group", "not a number", "out of range"])
def test_clicks_messages_in_both_languages(args: list[str], zh: str, en: str) -> None:
    chinese = run_hnce(*args)
    assert chinese.returncode == 2 and zh in chinese.stderr, chinese.stderr
    english = run_hnce(*args, env={"HNCE_LANG": "en"})
    assert english.returncode == 2 and en in english.stderr, english.stderr


def test_an_error_names_the_field_in_the_platforms_words_and_json_keeps_the_key(setup) -> None:  # noqa: ANN001
    bad = ["register", "--id-number", "410105199001011234", "--mobile", "12345", "--email", "a@b.cn",
           "--name", "王五", "--unit", "某单位", "--password-stdin"]
    zh = setup.run(*bad, input="Passw0rd2025\n", env={"HNCE_NO_PROMPT": "1"})
    assert zh.returncode == 2, zh.stdout + zh.stderr
    assert "身份证号 (id_number)" in zh.stderr and "手机号码 (mobile)" in zh.stderr, zh.stderr
    as_json = setup.run(*bad, "--json", input="Passw0rd2025\n", env={"HNCE_NO_PROMPT": "1"})
    fields = {p["field"] for p in json.loads(as_json.stdout)["error"]["problems"]}
    assert {"id_number", "mobile"} <= fields
    en = setup.run("--lang", "en", *bad, input="Passw0rd2025\n", env={"HNCE_NO_PROMPT": "1"})
    assert "  id_number: " in en.stderr and "身份证号 (id_number)" not in en.stderr, en.stderr


def test_one_field_errors_name_it_once() -> None:
    i18n.install("zh")
    try:
        assert i18n.field_label("id_number") == "身份证号 (id_number)"
        assert i18n.field_label("row 3: uscc") == "row 3: 统一社会信用代码 (uscc)"
        assert i18n.field_label("no_such_field") == "no_such_field"
    finally:
        i18n.restore(None)
    i18n.install("en")
    try:
        assert i18n.field_label("id_number") == "id_number"
    finally:
        i18n.restore(None)


def _select_screen(language: str) -> str:
    """What questionary's select draws (prompt_toolkit on a pipe), in `language`."""
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output.vt100 import Vt100_Output

    previous = i18n.install(language)
    try:
        i18n.localise_questionary()
        import questionary

        screen = io.StringIO()
        output = Vt100_Output(screen, lambda: Size(rows=24, columns=100), term="xterm")
        with create_pipe_input() as keys:
            keys.send_text("\r")
            answer = questionary.select("学习形式：", choices=["面授培训", "学术会议"], input=keys,
                                        output=output).unsafe_ask()
        assert answer == "面授培训"
        return screen.getvalue()
    finally:
        i18n.restore(previous)


def test_questionarys_list_hint_is_in_the_runs_language() -> None:
    assert "（用方向键选择，回车确定）" in _select_screen("zh")
    english = _select_screen("en")
    assert "(Use arrow keys)" in english and "方向键" not in english


@pytest.mark.parametrize("language, hint", [("zh", "（y 是 / N 否，回车为“否”）"), ("en", "(y/N)")])
def test_the_confirmation_hint_on_a_real_terminal(sqlite_world: World, language: str, hint: str) -> None:
    setup, number = sqlite_world.setup, sqlite_world.people_a[0].id_number
    env = {**setup.as_user(sqlite_world.a_admin1.token), "HNCE_LANG": language}
    env.pop("HNCE_NO_PROMPT", None)
    code, output, _ = on_a_terminal([*hnce_command(), "approve", number], env, columns=100, answer=b"n\r",
                                    when="确定吗".encode())
    assert code == 130, output
    assert hint in output, output
    other = "(y/N)" if language == "zh" else "（y 是"
    assert other not in output, output
