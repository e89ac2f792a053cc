"""`hnce declare`: a professional declares public-subject credits (学时(分)申报) and
follows them in the progress view (申报进度查询); a unit admin imports many."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hnce_cli.commands._common import (
    CsvOpt,
    JsonOpt,
    NoPagerOpt,
    WideOpt,
    YesOpt,
    confirm,
    fmt,
    get_backend,
    interactive,
)
from hnce_cli.terms import DECLARATION_FILTERS

if TYPE_CHECKING:
    from hnce_cli.backend import Backend
    from hnce_cli.schemas import (
        AttachmentIn,
        DeclarationList,
        DeclarationOut,
    )

app = typer.Typer(
    help="Declare credits (学时(分)申报) and follow them (申报进度查询).\n\n"
         "Example: hnce declare new --form conference --field meeting_name=年会 ...",
    no_args_is_help=True,
)

FilterOpt = Annotated[str, typer.Option(
    "--filter", help="all 全部 | draft 待提交 | pending 待审核 | approved 审核通过 | rejected 审核不通过.")]
FILTER_WORDS = {word: value for value, word in DECLARATION_FILTERS.items()}


def parse_filter(value: str) -> str:
    from hnce_cli.errors import ValidationFailed

    value = FILTER_WORDS.get(value.strip(), value.strip())
    if value not in DECLARATION_FILTERS:
        raise ValidationFailed.one("filter", f"没有这种筛选：{value}",
                                   "use all | draft | pending | approved | rejected (or 全部/待提交/…)")
    return value


def _field_pairs(pairs: list[str] | None) -> dict[str, str | None]:
    from hnce_cli.errors import ValidationFailed

    values: dict[str, str | None] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValidationFailed.one("field", f"格式应为 名称=值：{pair}", "e.g. --field days=2")
        values[name.strip()] = value.strip() or None
    return values


def read_attachment(path: Path) -> AttachmentIn:
    import base64

    from hnce_cli.errors import ValidationFailed
    from hnce_cli.schemas import AttachmentIn

    if not path.is_file():
        raise ValidationFailed.one("attach", f"文件不存在：{path}", "check the path")
    return AttachmentIn(filename=path.name, content_base64=base64.b64encode(path.read_bytes()).decode())


def _iso_dates(value: Any) -> Any:
    """YAML reads an unquoted 2025-03-01 as a date: make it the ISO text a field expects."""
    from datetime import date

    if isinstance(value, dict):
        return {k: _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v) for v in value]
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return value


def _from_file(path: Path) -> dict[str, Any]:
    """A declaration as JSON or YAML: form, year, credits, fields, attachments (paths), submit."""
    import json

    from hnce_cli.errors import ValidationFailed

    if not path.is_file():
        raise ValidationFailed.one("from_file", f"文件不存在：{path}", "check the path")
    text = path.read_text(encoding="utf-8-sig")
    import yaml

    try:
        data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:  # json and yaml say what is wrong, and where
        raise ValidationFailed.one("from_file", f"无法解析 {path.name}：{exc}", "give a JSON or YAML object") from exc
    if not isinstance(data, dict):
        raise ValidationFailed.one("from_file", "文件内容须是一个对象", 'e.g. {"form": "paper", "fields": {…}}')
    data = _iso_dates(data)
    data["attachments"] = [read_attachment((path.parent / str(p)).resolve())
                           for p in data.get("attachments") or []]
    return data


@app.command("new")
def new(
    ctx: typer.Context,
    form: Annotated[str | None, typer.Option(help="Learning form: code or name (see `hnce forms show`).")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", "-F", help="A field of the form: name=value (repeatable).")] = None,
    year: Annotated[int | None, typer.Option(help="计入年度 (default: the open year).")] = None,
    credits: Annotated[float | None, typer.Option(help="Credits, only for forms where they are entered.")] = None,
    attach: Annotated[list[Path] | None, typer.Option(
        "--attach", help="Proof: PDF, JPEG, PNG, or one ZIP of them (repeatable, 10 MB each).")] = None,
    submit: Annotated[bool | None, typer.Option(
        "--submit/--draft", help="Submit now, or save as draft 保存暂不提交 (default).")] = None,
    from_file: Annotated[Path | None, typer.Option(
        "--from-file", help="The declaration as JSON or YAML (see docs/declarations.md).")] = None,
    allow_duplicate: Annotated[bool, typer.Option(
        "--allow-duplicate", help="Declare it although an identical one (same form, year and fields) is "
                                  "already a draft, pending or approved: a genuinely repeated activity.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Declare credits: pick the learning form, then only its fields are asked.

    On a terminal a wizard asks what is missing; in scripts give everything as
    flags or --from-file. Without --submit the declaration is saved as a draft.
    An identical declaration (same form, year and fields) that is a draft, pending
    or approved is not made twice: exit 5 naming its number, unless --allow-duplicate.

    \b
    Examples:
      hnce declare new
      hnce declare new --form conference --field meeting_name=年会 --field organizer=会计学会 \\
          --field start_date=2026-05-10 --field days=2 --attach proof.pdf --submit
      hnce declare new --from-file paper.yaml
    """
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.schemas import DeclarationInput

    data: dict[str, Any] = _from_file(from_file) if from_file else {}
    if form:
        data["form"] = form
    data.setdefault("fields", {}).update({k: v for k, v in _field_pairs(field).items() if v is not None})
    if year is not None:
        data["year"] = year
    if credits is not None:
        data["credits"] = credits
    data.setdefault("attachments", []).extend(read_attachment(p) for p in attach or [])
    if submit is not None:
        data["submit"] = submit
    if allow_duplicate:
        data["allow_duplicate"] = True
    backend = get_backend(ctx)
    if interactive(ctx) and not from_file:
        data = _wizard(backend, data, ask_submit=submit is None)
    if not data.get("form"):
        raise ValidationFailed.one("form", "请先选择学习形式", "give --form CODE (list: hnce forms show)")
    result = backend.create_declaration(DeclarationInput.model_validate(data))
    render_one(result, fmt(json_), saved=True)


