"""The facts a certificate records and signs, as stored JSON (services/certificates.py
records them; verifying reads them back). Standard library only: cheap to import.
"""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Any

from hnce_cli.certificates.model import CertificateContent, format_credits
from hnce_cli.masking import mask_id_number

VERIFY_URL_ENV = "HNCE_CERT_VERIFY_URL"
NUMBER_PREFIX = "HN"
CONTENT_VERSION = 1
FACT_KEYS = ("number", "id_number", "name", "year", "public", "professional", "unit_name")


def certificate_number(year: int, professional_id: int) -> str:
    """The stable number of a person's certificate of a year."""
    return f"{NUMBER_PREFIX}{int(year)}-{int(professional_id):08d}"


# Told when the deployment has no verify URL: by `hnce serve` as it starts, by a print.
NO_VERIFY_URL = (f"提示：未设置 {VERIFY_URL_ENV}，证书二维码只含验证码，手机扫码打不开查验页；请设为本服务对外的"
                 f"查验地址，如 https://hnce.example.cn/verify (certificates' QR codes will hold only the code; "
                 f"set {VERIFY_URL_ENV})")
NO_VERIFY_URL_PRINTED = (f"提示：证书二维码只含验证码，手机扫码打不开查验页：签发证书的服务未设置 {VERIFY_URL_ENV} "
                         f"(the QR code holds only the code; set {VERIFY_URL_ENV} where the services run — "
                         f"the server's environment in remote mode; docs/certificates.md)")


def verify_base() -> str | None:
    """HNCE_CERT_VERIFY_URL without its trailing slash, or None when it is not set.

    The QR code of every certificate printed holds it: a value a phone cannot open (no
    http(s) scheme or host, a query or fragment the code would land in) is refused before
    a single certificate carries it."""
    from urllib.parse import urlsplit

    base = os.environ.get(VERIFY_URL_ENV, "").strip()
    if not base:
        return None
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or "#" in base:
        from hnce_cli.errors import ValidationFailed

        raise ValidationFailed.one(VERIFY_URL_ENV, f"证书查验地址不是可打开的网址 (not an http(s) URL): {base!r}",
                                   "set it to the public address of the verify page, e.g. "
                                   "https://hnce.example.cn/verify (docs/certificates.md)")
    return base.rstrip("/")


def verify_url(code: str) -> str | None:
    """The URL the QR code carries when HNCE_CERT_VERIFY_URL is set (else the code alone):
    the base, then the code as its last path segment (GET /verify/CODE of `hnce serve`)."""
    base = verify_base()
    return f"{base}/{code}" if base else None


def facts(year: int, person: Any) -> dict[str, Any]:
    """What a certificate records (signed fields plus the unit it names), from a completion row."""
    return {
        "v": CONTENT_VERSION, "number": certificate_number(year, person.professional_id),
        "id_number": person.id_number, "name": person.name, "year": int(year),
        "public": format_credits(person.public), "professional": format_credits(person.professional),
        "unit_name": person.unit_name,
    }


def same_facts(stored: dict[str, Any], fresh: dict[str, Any]) -> bool:
    return all(stored.get(k) == fresh.get(k) for k in FACT_KEYS)


def content(f: dict[str, Any]) -> CertificateContent:
    return CertificateContent(
        certificate_number=f["number"], id_number=f["id_number"], name=f["name"],
        year=int(f["year"]), public_credits=f["public"], professional_credits=f["professional"],
        issue_date=date.fromisoformat(f["issue_date"]),
    )


def sign(f: dict[str, Any], key: bytes) -> str:
    from hnce_cli.certificates.signing import sign as hmac_sign

    return hmac_sign(content(f), key)


def dump(f: dict[str, Any]) -> str:
    """The stored `content` column."""
    return json.dumps(f, ensure_ascii=False, sort_keys=True)


def audited(f: dict[str, Any]) -> dict[str, Any]:
    """The audit row's view of a certificate: no full ID number in the log."""
    return {"year": f["year"], "name": f["name"], "public": f["public"],
            "professional": f["professional"], "unit_name": f["unit_name"],
            "issue_date": f["issue_date"], "id_number": mask_id_number(f["id_number"])}
