"""Certificates 年度证书 (docs/certificates.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel, Year

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
    status: Literal["revoked", "conflict", "failed"]  # failed: a record a certificate cannot print
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
