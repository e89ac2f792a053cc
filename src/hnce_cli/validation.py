"""Field validation, one field at a time: ID numbers, USCC, mobile, e-mail, passwords,
names, a declaration's form answers, entered credits, counted years and attachments.

Every check names the field, says what is wrong and how to fix it, so the CLI and the
HTTP layer show one consistent message. The services check a whole form with these
functions, and the wizards (`hnce register`, `hnce declare new`) check each answer
with the very same functions as it is typed: a wizard refuses exactly what the
service would, in the same words, before the next question. Standard library only
(and the text policy): these rules are fixed by national standards and by the
platform's forms, not by a database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple

from hnce_cli import clock
from hnce_cli import text as policy
from hnce_cli.errors import FieldProblem, ValidationFailed
from hnce_cli.masking import mask_id_number, mask_mobile  # noqa: F401  (the one masking rule, re-exported)

# --- Resident ID number (GB 11643-1999) -------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"

# Province-level prefixes. Only the first two digits are checked: the full 6-digit
# code is the one in force at issue time and retired codes stay valid for life.
_PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37}
    | {41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65}
    | {71, 81, 82, 83}
)
if TYPE_CHECKING:
    from hnce_cli.schemas import FormField

_HENAN_PREFIX = "41"
_EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class IdNumberInfo:
    """What a valid ID number tells us; used to cross-check forms and scope to Henan."""

    number: str  # normalised: 18 chars, upper-case X
    address_code: str  # first 6 digits
    birth_date: date
    gender: str  # "男" (order code odd) or "女"
    is_henan: bool  # address code starts with "41"


def id_check_char(first17: str) -> str:
    """Check character for the first 17 digits (also used to build demo data)."""
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError("id_check_char needs exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(
    value: str, *, field: str = "id_number", today: date | None = None
) -> IdNumberInfo:
    """Validate an 18-character ID number and extract birth date, gender and region."""
    number = value.strip().upper()
    if len(number) != 18:
        raise ValidationFailed.one(
            field,
            f"身份证号码应为 18 位，实际 {len(number)} 位 (ID number must be 18 characters)",
            "请核对证件上的 18 位号码；15 位旧号码请先换成 18 位 "
            "(enter the 18-character number from the ID card)",
        )
    if not _is_ascii_digits(number[:17]) or not (_is_ascii_digits(number[17]) or number[17] == "X"):
        raise ValidationFailed.one(
            field,
            "身份证号码只能是 17 位数字加 1 位数字或 X (ID number: 17 digits then a digit or X)",
            "去掉空格、横线等其他字符后重新输入 (remove spaces, hyphens and other characters)",
        )

    address_code = number[:6]
    if int(address_code[:2]) not in _PROVINCE_CODES:
        raise ValidationFailed.one(
            field,
            f"身份证号码前两位 {address_code[:2]} 不是有效的省级行政区划代码 "
            "(ID number: first two digits are not a valid province code)",
            "请核对号码前 6 位地址码 (re-check the first 6 digits)",
        )

    raw_birth = number[6:14]
    try:
        birth = date(int(raw_birth[:4]), int(raw_birth[4:6]), int(raw_birth[6:8]))
    except ValueError:
        raise ValidationFailed.one(
            field,
            f"身份证号码中的出生日期 {raw_birth} 不存在 "
            "(ID number: birth date digits 7-14 are not a real date)",
            "请核对号码第 7–14 位 (re-check digits 7-14)",
        ) from None
    current = today if today is not None else clock.today()
    if birth > current:
        raise ValidationFailed.one(
            field,
            f"身份证号码中的出生日期 {birth.isoformat()} 晚于今天 "
            "(ID number: birth date is in the future)",
            "请核对号码第 7–14 位 (re-check digits 7-14)",
        )
    if birth.year < _EARLIEST_BIRTH_YEAR:
        raise ValidationFailed.one(
            field,
            f"身份证号码中的出生日期 {birth.isoformat()} 早于 1900 年 "
            "(ID number: birth date is before 1900)",
            "请核对号码第 7–14 位 (re-check digits 7-14)",
        )

    if id_check_char(number[:17]) != number[17]:
        raise ValidationFailed.one(
            field,
            "身份证号码校验位不符，号码中有输错的数字 "
            "(ID number: check digit does not match, a digit is mistyped)",
            "请对照证件逐位核对号码 (re-check the number against the ID card)",
        )

    order = int(number[14:17])
    return IdNumberInfo(
        number=number,
        address_code=address_code,
        birth_date=birth,
        gender="男" if order % 2 == 1 else "女",
        is_henan=address_code.startswith(_HENAN_PREFIX),
    )


_GENDER_ALIASES = {
    "男": "男",
    "m": "男",
    "male": "男",
    "女": "女",
    "f": "女",
    "female": "女",
}


def normalise_gender(value: str, field: str = "gender") -> str:
    """Map 男/女/M/F/male/female (any case) to 男 or 女, the form the platform stores."""
    key = value.strip().lower()
    if key not in _GENDER_ALIASES:
        raise ValidationFailed.one(
            field,
            f"性别 {value!r} 无法识别 (gender not recognised)",
            "填写 男 或 女（也可用 M/F、male/female） (use 男/女, M/F or male/female)",
        )
    return _GENDER_ALIASES[key]


def check_birth_and_gender(
    info: IdNumberInfo, *, birth_date: date | None, gender: str | None
) -> None:
    """Catch forms whose birth date or gender contradicts the ID number; None = not given."""
    problems: list[FieldProblem] = []
    if birth_date is not None and birth_date != info.birth_date:
        problems.append(
            FieldProblem(
                "birth_date",
                f"出生日期 {birth_date.isoformat()} 与身份证号码中的 "
                f"{info.birth_date.isoformat()} 不一致 (birth date does not match the ID number)",
                "改正出生日期或身份证号码，使两者一致 (correct the birth date or the ID number)",
            )
        )
    if gender is not None:
        try:
            given = normalise_gender(gender)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
        else:
            if given != info.gender:
                problems.append(
                    FieldProblem(
                        "gender",
                        f"性别 {given} 与身份证号码（{info.gender}）不一致 "
                        "(gender does not match the ID number)",
                        "改正性别或身份证号码，使两者一致 (correct the gender or the ID number)",
                    )
                )
    if problems:
        message = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValidationFailed(message, problems=problems)


# --- Unified social credit code (GB 32100-2015) -------------------------------------

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """Check character for the first 17 USCC characters (also used to build demo data)."""
    if len(first17) != 17 or any(c not in _USCC_CHARSET for c in first17):
        raise ValueError("uscc_check_char needs 17 characters from the USCC charset")
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str, *, field: str = "uscc") -> str:
    """Return the upper-cased code if it is a well-formed USCC with a matching check char."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValidationFailed.one(
            field,
            f"统一社会信用代码应为 18 位，实际 {len(code)} 位 "
            "(unified social credit code must be 18 characters)",
            "请对照营业执照或登记证书核对 (copy it from the business licence)",
        )
    bad = sorted({c for c in code if c not in _USCC_CHARSET})
    if bad:
        raise ValidationFailed.one(
            field,
            f"统一社会信用代码含无效字符 {''.join(bad)}（不使用 I、O、Z、S、V） "
            "(unified social credit code has invalid characters; I O Z S V are never used)",
            "只用数字和大写字母；O 多半应为 0，I 多半应为 1 "
            "(use digits and capital letters; O is usually 0, I is usually 1)",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationFailed.one(
            field,
            "统一社会信用代码校验位不符，代码中有输错的字符 "
            "(unified social credit code: check character does not match)",
            "请对照营业执照逐位核对 (re-check it against the business licence)",
        )
    return code


# --- Contact details ----------------------------------------------------------------


def validate_mobile(value: str, *, field: str = "mobile") -> str:
    """Return an 11-digit mainland mobile number, dropping spaces, hyphens and +86."""
    number = "".join(c for c in value.strip() if c not in " -")
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if len(number) != 11 or not _is_ascii_digits(number) or number[0] != "1" or number[1] < "3":
        raise ValidationFailed.one(
            field,
            f"手机号码 {value!r} 无效：应为以 1 开头、第二位 3–9 的 11 位数字 "
            "(mobile must be 11 digits starting with 13-19)",
            "填写中国大陆手机号，如 13800138000 (enter a mainland mobile number)",
        )
    return number


_MAX_EMAIL_LENGTH = 254


def validate_email(value: str, *, field: str = "email") -> str:
    """Pragmatic e-mail check (catches typos, not deliverability); lower-cases the domain."""
    email = value.strip()
    local, at, domain = email.partition("@")
    labels = domain.split(".")
    ok = (
        at == "@"
        and "@" not in domain
        and bool(local)
        and len(labels) >= 2
        and all(labels)
        and not any(c.isspace() for c in email)
        and len(email) <= _MAX_EMAIL_LENGTH
    )
    if not ok:
        raise ValidationFailed.one(
            field,
            f"电子邮箱 {value!r} 格式不正确 (email address is not valid)",
            "格式如 name@example.com，不含空格，最长 254 个字符 "
            "(use name@example.com, no spaces, at most 254 characters)",
        )
    return f"{local}@{domain.lower()}"


# --- Passwords ----------------------------------------------------------------------

PASSWORD_POLICY = (
    "密码 8–64 位，至少含一个字母和一个数字，不能全是同一字符，不能包含身份证号或其后 6 位 "
    "(8-64 characters, at least one letter and one digit, not one repeated character, "
    "must not contain the ID number or its last 6 characters)"
)
_PASSWORD_MIN = 8
_PASSWORD_MAX = 64


def check_password_policy(
    password: str, *, id_number: str | None = None, field: str = "password"
) -> None:
    """Reject guessable passwords; the ID number tail is a common default, so it is banned."""
    reason: str | None = None
    if not _PASSWORD_MIN <= len(password) <= _PASSWORD_MAX:
        reason = f"密码长度为 {len(password)}，应为 8–64 位 (password must be 8-64 characters)"
    elif not any(c.isascii() and c.isalpha() for c in password):
        reason = "密码缺少字母 (password needs at least one letter)"
    elif not any(c.isascii() and c.isdigit() for c in password):
        reason = "密码缺少数字 (password needs at least one digit)"
    elif len(set(password)) == 1:
        reason = "密码不能全是同一字符 (password must not be one repeated character)"
    elif id_number:
        ident = id_number.strip().upper()
        upper = password.upper()
        if len(ident) >= 6 and (ident in upper or ident[-6:] in upper):
            reason = (
                "密码不能包含身份证号或其后 6 位 "
                "(password must not contain the ID number or its last 6 characters)"
            )
    if reason is not None:
        raise ValidationFailed.one(field, reason, PASSWORD_POLICY)


# --- Masking for display and logs ---------------------------------------------------


def _is_ascii_digits(text: str) -> bool:
    """str.isdigit accepts full-width and other Unicode digits; ID codes are ASCII only."""
    return text.isascii() and text.isdigit()


# --- Names --------------------------------------------------------------------------


def name_missing(field: str = "name") -> FieldProblem:
    """A registration without a name: the name is fixed after registration, so it is never guessed."""
    return FieldProblem(field, "姓名不能为空 (name is required)", "填写本人真实姓名 (give the real name)")


def check_person_name(value: str, *, field: str = "name") -> str:
    """A registrant's real name under the text policy (text.NAME), as it will be stored."""
    cleaned = policy.clean(value, field, policy.NAME, fix="retype the name by hand")
    if not cleaned:
        raise ValidationFailed(f"{field}: 姓名不能为空", problems=[name_missing(field)])
    return cleaned


# --- Counted years 计入年度 ---------------------------------------------------------


def open_years(deadlines: Mapping[int, date], today: date) -> list[int]:
    """Years one may still declare for: begun, and their deadline (截止日) not passed."""
    return sorted(y for y, deadline in deadlines.items() if y <= today.year and today <= deadline)


def pick_open_year(years: list[int], year: int | None, *, field: str = "year") -> int:
    """The counted year 计入年度 to use: the one given if open, else the only open year."""
    if year is None:
        if len(years) == 1:
            return years[0]
        if not years:
            raise ValidationFailed.one(field, "当前没有可申报的计入年度（申报截止日已过）",
                                       "declarations reopen when the next year's rules are loaded")
        raise ValidationFailed.one(field, "请指定计入年度", "give --year " + " or ".join(map(str, years)))
    if year not in years:
        listed = "、".join(str(y) for y in years) or "无"
        raise ValidationFailed.one(field, f"计入年度 {year} 不可申报：当前可申报的年度为 {listed}",
                                   "credits count only in their own year, declared by its deadline "
                                   "(31 December)")
    return year


# --- A declaration's form answers (学习形式的各项) -----------------------------------

FORM_TEXT_MAX = 200  # a free-text answer of any form (the forms file names no longer limit)

# A number typed as text, in ASCII digits: `int` and `float` also read ２, ٣ and 1_0.
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FORMAT_HINTS = {"date": "use YYYY-MM-DD", "int": "a whole number", "number": "a number"}


def parse_number(value: Any, kind: str) -> float | int:
    """A form's number: `int` whole, else a finite decimal; ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if not _INT_TEXT.fullmatch(str(value).strip()):
            raise ValueError(value)
        return int(str(value).strip())
    if not isinstance(value, int | float) and not _DECIMAL_TEXT.fullmatch(str(value).strip()):
        raise ValueError(value)
    number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError
    return number


class AnswerRule(NamedTuple):
    """One item of a learning form, as plain values: an import checks 100,000 rows with
    no attribute look-ups per answer, and a wizard checks one answer with the same rule."""

    name: str
    kind: str  # text | date | int | number | choice
    required: bool
    label: str
    low: float | None
    high: float | None
    choices: frozenset[str]
    listed: str  # the choices as shown in a message
    in_year: bool  # the form's date that must fall in the counted year


def answer_rule(field: FormField, *, in_year: bool) -> AnswerRule:
    return AnswerRule(field.name, field.type, field.required, field.label, field.min, field.max,
                      frozenset(field.choices or ()), " / ".join(field.choices or []), in_year)


def check_answer(rule: AnswerRule, raw: Any, *, year: int | None, today: date,
                 prefix: str = "") -> tuple[Any, FieldProblem | None]:
    """One answer: (its stored value, None); (None, None) for a blank optional item; or
    (None, what is wrong). `year` None (not known yet) skips only the counted-year test."""
    name, kind, required, label, low, high, choices, listed, in_year = rule
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            return None, FieldProblem(prefix + name, f"{label}：必填项", f"give {name}=…")
        return None, None
    try:
        if kind == "text":
            refused = policy.problem(str(raw), prefix + name, policy.TextRule(label, FORM_TEXT_MAX))
            if refused is not None:
                return None, refused
            return policy.normalise(str(raw)), None
        if kind == "choice":
            text = str(raw).strip()
            if text not in choices:
                return None, FieldProblem(prefix + name, f"{label}：{text} 不是可选项", "choose one of: " + listed)
            return text, None
        if kind == "date":
            day = date.fromisoformat(str(raw).strip())
            if day > today:
                return None, FieldProblem(prefix + name, f"{label}：{day} 晚于今天")
            if in_year and year is not None and day.year != year:
                return None, FieldProblem(prefix + name, f"{label}：{day} 不在计入年度 {year} 内",
                                          "credits count only in the year they were earned")
            return day.isoformat(), None
        number = parse_number(raw, kind)
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"{low:g}–{high:g}" if low is not None and high is not None else (
                f"≥ {low:g}" if low is not None else f"≤ {high:g}")
            return None, FieldProblem(prefix + name, f"{label}：{number} 超出范围（{bounds}）")
        return number, None
    except (ValueError, TypeError):
        return None, FieldProblem(prefix + name, f"{label}：格式不对（{raw}）", _FORMAT_HINTS[kind])


def entered_credits_problem(credits: float | None, max_entered: float | None, *,
                            field: str = "credits") -> FieldProblem | None:
    """Credits a person enters themself (forms whose credits are not computed): more than
    zero, at most the form's maximum, one decimal place."""
    if credits is None:
        return FieldProblem(field, "本学习形式须填写学分", f"give credits (at most {max_entered or 0:g})")
    if credits <= 0 or credits > (max_entered or 0) or round(credits, 1) != credits:
        return FieldProblem(field, f"学分 {credits:g} 超出本学习形式的上限（0–{max_entered or 0:g}，最多一位小数）",
                            f"at most {max_entered or 0:g}")
    return None


# --- Attachments 附件: proofs, checked by their content -----------------------------

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # per file, as uploaded
MAX_ATTACHMENTS = 5  # per declaration
MAX_ZIP_MEMBERS = 200
MAX_ZIP_UNPACKED = 100 * 1024 * 1024  # against zip bombs

MAGIC = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpeg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"PK\x03\x04", "zip", "application/zip"),
)
EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".zip": "zip"}
KIND_LABELS = {"pdf": "PDF", "jpeg": "JPEG 图片", "png": "PNG 图片", "zip": "ZIP 压缩包"}


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content: bytes
    sha256: str
    media_type: str
    size: int


