"""Chinese first, English on request: the language of a run and its gettext catalogues.

The people at the desks of Henan's accounting continuing-education platform read
Chinese; the words on screen are the platform's own (待提交, 待审核, 审核通过, 公需科目 …).
Help texts and options are written in the code in English with the platform's terms, as
the msgids of two catalogues (`locale/zh`, `locale/en`, docs/i18n.md): the Chinese one
gives what a desk sees by default, the English one what `--lang en` or an English locale
shows. The text is translated when it is shown (the help formatter below, the usage-error
printer, the questionary hints), so a command module never needs to know about languages.

The language of a run, most explicit first: `--lang zh|en`, then HNCE_LANG, then the
locale (LC_ALL, LC_MESSAGES, LANG: `en_*` is English), then Chinese. It is chosen once per
run by the root command (`install`); code outside a run (a test building a help text)
gets the environment's language. Loading a catalogue is one small file read, so
`hnce --help` stays within its 150 ms.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import IO, Any

import typer
from typer._click.formatting import HelpFormatter as _ClickHelpFormatter

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
DOMAIN = "hnce"
LOCALE_DIR = Path(__file__).with_name("locale")

_catalogues: dict[str, NullTranslations] = {}
_installed: str | None = None


# --- the language of a run -------------------------------------------------------------


def mo_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def known(value: str | None) -> str | None:
    """`zh`, `en` (or a locale name such as zh_CN.UTF-8, en_US) as a language; else None."""
    value = (value or "").strip().lower()
    for language in LANGUAGES:
        if value == language or value.startswith((f"{language}_", f"{language}-", f"{language}.")):
            return language
    return None


def flag(args: Sequence[str] | None) -> str | None:
    """The value of `--lang` on a command line (`--lang en` or `--lang=en`), if any."""
    if not args:
        return None
    args = list(args)
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            return known(args[index + 1])
        if arg.startswith("--lang="):
            return known(arg.partition("=")[2])
    return None


def choose(args: Sequence[str] | None = None, environ: Any = None) -> str:
    """The language of a run: --lang, then HNCE_LANG, then the locale, then Chinese."""
    environ = os.environ if environ is None else environ
    chosen = flag(args) or known(environ.get("HNCE_LANG"))
    if chosen:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):  # POSIX order: the first one set decides
        value = environ.get(name)
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def install(language: str) -> str | None:
    """Make `language` the run's language; returns the one before it (for `restore`)."""
    global _installed
    previous, _installed = _installed, language
    _localise_loaded_questionary()
    return previous


def restore(previous: str | None) -> None:
    global _installed
    _installed = previous
    _localise_loaded_questionary()


def current() -> str:
    """The run's language, or (outside a run) the environment's."""
    return _installed or choose()


def catalogue(language: str | None = None) -> NullTranslations:
    """The compiled catalogue of a language (read once per process)."""
    language = language or current()
    found = _catalogues.get(language)
    if found is None:
        try:
            with open(mo_path(language), "rb") as file:
                found = GNUTranslations(file)
        except OSError:  # a source checkout without catalogues: the msgids as written
            found = NullTranslations()
        _catalogues[language] = found
    return found


def _(message: str) -> str:
    """`message` (a msgid, as written in the code) in the run's language."""
    return catalogue().gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue().ngettext(singular, plural, n)


def translated(message: str, language: str) -> str | None:
    """The catalogue's own entry for `message` in `language`, or None when it has none
    (the completeness test asks this)."""
    found = catalogue(language)
    entry = getattr(found, "_catalog", {}).get(message)
    return entry or None


# --- help texts -----------------------------------------------------------------------

_EXAMPLE = re.compile(r"^(\x08\n)?(Examples?:)")


