"""Shapes that cross the backend boundary: what services return, what --json
prints and what the HTTP API sends. Changing a field here is an API change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal, NamedTuple

import pydantic
from pydantic import ConfigDict, Field

from hnce_cli.terms import (
    DECLARATION_FILTERS,
    DECLARATION_STATUS,
    REGISTRATION_STATUS,
    ROLES,
    SUBJECTS,
    UNIT_KINDS,
)


class BaseModel(pydantic.BaseModel):
    """Each shape's validator and serialiser are built when first used, not at import."""

    model_config = ConfigDict(defer_build=True)


class RegionOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None = None


class UnitOut(BaseModel):
    id: int
    name: str
    uscc: str | None
    region_code: str
    region_name: str
    kind: str
    kind_label: str = ""

    def model_post_init(self, _context: object) -> None:
        self.kind_label = UNIT_KINDS.get(self.kind, self.kind)


class UnitSearchResult(BaseModel):
    query: str
    units: list[UnitOut]
    hint: str | None = None


class UnitInput(BaseModel):
    name: str
    uscc: str
    region: str = Field(description="region code or name, e.g. 410105 / 金水区 / 郑州市市直")


class UnitImportResult(BaseModel):
    created: int
    units: list[UnitOut]


class AccountOut(BaseModel):
    id: int
    login: str
    name: str
    role: str
    role_label: str = ""
    unit_ids: list[int] = []
    region_code: str | None = None

    def model_post_init(self, _context: object) -> None:
        self.role_label = ROLES.get(self.role, self.role)


class AccountInput(BaseModel):
    login: str
    name: str
    role: Literal["unit_admin", "hr", "support", "institution", "system_admin"]
    password: str
    units: list[str] = []  # unit ids, USCCs or exact names, for unit admins
    region: str | None = None  # region code or name, for HR reviewers


class LoginRequest(BaseModel):
    login: str
    password: str


class LoggedOut(BaseModel):
    logged_out: bool


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class LoginResult(BaseModel):
    token: str
    expires_at: datetime
    account: AccountOut


class RegistrationInput(BaseModel):
    """Every field of the platform's registration form."""

    id_number: str
    password: str
    mobile: str
    email: str
    name: str
    has_employer: bool = True
    unit: str | None = None  # unit id, USCC or exact name (when has_employer)
    region: str | None = None  # county-level area code or name (when no employer)
    department: str | None = None
    gender: str | None = None  # derived from the ID number when omitted
    birth_date: date | None = None  # derived from the ID number when omitted
    ethnicity: str | None = None
    native_place: str | None = None
    school: str | None = None
    major: str | None = None
    title: str | None = None

    def missing(self) -> list[str]:
        """Required fields left empty: what a wizard must ask, what a script must pass."""
        missing = [f for f in ("id_number", "password", "mobile", "email", "name")
                   if not (getattr(self, f) or "").strip()]
        if self.has_employer and not (self.unit or "").strip():
            missing.append("unit")
        if not self.has_employer and not (self.region or "").strip():
            missing.append("region")
        return missing


class ProfessionalOut(BaseModel):
    """A professional as a viewer may see them (ID number and phone masked unless
    the viewer's role may see them)."""

    id: int
    id_number: str
    name: str
    gender: str
    birth_date: date | None
    mobile: str
    email: str | None
    unit_id: int
    unit_name: str
    unit_kind: str
    region_name: str
    department: str | None = None
    ethnicity: str | None = None
    native_place: str | None = None
    school: str | None = None
    major: str | None = None
    title: str | None = None
    status: str
    status_label: str = ""
    registered_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reject_reason: str | None = None
    masked: bool = True

    def model_post_init(self, _context: object) -> None:
        self.status_label = REGISTRATION_STATUS.get(self.status, self.status)


class LookupResult(BaseModel):
    query: str
    matched_by: Literal["id_number", "mobile", "name"]
    matches: list[ProfessionalOut]
    total: int


class PendingList(BaseModel):
    registrations: list[ProfessionalOut]
    total: int


@dataclass(slots=True)
class DecisionItem:
    """One registration's outcome. A plain dataclass, not a model: a batch builds
    100,000 of them, and pydantic still validates and serialises it by its fields."""

    id_number: str
    outcome: Literal["approved", "rejected", "skipped", "conflict", "failed", "would_approve",
                     "would_reject"]
    reason: str | None = None
    name: str | None = None
    unit_name: str | None = None


class RegistrationQuery(BaseModel):
    """Which pending registrations to list: one unit, registered between two dates."""

    unit: str | None = None
    registered_from: date | None = None
    registered_to: date | None = None