def sniff(content: bytes) -> tuple[str, str] | None:
    """(kind, media type) by the file's first bytes, or None."""
    for magic, kind, media in MAGIC:
        if content.startswith(magic):
            return kind, media
    return None


def _zip_problem(content: bytes) -> str | None:
    import io
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError):
        return "ZIP 文件已损坏，无法打开"
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members:
            return "ZIP 中没有文件"
        if len(members) > MAX_ZIP_MEMBERS:
            return f"ZIP 中文件过多（{len(members)} 个，最多 {MAX_ZIP_MEMBERS} 个）"
        if sum(m.file_size for m in members) > MAX_ZIP_UNPACKED:
            return "ZIP 解压后过大"
        for member in archive.infolist():
            name = member.filename
            path = PurePosixPath(name.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or ":" in name:
                return f"ZIP 中的文件名不安全：{name}"
        for member in members:
            ext = PurePosixPath(member.filename).suffix.lower()
            try:
                with archive.open(member) as handle:
                    head = handle.read(16)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError):
                return f"ZIP 中的 {member.filename} 无法读取（已加密或已损坏）"
            found = sniff(head)
            if found is None or found[0] == "zip":
                return f"ZIP 中的 {member.filename} 不是 PDF、JPEG 或 PNG（按内容检查）"
            if EXTENSIONS.get(ext) != found[0]:
                return f"ZIP 中的 {member.filename} 扩展名与内容不符（内容是 {KIND_LABELS[found[0]]}）"
        try:
            bad = archive.testzip()
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
            return "ZIP 文件已损坏"
        if bad is not None:
            return f"ZIP 中的 {bad} 已损坏（校验失败）"
    return None


