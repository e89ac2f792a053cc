"""The rules of a year (学时要求 and deadline), kept as data: one file per year in
`hnce_cli/data/rules/` (the defaults), and years the system admin loads with
`hnce rules load FILE`, kept in the `setting` table so a server and every desk
see the same rules. A loaded year replaces the package file of that year.

`open_years(rules, today)` are the years one may still declare for: their deadline
has not passed and they have begun (normally only the current year).

`current(db)` reads the rules in force: the package files merged with the database's
years. Each call reads the setting (one indexed row), so a year the system admin
loads counts on the next request of every process; parsing is cached by its text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from hnce_cli.errors import FieldProblem, ValidationFailed
from hnce_cli.validation import open_years as declarable
from hnce_cli.validation import pick_open_year

if TYPE_CHECKING:
    from hnce_cli.store import Db

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


@cache
def _parse_stored(text: str) -> tuple[YearRules, ...]:
    return tuple(parse_rules(json.loads(text)))


@cache
def merge(stored_text: str | None) -> dict[int, YearRules]:
    """The package's years with the loaded ones on top (the same text, the same dict)."""
    merged = dict(package_rules())
    if stored_text:
        merged.update((r.year, r) for r in _parse_stored(stored_text))
    return merged


def _stored(db: Db) -> tuple[str, Any, str | None] | None:
    """(the loaded years as text, when, by whom) or None."""
    return db.one("SELECT s.value, s.updated_at, a.name FROM setting s LEFT JOIN account a ON a.id = s.updated_by "
                  "WHERE s.key = :key", key=SETTING_KEY)


def current(db: Db) -> dict[int, YearRules]:
    """The rules in force: package files, replaced by the years the system admin loaded."""
    stored = db.scalar("SELECT value FROM setting WHERE key = :key", key=SETTING_KEY)
    return merge(stored)


def rules_for(rules: dict[int, YearRules], year: int) -> YearRules:
    found = rules.get(year)
    if found is None:
        known = ", ".join(str(y) for y in sorted(rules))
        raise ValidationFailed.one("year", f"没有 {year} 年度的学时规则（已有：{known}）",
                                   "ask the system admin to load that year's rules")
    return found


def open_years(rules: dict[int, YearRules], today: date) -> list[int]:
    """Years one may still declare for: begun, and deadline not passed (validation.open_years,
    which the wizard of `hnce declare new` also runs)."""
    return declarable({y: r.deadline for y, r in rules.items()}, today)


def check_open_year(rules: dict[int, YearRules], year: int | None, today: date, *, field: str = "year") -> int:
    """The counted year 计入年度 to use: the one given if open, else the only open year."""
    return pick_open_year(open_years(rules, today), year, field=field)


# --- viewing and loading (hnce rules show | load) ----------------------------------

def year_rules_out(rules: YearRules) -> Any:
    """A year's rules as the views show them (built from checked values, not validated again)."""
    from hnce_cli.schemas import YearRulesOut

    return YearRulesOut.model_construct(
        year=rules.year, min_total=rules.min_total, min_professional=rules.min_professional,
        min_public=rules.min_public, deadline=rules.deadline, source=rules.source, origin=rules.origin)


def show(db: Db, actor: Any = None, year: int | None = None) -> Any:
    """Every year's rules (or one), saying which came from the package and which were loaded."""
    from hnce_cli.schemas import RulesOut

    stored = _stored(db)
    rules = merge(stored[0] if stored else None)
    if year is not None:
        rules_for(rules, year)  # a clear error naming the known years
    years = [year_rules_out(r) for y, r in sorted(rules.items())
             if year is None or y == year]
    return RulesOut.model_construct(years=years, updated_at=stored[1] if stored else None,
                    updated_by=stored[2] if stored else None)


def load(db: Db, actor: Any, data: Any) -> Any:
    """System admin: add or replace years' rules (validated first, audited).

    `data` is the file as decoded JSON, in any shape parse_rules reads: this is its one
    check, for the CLI and the API alike. Years not in the file keep what they had; a
    loaded year replaces its package file. The result names the years loaded.
    """
    import hashlib

    from hnce_cli import clock
    from hnce_cli.services import audit

    actor.require("system_admin")
    new = parse_rules(data)
    stored = _stored(db)
    current_rules = merge(stored[0] if stored else None)
    before = {r.year: r for r in _parse_stored(stored[0])} if stored else {}
    after = {**before, **{r.year: r for r in new}}
    text = json.dumps([after[y].as_data() for y in sorted(after)], ensure_ascii=False)
    save_setting(db, SETTING_KEY, text, actor.account_id, clock.now())
    replaced = {r.year: current_rules.get(r.year) for r in new}
    audit.record(db, actor, "rules.load", "setting", SETTING_KEY,
                 {str(y): (r.as_data() if r else None) for y, r in replaced.items()},
                 {"years": {str(r.year): r.as_data() for r in new},
                  "sha256": hashlib.sha256(text.encode()).hexdigest()[:16]})
    return show(db, actor).model_copy(update={"loaded": [r.year for r in new]})


def save_setting(db: Db, key: str, value: str, account_id: int, at: Any) -> None:
    """Insert or replace one system setting (one conditional statement on both databases)."""
    db.execute("INSERT INTO setting (key, value, updated_at, updated_by) VALUES (:key, :value, :at, :by) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
               "updated_by = excluded.updated_by", key=key, value=value, at=at, by=account_id)


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
