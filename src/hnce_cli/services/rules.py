"""The rules of a year (学时要求 and deadline), kept as data: one file per year in
`hnce_cli/data/rules/`, so a new year's notice is a data change.

`open_years(today)` are the years one may still declare for: their deadline has
not passed and they have begun (normally only the current year).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from hnce_cli.errors import ValidationFailed


@dataclass(frozen=True)
class YearRules:
    year: int
    min_total: float
    min_professional: float
    min_public: float
    deadline: date
    source: str | None = None


@cache
def all_rules() -> dict[int, YearRules]:
    folder = resources.files("hnce_cli.data").joinpath("rules")
    found: dict[int, YearRules] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text("utf-8"))
        rules = YearRules(year=int(data["year"]), min_total=data["min_total"],
                          min_professional=data["min_professional"],
                          min_public=data["min_public"],
                          deadline=date.fromisoformat(data["deadline"]), source=data.get("source"))
        found[rules.year] = rules
    return found


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
