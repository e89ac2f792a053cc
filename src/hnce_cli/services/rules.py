"""The rules of a year (学时要求 and deadline), kept as data: one file per year in
`hnce_cli/data/rules/` (the defaults), and years the system admin loads with
`hnce rules load FILE`, kept in the `setting` table so a server and every desk
see the same rules. A loaded year replaces the package file of that year.

`open_years(today)` are the years one may still declare for: their deadline has
not passed and they have begun (normally only the current year).

The functions without a session (`all_rules`, `rules_for`, `open_years`,
`check_open_year`) read the package files merged with the database's years as
last seen by `refresh(session)`, which the services that check a year call first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from hnce_cli.errors import FieldProblem, ValidationFailed

SETTING_KEY = "year_rules"
MAX_CREDITS = 1000  # no year asks for more; a bigger number is a typo


@dataclass(frozen=True)
class YearRules:
    year: int
    min_total: float
    min_professional: float
    min_public: float
    deadline: date
    source: str | None = None
    origin: str = "package"  # package (shipped file) | database (loaded by the system admin)

    def as_data(self) -> dict[str, Any]:
        """The file shape (what `hnce rules load` reads and the setting stores)."""
        return {"year": self.year, "min_total": self.min_total, "min_professional": self.min_professional,
                "min_public": self.min_public, "deadline": self.deadline.isoformat(), "source": self.source}


def parse_rules(data: Any, *, origin: str = "database") -> list[YearRules]:
    """Validate rules data: one year's object, a list of them, or {"years": [...]}.

    Every problem is reported at once, named `years[i].field` (or `field` for a
    single object), each with a fix.
    """
    if isinstance(data, dict) and "years" in data:
        data = data["years"]
    single = isinstance(data, dict)
    items = [data] if single else data
    if not isinstance(items, list) or not items:
        raise ValidationFailed.one("file", "规则文件须是一个年度对象或年度对象的列表",
                                   'e.g. {"year": 2027, "min_total": 90, "min_professional": 60, '
                                   '"min_public": 30, "deadline": "2027-12-31", "source": "豫财会〔2027〕X号"}')
    problems: list[FieldProblem] = []
    found: dict[int, YearRules] = {}
    for index, item in enumerate(items):
        where = "" if single else f"years[{index}]."
        if not isinstance(item, dict):
            problems.append(FieldProblem(where.rstrip(".") or "file", "须是一个对象"))
            continue
        unknown = set(item) - {"year", "min_total", "min_professional", "min_public", "deadline", "source"}
        for key in sorted(unknown):
            problems.append(FieldProblem(where + key, "未知字段", "fields: year, min_total, min_professional, "
                                                              "min_public, deadline, source"))
        year = item.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            problems.append(FieldProblem(where + "year", f"年度须是 2000–2100 的整数（{year!r}）", "e.g. 2027"))
            year = None
        numbers: dict[str, float] = {}
        for name, label in (("min_total", "总学分"), ("min_professional", "专业科目学分"),
                            ("min_public", "公需科目学分")):
            value = item.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_CREDITS:
                problems.append(FieldProblem(where + name, f"{label}要求须是 0–{MAX_CREDITS} 的数（{value!r}）",
                                             "e.g. 90 / 60 / 30"))
            else:
                numbers[name] = float(value)
        if len(numbers) == 3 and numbers["min_total"] < numbers["min_professional"] + numbers["min_public"]:
            problems.append(FieldProblem(
                where + "min_total",
                f"总学分要求 {numbers['min_total']:g} 小于专业科目与公需科目之和 "
                f"{numbers['min_professional'] + numbers['min_public']:g}",
                "min_total must be at least min_professional + min_public (2025: 90 ≥ 60 + 30)"))
        deadline = None
        try:
            deadline = date.fromisoformat(str(item.get("deadline")))
        except ValueError:
            problems.append(FieldProblem(where + "deadline", f"截止日期格式不对（{item.get('deadline')!r}）",
                                         "use YYYY-MM-DD, e.g. 2027-12-31"))
        if deadline and year and not year <= deadline.year <= year + 1:
            problems.append(FieldProblem(where + "deadline", f"截止日期 {deadline} 不在 {year} 年度或次年内",
                                         f"normally {year}-12-31"))
        source = item.get("source")
        if not isinstance(source, str) or not source.strip() or len(source) > 200:
            problems.append(FieldProblem(where + "source", "须写明依据的通知文号（不超过 200 字）",
                                         "e.g. 豫财会〔2025〕4号"))
        if year in found:
            problems.append(FieldProblem(where + "year", f"{year} 年度重复", "one entry per year"))
        if year and deadline and len(numbers) == 3 and isinstance(source, str):
            found[year] = YearRules(year=year, min_total=numbers["min_total"],
                                    min_professional=numbers["min_professional"],
                                    min_public=numbers["min_public"], deadline=deadline,
                                    source=source.strip(), origin=origin)
    if problems:
        raise ValidationFailed("学时规则有误 (invalid year rules): "
                               + ", ".join(dict.fromkeys(p.field for p in problems)), problems=problems)
    return sorted(found.values(), key=lambda r: r.year)


@cache
def package_rules() -> dict[int, YearRules]:
    """The shipped defaults, one file per year."""
    folder = resources.files("hnce_cli.data").joinpath("rules")
    found: dict[int, YearRules] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            for rules in parse_rules(json.loads(entry.read_text("utf-8")), origin="package"):
                found[rules.year] = rules
    return found


# The database's years as last read by refresh(); text → parsed, so an unchanged
# setting costs one indexed read per request and nothing more.
_loaded_text: str | None = None
_merged: dict[int, YearRules] | None = None


@cache
def _parse_stored(text: str) -> tuple[YearRules, ...]:
    return tuple(parse_rules(json.loads(text)))


def merge(stored_text: str | None) -> dict[int, YearRules]:
    merged = dict(package_rules())
    if stored_text:
        merged.update((r.year, r) for r in _parse_stored(stored_text))
    return merged


def refresh(session: Any) -> dict[int, YearRules]:
    """Read the database's loaded years (if any) and make them the current rules."""
    global _loaded_text, _merged
    from sqlalchemy import select

    from hnce_cli.models import Setting

    text = session.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
    if text != _loaded_text or _merged is None:
        _merged = merge(text)
        _loaded_text = text
    return _merged


