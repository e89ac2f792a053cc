"""Learning forms, declarations 学时(分)申报 and their review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel, Credits, DbInt, FieldValue, Year
from hnce_cli.schemas.people import ProfessionalOut
from hnce_cli.terms import (
    DECLARATION_FILTERS,
    DECLARATION_STATUS,
    SUBJECTS,
)


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
    allow_duplicate: bool = Field(default=False, description=(
        "declare it even though an identical one (same form, year and answers) is a draft, pending or "
        "approved: a genuinely repeated activity"))


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


@dataclass(slots=True)
class DeclarationImportRow:
    """One data row of a unit's import file and what became of it. A plain dataclass (like
    ReviewItem): an import of 100,000 rows reports 100,000 of them."""

    row: int  # as the spreadsheet numbers it (header = 1)
    outcome: Literal["created", "already_imported"]
    id: int  # the declaration: made now, or made before from this row
    status: str  # that declaration's state now
    ref: str | None = None  # the row's 申报编号, when the file has that column
    reason: str | None = None  # why it was not created again


class DeclarationImportResult(BaseModel):
    created: int
    already_imported: int = Field(default=0, description="rows imported before: not created again")
    status: str = "pending_hr"
    by_form: dict[str, int] = Field(description="created, per form")
    form_names: dict[str, str] = Field(default={}, description="the platform's name of each form in by_form")
    credits: float = Field(description="credits of the declarations created")
    rows: list[DeclarationImportRow] = []
