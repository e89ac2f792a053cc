"""Learning forms 学习形式: which fields each form asks for and how its credits are
computed. Shipped as `hnce_cli/data/learning_forms.json`; the system admin may
replace the whole list (`hnce forms load FILE`), kept in the `setting` table.

Also here: checking a declaration's answers against its form and computing its
credits, so the same rules serve the wizard, the flags, the import and the API.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hnce_cli import clock
from hnce_cli.errors import FieldProblem, ValidationFailed, from_pydantic
from hnce_cli.schemas import FormsOut, LearningForm
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.store import Db
from hnce_cli.validation import AnswerRule, answer_rule, check_answer, entered_credits_problem

SETTING_KEY = "learning_forms"


@cache
def _forms_adapter() -> TypeAdapter[list[LearningForm]]:
    return TypeAdapter(list[LearningForm])


@cache
def package_forms() -> tuple[LearningForm, ...]:
    """The shipped forms (checked by parse_forms in a test, so read here as they are)."""
    text = resources.files("hnce_cli.data").joinpath("learning_forms.json").read_text("utf-8")
    return tuple(checked_forms(json.loads(text)))


def checked_forms(data: Any) -> list[LearningForm]:
    """Forms already checked — the shipped file, or what `forms load` checked and stored —
    built as they are: validating them again would cost every declaration command the
    building of the forms' validators."""
    from hnce_cli.schemas import CreditRule, FormField

    if isinstance(data, dict) and "forms" in data:
        data = data["forms"]
    return [LearningForm.model_construct(**{**form, "fields": [FormField.model_construct(**f) for f in form["fields"]],
                                            "credits": CreditRule.model_construct(**form["credits"])})
            for form in data]


def parse_forms(data: Any) -> list[LearningForm]:
    """Validate a forms file: its shape, then that each credit rule fits its fields."""
    if isinstance(data, dict) and "forms" in data:
        data = data["forms"]
    try:
        forms = _forms_adapter().validate_python(data)
    except ValidationError as exc:
        raise from_pydantic(exc) from exc
    problems: list[FieldProblem] = []
    if not forms:
        problems.append(FieldProblem("forms", "至少需要一种学习形式"))
    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    for form in forms:
        where = f"forms.{form.code}"
        if form.code in seen_codes or form.name in seen_names:
            problems.append(FieldProblem(where, "学习形式代码或名称重复"))
        seen_codes.add(form.code)
        seen_names.add(form.name)
        by_name = {f.name: f for f in form.fields}
        if len(by_name) != len(form.fields):
            problems.append(FieldProblem(where, "字段名重复"))
        for f in form.fields:
            if f.type == "choice" and not f.choices:
                problems.append(FieldProblem(f"{where}.{f.name}", "选择项须给出 choices"))
        rule = form.credits
        if rule.mode in ("per_day", "per_item"):
            count = by_name.get(rule.count_field or "")
            if rule.rate is None or count is None or count.type != "int" or not count.required:
                problems.append(FieldProblem(f"{where}.credits", f"{rule.mode} 需要 rate 和一个必填整数 "
                                                                  "count_field"))
        elif rule.mode == "by_role":
            role = by_name.get(rule.role_field or "")
            if role is None or role.type != "choice" or not role.required or not rule.roles \
                    or set(role.choices or []) != set(rule.roles):
                problems.append(FieldProblem(f"{where}.credits", "by_role 需要一个必填选择项 role_field，"
                                                                  "roles 须与其 choices 一一对应"))
        elif rule.mode == "fixed" and rule.rate is None:
            problems.append(FieldProblem(f"{where}.credits", "fixed 需要 rate"))
        elif rule.mode == "entered" and rule.max_entered is None:
            problems.append(FieldProblem(f"{where}.credits", "entered 需要 max_entered"))
        if form.date_field and getattr(by_name.get(form.date_field), "type", None) != "date":
            problems.append(FieldProblem(f"{where}.date_field", "date_field 须是一个日期字段"))
    if problems:
        raise ValidationFailed("学习形式数据有误 (invalid learning forms): "
                               + ", ".join(dict.fromkeys(p.field for p in problems)), problems=problems)
    return forms


def _stored(db: Db) -> tuple[str, Any, str | None] | None:
    """(the loaded forms as text, when, by whom) or None: the package's forms are in force."""
    return db.one("SELECT s.value, s.updated_at, a.name FROM setting s LEFT JOIN account a ON a.id = s.updated_by "
                  "WHERE s.key = :key", key=SETTING_KEY)


def current_forms(db: Db) -> list[LearningForm]:
    text = db.scalar("SELECT value FROM setting WHERE key = :key", key=SETTING_KEY)
    return list(package_forms()) if text is None else _parse_cached(text)