def attachment_name(filename: str, *, field: str = "attachments") -> str | FieldProblem:
    """The stored name of an attachment (its last path part, under the text policy), or
    why it is refused."""
    name = policy.normalise(PurePosixPath(filename.replace("\\", "/")).name)
    if not name:
        return FieldProblem(field, "附件缺少文件名")
    refused = policy.problem(name, field, policy.FILE_NAME,
                             fix="rename the file with plain characters and attach it again")
    return name if refused is None else refused


def attachment_type_problem(name: str, *, field: str = "attachments") -> FieldProblem | None:
    """A name whose extension is none of PDF, JPG, PNG, ZIP: told before the file is read."""
    ext = PurePosixPath(name).suffix.lower()
    if ext not in EXTENSIONS:
        return FieldProblem(f"{field}: {name}", f"不支持的文件类型 {ext or '（无扩展名）'}",
                            "attach .pdf, .jpg, .png, or one .zip holding several of them")
    return None


def attachment_size_problem(name: str, size: int, *, field: str = "attachments") -> FieldProblem | None:
    """A file over the per-file limit (10 MB), named: told before its bytes are read or sent."""
    if size > MAX_ATTACHMENT_BYTES:
        return FieldProblem(f"{field}: {name}", f"文件过大：{size / 1048576:.1f} MB，上限 "
                                                f"{MAX_ATTACHMENT_BYTES // 1048576} MB",
                            "scan at a lower resolution, or split it")
    return None