def _wizard(backend: Backend, data: dict[str, Any], *, ask_submit: bool) -> dict[str, Any]:
    """Ask for the form first, then only that form's fields that are still missing.

    Each answer is checked as it is given, by the check the service runs on the whole
    declaration (validation.check_answer: dates, numbers within the form's bounds, the
    text policy); a file is checked when it is named (exists, PDF/JPG/PNG/ZIP by its
    content, 10 MB). A refused answer is told under its question, which is asked again.
    A date is typed into an empty field: today is only a grey hint, and Enter on a
    required date takes today.
    """
    import questionary

    from hnce_cli import prompts
    from hnce_cli.clock import today as today_

    today = today_()
    with prompts.cancellable():
        forms = backend.list_forms().forms
        chosen = next((f for f in forms if data.get("form") in (f.code, f.name)), None)
        if chosen is None:
            chosen = questionary.select("学习形式：", choices=[
                questionary.Choice(f"{f.name}" + ("" if f.standard == "national" else "（省定）"), value=f)
                for f in forms]).unsafe_ask()
        data["form"] = chosen.code
        year = _counted_year(backend, data, today)
        fields = data["fields"]
        for f in chosen.fields:
            value = _ask_answer(f, fields.get(f.name), in_year=chosen.date_field == f.name, year=year, today=today)
            if value is None:
                fields.pop(f.name, None)
            else:
                fields[f.name] = value
        if chosen.credits.mode == "entered":
            data["credits"] = _ask_credits(chosen.credits.max_entered, data.get("credits"))
        if not data["attachments"]:
            data["attachments"] = _ask_attachments()
        if ask_submit:
            data["submit"] = questionary.select("提交审核，还是保存暂不提交？", choices=[
                questionary.Choice("提交", value=True), questionary.Choice("保存暂不提交", value=False)]).unsafe_ask()
    return data


def _counted_year(backend: Backend, data: dict[str, Any], today: Any) -> int | None:
    """The counted year 计入年度 the form's date must fall in: the one given, else the only open
    one, else asked (several open); no open year is refused before anything is asked."""
    import questionary

    from hnce_cli.validation import open_years, pick_open_year

    years = open_years({r.year: r.deadline for r in backend.show_rules().years}, today)
    if data.get("year") is not None or len(years) < 2:
        return pick_open_year(years, data.get("year"))
    data["year"] = questionary.select("计入年度：", choices=[str(y) for y in years]).unsafe_ask()
    data["year"] = int(data["year"])
    return data["year"]