def help_text(text: str) -> str:
    """A command's help in the run's language, paragraph by paragraph: each prose
    paragraph is a msgid; an example paragraph keeps its command lines and only its
    heading (Example:) is translated."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        example = _EXAMPLE.match(paragraph)
        if example:
            paragraph = (example.group(1) or "") + _(example.group(2)) + paragraph[example.end():]
        elif paragraph.strip():
            paragraph = _(paragraph)
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _summary(text: str) -> str:
    """A command's one-line summary as a list of commands shows it. Click cuts a summary
    to the line ("...") or to its first sentence: the catalogue entry it was cut from is
    found by its start."""
    found = _(text)
    if found != text or not text:
        return found
    start = text.removesuffix("...")
    for msgid in getattr(catalogue(), "_catalog", {}):
        if isinstance(msgid, str) and msgid.startswith(start):
            shown = _(msgid)
            return text if shown == msgid else shown.split("\n", 1)[0]  # as written: click's cut
    return text


_EXTRA = re.compile(r"^(?P<help>.*?)(?:\s*)\[(?P<extra>[^\[\]]*)\]$", re.S)
_EXTRA_ITEMS = (("default: ", "default: {default}"), ("env var: ", "env var: {var}"))


def _option_help(text: str) -> str:
    """An option's help with typer's trailing `[default: …; required]` translated too."""
    found = _(text)
    if found != text:
        return found
    match = _EXTRA.match(text)
    if not match or not any(item.startswith(("default: ", "env var: ")) or item == "required"
                            for item in match.group("extra").split("; ")):
        return found
    items = []
    for item in match.group("extra").split("; "):
        for prefix, msgid in _EXTRA_ITEMS:
            if item.startswith(prefix):
                key = msgid[msgid.index("{") + 1:-1]
                item = _(msgid).format(**{key: item[len(prefix):]})
                break
        else:
            item = _(item)
        items.append(item)
    body = match.group("help").rstrip()
    body = _(body) if body else body
    return f"{body}  [{'; '.join(items)}]" if body else f"[{'; '.join(items)}]"


def cell_width(text: str) -> int:
    """Columns a text takes on a terminal: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def wrap(text: str, width: int) -> list[str]:
    """A paragraph cut into lines of at most `width` terminal columns: between words, and
    between any two Chinese characters (Chinese has no spaces); closing punctuation never
    starts a line."""
    tokens: list[str] = []
    for word in re.findall(r"\S+|\s+", " ".join(text.split())):
        if word.isspace():
            tokens.append(" ")
            continue
        run = ""
        for char in word:
            if _is_wide(char):
                if run:
                    tokens.append(run)
                    run = ""
                tokens.append(char)
            else:
                run += char
        if run:
            tokens.append(run)
    lines: list[str] = []
    line: list[str] = []
    used = 0  # columns of `line`
    for token in tokens:
        if token == " " and not line:
            continue
        size = cell_width(token)
        if line and used + size > width:
            carried: list[str] = []
            while token in _CLOSING and len(line) > 1 and (not carried or carried[0] in _CLOSING):
                carried.insert(0, line.pop())  # no line starts with closing punctuation
            while len(line) > 1 and line[-1] in _OPENING:
                carried.insert(0, line.pop())  # nor ends with an opening bracket
            lines.append("".join(line).rstrip())
            line = [] if token == " " else [*carried, token]
            used = sum(cell_width(t) for t in line)
        else:
            line.append(token)
            used += size
    if "".join(line).strip():
        lines.append("".join(line).rstrip())
    return lines or [""]


_CLOSING = frozenset("，。；：、）)】」』！？,.;:!?")
_OPENING = frozenset("（(【「『“‘")


def shorten(text: str, width: int) -> str:
    """A summary cut to `width` columns, ending with "…" when cut."""
    if cell_width(text) <= width:
        return text
    out = ""
    for char in text:
        if cell_width(out + char) > width - 1:
            break
        out += char
    return out.rstrip() + "…"