@cache
def _parse_cached(text: str) -> list[LearningForm]:
    return checked_forms(json.loads(text))


def show(db: Db, actor: Actor | None = None) -> FormsOut:
    """The learning forms in force (any logged-in user reads them)."""
    stored = _stored(db)
    if stored is None:
        return FormsOut.model_construct(source="package", forms=list(package_forms()))
    text, at, by = stored
    return FormsOut.model_construct(source="database", updated_at=at, updated_by=by, forms=_parse_cached(text))


def load(db: Db, actor: Actor, data: Any) -> FormsOut:
    """Replace the learning forms (system admin); validated first, audited."""
    from hnce_cli.services.rules import save_setting

    actor.require("system_admin")
    forms = parse_forms(data)
    text = json.dumps([f.model_dump(exclude_none=True) for f in forms], ensure_ascii=False)
    stored = _stored(db)
    before_text = stored[0] if stored else None
    save_setting(db, SETTING_KEY, text, actor.account_id, clock.now())

    def digest(value: str | None) -> str | None:
        return hashlib.sha256(value.encode()).hexdigest()[:16] if value else None

    audit.record(db, actor, "forms.load", "setting", SETTING_KEY,
                 {"sha256": digest(before_text), "source": "database" if stored else "package"},
                 {"sha256": digest(text), "codes": [f.code for f in forms]})
    return show(db, actor)


def find_form(forms: list[LearningForm], value: str, *, field: str = "form") -> LearningForm:
    """A form by code or by its Chinese name."""
    value = (value or "").strip()
    for form in forms:
        if value in (form.code, form.name):
            return form
    listed = ", ".join(f"{f.code}（{f.name}）" for f in forms)
    raise ValidationFailed.one(field, f"没有这种学习形式：{value or '（未填）'}", f"choose one of: {listed}")


_PLANS: dict[str, tuple[LearningForm, set[str], str, list[AnswerRule]]] = {}  # by code: bounded


def _plan(form: LearningForm) -> tuple[set[str], str, list[AnswerRule]]:
    """The form's checks as plain tuples, built once per form object: a 100,000-row
    import then does no attribute look-ups or set building per row."""
    cached = _PLANS.get(form.code)
    if cached is None or cached[0] is not form:
        rules = [answer_rule(f, in_year=form.date_field == f.name) for f in form.fields]
        cached = _PLANS[form.code] = (form, {f.name for f in form.fields},
                                     ", ".join(f.name for f in form.fields), rules)
    return cached[1], cached[2], cached[3]


def check_answers(form: LearningForm, values: dict[str, Any], credits: float | None, year: int,
                  today: date, *, prefix: str = "") -> tuple[dict[str, Any], float, list[FieldProblem]]:
    """Normalised answers, the credits, and every problem (not just the first). Each answer
    is checked by validation.check_answer, the check the wizard runs as it is typed."""
    problems: list[FieldProblem] = []
    answers: dict[str, Any] = {}
    known, asked, plan = _plan(form)
    for name in values:
        if name not in known:
            problems.append(FieldProblem(prefix + name, f"“{form.name}”没有此项",
                                         f"this form asks for: {asked}"))
    for rule in plan:
        value, problem = check_answer(rule, values.get(rule.name), year=year, today=today, prefix=prefix)
        if problem is not None:
            problems.append(problem)
        elif value is not None:
            answers[rule.name] = value
    computed = None if problems else compute_credits(form, answers)
    rule = form.credits
    if rule.mode == "entered":
        wrong = entered_credits_problem(credits, rule.max_entered, field=prefix + "credits")
        if wrong is not None:
            problems.append(wrong)
        computed = credits
    elif credits is not None and computed is not None and abs(credits - computed) > 1e-9:
        problems.append(FieldProblem(prefix + "credits",
                                     f"“{form.name}”的学分按标准计算为 {computed:g}，不能填写 {credits:g}",
                                     "leave credits out: they are computed from the form"))
    return answers, float(computed or 0), problems


def compute_credits(form: LearningForm, answers: dict[str, Any]) -> float | None:
    """Credits by the form's rule from already-checked answers (None for entered forms)."""
    rule = form.credits
    if rule.mode in ("per_day", "per_item"):
        value = float(rule.rate or 0) * int(answers[rule.count_field or ""])
    elif rule.mode == "by_role":
        value = float((rule.roles or {})[answers[rule.role_field or ""]])
    elif rule.mode == "fixed":
        value = float(rule.rate or 0)
    else:
        return None
    if rule.cap is not None:
        value = min(value, rule.cap)
    return round(value, 1)
