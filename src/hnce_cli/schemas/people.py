"""Professionals as a viewer may see them: look-ups and lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from hnce_cli.schemas._base import BaseModel
from hnce_cli.terms import (
    REGISTRATION_STATUS,
)


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
