"""`hnce register`: a professional's registration, as on the platform's form."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.commands._common import (
    JsonOpt,
    PasswordStdinOpt,
    fmt,
    get_backend,
    interactive,
    read_secret,
)

if TYPE_CHECKING:
    from hnce_cli.backend import Backend
    from hnce_cli.schemas import ProfessionalOut, RegistrationInput

LABELS = {
    "id_number": "身份证号", "mobile": "手机号码", "email": "电子邮箱", "name": "姓名",
    "unit": "所在单位", "region": "所属区域（县/区）", "password": "密码",
}


def register(
    ctx: typer.Context,
    id_number: Annotated[str | None, typer.Option(help="18-digit resident ID number (the login).")] = None,
    mobile: Annotated[str | None, typer.Option(help="Mainland mobile number.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    name: Annotated[str | None, typer.Option(help="Real name (fixed after registration).")] = None,
    unit: Annotated[str | None, typer.Option(help="Employer: unit id, USCC or full name.")] = None,
    no_employer: Annotated[bool, typer.Option(
        "--no-employer", help="No employer: give --region, the county-level area.")] = False,
    region: Annotated[str | None, typer.Option(
        help="County-level area for people without an employer (e.g. 金水区; not 省直/市直).")] = None,
    department: Annotated[str | None, typer.Option(help="工作部门.")] = None,
    gender: Annotated[str | None, typer.Option(help="男/女 (checked against the ID number).")] = None,
    birth_date: Annotated[str | None, typer.Option(
        help="YYYY-MM-DD (checked against the ID number).")] = None,
    ethnicity: Annotated[str | None, typer.Option(help="民族.")] = None,
    native_place: Annotated[str | None, typer.Option(help="籍贯.")] = None,
    school: Annotated[str | None, typer.Option(help="毕业院校.")] = None,
    major: Annotated[str | None, typer.Option(help="所学专业.")] = None,
    title: Annotated[str | None, typer.Option(help="专业技术职务.")] = None,
    password_stdin: PasswordStdinOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Register a professional; the registration waits for the unit's approval (待审核).

    On a terminal, missing fields are asked for one at a time, each checked as it
    is typed (a refused answer is told under its question, which is asked again);
    the unit is picked from search results. In scripts, missing fields are an error
    that names them.

    \b
    Example:
      echo "$PW" | hnce register --id-number 410105199001011233 --mobile 13800138000 \\
        --email a@b.cn --name 王五 --unit 郑州市某某会计师事务所 --password-stdin
    """
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.schemas import RegistrationInput

    parsed_birth = None
    if birth_date:
        try:
            parsed_birth = date.fromisoformat(birth_date)
        except ValueError as exc:
            raise ValidationFailed.one("birth_date", f"日期格式不对：{birth_date}",
                                       "use YYYY-MM-DD") from exc
    password = ""
    if password_stdin or _env_password(ctx):
        password = read_secret(ctx, "password", from_stdin=password_stdin, confirm=True)
    # Otherwise, on a terminal the wizard asks for it after the ID number (the policy forbids
    # the number's tail), checked and typed twice.
    data = RegistrationInput(
        id_number=id_number or "", password=password, mobile=mobile or "", email=email or "",
        name=name or "", has_employer=not no_employer, unit=unit, region=region,
        department=department, gender=gender, birth_date=parsed_birth, ethnicity=ethnicity,
        native_place=native_place, school=school, major=major, title=title,
    )
    backend = get_backend(ctx)
    if data.missing() and interactive(ctx):
        data = _wizard(ctx, backend, data)
    render_registration(backend.register(data), fmt(json_))


def _env_password(ctx: typer.Context) -> bool:
    from hnce_cli.invocation import invocation

    return bool(invocation(ctx).env.get("HNCE_PASSWORD"))


def _wizard(ctx: typer.Context, backend: Backend, data: RegistrationInput) -> RegistrationInput:
    """Ask for what is missing, the way the platform's form does, each answer checked at once
    by the checks the registration service runs (hnce_cli.validation); a value given as a
    flag that they refuse is asked for again too."""
    import questionary

    from hnce_cli import prompts, validation

    values = data.model_dump()
    with prompts.cancellable():
        values["id_number"] = prompts.ask(
            LABELS["id_number"], lambda answer: validation.parse_id_number(answer).number,
            given=values["id_number"])
        values["mobile"] = prompts.ask(LABELS["mobile"], validation.validate_mobile, given=values["mobile"])
        values["email"] = prompts.ask(LABELS["email"], validation.validate_email, given=values["email"])
        values["name"] = prompts.ask(LABELS["name"], validation.check_person_name, given=values["name"])
        if not values["password"]:
            values["password"] = prompts.ask_new_password(
                lambda answer: validation.check_password_policy(answer, id_number=values["id_number"]),
                policy=validation.PASSWORD_POLICY)
        if not values["unit"] and not (not values["has_employer"] and values["region"]):
            values["has_employer"] = questionary.select(
                "有无工作单位？", choices=["有工作单位", "无工作单位"]).unsafe_ask() == "有工作单位"
        if values["has_employer"] and not values["unit"]:
            values["unit"] = _pick_unit(backend)
        if not values["has_employer"] and not values["region"]:
            values["region"] = _pick_county(backend)
    from hnce_cli.schemas import RegistrationInput

    return RegistrationInput.model_validate(values)


def _pick_unit(backend: Backend) -> str:
    import questionary

    from hnce_cli import prompts
    from hnce_cli.errors import FieldProblem
    from hnce_cli.render import note
    from hnce_cli.text import visible

    def search(keyword: str):  # noqa: ANN202  (UnitSearchResult)
        if not keyword.strip():
            raise prompts.fail(FieldProblem("unit", "请输入单位全称或关键词 (type the unit's name or a word of it)",
                                            "如 会计师事务所 (e.g. a word of the unit's name)"))
        return backend.search_units(keyword.strip())  # the service holds the search to the text policy

    while True:
        # A keyword the search refuses (the text policy) is told and asked again, like any answer.
        result = prompts.ask("所在单位（全称或关键词）", search)
        if not result.units:
            note(result.hint or "未查询到单位")
            continue
        choices = [questionary.Choice(visible(f"{u.name}（{u.region_name}）"), value=str(u.id))
                   for u in result.units if u.kind == "ordinary"]
        choices.append(questionary.Choice("重新搜索", value=""))
        picked = questionary.select("选定单位：", choices=choices).unsafe_ask()
        if picked:
            return picked


def _pick_county(backend: Backend) -> str:
    import questionary

    cities = [r for r in backend.list_regions(level="city")]
    city = questionary.select("所属市：", choices=[
        questionary.Choice(c.name, value=c.code) for c in cities]).unsafe_ask()
    counties = backend.list_regions(level="county", parent=city)
    return questionary.select("所属县/区：", choices=[
        questionary.Choice(c.name, value=c.code) for c in counties]).unsafe_ask()


def render_registration(person: ProfessionalOut, output: str) -> None:
    from hnce_cli.render import emit, note, print_details

    def details() -> None:
        print_details("注册信息已经提交审核，请耐心等待", [
            ("身份证号", person.id_number), ("姓名", person.name), ("所在单位", person.unit_name),
            ("状态", person.status_label)])
        note("所属用人单位管理员审核通过后即可登录 (you can log in once your unit approves).")

    emit(person, output, details=details)
