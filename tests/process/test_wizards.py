"""The wizards of `hnce register` and `hnce declare new` on a real pseudo-terminal, typed
into as a person would: each wrong answer is refused right after it is given, under
its question, in the service's words, and the same question is asked again; the right
answer then goes on, and the registration or declaration is made. SQLite only: the
checks are the services' own functions (hnce_cli.validation), tested on every storage
with the services."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest
from conftest import World, hnce_command, new_id_number

from hnce_cli import clock

# What a terminal is sent besides text: escape sequences (colours, cursor moves, the
# cursor-position request) and carriage returns.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]|\r")
ENTER, DOWN, CTRL_C, CTRL_U = "\r", "\x1b[B", "\x03", "\x15"


class Terminal:
    """`hnce ARGS` on a pseudo-terminal: type, wait for text to be shown, read what was shown."""

    def __init__(self, args: list[str], env: dict[str, str], columns: int = 120) -> None:
        import pty

        env = {k: v for k, v in env.items() if k != "HNCE_NO_PROMPT"}
        env.update(TERM="xterm", COLUMNS=str(columns), LINES="40", PROMPT_TOOLKIT_NO_CPR="1")
        self.main, child = pty.openpty()
        os.set_blocking(self.main, False)
        self.proc = subprocess.Popen([*hnce_command(), *args], env=env, stdin=child, stdout=child,
                                     stderr=child, close_fds=True, start_new_session=True)
        os.close(child)
        self.raw = b""
        self.seen = 0  # how much of the shown text `expect` has consumed

    @property
    def shown(self) -> str:
        return _CONTROL.sub("", self.raw.decode(errors="replace"))

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.main], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self.main, 65536)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:  # the child closed the terminal
            return False
        self.raw += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 60) -> str:
        """Wait until `text` is shown after what was consumed; return the text shown before it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.shown.find(text, self.seen)
            if found >= 0:
                before = self.shown[self.seen:found]
                self.seen = found + len(text)
                return before
            if time.monotonic() > deadline or (self.proc.poll() is not None and not self._read(0.1)):
                raise AssertionError(f"{text!r} was not shown; the terminal shows:\n{self.shown[self.seen:]}")
            self._read(0.2)

    def type(self, keys: str) -> None:
        os.write(self.main, keys.encode())

    def answer(self, question: str, keys: str) -> str:
        """Wait for `question`, type `keys` and Enter; return what was shown before the question."""
        before = self.expect(question)
        time.sleep(0.05)  # the prompt reads keys once it is drawn
        self.type(keys + ENTER)
        return before

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.1):
            pass
        code = self.proc.wait(timeout=5)
        return code, self.shown

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.main)


@pytest.fixture
def terminals() -> list[Terminal]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def refused_then_asked_again(term: Terminal, question: str, wrong: str, error: str, right: str,
                             *, next_question: str) -> None:
    """Type `wrong` at `question`: `error` is shown right after it and the same question comes
    back before anything else is asked; then `right` is typed."""
    term.answer(question, wrong)
    shown = term.expect(error)
    assert next_question not in shown, f"{question} went on before refusing {wrong!r}:\n{shown}"
    between = term.expect(question)
    assert next_question not in between, f"after refusing {wrong!r} the wizard did not ask {question} again"
    time.sleep(0.05)
    term.type(right + ENTER)