class DecisionRequest(BaseModel):
    """Approve or reject registrations: by ID numbers, or all pending matching filters."""

    decision: Literal["approve", "reject"]
    id_numbers: list[str] | None = None
    all_matching: bool = False
    unit: str | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    reason: str | None = Field(default=None, max_length=500)  # professional.reject_reason
    dry_run: bool = False


class DecisionResult(BaseModel):
    decision: Literal["approve", "reject"]
    dry_run: bool
    counts: dict[str, int]
    items: list[DecisionItem]


class InboxItem(BaseModel):
    """One item awaiting a decision: its key (ID number or number), who, which unit, since when."""

    key: str
    name: str | None = None
    unit_name: str | None = None
    waiting_since: datetime | None = None


class InboxQueue(BaseModel):
    """One workflow's queue for the decider: how many wait, since when, the oldest few."""

    workflow: str
    label: str
    step: str
    step_label: str
    total: int
    oldest: datetime | None = None
    command: str
    items: list[InboxItem]


class Inbox(BaseModel):
    """Everything awaiting the caller's decision, workflow by workflow (hnce inbox)."""

    queues: list[InboxQueue]
    total: int


class DbInfo(BaseModel):
    url: str
    dialect: str
    revision_before: str | None
    revision: str


# --- learning forms, declarations and their review ------------------------------

DbInt = Annotated[int, Field(ge=1, le=2_147_483_647)]  # an id the database can hold
Year = Annotated[int, Field(ge=2000, le=2100)]
Credits = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
FieldValue = str | int | float | None


class FormField(BaseModel):
    """One item a learning form asks for."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=40)
    type: Literal["text", "date", "int", "number", "choice"]
    required: bool = True
    choices: list[str] | None = None
    min: float | None = None
    max: float | None = None


class CreditRule(BaseModel):
    """How a form's credits are computed (see docs/declarations.md)."""

    mode: Literal["per_day", "per_item", "by_role", "entered", "fixed"]
    rate: float | None = Field(default=None, ge=0)
    count_field: str | None = None  # per_day / per_item: the int field that is multiplied
    role_field: str | None = None  # by_role: the choice field that picks the credits
    roles: dict[str, float] | None = None
    cap: float | None = Field(default=None, gt=0)  # computed credits above this are capped
    max_entered: float | None = Field(default=None, gt=0)  # entered: the most one may enter


class LearningForm(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=60)
    standard: Literal["national", "provincial"]
    note: str | None = None
    fields: list[FormField]
    date_field: str | None = None  # a date field that must fall in the counted year
    credits: CreditRule


class FormsOut(BaseModel):
    source: Literal["package", "database"]
    updated_at: datetime | None = None
    updated_by: str | None = None
    subject: Literal["public"] = "public"
    subject_label: str = "公需科目"
    forms: list[LearningForm]


class AttachmentIn(BaseModel):
    """A file sent with a declaration: its name and its bytes (base64)."""

    filename: str = Field(min_length=1, max_length=255)
    content_base64: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str


class AttachmentFile(AttachmentOut):
    declaration_id: int
    content_base64: str


class AttachmentBundle(BaseModel):
    files: list[AttachmentFile]


class DeclarationInput(BaseModel):
    """A new declaration: the learning form first, then only that form's fields."""

    form: str = Field(min_length=1, max_length=60, description="form code or Chinese name")
    year: Year | None = Field(default=None, description="计入年度; default: the open year")
    credits: Credits | None = Field(default=None, description="only for forms whose credits are entered")
    fields: dict[str, FieldValue] = {}
    attachments: list[AttachmentIn] = []
    submit: bool = Field(default=False, description="submit at once (else 保存暂不提交: a draft)")


class DeclarationEdit(BaseModel):
    """Changes to a draft: fields given are replaced, attachments added or removed."""

    year: Year | None = None
    credits: Credits | None = None
    fields: dict[str, FieldValue] | None = None
    attachments: list[AttachmentIn] = []
    remove_attachments: list[DbInt] = []


class DeclarationEventOut(BaseModel):
    at: datetime
    action: str
    action_label: str
    actor_name: str | None = None
    reason: str | None = None


class DeclarationOut(BaseModel):
    id: int
    professional_id: int
    id_number: str  # masked unless the viewer may see it
    name: str
    unit_id: int
    unit_name: str
    form_code: str
    form_name: str
    subject: str
    subject_label: str = ""
    year: int
    credits: float
    status: str
    status_label: str = ""
    fields: dict[str, FieldValue] = {}
    field_labels: dict[str, str] = {}  # the form's Chinese label of each field
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = None
    rejected_level: str | None = None
    attachments: list[AttachmentOut] = []
    history: list[DeclarationEventOut] = []

    def model_post_init(self, _context: object) -> None:
        self.status_label = DECLARATION_STATUS.get(self.status, self.status)
        self.subject_label = SUBJECTS.get(self.subject, self.subject)


