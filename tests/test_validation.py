"""Tests for hnce_cli.validation: each rule with a passing and a failing case."""

from __future__ import annotations

from datetime import date

import pytest

from hnce_cli.errors import ValidationFailed
from hnce_cli.validation import (
    IdNumberInfo,
    check_birth_and_gender,
    check_password_policy,
    id_check_char,
    mask_id_number,
    mask_mobile,
    normalise_gender,
    parse_id_number,
    uscc_check_char,
    validate_email,
    validate_mobile,
    validate_uscc,
)

TODAY = date(2025, 6, 1)


def make_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [p.field for p in exc.value.problems]


# --- ID number ---------------------------------------------------------------------


def test_known_standard_example_with_lower_case_x() -> None:
    # Example number from GB 11643-1999 itself; check char X, typed lower-case.
    info = parse_id_number(" 11010519491231002x ", today=TODAY)
    assert info == IdNumberInfo(
        number="11010519491231002X",
        address_code="110105",
        birth_date=date(1949, 12, 31),
        gender="女",
        is_henan=False,
    )


def test_id_check_char_values() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("41270119800101001") == "6"
    with pytest.raises(ValueError):
        id_check_char("1234")


def test_henan_male_id() -> None:
    number = make_id("41010519900307123")
    info = parse_id_number(number, today=TODAY)
    assert info.is_henan is True
    assert info.gender == "男"
    assert info.birth_date == date(1990, 3, 7)
    assert info.address_code == "410105"


def test_retired_address_code_is_accepted() -> None:
    # 412701 = 周口地区, retired when it became a prefecture-level city.
    number = make_id("41270119800101002")
    info = parse_id_number(number, today=TODAY)
    assert info.address_code == "412701"
    assert info.is_henan is True
    assert info.gender == "女"


def test_non_henan_code_is_accepted() -> None:
    info = parse_id_number(make_id("11010119850615003"), today=TODAY)
    assert info.is_henan is False


