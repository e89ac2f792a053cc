"""The certificate template: a JSON file an administrator may replace.

The official layout of the Henan certificate is not public; the packaged
`data/certificate_template.json` is a configurable approximation. A template is
checked when it is loaded (every block has its geometry, every placeholder is
known), so a broken file fails before a batch starts, naming the block at fault.
"""

from __future__ import annotations

import json
import os
import string
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from hnce_cli.certificates.model import CertificateData
from hnce_cli.errors import ValidationFailed

TEMPLATE_ENV = "HNCE_CERT_TEMPLATE"
PLACEHOLDERS = frozenset(
    {
        "name", "id_number_masked", "unit_name", "year", "public_credits", "professional_credits",
        "total_credits", "result", "certificate_number", "issuing_authority", "issue_date", "issue_date_cn",
        "verification_code", "verify_url", "title",
    }
)
QR_CONTENTS = ("verify_url_or_code", "verify_url", "verification_code")
PAGE_SIZES = {"A4": (210.0, 297.0)}


def default_template_path() -> Path:
    return Path(str(files("hnce_cli") / "data" / "certificate_template.json"))


def _problem(source: str, where: str, message: str) -> ValidationFailed:
    return ValidationFailed.one("certificate template", f"{source}: {where}: {message}", "fix the template file")


@dataclass(frozen=True)
class Template:
    """A loaded, checked template (`raw` is the JSON object as read)."""

    raw: dict[str, Any]
    source: str

    @property
    def title(self) -> str:
        return self.raw["title"]

    @property
    def authority_name(self) -> str:
        return self.raw.get("authority", {}).get("name", "")

    @property
    def page_size(self) -> tuple[float, float]:
        return PAGE_SIZES[self.raw["page"]["format"]]

    @property
    def weights(self) -> tuple[int, int | None]:
        """Weights of a variable font; a bold weight of null draws bold by stroking (one font, faster)."""
        font = self.raw.get("font", {})
        bold = font.get("bold_weight")
        return int(font.get("regular_weight", 400)), None if bold is None else int(bold)

    def values(self, data: CertificateData) -> dict[str, str]:
        values = data.fields(self.authority_name)
        values["title"] = self.title
        return values

    def render_text(self, text: str, values: dict[str, str]) -> str:
        return text.format_map(values)

    def strings(self, data: CertificateData) -> list[str]:
        """Every string the page shows for `data` (what the font must cover)."""
        values = self.values(data)
        out = [self.render_text(block["text"], values) for block in self.raw.get("texts", [])]
        table = self.raw.get("table")
        if table:
            out.extend(table.get("header", []))
            for row in table["rows"]:
                out.extend(self.render_text(cell, values) for cell in row)
        return out

    def static_chars(self) -> set[str]:
        """Characters of the template's own words (without any person's data)."""
        chars: set[str] = set(self.title) | set(self.authority_name)
        for block in self.raw.get("texts", []):
            chars |= _literal_chars(block["text"])
        table = self.raw.get("table")
        if table:
            for cell in table.get("header", []):
                chars |= set(cell)
            for row in table["rows"]:
                for cell in row:
                    chars |= _literal_chars(cell)
        return chars


def _literal_chars(text: str) -> set[str]:
    return {ch for literal, *_ in string.Formatter().parse(text) for ch in literal}


def _check_number(obj: dict[str, Any], key: str, source: str, where: str, *, positive: bool = False) -> None:
    value = obj.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or (positive and value <= 0):
        raise _problem(source, where, f"'{key}' must be a {'positive ' if positive else ''}number, got {value!r}")


def _check_text(text: Any, source: str, where: str) -> None:
    if not isinstance(text, str):
        raise _problem(source, where, f"text must be a string, got {text!r}")
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        hint = "write {{ and }} for literal braces"
        raise _problem(source, where, f"bad braces in {text!r}: {exc} ({hint})") from exc
    for name in fields:
        if name not in PLACEHOLDERS:
            raise _problem(source, where, f"unknown placeholder {{{name}}}; known: {', '.join(sorted(PLACEHOLDERS))}")


def check_template(raw: Any, source: str) -> Template:
    if not isinstance(raw, dict):
        raise _problem(source, "top level", "must be a JSON object")
    page = raw.get("page")
    if not isinstance(page, dict) or page.get("format") not in PAGE_SIZES or page.get("orientation") != "portrait":
        raise _problem(source, "page", 'must be {"format": "A4", "orientation": "portrait"}')
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        raise _problem(source, "title", "must be a non-empty string")
    for i, rect in enumerate(raw.get("rects", [])):
        for key in ("x", "y", "w", "h"):
            _check_number(rect, key, source, f"rects[{i}]")
    for i, line in enumerate(raw.get("lines", [])):
        for key in ("x1", "y1", "x2", "y2"):
            _check_number(line, key, source, f"lines[{i}]")
    for i, block in enumerate(raw.get("texts", [])):
        where = f"texts[{i}] ({block.get('id', '?')})"
        for key in ("x", "y", "w", "h"):
            _check_number(block, key, source, where, positive=key in ("w", "h"))
        _check_number(block, "size", source, where, positive=True)
        _check_text(block.get("text"), source, where)
        if block.get("align", "L") not in ("L", "C", "R"):
            raise _problem(source, where, "'align' must be L, C or R")
    table = raw.get("table")
    if table is not None:
        for key in ("x", "y", "row_height", "size"):
            _check_number(table, key, source, "table", positive=key in ("row_height", "size"))
        widths = table.get("col_widths")
        if not isinstance(widths, list) or not widths:
            raise _problem(source, "table", "'col_widths' must be a list of numbers")
        rows = table.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _problem(source, "table", "'rows' must be a list of rows")
        for i, row in enumerate([table.get("header", widths and [""] * len(widths)), *rows]):
            if not isinstance(row, list) or len(row) != len(widths):
                raise _problem(source, f"table row {i}", f"must have {len(widths)} cells like col_widths")
            for cell in row:
                _check_text(cell, source, f"table row {i}")
    qr = raw.get("qr")
    if qr is not None:
        for key in ("x", "y", "size"):
            _check_number(qr, key, source, "qr", positive=key == "size")
        if qr.get("content", QR_CONTENTS[0]) not in QR_CONTENTS:
            raise _problem(source, "qr", f"'content' must be one of {', '.join(QR_CONTENTS)}")
        if qr.get("error", "M") not in ("L", "M", "Q", "H"):
            raise _problem(source, "qr", "'error' must be L, M, Q or H")
        if qr.get("mask") not in (None, *range(8)):
            raise _problem(source, "qr", "'mask' must be null (automatic) or 0-7")
    return Template(raw=raw, source=source)


_CACHE: dict[tuple[str, int, int], Template] = {}


def load_template(path: str | Path | None = None) -> Template:
    """The template at `path`, else at HNCE_CERT_TEMPLATE, else the packaged default."""
    chosen = Path(path or os.environ.get(TEMPLATE_ENV) or default_template_path())
    try:
        st = chosen.stat()
        cache_key = (str(chosen), st.st_mtime_ns, st.st_size)
        if cache_key in _CACHE:
            return _CACHE[cache_key]
        raw = json.loads(chosen.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationFailed.one("certificate template", f"无法读取证书模板 {chosen} (cannot read {chosen}): {exc}",
                                   "check the path") from exc
    except ValueError as exc:
        raise _problem(str(chosen), "JSON", str(exc)) from exc
    template = check_template(raw, str(chosen))
    _CACHE[cache_key] = template
    return template
