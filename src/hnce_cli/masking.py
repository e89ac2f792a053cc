"""How ID numbers and phones are shown to a viewer who may not see them whole: one
rule for every view, export and certificate; and how a password in a database or API
address is hidden from every output (standard library only, cheap to import)."""

from __future__ import annotations

import re


def mask_id_number(value: str) -> str:
    """Show first 6 and last 4 of an ID number so lists stay recognisable but not leaky."""
    text = value.strip()
    if len(text) < 15:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_mobile(value: str) -> str:
    """Show first 3 and last 4 of a mobile number (138****5678), the usual Chinese form."""
    text = value.strip()
    if len(text) < 11:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


# Database and API addresses name their password in the URL's user part
# (postgresql://hnce:secret@db/hnce) or, for libpq, as a parameter (?password=secret).
# Every address hnce prints — a profile listing, a connection error, a bug's message — goes
# through `hide_password` first. The host part is read as the drivers read it: up to the
# first /, ? or #, its user part before the last @.
_URL_NETLOC = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<netloc>[^/?#\s]*)")
_PASSWORD_PARAM = re.compile(r"(?i)\b(?P<key>password|passwd|pwd)=(?P<value>'[^']*'|\"[^\"]*\"|[^&\s]*)")


def _netloc_without_password(match: re.Match[str]) -> str:
    userinfo, at, host = match["netloc"].rpartition("@")
    if at and ":" in userinfo:
        return f"{match['scheme']}{userinfo.split(':', 1)[0]}:***@{host}"
    return match[0]


def hide_password(text: str) -> str:
    """`text` with every URL's password, and every password=… parameter, shown as ***: safe
    for listings and messages (postgresql://hnce:***@db/hnce)."""
    if "://" not in text and "=" not in text:
        return text
    text = _URL_NETLOC.sub(_netloc_without_password, text)
    return _PASSWORD_PARAM.sub(lambda m: f"{m['key']}=***", text)
