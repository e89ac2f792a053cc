"""How ID numbers and phones are shown to a viewer who may not see them whole: one
rule for every view, export and certificate (standard library only, cheap to import)."""

from __future__ import annotations


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