def check_file(filename: str, content: bytes, *, field: str = "attachments") -> CheckedFile | FieldProblem:
    """Accept or refuse one file; a refusal names the file and says why."""
    import hashlib

    name = attachment_name(filename, field=field)
    if isinstance(name, FieldProblem):
        return name
    where = f"{field}: {name}"
    too_large = attachment_size_problem(name, len(content), field=field)
    if too_large is not None:
        return too_large
    if not content:
        return FieldProblem(where, "文件为空")
    wrong_type = attachment_type_problem(name, field=field)
    if wrong_type is not None:
        return wrong_type
    ext = PurePosixPath(name).suffix.lower()
    expected = EXTENSIONS[ext]
    found = sniff(content)
    if found is None:
        return FieldProblem(where, f"文件内容不是 PDF、JPEG、PNG 或 ZIP（扩展名为 {ext}）",
                            "attach the scan itself, not a renamed file")
    kind, media = found
    if kind != expected:
        return FieldProblem(where, f"扩展名 {ext} 与文件内容不符：内容是 {KIND_LABELS[kind]}",
                            "rename the file to match what it is")
    if kind == "zip":
        problem = _zip_problem(content)
        if problem:
            return FieldProblem(where, problem, "a zip may hold only PDF, JPEG and PNG files")
    return CheckedFile(filename=name, content=content, sha256=hashlib.sha256(content).hexdigest(),
                       media_type=media, size=len(content))


def too_many_attachments(count: int, *, field: str = "attachments") -> FieldProblem | None:
    if count > MAX_ATTACHMENTS:
        return FieldProblem(field, f"附件最多 {MAX_ATTACHMENTS} 个", "put several scans in one .zip")
    return None
