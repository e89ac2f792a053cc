"""Registrations 注册 and the unit admin's decisions on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel


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
