"""What a certificate says, and the canonical content its verification code signs.

Plain dataclasses and the standard library only: this module is imported by the
CLI and the server on every verification, so it must stay cheap to load.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

CANONICAL_VERSION = "hnce-cert-v1"
# POST /api/v1/certificates/pdf: the issued certificate's facts (CertificateOut, ASCII JSON) beside the PDF.
CERTIFICATE_HEADER = "X-Hnce-Certificate"
# A desk that set any of these draws its prints itself, with its own template or fonts,
# instead of taking the PDF that `hnce serve` draws.
OWN_DRAWING_SETTINGS = ("HNCE_CERT_TEMPLATE", "HNCE_CERT_FONT", "HNCE_CERT_FALLBACK_FONT")


def desk_draws_itself() -> bool:
    """Whether this process was set up to draw certificates with its own template or fonts."""
    import os

    return any(os.environ.get(name) for name in OWN_DRAWING_SETTINGS)


def format_credits(value: int | float | str | Decimal) -> str:
    """Credits as printed and signed: a plain decimal without trailing zeros (90, 30.5)."""
    try:
        dec = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"credits must be a number, got {value!r}") from exc
    if not dec.is_finite() or dec < 0:
        raise ValueError(f"credits must be a finite number >= 0, got {value!r}")
    text = format(dec.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


@dataclass(frozen=True)
class CertificateContent:
    """The facts a verification code vouches for (with the full, unmasked ID number).

    Anything that changes one of these fields makes the old code fail to verify.
    """

    certificate_number: str
    id_number: str
    name: str
    year: int
    public_credits: int | float | str | Decimal
    professional_credits: int | float | str | Decimal
    issue_date: date

    def canonical(self) -> bytes:
        """A stable byte string: fixed field order, NFC text, normalised numbers, ISO date."""
        lines = [
            CANONICAL_VERSION,
            f"number={self.certificate_number.strip().upper()}",
            f"id={self.id_number.strip().upper()}",
            f"name={_nfc(self.name)}",
            f"year={int(self.year)}",
            f"public={format_credits(self.public_credits)}",
            f"professional={format_credits(self.professional_credits)}",
            f"issued={self.issue_date.isoformat()}",
        ]
        for line in lines:
            if "\n" in line or "\r" in line:
                raise ValueError(f"certificate field contains a line break: {line!r}")
        return "\n".join(lines).encode("utf-8")


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate (the ID number is already masked here).

    `issuing_authority` may be left empty: the template's authority name is then used.
    """

    name: str
    id_number_masked: str
    unit_name: str
    year: int
    public_credits: int | float | str | Decimal
    professional_credits: int | float | str | Decimal
    total_credits: int | float | str | Decimal
    certificate_number: str
    issue_date: date
    verification_code: str
    issuing_authority: str = ""
    result: str = "通过"
    verify_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def fields(self, authority_default: str = "") -> dict[str, str]:
        """The placeholders a template may use, as display strings."""
        d = self.issue_date
        values = {
            "name": _nfc(self.name),
            "id_number_masked": self.id_number_masked,
            "unit_name": _nfc(self.unit_name),
            "year": str(int(self.year)),
            "public_credits": format_credits(self.public_credits),
            "professional_credits": format_credits(self.professional_credits),
            "total_credits": format_credits(self.total_credits),
            "result": self.result,
            "certificate_number": self.certificate_number,
            "issuing_authority": self.issuing_authority or authority_default,
            "issue_date": d.isoformat(),
            "issue_date_cn": f"{d.year}年{d.month}月{d.day}日",
            "verification_code": self.verification_code,
            "verify_url": self.verify_url or "",
        }
        values.update(self.extra)
        return values



def file_name(number: str, name: str) -> str:
    """The default PDF file name, NUMBER-NAME.pdf, made safe for any disk (`filenames.safe_name`).

    One function because the CLI (writing the file) and the server (naming its download) must agree.
    """
    from hnce_cli.filenames import safe_name

    return safe_name(f"{number}-{name.strip() or 'certificate'}.pdf")


# The facts an official certificate prints from a person's record, by the platform's words.
PRINTED_FIELDS = {"name": "姓名", "unit_name": "工作单位", "id_number": "身份证号", "id_number_masked": "身份证号"}


def unprintable(**texts: str) -> str | None:
    """Why these facts cannot go on a certificate (a control or invisible character), or None.

    Refused, never stripped: an official document shows the record as it is, so a line
    break, ESC, a bidi override or a zero-width character in a stored name is a record to
    correct, not something to print or quietly drop. The reason names the field and the fix.
    """
    from hnce_cli.text import first_hidden

    for field_name, text in texts.items():
        bad = first_hidden(str(text))
        if bad is not None:
            label = PRINTED_FIELDS.get(field_name, field_name)
            return (f"{label}含控制字符或不可见字符 U+{ord(bad):04X}，不能印在证书上 ({field_name} contains a "
                    f"control or invisible character): 请更正该人员的{label}后重新打印 (correct the record, then "
                    "print again)")
    return None