def _ask_answer(field: Any, given: Any, *, in_year: bool, year: int | None, today: Any) -> Any:
    """One item of the form, checked by validation.check_answer as it is typed (or as given)."""
    import questionary

    from hnce_cli import prompts
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.validation import answer_rule, check_answer

    rule = answer_rule(field, in_year=in_year)
    label = field.label + ("" if field.required else "（选填）")
    took_today = False

    def check(answer: Any) -> Any:
        nonlocal took_today
        if field.type == "date" and field.required and isinstance(answer, str) and not answer.strip():
            answer = today.isoformat()  # Enter on the empty field: today, as the grey hint says
            took_today = True
        value, problem = check_answer(rule, answer, year=year, today=today)
        if problem is not None:
            raise prompts.fail(problem)
        return value

    if field.type == "choice":
        if given not in (None, ""):
            try:
                return check(given)
            except ValidationFailed as exc:  # a refused flag value: told, then picked from the list
                prompts.show_problems(prompts.refused(exc))
        return questionary.select(f"{label}：", choices=list(field.choices or [])).unsafe_ask()
    placeholder = instruction = None
    if field.type == "date":
        placeholder = today.isoformat()
        instruction = "YYYY-MM-DD，回车即今天" if field.required else "YYYY-MM-DD"
    elif field.min is not None and field.max is not None:
        instruction = f"{field.min:g}–{field.max:g}"
    value = prompts.ask(label, check, given=None if given is None else str(given), placeholder=placeholder,
                        instruction=instruction)
    if took_today:  # the answered line shows nothing: say what was taken
        from hnce_cli.render import note

        note(f"  {field.label}：{value}（今天 today）")
    return value


def _ask_credits(max_entered: float | None, given: float | None) -> float:
    """Credits the person enters (forms whose credits are not computed), within the form's maximum."""
    from hnce_cli import prompts
    from hnce_cli.errors import FieldProblem
    from hnce_cli.validation import entered_credits_problem, parse_number

    def check(answer: str) -> float:
        try:
            credits = float(parse_number(answer, "number")) if answer.strip() else None
        except ValueError:
            raise prompts.fail(FieldProblem("credits", f"学分：格式不对（{answer}）", "a number")) from None
        problem = entered_credits_problem(credits, max_entered)
        if problem is not None:
            raise prompts.fail(problem)
        assert credits is not None
        return credits

    return prompts.ask(f"学分（最多 {max_entered or 0:g}）", check, given=None if given is None else f"{given:g}")


def _ask_attachments() -> list[AttachmentIn]:
    """Proofs, one path at a time, each checked when named; Enter on an empty answer ends."""
    from hnce_cli import prompts
    from hnce_cli.validation import MAX_ATTACHMENTS

    files: list[AttachmentIn] = []
    while len(files) < MAX_ATTACHMENTS:
        upload = prompts.ask("附件", _attachment_answer, path=True,
                             instruction="（PDF/JPG/PNG/ZIP，每个不超过 10 MB；回车跳过）" if not files
                             else f"（已有 {len(files)} 个，回车结束）")
        if upload is None:
            break
        files.append(upload)
    return files


def _attachment_answer(answer: str) -> AttachmentIn | None:
    """A named file checked as the service checks it (validation.check_file): it exists, is a
    PDF, JPEG, PNG or a ZIP of them by its content, and is at most 10 MB; None for Enter."""
    import base64

    from hnce_cli import prompts
    from hnce_cli.errors import FieldProblem
    from hnce_cli.schemas import AttachmentIn
    from hnce_cli.validation import attachment_name, attachment_size_problem, attachment_type_problem, check_file

    if not answer.strip():
        return None
    path = Path(answer.strip()).expanduser()
    if not path.is_file():
        raise prompts.fail(FieldProblem("attach", f"文件不存在：{path} (no such file)", "check the path"))
    name = attachment_name(path.name, field="attach")
    if isinstance(name, FieldProblem):
        raise prompts.fail(name)
    problem = attachment_type_problem(name, field="attach") or attachment_size_problem(
        name, path.stat().st_size, field="attach")
    if problem is not None:
        raise prompts.fail(problem)
    content = path.read_bytes()
    checked = check_file(path.name, content, field="attach")
    if isinstance(checked, FieldProblem):
        raise prompts.fail(checked)
    return AttachmentIn(filename=path.name, content_base64=base64.b64encode(content).decode())