def test_register_wizard_refuses_each_typo_at_once_and_asks_again(sqlite_world: World,
                                                                   terminals: list[Terminal]) -> None:
    setup = sqlite_world.setup
    term = Terminal(["register"], dict(setup.env))
    terminals.append(term)
    number = new_id_number("410105")
    mobile, email, password = "13912345678", "wang.wu@example.cn", "Kuaiji2026ok"

    refused_then_asked_again(term, "身份证号：", number[:17], "身份证号码应为 18 位，实际 17 位", number,
                             next_question="手机号码：")
    refused_then_asked_again(term, "手机号码：", mobile[:10], "手机号码 '1391234567' 无效", mobile,
                             next_question="电子邮箱：")
    refused_then_asked_again(term, "电子邮箱：", "wang.wu@example", "电子邮箱 'wang.wu@example' 格式不正确",
                             email, next_question="姓名：")
    term.answer("姓名：", "王五")
    # The policy is shown before the first password, then each try is held to it.
    term.expect("密码 8–64 位，至少含一个字母和一个数字")
    refused_then_asked_again(term, "密码：", "abc", "密码长度为 3，应为 8–64 位", password,
                             next_question="再次输入密码：")
    term.answer("再次输入密码：", password + "x")
    shown = term.expect("两次输入的密码不一致")
    assert "有无工作单位" not in shown
    term.answer("密码：", password)  # a mismatch asks for both again
    term.answer("再次输入密码：", password)
    term.answer("有无工作单位？", "")  # 有工作单位, the first choice
    term.answer("所在单位（全称或关键词）：", "河南测试甲")
    term.answer("选定单位：", "")
    code, shown = term.finish()
    assert code == 0, shown
    assert "注册信息已经提交审核" in shown
    row = setup.rows("SELECT name, mobile, email, status, unit_id FROM professional WHERE id_number = :n", n=number)
    assert [tuple(r) for r in row] == [("王五", mobile, email, "pending", sqlite_world.unit_a.id)]


def test_register_wizard_asks_again_for_a_flag_it_refuses(sqlite_world: World, terminals: list[Terminal]) -> None:
    """A mobile given as a flag with a digit missing is refused before the first question and
    asked for: the person fixes it there rather than after the whole form."""
    setup = sqlite_world.setup
    number = new_id_number("410105")
    term = Terminal(["register", "--id-number", number, "--mobile", "1391234567", "--email", "a@b.cn",
                     "--name", "李四", "--unit", str(sqlite_world.unit_a.id)], dict(setup.env))
    terminals.append(term)
    term.expect("手机号码 '1391234567' 无效")
    term.answer("手机号码：", "13912345679")
    term.expect("密码 8–64 位")
    term.answer("密码：", "Kuaiji2026ok")
    term.answer("再次输入密码：", "Kuaiji2026ok")
    code, shown = term.finish()
    assert code == 0, shown
    assert setup.scalar("SELECT mobile FROM professional WHERE id_number = :n", n=number) == "13912345679"


def test_ctrl_c_in_a_wizard_is_cancelled_exit_130(sqlite_world: World, terminals: list[Terminal]) -> None:
    setup = sqlite_world.setup
    before = setup.count("professional")
    term = Terminal(["register"], dict(setup.env))
    terminals.append(term)
    term.answer("身份证号：", new_id_number("410105"))
    term.expect("手机号码：")
    time.sleep(0.05)
    term.type(CTRL_C)
    code, shown = term.finish()
    assert code == 130, shown
    assert "已取消" in shown and "Traceback" not in shown
    assert setup.count("professional") == before


def test_declare_wizard_refuses_a_bad_date_a_number_out_of_range_and_a_missing_file(
        sqlite_world: World, terminals: list[Terminal], tmp_path: Path) -> None:
    setup = sqlite_world.setup
    person = sqlite_world.approved_person()
    today = clock.today()
    proof = tmp_path / "会议通知.pdf"
    proof.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("会议笔记")
    renamed = tmp_path / "照片.pdf"
    renamed.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    term = Terminal(["declare", "new", "--form", "conference"], setup.as_user(person.token))
    terminals.append(term)
    term.answer("会议名称：", "全省会计年会")
    term.answer("主办单位：", "河南省会计学会")
    # The date field is empty (today is only a grey hint): what is typed is the whole answer.
    refused_then_asked_again(term, "开始日期", f"{today.year}-13-01", f"开始日期：格式不对（{today.year}-13-01）",
                             today.isoformat(), next_question="会议天数")
    refused_then_asked_again(term, "会议天数", "31", "会议天数：31 超出范围（1–30）", "2",
                             next_question="附件")
    missing = tmp_path / "没有这个文件.pdf"
    refused_then_asked_again(term, "附件", str(missing), f"文件不存在：{missing}", str(notes),
                             next_question="提交")
    # A file of another type is refused when named, and so is a picture renamed to .pdf.
    shown = term.expect("不支持的文件类型 .txt")
    assert "提交" not in shown
    term.answer("附件", str(renamed))
    shown = term.expect("扩展名 .pdf 与文件内容不符：内容是 PNG 图片")
    assert "提交" not in shown
    term.answer("附件", str(proof))
    term.answer("附件", "")  # Enter: no more attachments
    term.answer("保存暂不提交", DOWN)  # the second choice: a draft
    code, shown = term.finish()
    assert code == 0, shown
    rows = setup.rows("SELECT d.status, d.credits, d.fields FROM declaration d JOIN professional p "
                      "ON p.id = d.professional_id WHERE p.id_number = :n", n=person.id_number)
    assert len(rows) == 1 and rows[0][0] == "draft" and rows[0][1] == 20
    assert f'"start_date": "{today.isoformat()}"' in rows[0][2]
    assert setup.count("attachment", "filename = :f", f="会议通知.pdf") == 1


