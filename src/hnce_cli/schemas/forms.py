"""Learning forms 学习形式: their fields and credit rules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel


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
