"""Annual completion 年度完成情况: a person's years, lists and summaries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel, Year
from hnce_cli.schemas.rules import YearRulesOut
from hnce_cli.terms import (
    SUBJECTS,
)

# --- year rules, annual completion 年度完成情况, national-platform sync ----------------------

class CompletionYear(BaseModel):
    """One year of one person against that year's rules (null minimums: no rules that year)."""

    year: int
    public: float
    professional: float
    total: float
    min_total: float | None = None
    min_professional: float | None = None
    min_public: float | None = None
    deadline: date | None = None
    result: Literal["passed", "not_passed", "no_rules"]
    result_label: str = ""
    open: bool = Field(default=False, description="the year's deadline has not passed yet")

    def model_post_init(self, _context: object) -> None:
        from hnce_cli.terms import COMPLETION_RESULTS

        self.result_label = COMPLETION_RESULTS.get(self.result, self.result)


class CreditRecordOut(BaseModel):
    """One credit that counts (the '详细' view): where it came from."""

    id: int
    year: int
    subject: str
    subject_label: str = ""
    credits: float
    source: str
    source_label: str = ""
    source_ref: str
    origin: str = Field(default="", description="what it came from, in words")
    created_at: datetime

    def model_post_init(self, _context: object) -> None:
        from hnce_cli.terms import CREDIT_SOURCES

        self.subject_label = SUBJECTS.get(self.subject, self.subject)
        self.source_label = CREDIT_SOURCES.get(self.source, self.source)


class PersonCompletion(BaseModel):
    """A person's 年度完成情况: every year, and (on request) each credit record."""

    professional_id: int
    name: str
    id_number: str  # masked unless the viewer may see it
    masked: bool
    unit_name: str
    status: str
    years: list[CompletionYear]
    details: list[CreditRecordOut] | None = None


class CompletionQuery(BaseModel):
    """A unit's, a region's or the province's completion of one year, as asked: the
    service checks it (services.completion.check_query), so the CLI and the API refuse
    the same requests with the same error."""

    year: Year | None = Field(default=None, description="required: a list is of one year")
    unit: str | None = Field(default=None, description="unit id, USCC or name")
    region: str | None = Field(default=None, description="region code or name; 410000 is the province")
    result: str | None = Field(default=None, description="passed 通过 | not_passed 未通过; not with a summary")
    person: str | None = Field(default=None, description="refused: a list is not one person's view")


class CompletionRowOut(BaseModel):
    professional_id: int
    id_number: str  # masked unless the viewer may see it
    name: str
    unit_id: int
    unit_name: str
    region_code: str
    public: float
    professional: float
    total: float
    result: Literal["passed", "not_passed", "no_rules"]


class CompletionPage(BaseModel):
    """One page of a completion list, ordered by professional id (keyset paging)."""

    year: int
    scope: str = Field(description="what the list covers, in words")
    rules: YearRulesOut | None
    masked: bool = Field(description="ID numbers are masked for this viewer")
    rows: list[CompletionRowOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")


class CompletionGroup(BaseModel):
    """One city, county-level region or unit of a completion summary: people and results."""

    code: str = Field(description="region code (city, county) or the unit's id (unit)")
    name: str
    region_code: str | None = Field(default=None, description="the unit's region (unit groups only)")
    people: int = Field(description="approved professionals (no credits that year: 未通过)")
    passed: int
    not_passed: int
    no_rules: int = Field(default=0, description="people of a year without rules (未到要求年度)")
    pass_rate: float | None = Field(description="passed / people, 0–1; null with no people or no rules")


class CompletionSummary(BaseModel):
    """A region's completion of one year counted per city, county or unit, with the total."""

    year: int
    scope: str = Field(description="what the summary covers, in words")
    by: Literal["city", "county", "unit"]
    rules: YearRulesOut | None
    groups: list[CompletionGroup]
    total: CompletionGroup
