"""Field validation for people and units: ID numbers, USCC, mobile, e-mail, passwords.

Every check raises `ValidationFailed` naming the field, saying what is wrong and how
to fix it, so the CLI and the HTTP layer can show one consistent message. Standard
library only: these rules are fixed by national standards, not by a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hnce_cli import clock
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
