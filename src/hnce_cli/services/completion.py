"""Annual completion 年度完成情况: a person's credits of a year against that year's rules.

Credits count only in their own year (nothing carries over). A year passes when the
public 公需科目 and professional 专业科目 minimums and the total are all met.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from hnce_cli.models import CreditRecord, Professional, Unit
from hnce_cli.services.rules import YearRules, all_rules

# Results, as codes; their Chinese labels live in hnce_cli.terms / the renderer.
PASSED = "passed"          # 通过
NOT_PASSED = "not_passed"  # 未通过
NO_RULES = "no_rules"      # 未到要求年度 (no rules for that year)


@dataclass(frozen=True)
class YearSummary:
    professional_id: int
    year: int
    public: float
    professional: float
    rules: YearRules | None

    @property
    def total(self) -> float:
        return self.public + self.professional

    @property
    def result(self) -> str:
        return result_of(self.public, self.professional, self.rules)

    @property
    def passed(self) -> bool:
        return self.result == PASSED


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


def year_summary(session: Session, professional_id: int, year: int) -> YearSummary:
    """One person's credits of one year by subject, with the result against the rules."""
    t = CreditRecord.__table__
    rows = session.connection().execute(
        sa.select(t.c.subject, sa.func.coalesce(sa.func.sum(t.c.credits), 0))
        .where(t.c.year == year, t.c.professional_id == professional_id)
        .group_by(t.c.subject)
    ).all()
    by_subject = {subject: float(total) for subject, total in rows}
    return YearSummary(professional_id=professional_id, year=year,
                       public=by_subject.get("public", 0.0),
                       professional=by_subject.get("professional", 0.0),
                       rules=all_rules().get(year))


# --- many people at once (unit / region / province views, certificate batches) ------------

class CompletionRow(NamedTuple):
    """One approved professional's year: what the admin views, CSV and batches iterate.

    A tuple (not a model) so a province of 1,000,000 rows streams without per-row
    object cost; `result` is `result_of(public, professional, rules)`.
    """

    professional_id: int
    id_number: str
    name: str
    unit_id: int
    unit_name: str
    region_code: str
    public: float
    professional: float
    total: float
    result: str


def _year_statement(year: int, *, unit_ids: Iterable[int] | None, region_prefix: str | None,
                    professional_ids: Iterable[int] | None, after_id: int | None,
                    limit: int | None) -> sa.Select:
    """One grouped aggregate over credit_record (the covering index (year, professional_id,
    subject, credits) answers it without touching the table) left-joined to the people."""
    c = CreditRecord.__table__
    p = Professional.__table__
    u = Unit.__table__
    sums = (
        sa.select(
            c.c.professional_id.label("pid"),
            sa.func.sum(sa.case((c.c.subject == "public", c.c.credits), else_=0)).label("pub"),
            sa.func.sum(sa.case((c.c.subject == "professional", c.c.credits), else_=0)).label("pro"),
        )
        .where(c.c.year == year)
        .group_by(c.c.professional_id)
    )
    if professional_ids is not None:
        sums = sums.where(c.c.professional_id.in_(sorted(set(professional_ids))))
    agg = sums.subquery("agg")
    statement = (
        sa.select(p.c.id, p.c.id_number, p.c.name, p.c.unit_id, u.c.name, u.c.region_code,
                  sa.func.coalesce(agg.c.pub, 0), sa.func.coalesce(agg.c.pro, 0))
        .select_from(p.join(u, u.c.id == p.c.unit_id).outerjoin(agg, agg.c.pid == p.c.id))
        .where(p.c.status == "approved")
        .order_by(p.c.id)
    )
    if unit_ids is not None:
        statement = statement.where(p.c.unit_id.in_(sorted(set(unit_ids))))
    if region_prefix:
        statement = statement.where(u.c.region_code.startswith(region_prefix, autoescape=True))
    if professional_ids is not None:
        statement = statement.where(p.c.id.in_(sorted(set(professional_ids))))
    if after_id is not None:
        statement = statement.where(p.c.id > after_id)
    if limit is not None:
        statement = statement.limit(limit)
    return statement


def year_rows(session: Session, year: int, *, unit_ids: Iterable[int] | None = None,
              region_prefix: str | None = None, professional_ids: Iterable[int] | None = None,
              result: str | None = None, after_id: int | None = None,
              limit: int | None = None) -> Iterator[CompletionRow]:
    """Every approved professional in the filters with their year, ordered by id.

    People with no credits that year appear with zeros (未通过). Filters combine (AND);
    `result` is PASSED or NOT_PASSED; `after_id`/`limit` page by id (keyset), and `limit`
    counts rows before the result filter. No scope check here: callers scope.
    """
    rules = all_rules().get(year)
    statement = _year_statement(year, unit_ids=unit_ids, region_prefix=region_prefix,
                                professional_ids=professional_ids, after_id=after_id, limit=limit)
    rows = session.connection().execution_options(yield_per=10_000).execute(statement)
    for pid, id_number, name, unit_id, unit_name, region_code, pub, pro in rows:
        pub, pro = float(pub), float(pro)
        outcome = result_of(pub, pro, rules)
        if result is not None and outcome != result:
            continue
        yield CompletionRow(pid, id_number, name, unit_id, unit_name, region_code,
                            pub, pro, pub + pro, outcome)
