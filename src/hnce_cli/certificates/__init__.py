"""The certificate engine: data, template, fonts, signing and PDF rendering (no database here).

Names are loaded lazily (PEP 562) so that `import hnce_cli.certificates` costs nothing
until a function is used: verification never imports fpdf2 or fontTools.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CertificateData": "model",
    "CertificateContent": "model",
    "format_credits": "model",
    "mask_id_number": "hnce_cli.masking",  # the one masking rule of the platform
    "Template": "template",
    "load_template": "template",
    "default_template_path": "template",
    "FontSource": "fonts",
    "PreparedFont": "fonts",
    "MissingGlyph": "fonts",
    "locate_font": "fonts",
    "locate_fallback_font": "fonts",
    "check_coverage": "fonts",
    "subset_font": "fonts",
    "prepare_font": "fonts",
    "warm_base": "fonts",
    "sign": "signing",
    "verify": "signing",
    "parse": "signing",
    "ParsedCode": "signing",
    "InvalidCode": "signing",
    "load_key": "signing",
    "key_fingerprint": "signing",
    "render_certificate": "pdf",
    "render_many": "pdf",
    "write_one": "pdf",
    "write_many": "pdf",
    "write_atomic": "files",
    "chars_for": "pdf",
    "prepare_batch_font": "pdf",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module if "." in module else f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