class DeclarationQuery(BaseModel):
    """Which declarations to list: the progress view's filter, whose, and narrowing."""

    filter: Literal["all", "draft", "pending", "approved", "rejected"] = "all"
    person: str | None = Field(default=None, description="ID number, mobile or name (admins)")
    unit: str | None = None
    year: Year | None = None
    form: str | None = None
    awaiting_review: bool = Field(default=False, description="only those awaiting my review")
    ids: list[DbInt] | None = None


class DeclarationList(BaseModel):
    person: ProfessionalOut | None = None
    filter: str
    filter_label: str = ""
    counts: dict[str, int]  # per filter: all, draft, pending, approved, rejected
    total: int
    declarations: list[DeclarationOut]

    def model_post_init(self, _context: object) -> None:
        self.filter_label = DECLARATION_FILTERS.get(self.filter, self.filter)


class DeclarationDeleted(BaseModel):
    id: int
    deleted: bool = True


class ReviewRequest(BaseModel):
    """Approve or reject declarations awaiting my review: by ids, or all matching filters."""

    decision: Literal["approve", "reject"]
    ids: list[DbInt] | None = None
    all_matching: bool = False
    unit: str | None = None
    year: Year | None = None
    form: str | None = None
    reason: str | None = Field(default=None, max_length=500)
    dry_run: bool = False


@dataclass(slots=True)
class ReviewItem:
    """One declaration's outcome. A plain dataclass, not a model (like DecisionItem):
    an HR batch builds 100,000 of them, and validating each cost more than the review."""

    id: int
    outcome: Literal["approved", "rejected", "skipped", "conflict", "failed", "would_approve",
                     "would_reject"]
    status: str | None = None  # the declaration's state afterwards
    reason: str | None = None
    name: str | None = None
    unit_name: str | None = None
    credits: float | None = None


class ReviewResult(BaseModel):
    decision: Literal["approve", "reject"]
    level: Literal["unit", "hr"]
    dry_run: bool
    counts: dict[str, int]
    items: list[ReviewItem]


class DeclarationImportRequest(BaseModel):
    """Rows of a unit's import file, keyed by header (see docs/declarations.md)."""

    rows: list[dict[str, str | int | float | None]]


class DeclarationImportResult(BaseModel):
    created: int
    status: str = "pending_hr"
    by_form: dict[str, int]
    credits: float


# --- certificates 年度证书 (docs/certificates.md) ----------------------------------------

class CertificateRequest(BaseModel):
    """A certificate for one person and year (a professional omits `person`: their own)."""

    person: str | None = Field(default=None, description="ID number (omit for yourself)")
    year: Year


class CertificateOut(BaseModel):
    """A signed certificate's printed facts (ID number masked): what the CLI renders to PDF."""

    number: str
    verification_code: str
    verify_url: str | None = None
    professional_id: int
    name: str
    id_number_masked: str
    unit_id: int
    unit_name: str
    region_code: str
    region_name: str
    year: int
    public_credits: float
    professional_credits: float
    total_credits: float
    result: str = "通过"
    issue_date: date
    issued_at: datetime
    outcome: Literal["issued", "unchanged", "reissued", "revoked"] = Field(
        description="issued: first time; unchanged: as recorded; reissued: facts changed, new code")
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


class CertificateBatchRequest(BaseModel):
    """One page of a batch: a unit's, a region's or the province's passed people of a year."""

    year: Year
    unit: str | None = None
    region: str | None = None
    province: bool = False
    after: int = Field(default=0, ge=0, le=2_147_483_647, description="last professional id of the previous page")
    limit: int = Field(default=500, ge=1, le=1000)


class CertificateSkip(BaseModel):
    """A passed person whose certificate was not (re)issued, and why."""

    professional_id: int
    number: str
    name: str
    id_number_masked: str
    unit_name: str
    status: Literal["revoked", "conflict"]
    reason: str


class CertificatePage(BaseModel):
    year: int
    scope: str
    items: list[CertificateOut]
    skipped: list[CertificateSkip]
    scanned: int = Field(description="approved people looked at in this page")
    not_passed: int
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")


class CertificateRevokeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class CertificateVerification(BaseModel):
    """What a verifier is told. Facts only for a code that matches the record."""

    status: Literal["genuine", "altered", "revoked", "unknown"]
    status_label: str
    message: str
    certificate_number: str
    verification_code: str
    name: str | None = None
    id_number_masked: str | None = None
    unit_name: str | None = None
    year: int | None = None
    public_credits: float | None = None
    professional_credits: float | None = None
    total_credits: float | None = None
    issue_date: date | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


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
