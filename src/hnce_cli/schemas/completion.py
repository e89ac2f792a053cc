"""Year rules, annual completion 年度完成情况, national-platform sync."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, NamedTuple

from pydantic import Field

from hnce_cli.schemas._base import BaseModel, Year
from hnce_cli.terms import (
    SUBJECTS,
)

# --- year rules, annual completion 年度完成情况, national-platform sync ----------------------

class YearRulesOut(BaseModel):
    """One year's 学时要求: minimum total / professional / public credits and the deadline."""

    year: int
    min_total: float
    min_professional: float
    min_public: float
    deadline: date
    source: str | None = None
    origin: Literal["package", "database"] = Field(
        description="package: the shipped default; database: loaded by the system admin")


class RulesOut(BaseModel):
    years: list[YearRulesOut]
    updated_at: datetime | None = Field(default=None, description="when rules were last loaded")
    updated_by: str | None = None
    loaded: list[int] = Field(default_factory=list, description="rules load: the years this load added or replaced")


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


class SyncImportRequest(BaseModel):
    """Rows of a national-platform (or online / base) export, keyed by header (docs/sync.md)."""

    source: Literal["national", "online", "base"] = "national"
    first_row: int = Field(default=2, ge=1, description="file row number of rows[0] (header is row 1)")
    rows: list[dict[str, str | int | float | None]]


class SyncProblem(BaseModel):
    row: int
    field: str
    kind: Literal["bad", "unknown_id", "duplicate_in_file", "already_imported"]
    message: str


class SyncImportResult(BaseModel):
    source: str
    rows: int
    added: int
    credits: float = Field(description="credits added")
    counts: dict[str, int] = Field(description="added, already_imported, duplicate_in_file, unknown_id, bad")
    failed: int = Field(default=0, description="rows to fix and import again (bad, unknown_id): the import "
                                               "was partial (exit 7); duplicates are not failures")
    problems: list[SyncProblem]


class CreditExportRow(BaseModel):
    """One credit record in the national platform's import shape (docs/sync.md)."""

    id: int
    id_number: str
    name: str
    year: int
    subject: str
    credits: float
    source: str
    record: str
    date: date


class CreditExportPage(BaseModel):
    year: int
    rows: list[CreditExportRow]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")