def test_enter_on_an_empty_date_takes_today(sqlite_world: World, terminals: list[Terminal]) -> None:
    setup = sqlite_world.setup
    person = sqlite_world.approved_person()
    term = Terminal(["declare", "new", "--form", "conference", "--field", "meeting_name=年会",
                     "--field", "organizer=会计学会", "--field", "days=1", "--draft"], setup.as_user(person.token))
    terminals.append(term)
    term.answer("开始日期", "")
    term.answer("附件", "")
    code, shown = term.finish()
    assert code == 0, shown
    fields = setup.scalar("SELECT d.fields FROM declaration d JOIN professional p ON p.id = d.professional_id "
                          "WHERE p.id_number = :n", n=person.id_number)
    assert f'"start_date": "{clock.today().isoformat()}"' in fields


def test_entered_credits_are_checked_as_typed_and_an_optional_date_may_stay_empty(
        sqlite_world: World, terminals: list[Terminal]) -> None:
    """基层服务: the person enters the credits (at most 30, one decimal place); its end date is
    optional, so Enter leaves it empty rather than taking today."""
    setup = sqlite_world.setup
    person = sqlite_world.approved_person()
    term = Terminal(["declare", "new", "--form", "grassroots", "-F", "service=支教", "-F", "place=兰考",
                     "-F", f"start_date={clock.today().isoformat()}", "--draft"], setup.as_user(person.token))
    terminals.append(term)
    term.answer("结束日期（选填）", "")
    refused_then_asked_again(term, "学分（最多 30）", "十二", "学分：格式不对（十二）", "31", next_question="附件")
    shown = term.expect("学分 31 超出本学习形式的上限（0–30，最多一位小数）")
    assert "附件" not in shown
    term.answer("学分（最多 30）", "12.5")
    term.answer("附件", "")
    code, shown = term.finish()
    assert code == 0, shown
    row = setup.rows("SELECT d.credits, d.fields FROM declaration d JOIN professional p ON p.id = d.professional_id "
                     "WHERE p.id_number = :n", n=person.id_number)
    assert row[0][0] == 12.5 and "end_date" not in row[0][1]


def test_a_choice_given_wrong_as_a_flag_is_told_and_picked_from_the_list(
        sqlite_world: World, terminals: list[Terminal]) -> None:
    setup = sqlite_world.setup
    person = sqlite_world.approved_person()
    term = Terminal(["declare", "new", "--form", "paper", "-F", "title=论文一", "-F", "journal=会计研究",
                     "-F", "cn_number=11-1078/F", "-F", f"published_on={clock.today().isoformat()}",
                     "-F", "author_rank=第一作者", "--draft"], setup.as_user(person.token))
    terminals.append(term)
    term.expect("第一作者 不是可选项")
    term.answer("作者排名", "")  # the list's first choice: 独立或第一作者
    term.answer("附件", "")
    code, shown = term.finish()
    assert code == 0, shown
    credits = setup.scalar("SELECT d.credits FROM declaration d JOIN professional p ON p.id = d.professional_id "
                           "WHERE p.id_number = :n", n=person.id_number)
    assert credits == 30