class HelpFormatter(_ClickHelpFormatter):
    """Click's help formatter, showing the run's language: headings (Usage, Options,
    Commands), help texts, option helps and command summaries go through the catalogue
    as they are written. Chinese is wrapped by terminal columns (click counts characters,
    and a Chinese character takes two)."""

    _section: str | None = None

    def _chinese(self) -> bool:
        return current() != "en"

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _(prefix if prefix is not None else "Usage: "))

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        outer, self._section = self._section, name
        try:
            with super().section(_(name)):
                yield
        finally:
            self._section = outer

    def write_text(self, text: str) -> None:
        text = help_text(text)
        if not self._chinese():
            super().write_text(text)
            return
        indent = " " * self.current_indent
        out = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("\x08\n"):  # click's "keep these lines as they are"
                out.append("\n".join(indent + line for line in paragraph[2:].splitlines()))
            else:
                width = max(self.width - self.current_indent, 20)
                out.append("\n".join(indent + line for line in wrap(paragraph, width)))
        self.write("\n\n".join(out))
        self.write("\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        commands = self._section == "Commands"
        rows = [(first, _summary(second) if commands else _option_help(second)) for first, second in rows]
        if not self._chinese():
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max((cell_width(first) for first, _second in rows), default=0), col_max) + col_spacing
        text_width = max(self.width - first_col - 2, 10)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            # A list of commands: one line each, as click shows it.
            lines = [shorten(second.split("\n", 1)[0], text_width)] if commands else wrap(second, text_width)
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class HelpContext(typer.Context):
    """The context of every hnce command: its help is written by HelpFormatter."""

    formatter_class = HelpFormatter


# --- click's own messages ---------------------------------------------------------------

# Click's usage errors, as English templates (msgids): the message click wrote is matched
# against them and shown from the catalogue, values as typed.
_USAGE_TEMPLATES = (
    "No such option: {name}",
    "No such command {name}.",
    "Missing command.",
    "Missing argument {name}.",
    "Missing option {name}.",
    "Missing parameter {name}.",
    "Invalid value for {name}: {reason}",
    "Invalid value: {reason}",
    "Option {name} does not take a value.",
    "Option {name} requires an argument.",
    "Option {name} requires {count} arguments.",
    "Got unexpected extra argument(s) ({args})",
    "Argument {name} takes {count} values.",
    "Could not open file {name}: {reason}",
)
_REASON_TEMPLATES = (
    "{value} is not a valid integer.",
    "{value} is not a valid float.",
    "{value} is not a valid boolean. Recognized values: {choices}",
    "{value} is not a valid UUID.",
    "{value} is not a valid {kind}.",
    "{value} is not one of {choices}.",
    "{value} is not in the range {range}.",
    "{value} does not match the formats {formats}.",
    "{value}: {reason}",
)
_KINDS = ("int", "int range", "float", "float range", "datetime", "boolean", "str")  # click's type names
_SUFFIXES = ("(Possible options: {options})", "Choose from:\n\t{choices}")  # for the catalogue


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(regex + r"\Z", re.S)


def _localise(message: str, templates: Sequence[str], inner: Sequence[str] = ()) -> str:
    for template in templates:
        match = _pattern(template).match(message)
        if match:
            values = match.groupdict()
            if "reason" in values and inner:
                values["reason"] = _localise(values["reason"], inner)
            if values.get("kind") in _KINDS:
                values["kind"] = _(values["kind"])
            return _(template).format(**values)
    return message


def usage_message(message: str) -> str:
    """One of click's usage-error messages in the run's language."""
    possible = re.match(r"(.*) \(Possible options: (.*)\)\Z", message, re.S)
    if possible:
        return (usage_message(possible.group(1)) + " "
                + _("(Possible options: {options})").format(options=possible.group(2)))
    choose_from = re.match(r"(.*?\.) Choose from:\n\t(.*)\Z", message, re.S)
    if choose_from:
        return (usage_message(choose_from.group(1)) + " "
                + _("Choose from:\n\t{choices}").format(choices=choose_from.group(2)))
    return _localise(message, _USAGE_TEMPLATES, _REASON_TEMPLATES)


