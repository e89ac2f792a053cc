"""An issued certificate drawn as a PDF: what `hnce certificate print` writes.

Its own module, importing neither a backend nor the batch machinery, so that the
backends (local and `hnce serve`) can draw a certificate without an import circle, and
the CLI's own print loads fpdf2 only when it draws.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from hnce_cli.certificates.model import CertificateData


class Issued(Protocol):
    """What drawing reads of an issued certificate: the attributes of `schemas.CertificateOut`
    (any object with them will do, e.g. plain data read by attribute)."""

    number: str
    verification_code: str
    verify_url: str | None
    name: str
    id_number_masked: str
    unit_name: str
    year: int
    public_credits: float
    professional_credits: float
    total_credits: float
    result: str
    issue_date: date


def to_data(c: Issued) -> CertificateData:
    """What the PDF prints, from what the backend returned."""
    return CertificateData(
        name=c.name, id_number_masked=c.id_number_masked, unit_name=c.unit_name, year=c.year,
        public_credits=c.public_credits, professional_credits=c.professional_credits,
        total_credits=c.total_credits, certificate_number=c.number, issue_date=c.issue_date,
        verification_code=c.verification_code, result=c.result, verify_url=c.verify_url,
    )


def render_issued(c: Issued) -> bytes:
    """One issued certificate as PDF bytes, from this process's template and fonts: what
    `hnce certificate print` writes, drawn by the CLI in local mode and by `hnce serve` in remote mode."""
    from hnce_cli.certificates.pdf import render_certificate
    from hnce_cli.certificates.template import load_template

    return render_certificate(to_data(c), load_template())
