"""The text policy: what free text from outside may hold, checked once at the service
boundary, so the CLI, the wizard, imports and the API give the same answer.

Registration needs no login, so names, units, schools and reasons come from strangers
and end up in the tables, files and official documents others read. A value is NFC
normalised and stripped; it may not hold

- C0 or C1 control characters (escape sequences, carriage returns, NUL, backspace):
  they would act on a terminal or a document instead of being shown;
- bidi controls (U+202A–202E, U+2066–2069, U+200E/200F, U+061C): a U+202E name prints as
  a different, genuine-looking name;
- zero-width and invisible characters (U+200B–200D, U+2060–2064, U+FEFF, U+00AD,
  U+2028/2029): two different records that look the same.

Every real character stays: CJK in all its extensions (王䶮, 李𬌗, 欧阳𫍯), the middle dot of
minority and foreign names (买买提·艾力), letters of every script. Multi-line fields (a
reason) may hold line feeds and nothing else of the above.

Values already stored are shown through `visible`, so rows written before this policy,
or straight into the database, still display as what they are (`hnce db check` lists them).
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from hnce_cli.errors import FieldProblem, ValidationFailed

# What a terminal or a document would act on instead of showing, or what shows as nothing.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# soft hyphen, Mongolian vowel separator, zero-width, line and paragraph separators, word
# joiner and invisible operators, BOM, interlinear annotation, the tag characters (invisible
# text that some software still reads), lone surrogates
_INVISIBLE = ("\u00ad\u180e\u200b-\u200d\u2028\u2029\u2060-\u2064\ufeff\ufff9-\ufffb"
              "\U000e0000-\U000e007f\ud800-\udfff")
_HIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}]")
_HIDDEN_BUT_LINE_FEED = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}]")


class TextRule(NamedTuple):
    """A free-text field: its name in the platform's words and its length limit."""

    label: str
    max_chars: int
    multiline: bool = False
    max_bytes: int | None = None  # file names: what a file system holds (UTF-8 bytes)


# Every free-text field that comes from outside, by the name the API and the CLI use.
# The limits are the columns' (models.py; a test holds them equal).
NAME = TextRule("姓名", 64)
DEPARTMENT = TextRule("工作部门", 100)
ETHNICITY = TextRule("民族", 20)
NATIVE_PLACE = TextRule("籍贯", 100)
SCHOOL = TextRule("毕业院校", 100)
MAJOR = TextRule("所学专业", 100)
TITLE = TextRule("专业技术职务", 50)
UNIT_NAME = TextRule("单位名称", 200)
ACCOUNT_NAME = TextRule("姓名", 64)
LOGIN = TextRule("账号", 64)
REASON = TextRule("原因", 500, multiline=True)
FILE_NAME = TextRule("附件文件名", 255, max_bytes=255)
SEARCH = TextRule("查询内容", 100)
UNIT_REF = TextRule("单位", 200)  # a unit named by id, USCC or full name
REGION_REF = TextRule("区域", 64)  # a region named by code or name

PROFILE = {"name": NAME, "department": DEPARTMENT, "ethnicity": ETHNICITY, "native_place": NATIVE_PLACE,
           "school": SCHOOL, "major": MAJOR, "title": TITLE}


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def problem(value: str | None, field: str, rule: TextRule, *, fix: str | None = None) -> FieldProblem | None:
    """What is wrong with `value` for `field` under the policy, or None. The value as it
    will be stored is `clean(value)`: this checks that form."""
    if value is None:
        return None
    text = normalise(value)
    hidden = (_HIDDEN_BUT_LINE_FEED if rule.multiline else _HIDDEN).search(text)
    if hidden is not None:
        where = f"位于第 {hidden.start() + 1} 个字符"
        return FieldProblem(
            field, f"{rule.label}含有不可见字符或控制字符 {_describe(hidden.group())}，{where} "
                   "(control or invisible character)",
            fix or "retype the value by hand; do not paste it from another document")
    if len(text) > rule.max_chars:
        return FieldProblem(field, f"{rule.label}最多 {rule.max_chars} 个字符，实际 {len(text)} 个 "
                                   f"(at most {rule.max_chars} characters)",
                            fix or f"shorten it to {rule.max_chars} characters")
    if rule.max_bytes is not None and len(text.encode()) > rule.max_bytes:
        return FieldProblem(field, f"{rule.label}最多 {rule.max_bytes} 字节，实际 {len(text.encode())} 字节 "
                                   f"(at most {rule.max_bytes} bytes in UTF-8; a Chinese character takes 3)",
                            fix or "rename the file with a shorter name")
    return None


def normalise(value: str) -> str:
    """The stored form of a value: NFC (one code point sequence for one written text), stripped."""
    return unicodedata.normalize("NFC", value).strip()


def clean(value: str, field: str, rule: TextRule, *, fix: str | None = None) -> str:
    """The value as stored, or ValidationFailed naming the field and the fix."""
    found = problem(value, field, rule, fix=fix)
    if found is not None:
        raise ValidationFailed(f"{field}: {found.message}", problems=[found])
    return normalise(value)


def clean_optional(value: str | None, field: str, rule: TextRule) -> str | None:
    """`clean` for an optional field: None and blanks are None."""
    if value is None or not value.strip():
        return None
    return clean(value, field, rule)


def breaks_policy(value: str, rule: TextRule) -> str | None:
    """Why a stored value breaks the policy (for `hnce db check`), or None."""
    if unicodedata.normalize("NFC", value) != value:
        return "未按 NFC 规范化 (not NFC normalised)"
    found = problem(value, "", rule)
    return None if found is None else found.message


def first_hidden(value: str) -> str | None:
    """The first control or invisible character of `value` (see the module's list), or None:
    the one definition the policy, file names and certificates use."""
    found = _HIDDEN.search(value)
    return None if found is None else found.group()


# What no text hnce takes may hold, whatever the field (a password, a form answer, a key of a
# forms file): C0 and C1 control characters but the line feed of a multi-line reason, and lone
# surrogates (half a character: no encoding writes them, PostgreSQL refuses them). The HTTP API
# refuses them in every parameter and body before a route runs (server/boundary.py); the
# policy of each field above is stricter.
_NEVER_TEXT = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def never_text(value: str) -> FieldProblem | None:
    """The first character no field may hold (see _NEVER_TEXT), as a problem of an unnamed
    field (the caller names it), or None."""
    found = _NEVER_TEXT.search(value)
    if found is None:
        return None
    char = found.group()
    zh, en = ("不成对的代理码位", "a lone surrogate: half of a character") if "\ud800" <= char <= "\udfff" \
        else ("控制字符", "control character")
    return FieldProblem("", f"含有{zh} {_describe(char)}，位于第 {found.start() + 1} 个字符 ({en})",
                        "remove it: retype the value by hand, or send the text as UTF-8 without control characters")


def visible(text: str) -> str:
    """Text as it was typed, never as terminal codes: every control or invisible character
    shown escaped (\\x1b, \\u202e), so what is shown is what is stored."""
    return _HIDDEN.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def is_ascii_digits(text: str) -> bool:
    """Only 0–9: `str.isdigit` also takes ², ³ and other digits `int()` refuses or reads."""
    return bool(text) and text.isascii() and text.isdigit()