@pytest.mark.parametrize("value", ["4101051990030712", "4101051990030712345", ""])
def test_id_wrong_length(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(value, today=TODAY)
    assert fields(exc) == ["id_number"]
    assert "18" in exc.value.problems[0].message


@pytest.mark.parametrize(
    "value", ["41010519900307A234", "4101051990030712Y4", "41010519900307123Y"]
)
def test_id_bad_characters(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(value, field="applicant.id_number", today=TODAY)
    assert fields(exc) == ["applicant.id_number"]


def test_id_bad_province_code() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(make_id("99010519900307123"), today=TODAY)
    assert fields(exc) == ["id_number"]
    assert "省级" in exc.value.problems[0].message


def test_id_impossible_birth_date() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(make_id("41010519990230123"), today=TODAY)
    assert fields(exc) == ["id_number"]
    assert "19990230" in exc.value.problems[0].message


def test_id_future_birth_date() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(make_id("41010520250602123"), today=TODAY)
    assert fields(exc) == ["id_number"]
    assert "future" in exc.value.problems[0].message


def test_id_birth_date_today_is_fine() -> None:
    assert parse_id_number(make_id("41010520250601123"), today=TODAY).birth_date == TODAY


def test_id_birth_before_1900() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(make_id("41010518991231123"), today=TODAY)
    assert fields(exc) == ["id_number"]


def test_id_wrong_check_digit_does_not_reveal_expected() -> None:
    good = make_id("41010519900307123")  # check char X
    bad = good[:17] + "5"
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(bad, today=TODAY)
    problem = exc.value.problems[0]
    assert problem.field == "id_number"
    assert "check digit" in problem.message
    assert good[17] == "X"
    assert "X" not in problem.message
    assert problem.fix


def test_id_default_today_uses_clock() -> None:
    assert parse_id_number(make_id("41010519900307123")).birth_date == date(1990, 3, 7)


# --- Birth date / gender cross-check ---------------------------------------------------


@pytest.fixture
def female_info() -> IdNumberInfo:
    return parse_id_number(make_id("41010519900307124"), today=TODAY)


def test_cross_check_matches(female_info: IdNumberInfo) -> None:
    check_birth_and_gender(female_info, birth_date=date(1990, 3, 7), gender="F")
    check_birth_and_gender(female_info, birth_date=None, gender="Female")
    check_birth_and_gender(female_info, birth_date=None, gender=None)
    check_birth_and_gender(female_info, birth_date=None, gender="女")


def test_gender_mismatch(female_info: IdNumberInfo) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_birth_and_gender(female_info, birth_date=None, gender="male")
    assert fields(exc) == ["gender"]


def test_birth_mismatch(female_info: IdNumberInfo) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_birth_and_gender(female_info, birth_date=date(1990, 7, 3), gender=None)
    assert fields(exc) == ["birth_date"]


def test_both_mismatch_listed_together(female_info: IdNumberInfo) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_birth_and_gender(female_info, birth_date=date(1991, 3, 7), gender="M")
    assert fields(exc) == ["birth_date", "gender"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("男", "男"), ("M", "男"), ("male", "男"), ("MALE", "男"), ("女", "女"), ("f", "女")],
)
def test_normalise_gender(value: str, expected: str) -> None:
    assert normalise_gender(value) == expected


def test_normalise_gender_unknown() -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalise_gender("x", field="sex")
    assert fields(exc) == ["sex"]


# --- USCC -------------------------------------------------------------------------------


def test_uscc_valid() -> None:
    first17 = "91410100MA44XXXXX"
    code = first17 + uscc_check_char(first17)
    assert validate_uscc(f"  {code.lower()} ") == code
    # A published real-world code, verified independently.
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


def test_uscc_wrong_check_char() -> None:
    first17 = "91410100MA44XXXXX"
    good = uscc_check_char(first17)
    wrong = next(c for c in "0123456789" if c != good)
    with pytest.raises(ValidationFailed) as exc:
        validate_uscc(first17 + wrong, field="unit.uscc")
    assert fields(exc) == ["unit.uscc"]


def test_uscc_bad_char_i() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_uscc("91410100MI44XXXXX0")
    assert fields(exc) == ["uscc"]
    assert "I" in exc.value.problems[0].message


def test_uscc_wrong_length() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_uscc("9141010")
    assert fields(exc) == ["uscc"]


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("91410100MO44XXXXX")


# --- Mobile / e-mail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["13800138000", "+86 138-0013-8000", "8613800138000", " 199 0000 1111 "]
)
def test_mobile_valid(value: str) -> None:
    assert len(validate_mobile(value)) == 11


@pytest.mark.parametrize("value", ["12800138000", "1380013800", "23800138000", "1380013800a"])
def test_mobile_invalid(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_mobile(value)
    assert fields(exc) == ["mobile"]


def test_email_valid_lowercases_domain() -> None:
    assert validate_email(" Zhang.San@Example.COM ") == "Zhang.San@example.com"


@pytest.mark.parametrize(
    "value",
    [
        "zhang",
        "@example.com",
        "zhang@",
        "zhang@example",
        "zh ang@example.com",
        "a@b@c.com",
        "a@example..com",
        "a" * 250 + "@b.cn",
    ],
)
def test_email_invalid(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_email(value, field="contact_email")
    assert fields(exc) == ["contact_email"]


# --- Password -------------------------------------------------------------------------


def test_good_password() -> None:
    check_password_policy("Kuaiji2025!", id_number=make_id("41010519900307123"))


@pytest.mark.parametrize("password", ["abc123", "abcdefgh", "12345678", "a1" * 33, ""])
def test_weak_passwords(password: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_password_policy(password)
    assert fields(exc) == ["password"]
    assert "8" in (exc.value.problems[0].fix or "")


def test_password_contains_id_tail() -> None:
    number = make_id("41010519900307123")  # ends in 07123X
    with pytest.raises(ValidationFailed) as exc:
        check_password_policy("pass07123x", id_number=number, field="new_password")
    assert fields(exc) == ["new_password"]


def test_password_contains_whole_id() -> None:
    number = make_id("41010519900307125")
    with pytest.raises(ValidationFailed) as exc:
        check_password_policy("a" + number, id_number=number)
    assert fields(exc) == ["password"]


# --- Masking ----------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number("410105199003071234") == "410105********1234"
    assert mask_id_number("410105900307123") == "410105*****7123"
    assert mask_id_number("12345") == "*****"


def test_mask_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("1234") == "****"