def localise_usage_error(exc: BaseException) -> None:
    """Make one of click's own errors (Usage:, Error: No such option …) print in the run's
    language when typer shows it. Errors of hnce itself are not click's: nothing changes."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    if not isinstance(exc, ClickException) or isinstance(exc, NoArgsIsHelpError):
        return
    language = current()

    def show(file: IO[Any] | None = None) -> None:
        previous = install(language)
        try:
            from typer._click._compat import get_text_stderr
            from typer._click.utils import echo

            file = file or get_text_stderr()
            ctx = exc.ctx if isinstance(exc, UsageError) else None
            if ctx is not None:
                hint = ""
                if ctx.command.get_help_option(ctx) is not None:
                    hint = _("Try '{command} {option}' for help.").format(
                        command=ctx.command_path, option=ctx.help_option_names[0]) + "\n"
                echo(f"{ctx.get_usage()}\n{hint}", file=file, color=ctx.color)
            message = usage_message(exc.format_message())
            echo(_("Error: {message}").format(message=message), file=file,
                 color=ctx.color if ctx is not None else None)
        finally:
            restore(previous)

    exc.show = show  # type: ignore[method-assign]


# --- questionary's hints ----------------------------------------------------------------

# questionary's own English words: catalogue entries, like click's (catalogues.CLICK_WORDS).
QUESTIONARY_WORDS = (
    "(Use arrow keys)",
    "(Y/n)",
    "(y/N)",
    "Yes",
    "No",
    "(Finish with 'Alt+Enter' or 'Esc then Enter')\n>",
    "\nCancelled by user\n",
    "(Use arrow keys to move, <space> to select, <a> to toggle, <i> to invert)",
)
_QUESTIONARY_CONSTANTS = (  # (module, name, English value)
    ("questionary.constants", "YES_OR_NO", "(Y/n)"),
    ("questionary.constants", "NO_OR_YES", "(y/N)"),
    ("questionary.constants", "YES", "Yes"),
    ("questionary.constants", "NO", "No"),
    ("questionary.constants", "INSTRUCTION_MULTILINE", "(Finish with 'Alt+Enter' or 'Esc then Enter')\n>"),
    ("questionary.constants", "DEFAULT_KBI_MESSAGE", "\nCancelled by user\n"),
    ("questionary.prompts.confirm", "YES_OR_NO", "(Y/n)"),
    ("questionary.prompts.confirm", "NO_OR_YES", "(y/N)"),
    ("questionary.prompts.confirm", "YES", "Yes"),
    ("questionary.prompts.confirm", "NO", "No"),
    ("questionary.prompts.text", "INSTRUCTION_MULTILINE", "(Finish with 'Alt+Enter' or 'Esc then Enter')\n>"),
    ("questionary.question", "DEFAULT_KBI_MESSAGE", "\nCancelled by user\n"),
)


def questionary_hint(english: str) -> str:
    """One of questionary's hints in the run's language."""
    return _(english)


def _with_instruction(prompt: Any, english: str) -> Any:
    """A questionary list prompt whose default hint is in the run's language."""
    if getattr(prompt, "_hnce_localised", False):
        return prompt

    def ask(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("instruction") is None and not kwargs.get("use_shortcuts") \
                and not kwargs.get("use_search_filter"):
            kwargs["instruction"] = questionary_hint(english)
        return prompt(*args, **kwargs)

    ask._hnce_localised = True  # type: ignore[attr-defined]
    ask.__doc__, ask.__wrapped__ = prompt.__doc__, prompt  # type: ignore[attr-defined]
    return ask


def localise_questionary() -> None:
    """Put questionary's hints — `(Use arrow keys)`, `(y/N)`, its Yes/No — in the run's
    language, in every module that copied them. questionary (prompt_toolkit) takes a
    tenth of a second to import, so nothing is imported here: if it is not loaded yet, it
    is localised the moment a wizard first imports it."""
    import sys

    if "questionary" in sys.modules:
        _localise_loaded_questionary()
    elif not any(isinstance(finder, _QuestionaryFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuestionaryFinder())


def _localise_loaded_questionary() -> None:
    import sys

    questionary = sys.modules.get("questionary")
    if questionary is None or "questionary.prompts.confirm" not in sys.modules:
        return
    for module_name, name, english in _QUESTIONARY_CONSTANTS:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, name):
            setattr(module, name, questionary_hint(english))
    for name, english in (("select", "(Use arrow keys)"),
                          ("checkbox", "(Use arrow keys to move, <space> to select, <a> to toggle, "
                                       "<i> to invert)")):
        prompt = getattr(questionary, name, None)
        if prompt is not None:
            setattr(questionary, name, _with_instruction(prompt, english))


class _QuestionaryFinder:
    """Localises questionary right after its first import (see localise_questionary)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "questionary":
            return None
        import sys
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuestionaryFinder)]
            _localise_loaded_questionary()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


# --- the platform's words for fields ----------------------------------------------------

_FIELD_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def field_label(field: str) -> str:
    """The field of an error as a desk knows it: `身份证号 (id_number)` in Chinese (the
    stable key stays, as --json gives it and the flags are named), the key in English."""
    if current() == "en":
        return field
    from hnce_cli.terms import FIELD_LABELS

    if field in FIELD_LABELS:
        return f"{FIELD_LABELS[field]} ({field})"
    tokens = _FIELD_TOKEN.findall(field)
    last = tokens[-1] if tokens else ""
    if last in FIELD_LABELS and field.endswith(last):
        return f"{field[:-len(last)]}{FIELD_LABELS[last]} ({last})"
    return field


# --- hnce's own messages, fix hints and table words ------------------------------------

# hnce writes its messages in the house's bilingual form, the Chinese sentence first and
# the English in ASCII parentheses after it: `数据库正忙，请稍后重试 (database is busy)`,
# sometimes with a value or more English after the parenthesis (`服务器无响应 (timed
# out): https://…`). A Chinese desk reads it as written; English shows the English part
# and what follows it. The English part is the first parenthesis, after Chinese text, that
# starts with an ASCII letter or digit and holds an English word — not a code such as
# (UTC+8), (410000-ZS) or (U+0000) — and full-width （…） always belongs to the Chinese.
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_ENGLISH_WORD = re.compile(r"[a-z]{2,}")


def _parenthesised(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each top-level ASCII parenthesis of `text`, `(` to its own `)`:
    an English part may hold parentheses of its own (a driver's message)."""
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char == "(":
            if depth == 0:
                start = index
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                yield start, index + 1


def split_bilingual(message: str) -> tuple[str, str | None]:
    """A message in the house's form as (Chinese, English): `数据库正忙 (database is busy)`
    → ("数据库正忙", "database is busy"); what follows the parenthesis stays with the English
    (`服务器无响应 (timed out): https://x` → "timed out: https://x"), and so does a value
    quoted after the Chinese's last colon (`文件不存在：a.pdf (no such file)` → "no such
    file: a.pdf"); a value elsewhere in the Chinese is not carried over. A message without an
    English part (Chinese only, English only, or only codes in parentheses) gives
    (message, None): it is shown as written in either language."""
    for start, end in _parenthesised(message):
        head, inner = message[:start], message[start + 1:end - 1]
        if not _HAN.search(head) or not inner[:1].isascii() or not inner[:1].isalnum() \
                or not _ENGLISH_WORD.search(inner):
            continue
        english = inner
        value = head.rpartition("：")[2].strip() if "：" in head else ""
        if value and not _HAN.search(value):  # `文件不存在：/tmp/a (no such file)`: the value stays
            english = f"{inner}: {value}"
        return head.rstrip(), (english + message[end:]).strip()
    return message, None


def message(text: str) -> str:
    """One of hnce's messages (an error, a field's problem, a fix hint) in the run's
    language: its catalogue entry if it has one (fix hints written as constants do), else
    in Chinese as written and in English its English part (split_bilingual). --json never
    passes through here: scripts get the message as the service wrote it."""
    if not text:
        return text
    found = _(text)
    if found != text or current() != "en":
        return found
    return split_bilingual(text)[1] or text


def words(text: str) -> str:
    """A table's word (a column header, the renderer's own notes) in the run's language:
    the msgid is the Chinese as written; a word the catalogue lacks is shown as written."""
    return _(text) if text else text
