"""Annual completion 年度完成情况: a person's credits of a year against that year's rules.

Credits count only in their own year (nothing carries over). A year passes when the
public 公需科目 and professional 专业科目 minimums and the total are all met.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from hnce_cli.models import CreditRecord
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