def all_rules() -> dict[int, YearRules]:
    """Every known year: package files, replaced by the database's years (see refresh)."""
    return _merged if _merged is not None else package_rules()


def rules_for(year: int) -> YearRules:
    rules = all_rules().get(year)
    if rules is None:
        known = ", ".join(str(y) for y in sorted(all_rules()))
        raise ValidationFailed.one("year", f"没有 {year} 年度的学时规则（已有：{known}）",
                                   "ask the system admin to load that year's rules")
    return rules


def open_years(today: date) -> list[int]:
    """Years one may still declare for: begun, and deadline not passed."""
    return sorted(y for y, r in all_rules().items() if y <= today.year and today <= r.deadline)


def check_open_year(year: int | None, today: date, *, field: str = "year") -> int:
    """The counted year 计入年度 to use: the one given if open, else the only open year."""
    years = open_years(today)
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


# --- viewing and loading (hnce rules show | load) ----------------------------------

def show(session: Any, year: int | None = None) -> Any:
    """Every year's rules (or one), saying which came from the package and which were loaded."""
    from sqlalchemy import select

    from hnce_cli.models import Account, Setting
    from hnce_cli.schemas import RulesOut, YearRulesOut

    current = refresh(session)
    if year is not None:
        rules_for(year)  # a clear error naming the known years
    stored = session.execute(
        select(Setting.updated_at, Account.name).outerjoin(Account, Account.id == Setting.updated_by)
        .where(Setting.key == SETTING_KEY)).first()
    years = [YearRulesOut(**r.as_data(), origin=r.origin) for y, r in sorted(current.items())
             if year is None or y == year]
    return RulesOut(years=years, updated_at=stored[0] if stored else None,
                    updated_by=stored[1] if stored else None)


def load(session: Any, actor: Any, data: Any) -> Any:
    """System admin: add or replace years' rules (validated first, audited).

    `data` is the file as decoded JSON, in any shape parse_rules reads: this is its one
    check, for the CLI and the API alike. Years not in the file keep what they had; a
    loaded year replaces its package file. The result names the years loaded.
    """
    import hashlib

    from sqlalchemy import select

    from hnce_cli import clock
    from hnce_cli.models import Setting
    from hnce_cli.services import audit

    actor.require("system_admin")
    new = parse_rules(data)
    current = refresh(session)
    setting = session.execute(select(Setting).where(Setting.key == SETTING_KEY)).scalar()
    before = {r.year: r for r in _parse_stored(setting.value)} if setting else {}
    after = {**before, **{r.year: r for r in new}}
    text = json.dumps([after[y].as_data() for y in sorted(after)], ensure_ascii=False)
    now = clock.now()
    if setting:
        setting.value, setting.updated_at, setting.updated_by = text, now, actor.account_id
    else:
        session.add(Setting(key=SETTING_KEY, value=text, updated_at=now, updated_by=actor.account_id))
    session.flush()
    replaced = {r.year: current.get(r.year) for r in new}
    audit.record(session, actor, "rules.load", "setting", SETTING_KEY,
                 {str(y): (r.as_data() if r else None) for y, r in replaced.items()},
                 {"years": {str(r.year): r.as_data() for r in new},
                  "sha256": hashlib.sha256(text.encode()).hexdigest()[:16]})
    return show(session).model_copy(update={"loaded": [r.year for r in new]})


# Results of a year, as codes; their Chinese labels live in hnce_cli.terms.
PASSED = "passed"          # 通过
NOT_PASSED = "not_passed"  # 未通过
NO_RULES = "no_rules"      # 未到要求年度 (no rules for that year)


def result_of(public: float, professional: float, rules: YearRules | None) -> str:
    """The one place that decides pass or fail (boundaries are inclusive: 30 public passes)."""
    if rules is None:
        return NO_RULES
    # Credits are sums of decimals (0.5 steps and the like): compare with a small tolerance
    # so that 29.9999999 from float addition does not fail a person who has 30.
    eps = 1e-9
    ok = (public + eps >= rules.min_public and professional + eps >= rules.min_professional
          and public + professional + eps >= rules.min_total)
    return PASSED if ok else NOT_PASSED