@app.command("list")
def list_(
    ctx: typer.Context,
    filter_: FilterOpt = "all",
    year: Annotated[int | None, typer.Option(min=2000, max=2100, help="Only this 计入年度.")] = None,
    form: Annotated[str | None, typer.Option(help="Only this learning form.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="Rows to show (0: all).")] = 100,
    json_: JsonOpt = False,
    csv_: CsvOpt = False,
    wide: WideOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """The progress view 申报进度查询 of your declarations (admins: those in your scope).

    Example: hnce declare list --filter pending   (--wide: every column on a narrow terminal)
    """
    from hnce_cli.schemas import DeclarationQuery

    # The options are the checked input (typed and bounded here, the filter by its words):
    # the query is built from them as they are.
    query = DeclarationQuery.model_construct(filter=parse_filter(filter_), year=year, form=form)
    result = get_backend(ctx).list_declarations(query, limit or None)
    render_list(result, fmt(json_, csv_))


@app.command("show")
def show(
    ctx: typer.Context,
    declaration_id: Annotated[int, typer.Argument(help="Declaration number (编号).")],
    json_: JsonOpt = False,
) -> None:
    """Details 详细 of one declaration: fields, attachments and review history.

    Example: hnce declare show 42
    """
    render_one(get_backend(ctx).show_declaration(declaration_id), fmt(json_))


@app.command("edit")
def edit(
    ctx: typer.Context,
    declaration_id: Annotated[int, typer.Argument(help="Declaration number (a draft 待提交).")],
    field: Annotated[list[str] | None, typer.Option(
        "--field", "-F", help="name=value to change; name= (empty) clears an optional field.")] = None,
    year: Annotated[int | None, typer.Option(help="New 计入年度.")] = None,
    credits: Annotated[float | None, typer.Option(help="New credits (forms where they are entered).")] = None,
    attach: Annotated[list[Path] | None, typer.Option("--attach", help="Add an attachment (repeatable).")] = None,
    remove_attachment: Annotated[list[int] | None, typer.Option(
        "--remove-attachment", help="Remove an attachment by its id (see `declare show`).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a draft (待提交); submitted declarations must be withdrawn (撤销) first.

    Example: hnce declare edit 42 --field days=3 --attach more.pdf
    """
    from hnce_cli.schemas import DeclarationEdit

    data = DeclarationEdit(year=year, credits=credits, fields=_field_pairs(field) if field else None,
                           attachments=[read_attachment(p) for p in attach or []],
                           remove_attachments=remove_attachment or [])
    render_one(get_backend(ctx).edit_declaration(declaration_id, data), fmt(json_), saved=True)


@app.command("delete")
def delete(
    ctx: typer.Context,
    declaration_id: Annotated[int, typer.Argument(help="Declaration number (a draft 待提交).")],
    yes: YesOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Delete a draft (待提交) for good.

    Example: hnce declare delete 42 --yes
    """
    from hnce_cli.render import emit, note

    if not confirm(ctx, f"删除申报 {declaration_id}？", yes):
        raise typer.Exit(1)
    result = get_backend(ctx).delete_declaration(declaration_id)
    emit(result, fmt(json_), details=lambda: note(f"已删除申报 {result.id}"))


@app.command("submit")
def submit(
    ctx: typer.Context,
    declaration_id: Annotated[int, typer.Argument(help="Declaration number (a draft 待提交).")],
    json_: JsonOpt = False,
) -> None:
    """Submit a draft for review: first your unit, then HR (人社部门).

    Example: hnce declare submit 42
    """
    render_one(get_backend(ctx).submit_declaration(declaration_id), fmt(json_), saved=True)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    declaration_id: Annotated[int, typer.Argument(help="Declaration number (待审核).")],
    json_: JsonOpt = False,
) -> None:
    """Withdraw 撤销 a pending declaration: it goes back to draft (待提交) to edit or delete.

    Example: hnce declare withdraw 42
    """
    render_one(get_backend(ctx).withdraw_declaration(declaration_id), fmt(json_), saved=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM or GBK) or XLSX.")],
    report: Annotated[Path | None, typer.Option(
        help="Where to write the per-row report (default: FILE-errors.csv beside it when rows are wrong, "
             "FILE-report.csv when some were imported before).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Unit admins: declare for your unit's people from a spreadsheet (批量导入).

    Columns: id_number (身份证号), form (学习形式), year (计入年度), credits (学分, for
    entered forms), then the form's fields by name or Chinese label; 姓名 is checked
    if present; 申报编号 (ref) is your own number for the row. Every row is checked
    first: one bad row imports nothing, and the errors (row, field, why) are printed
    and written to a CSV report. Imported declarations have passed the unit's review
    and wait for HR (待审核（人社）). Safe to run again: a row imported before is
    reported as already imported (已导入过) with its number, never made twice.

    Example: hnce declare import 2026-申报.xlsx
    """
    from hnce_cli.errors import ValidationFailed
    from hnce_cli.figures import amount, count
    from hnce_cli.render import KEY, MAIN, Column, TableView, emit, note, print_json, print_table, progress
    from hnce_cli.tabular import iter_rows

    try:
        # A unit's 100,000 rows take a while to read, check and write: a spinner on a terminal
        # (stopped before any error table is printed).
        with progress(f"读取 {file.name}", quiet=json_) as shown:
            rows = [row for row in shown.track(iter_rows(file)) if row]
            shown.update(f"检查并导入 {count(len(rows))} 行…")
            result = get_backend(ctx).import_declarations(rows)
    except ValidationFailed as exc:
        problems = exc.details.get("rows") if isinstance(exc.details, dict) else None
        if not problems:
            raise
        target = report or file.with_name(f"{file.stem}-errors.csv")
        _write_report(target, ["row", "field", "message"], ([p["row"], p["field"], p["message"]] for p in problems))
        exc.details["report"] = str(target)
        if not json_:
            print_table(TableView(title=exc.message, rows=problems[:50], columns=[
                Column("行", lambda p: p["row"], justify="right", priority=KEY),
                Column("字段", lambda p: p["field"], priority=KEY),
                Column("原因", lambda p: p["message"], priority=MAIN)],
                footnotes=[f"另有 {len(problems) - 50} 处未显示" if len(problems) > 50 else "",
                           f"错误报告已写入 {target}"]))
            raise typer.Exit(int(exc.exit_code)) from None
        raise
    summary = ""
    if fmt(json_) != "json":
        names = result.form_names  # the platform's names (学术会议, not conference)
        summary = (f"已导入 {count(result.created)} 条申报，共 {amount(result.credits)} 学分，"
                   "等待人社部门审核（单位审核已完成）"
                   + ("：" + "，".join(f"{names.get(k, k)} {count(v)} 条" for k, v in result.by_form.items())
                      if result.by_form else ""))
    if not result.already_imported:
        emit(result, fmt(json_), details=lambda: note(summary))
        return
    # Some rows were imported before (a re-run): every row's outcome and number go to the report.
    target = report or file.with_name(f"{file.stem}-report.csv")
    from hnce_cli.terms import DECLARATION_STATUS

    _write_report(target, ["row", "outcome", "id", "status", "ref", "message"],
                  ([r.row, r.outcome, r.id, r.status, r.ref or "", r.reason or ""] for r in result.rows))
    if fmt(json_) == "json":
        data = result.model_dump(mode="json")
        data["report"] = str(target)
        print_json(data)
        return
    already = [r for r in result.rows if r.outcome == "already_imported"]
    print_table(TableView(title="此前已导入的行（未重复创建）", rows=already[:50], columns=[
        Column("行", lambda r: r.row, justify="right", priority=KEY),
        Column("编号", lambda r: r.id, justify="right", priority=KEY),
        Column("状态", lambda r: DECLARATION_STATUS.get(r.status, r.status), priority=KEY),
        Column("原因", lambda r: r.reason, priority=MAIN)],
        footnotes=[f"另有 {len(already) - 50} 行未显示" if len(already) > 50 else "",
                   f"逐行报告已写入 {target}"]))
    note(f"{summary}；{count(result.already_imported)} 行此前已导入过，未重复创建 "
         "(already imported: not created again)")


def _write_report(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """A per-row report as CSV (UTF-8 with BOM, for Excel), through the one writer: a message
    quoting a cell of the file is text, never a formula."""
    from hnce_cli.tabular import write_csv

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(handle, header, rows)


# --- rendering (shared with `hnce review` and `hnce status --declarations`) -------

def _credits(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def list_columns(with_person: bool) -> list:
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column

    # 编号 is what `declare show` and `review` take: always shown whole, as are who and the state.
    person = [Column("姓名", lambda d: d.name, priority=KEY), Column("身份证号", lambda d: d.id_number, priority=KEY),
              Column("单位", lambda d: d.unit_name, priority=DETAIL)] if with_person else []
    return [
        Column("编号", lambda d: d.id, justify="right", priority=KEY), *person,
        Column("学习形式", lambda d: d.form_name, priority=MAIN),
        Column("计入年度", lambda d: d.year, priority=MAIN),
        Column("计入科目", lambda d: d.subject_label, priority=DETAIL),
        Column("学分", lambda d: _credits(d.credits), justify="right", priority=MAIN),
        Column("状态", lambda d: d.status_label, priority=KEY),
        Column("提交时间", lambda d: d.submitted_at, no_wrap=True, priority=EXTRA),
        Column("审核时间", lambda d: d.decided_at, no_wrap=True, priority=EXTRA),
        Column("不通过原因", lambda d: d.reject_reason, priority=DETAIL),
    ]


def render_list(result: DeclarationList, output: str, *, title: str | None = None,
                with_person: bool | None = None) -> None:
    from hnce_cli.render import TableView, emit

    if with_person is None:
        with_person = result.person is None and len({d.professional_id for d in result.declarations}) > 1
    counts = " · ".join(f"{DECLARATION_FILTERS[k]} {v}" for k, v in result.counts.items())
    who = f"{result.person.name}（{result.person.id_number}）的" if result.person else ""
    heading = title or f"{who}申报进度查询 · {result.filter_label}"
    footnotes = [counts]
    if result.total > len(result.declarations):
        footnotes.append(f"仅显示 {len(result.declarations)} / {result.total} 条；--limit 0 显示全部")
    if result.declarations:
        footnotes.append("详细：hnce declare show 编号")
    emit(result, output, TableView(title=heading, rows=result.declarations, columns=list_columns(with_person),
                                   footnotes=footnotes))


def render_one(d: DeclarationOut, output: str, *, saved: bool = False) -> None:
    from hnce_cli.render import emit

    emit(d, output, details=lambda: print_declaration(d))


def print_declaration(d: DeclarationOut) -> None:
    from hnce_cli.render import DETAIL, EXTRA, KEY, MAIN, Column, TableView, print_details, print_table

    pairs: list[tuple[str, Any]] = [
        ("编号", d.id), ("姓名", d.name), ("身份证号", d.id_number), ("单位", d.unit_name),
        ("学习形式", d.form_name), ("计入科目", d.subject_label), ("计入年度", d.year),
        ("学分", _credits(d.credits)),
    ]
    pairs += [(d.field_labels.get(k, k), v) for k, v in d.fields.items()]
    pairs += [("状态", d.status_label), ("提交时间", d.submitted_at), ("审核时间", d.decided_at),
              ("不通过原因", d.reject_reason)]
    print_details(f"申报 {d.id} · {d.status_label}", [(k, v) for k, v in pairs if v not in (None, "")])
    if d.attachments:
        print_table(TableView(title="附件", rows=d.attachments, columns=[
            Column("附件编号", lambda a: a.id, justify="right", priority=KEY),
            Column("文件名", lambda a: a.filename, priority=MAIN),
            Column("类型", lambda a: a.media_type, priority=EXTRA),
            Column("大小", lambda a: f"{a.size / 1024:.0f} KB", justify="right", no_wrap=True, priority=DETAIL),
            Column("SHA-256", lambda a: a.sha256[:16] + "…", no_wrap=True, priority=EXTRA)]))
    if d.history:
        print_table(TableView(title="审核记录", rows=d.history, columns=[
            Column("时间", lambda e: e.at, priority=KEY), Column("操作", lambda e: e.action_label, priority=KEY),
            Column("操作人", lambda e: e.actor_name, priority=DETAIL),
            Column("原因", lambda e: e.reason, priority=MAIN)]))
