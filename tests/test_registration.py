"""Registration (注册): every rule of the form with a passing and a failing case,
through the backend and through `hnce register`."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import (
    PASSWORD,
    Setup,
    World,
    error_fields,
    json_out,
    new_id_number,
    new_mobile,
    registration,
)

from hnce_cli.errors import ValidationFailed
from hnce_cli.validation import id_check_char


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [p.field for p in exc.value.problems]


def snapshot(setup: Setup) -> tuple[int, int, int]:
    return (setup.count("professional"), setup.count("account"), setup.count("audit_log"))


def refused(world: World, **overrides: object) -> list[str]:
    """Register with `overrides` (unit A unless given); assert it is refused and nothing
    is written; return the fields the error names."""
    before = snapshot(world.setup)
    overrides.setdefault("unit", str(world.unit_a.id))
    with pytest.raises(ValidationFailed) as exc:
        world.setup.backend().register(registration(**overrides))
    assert snapshot(world.setup) == before
    return fields_of(exc)


def with_check_char(first17: str) -> str:
    return first17 + id_check_char(first17)


# --- the rules, through the backend -----------------------------------------------


def test_valid_registration_is_pending_with_one_audit_row(sqlite_world: World) -> None:
    setup = sqlite_world.setup
    number = with_check_char("41010519900307123")
    audit_before = setup.count("audit_log")
    person = setup.backend().register(registration(
        str(sqlite_world.unit_a.id), id_number=number, name="李会计", gender="男",
        birth_date=date(1990, 3, 7)))
    assert person.status == "pending"
    assert person.status_label == "待审核"
    assert person.unit_name == sqlite_world.unit_a.name
    assert (person.gender, person.birth_date) == ("男", date(1990, 3, 7))
    row = setup.rows("SELECT p.status, a.role, a.login FROM professional p "
                     "JOIN account a ON a.id = p.account_id WHERE p.id_number = :n", n=number)
    assert [tuple(r) for r in row] == [("pending", "professional", number)]
    assert setup.count("audit_log") == audit_before + 1
    audit = setup.rows("SELECT action, subject_type, subject_id, after FROM audit_log "
                       "ORDER BY id DESC LIMIT 1")[0]
    assert (audit.action, audit.subject_type, audit.subject_id) == (
        "registration.submit", "professional", str(person.id))
    assert json.loads(audit.after)["status"] == "pending"


def test_lower_case_x_is_the_same_id_number(sqlite_world: World) -> None:
    number = next(n for n in (with_check_char(f"41010519910505{order:03d}") for order in range(1000))
                  if n.endswith("X"))
    person = sqlite_world.setup.backend().register(
        registration(str(sqlite_world.unit_a.id), id_number=number.lower()))
    assert person.id_number == number
    assert refused(sqlite_world, id_number=number) == ["id_number"]  # now a duplicate


def test_id_number_checksum(sqlite_world: World) -> None:
    good = new_id_number()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert refused(sqlite_world, id_number=wrong) == ["id_number"]
    assert sqlite_world.setup.backend().register(
        registration(str(sqlite_world.unit_a.id), id_number=good)).status == "pending"


def test_impossible_birth_date_in_id_number(sqlite_world: World) -> None:
    assert refused(sqlite_world, id_number=with_check_char("41010519990230123")) == ["id_number"]
    assert refused(sqlite_world, id_number=with_check_char("41010519991301123")) == ["id_number"]
    sqlite_world.register(id_number=with_check_char("41010520000229123"))  # a leap day exists


def test_gender_must_match_id_number(sqlite_world: World) -> None:
    male = new_id_number(male=True)
    assert refused(sqlite_world, id_number=male, gender="女") == ["gender"]
    assert refused(sqlite_world, id_number=new_id_number(male=False), gender="male") == ["gender"]
    assert sqlite_world.register(id_number=male, gender="男").gender == "男"
    assert sqlite_world.register(id_number=new_id_number(male=False), gender="F").gender == "女"


def test_birth_date_must_match_id_number(sqlite_world: World) -> None:
    number = new_id_number(birth=date(1985, 6, 15))
    assert refused(sqlite_world, id_number=number, birth_date=date(1985, 6, 16)) == ["birth_date"]
    person = sqlite_world.register(id_number=number, birth_date=date(1985, 6, 15))
    assert person.birth_date == date(1985, 6, 15)


def test_birth_date_is_taken_from_id_number_when_not_given(sqlite_world: World) -> None:
    person = sqlite_world.register(id_number=new_id_number(birth=date(1979, 12, 31), male=False))
    assert (person.birth_date, person.gender) == (date(1979, 12, 31), "女")


@pytest.mark.parametrize("mobile", ["1380013800", "23800138000", "12800138000", "138001380001",
                                    "1380013800a"])
def test_bad_mobile_is_refused(sqlite_world: World, mobile: str) -> None:
    assert refused(sqlite_world, mobile=mobile) == ["mobile"]


def test_mobile_in_everyday_spellings_is_stored_as_11_digits(sqlite_world: World) -> None:
    person = sqlite_world.register(mobile="+86 139-1234-5678")
    assert person.mobile == "13912345678"


@pytest.mark.parametrize("email", ["someone", "someone@example", "a b@example.cn", "a@@example.cn",
                                   "@example.cn", "a@example..cn"])
def test_bad_email_is_refused(sqlite_world: World, email: str) -> None:
    assert refused(sqlite_world, email=email) == ["email"]


def test_good_email_is_accepted(sqlite_world: World) -> None:
    assert sqlite_world.register(email="Li.Kuaiji+ce@Example.CN").email == "Li.Kuaiji+ce@example.cn"


@pytest.mark.parametrize("password", ["short1a", "onlyletters", "1234567890", "aaaaaaaa"])
def test_weak_password_is_refused(sqlite_world: World, password: str) -> None:
    assert refused(sqlite_world, password=password) == ["password"]


def test_password_containing_the_id_number_tail_is_refused(sqlite_world: World) -> None:
    number = new_id_number()
    assert refused(sqlite_world, id_number=number, password=f"abc{number[-6:]}") == ["password"]
    assert sqlite_world.register(id_number=number, password="Kuaiji2025x").status == "pending"


def test_duplicate_id_number_is_refused(sqlite_world: World) -> None:
    existing = sqlite_world.people_a[0].id_number
    assert refused(sqlite_world, id_number=existing) == ["id_number"]
    # Also when the first registration is in another unit.
    assert refused(sqlite_world, id_number=existing, unit=str(sqlite_world.unit_b.id)) == ["id_number"]


def test_every_bad_field_is_named_at_once(sqlite_world: World) -> None:
    assert sorted(refused(sqlite_world, mobile="123", email="nope", password="weak")) == [
        "email", "mobile", "password"]


@pytest.mark.parametrize("region", ["省直", "410000-ZS", "郑州市市直", "410100-ZS", "郑州市", "河南省"])
def test_no_employer_may_not_pick_provincial_or_city_level(sqlite_world: World, region: str) -> None:
    assert refused(sqlite_world, unit=None, has_employer=False, region=region) == ["region"]


def test_no_employer_lands_in_the_areas_temporary_unit(sqlite_world: World) -> None:
    setup = sqlite_world.setup
    person = setup.backend().register(registration(has_employer=False, region="金水区"))
    # the bureau manages them; it does not employ them (terms.unit_label)
    assert person.unit_name == "无工作单位（临时管理单位：金水区财政局）"
    assert person.unit_kind == "temporary"
    assert person.unit_id == sqlite_world.temp_unit.id
    by_code = setup.backend().register(registration(has_employer=False, region="410302"))
    assert by_code.unit_name == "无工作单位（临时管理单位：老城区财政局）"


def test_no_employer_with_unknown_region(sqlite_world: World) -> None:
    assert refused(sqlite_world, unit=None, has_employer=False, region="火星区") == ["region"]


def test_unknown_unit_is_refused(sqlite_world: World) -> None:
    assert refused(sqlite_world, unit="不存在的单位有限公司") == ["unit"]
    assert refused(sqlite_world, unit="999999") == ["unit"]


def test_unit_by_name_or_uscc(sqlite_world: World) -> None:
    by_name = sqlite_world.setup.backend().register(registration(sqlite_world.unit_a.name))
    by_uscc = sqlite_world.setup.backend().register(registration(sqlite_world.unit_b.uscc))
    assert (by_name.unit_id, by_uscc.unit_id) == (sqlite_world.unit_a.id, sqlite_world.unit_b.id)


def test_temporary_unit_is_not_an_employer(sqlite_world: World) -> None:
    assert refused(sqlite_world, unit=str(sqlite_world.temp_unit.id)) == ["unit"]
    assert refused(sqlite_world, unit="金水区财政局") == ["unit"]


def test_missing_fields_are_named(sqlite_world: World) -> None:
    fields = refused(sqlite_world, id_number="", mobile=" ", email="", unit=None)
    assert fields == ["id_number", "mobile", "email", "unit"]
    assert refused(sqlite_world, unit=None, has_employer=False, region=None) == ["region"]


# --- the same rules through `hnce register` ------------------------------------------


def cli_register(setup: Setup, *args: str, password: str = PASSWORD, json: bool = True):  # noqa: ANN201
    extra = ["--json"] if json else []
    return setup.run("register", *args, "--password-stdin", *extra, input=password + "\n")


def test_cli_register_valid(world: World) -> None:
    setup = world.setup
    number = new_id_number(birth=date(1992, 2, 2), male=False)
    before = snapshot(setup)
    proc = cli_register(setup, "--id-number", number, "--mobile", "13800138000", "--email",
                        "li@example.cn", "--name", "李四", "--unit", world.unit_a.name,
                        "--gender", "女", "--birth-date", "1992-02-02", "--title", "会计师")
    assert proc.returncode == 0, proc.stderr
    out = json_out(proc)
    assert (out["id_number"], out["status"], out["status_label"]) == (number, "pending", "待审核")
    assert out["unit_name"] == world.unit_a.name
    assert snapshot(setup) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert setup.scalar("SELECT status FROM professional WHERE id_number = :n", n=number) == "pending"


def test_cli_register_names_bad_fields(world: World) -> None:
    setup = world.setup
    before = snapshot(setup)
    bad_id = new_id_number()[:17] + "0"
    bad_id = bad_id if id_check_char(bad_id[:17]) != "0" else bad_id[:17] + "1"
    proc = cli_register(setup, "--id-number", bad_id, "--mobile", "1380013800", "--email",
                        "li@example", "--name", "李四", "--unit", world.unit_a.name)
    assert proc.returncode == 2
    assert sorted(error_fields(proc)) == ["email", "id_number", "mobile"]
    assert snapshot(setup) == before
    # Without --json the same fields are named on stderr.
    plain = cli_register(setup, "--id-number", bad_id, "--mobile", "1380013800", "--email",
                         "li@example", "--name", "李四", "--unit", world.unit_a.name, json=False)
    assert plain.returncode == 2
    for field in ("id_number", "mobile", "email"):
        assert field in plain.stderr
    assert "Traceback" not in plain.stderr


def test_cli_register_gender_birth_date_and_password(world: World) -> None:
    number = new_id_number(birth=date(1990, 1, 1), male=True)
    proc = cli_register(world.setup, "--id-number", number, "--mobile", new_mobile(), "--email",
                        "a@example.cn", "--name", "张三", "--unit", world.unit_a.name,
                        "--gender", "女", "--birth-date", "1990-01-02", password="weakweak")
    assert proc.returncode == 2
    assert sorted(error_fields(proc)) == ["birth_date", "gender", "password"]


def test_cli_register_duplicate_id_number(world: World) -> None:
    existing = world.people_a[0].id_number
    proc = cli_register(world.setup, "--id-number", existing, "--mobile", new_mobile(), "--email",
                        "a@example.cn", "--name", "张三", "--unit", world.unit_a.name)
    assert proc.returncode == 2
    assert error_fields(proc) == ["id_number"]


def test_cli_register_without_employer(world: World) -> None:
    setup = world.setup
    common = ["--mobile", new_mobile(), "--email", "a@example.cn", "--name", "赵六", "--no-employer"]
    before = snapshot(setup)
    proc = cli_register(setup, "--id-number", new_id_number(), *common, "--region", "郑州市市直")
    assert proc.returncode == 2, proc.stdout
    assert error_fields(proc) == ["region"]
    assert snapshot(setup) == before
    # The receipt (table form) names the temporary unit and tells what happens next.
    number = new_id_number()
    ok = cli_register(setup, "--id-number", number, *common, "--region", "金水区", json=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "金水区财政局" in ok.stdout and "待审核" in ok.stdout
    unit_kind = setup.scalar("SELECT u.kind FROM professional p JOIN unit u ON u.id = p.unit_id "
                             "WHERE p.id_number = :n", n=number)
    assert unit_kind == "temporary"


def test_cli_register_unknown_unit(world: World) -> None:
    common = ["--mobile", new_mobile(), "--email", "a@example.cn", "--name", "赵六"]
    unknown = cli_register(world.setup, "--id-number", new_id_number(), *common,
                           "--unit", "没有这个单位")
    assert unknown.returncode == 2
    assert error_fields(unknown) == ["unit"]


def test_cli_register_without_terminal_names_every_missing_field(setup: Setup) -> None:
    before = snapshot(setup)
    proc = setup.run("register", "--name", "张三")  # no stdin, no terminal: nothing can be asked
    assert proc.returncode == 2
    for field in ("id_number", "password", "mobile", "email", "unit"):
        assert field in proc.stderr, (field, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert snapshot(setup) == before
    as_json = setup.run("register", "--id-number", "410105199003071236", "--mobile", "13800138000",
                        "--email", "a@b.cn", "--name", "张三", "--no-employer", "--json")
    assert as_json.returncode == 2
    assert error_fields(as_json) == ["password", "region"]
    assert snapshot(setup) == before


def test_cli_register_over_long_fields_are_named_with_their_limit(world: World) -> None:
    """PostgreSQL refuses a value longer than its column; the form must say so first,
    naming each field and its limit, and write nothing."""
    setup = world.setup
    before = snapshot(setup)
    proc = cli_register(setup, "--id-number", new_id_number(), "--mobile", new_mobile(),
                        "--email", "a@example.cn", "--name", "张" * 65, "--unit", world.unit_a.name,
                        "--department", "部" * 101, "--school", "校" * 101, "--major", "专" * 101,
                        "--title", "职" * 51, "--native-place", "籍" * 101,
                        "--ethnicity", "族" * 21)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    problems = {p["field"]: p for p in json_out(proc)["error"]["problems"]}
    limits = {"name": 64, "department": 100, "school": 100, "major": 100, "title": 50,
              "native_place": 100, "ethnicity": 20}
    assert set(problems) == set(limits)
    for field, limit in limits.items():
        assert str(limit) in problems[field]["message"], problems[field]
    assert snapshot(setup) == before
    # At the limit is fine.
    ok = cli_register(setup, "--id-number", new_id_number(), "--mobile", new_mobile(),
                      "--email", "a@example.cn", "--name", "张" * 64, "--unit", world.unit_a.name,
                      "--department", "部" * 100, "--title", "职" * 50)
    assert ok.returncode == 0, ok.stderr
    plain = cli_register(setup, "--id-number", new_id_number(), "--mobile", new_mobile(),
                         "--email", "a@example.cn", "--name", "王五", "--unit", world.unit_a.name,
                         "--department", "部" * 101, json=False)
    assert plain.returncode == 2
    assert "department" in plain.stderr and "100" in plain.stderr
    assert "Traceback" not in plain.stderr


def test_missing_password_points_to_stdin_or_environment(setup: Setup) -> None:
    """A password never goes on the command line, so the hint must not say --password."""
    proc = setup.run("register", "--id-number", new_id_number(), "--mobile", new_mobile(),
                     "--email", "a@b.cn", "--name", "张三", "--region", "金水区", "--no-employer",
                     "--json")
    assert proc.returncode == 2
    [problem] = json_out(proc)["error"]["problems"]
    assert problem["field"] == "password"
    assert "--password-stdin" in problem["fix"] and "HNCE_PASSWORD" in problem["fix"]
    assert "--password " not in problem["fix"] + " "


def test_registration_is_audited_as_the_registrant(world: World) -> None:
    setup = world.setup
    number = new_id_number()
    proc = cli_register(setup, "--id-number", number, "--mobile", new_mobile(), "--email",
                        "a@example.cn", "--name", "审计丁", "--unit", world.unit_a.name)
    assert proc.returncode == 0, proc.stderr
    [row] = setup.rows("SELECT l.actor_id, a.login, a.role FROM audit_log l "
                       "JOIN account a ON a.id = l.actor_id WHERE l.action = 'registration.submit' "
                       "AND l.subject_id = :s", s=str(json_out(proc)["id"]))
    assert (row.login, row.role) == (number, "professional")
