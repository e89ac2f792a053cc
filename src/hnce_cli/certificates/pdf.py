"""Draw certificates with fpdf2: one A4 page each, real text in an embedded CJK font.

fpdf2 and segno are imported inside the functions, so importing this module is cheap.
The QR code is drawn as vector squares (runs of dark modules) from segno's matrix.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from hnce_cli.certificates.files import keywords_of, write_atomic
from hnce_cli.certificates.fonts import PreparedFont, prepare_font
from hnce_cli.certificates.model import CertificateData, unprintable
from hnce_cli.certificates.template import Template, load_template
from hnce_cli.errors import ValidationFailed

REGULAR, FALLBACK = "cert", "certfb"
# `hnce serve` renders in its thread pool; documents share the parsed font state (_add_font), so
# one document is drawn at a time per process. Drawing holds the GIL anyway: nothing is lost.
_RENDERING = threading.Lock()
__all__ = ["chars_for", "prepare_batch_font", "render_certificate", "render_many", "write_atomic", "write_many",
           "write_one"]
_DARK_RUN = re.compile(rb"\x01+")
# A shrinking block's last resort, a value wrapped onto lines: the smallest size (pt) it goes down
# to, and the height of a line per point of size (mm: 1 pt is 0.353 mm, with 15 % leading).
_SMALLEST = 5.0
_LINE_MM = 25.4 / 72 * 1.15


def chars_for(datas: Iterable[CertificateData], template: Template) -> set[str]:
    """Every character the pages for `datas` show (for one font subset per batch)."""
    chars = set(template.static_chars())
    for data in datas:
        for text in template.strings(data):
            chars.update(text)
    return chars


def prepare_batch_font(datas: Iterable[CertificateData], template: Template, **kwargs: Any) -> PreparedFont:
    """One font subset covering a whole batch (raises MissingGlyph before anything is written)."""
    return prepare_font(chars_for(datas, template), weights=template.weights, **kwargs)


def _new_document(template: Template, font: PreparedFont, title: str, when: datetime, codes: list[str]):
    """An empty document; its /Keywords are the verification codes of its pages, in order, so a
    batch run again tells from the file itself which certificates it holds (`files.read_codes`)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=template.raw["page"]["format"])
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.c_margin = 0
    _add_font(pdf, REGULAR, "", font.regular)
    if not font.synthetic_bold:
        _add_font(pdf, REGULAR, "B", font.bold)
    if font.fallback is not None:
        _add_font(pdf, FALLBACK, "", font.fallback)
        pdf.set_fallback_fonts([FALLBACK], exact_match=False)
    pdf.set_title(title)
    pdf.set_author(template.authority_name)
    pdf.set_creator("hnce")
    pdf.set_keywords(keywords_of(codes))
    pdf.set_creation_date(when)
    return pdf


# Per process: an fpdf2 font's parsed metrics (widths, cmap, descriptor) and the font file's bytes.
_PROTOTYPES: dict[tuple[str, str], tuple[dict[str, Any], bytes]] = {}
# Rebuilt for each document (fpdf2 changes them while drawing and writing); the rest is shared.
_PER_DOCUMENT = ("i", "ttfont", "subset", "_hbfont", "cw", "glyph_ids", "missing_glyphs", "biggest_size_pt")


def _fresh_ttfont(data: bytes):
    from io import BytesIO

    from fontTools.ttLib import TTFont

    ttfont = TTFont(BytesIO(data), recalcTimestamp=False, lazy=True)
    # Our subsets already carry exact bounding boxes. Without this, fontTools unpacks and
    # re-encodes every glyph when fpdf2 saves its per-document subset (most of the time per file).
    ttfont.recalcBBoxes = False
    return ttfont


def _metrics_file(path: Path, fontkey: str) -> Path:
    import hashlib

    from fpdf import __version__ as fpdf_version

    from hnce_cli.certificates.fonts import FontSource, cache_dir

    key = hashlib.sha256(f"fpdf {fpdf_version}|{FontSource(path).identity()}|{fontkey}".encode()).hexdigest()[:24]
    return cache_dir() / f"metrics-{key}.pickle"


def _parsed_metrics(pdf, path: Path, family: str, style: str) -> dict[str, Any]:
    """What fpdf2's add_font works out from a font file, kept on disk beside the font cache.

    Parsing a 6,763-glyph base font takes a fifth of a second or more in every process that
    prints one certificate; reading this back takes milliseconds. The key holds fpdf2's
    version and the font file's identity (path, size, mtime), so a change of either parses anew.
    """
    import pickle

    from fpdf.fonts import TTFFont

    fontkey = f"{family.lower()}{style}"
    cached = _metrics_file(path, fontkey)
    try:
        state = pickle.loads(cached.read_bytes())
        if isinstance(state, dict) and state.get("fontkey") == fontkey:
            return state
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        pass
    font = TTFFont(pdf, path, fontkey, style)
    state = {name: getattr(font, name) for name in TTFFont.__slots__
             if name not in _PER_DOCUMENT and hasattr(font, name)}
    state["widths"] = dict(font.cw)
    state["glyph_ids"] = dict(font.glyph_ids)
    font.close()
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, cached)
    except OSError:  # a read-only cache: parse again next time
        tmp.unlink(missing_ok=True)
    return state


def _add_font(pdf, family: str, style: str, path: Path) -> None:
    """pdf.add_font, without parsing the font file again for every document.

    fpdf2 parses the whole font in add_font and, when the document is written, subsets
    that parsed font in place. So what it parses is kept (per process, and on disk for
    the next process), and each document gets its own font object built from it, with
    a fresh, lazily read fontTools object of its own (cheap), which its output may cut down.
    """
    from collections import defaultdict

    from fpdf.fonts import SubsetMap, TTFFont

    key = (str(path), f"{family.lower()}{style}")
    if key not in _PROTOTYPES:
        _PROTOTYPES[key] = (_parsed_metrics(pdf, path, family, style), Path(path).read_bytes())
    state, data = _PROTOTYPES[key]
    font = TTFFont.__new__(TTFFont)
    for name, value in state.items():
        if name not in ("widths", "glyph_ids"):
            setattr(font, name, value)
    missing_width = state["desc"].missing_width
    font.cw = defaultdict(lambda: missing_width, state["widths"])
    font.glyph_ids = dict(state["glyph_ids"])
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None  # noqa: SLF001 - fpdf2's own attribute (no text shaping here)
    font.ttfont = _fresh_ttfont(data)
    font.i = len(pdf.fonts) + 1
    font.subset = SubsetMap(font)
    pdf.fonts[key[1]] = font


def _color(obj: dict[str, Any], default: Sequence[int] = (0, 0, 0)) -> tuple[int, int, int]:
    r, g, b = obj.get("color", default)
    return int(r), int(g), int(b)


def _line_width(pdf, width: float) -> None:
    pdf.set_line_width(width)


def _write(pdf, font: PreparedFont, bold: bool, size: float, color: tuple[int, int, int], write) -> None:
    """Call `write()` in the right font; with one weight only, bold is fill plus a thin stroke.

    The stroke is set inside a saved graphics state (q ... Q) so that it cannot leak into the
    text that follows (fpdf2 2.8 does not reset the text render mode by itself).
    """
    if bold and font.synthetic_bold:
        from fpdf.enums import TextMode

        with pdf.local_context():
            pdf.set_font(REGULAR, "", size)
            pdf.set_text_color(*color)
            pdf.set_draw_color(*color)
            pdf.text_mode = TextMode.FILL_STROKE
            # fpdf2 2.8 writes the text stroke width unscaled, i.e. in points: 0.025 pt per pt of size
            pdf.set_line_width(size * 0.025)
            write()
        return
    pdf.set_font(REGULAR, "B" if bold else "", size)
    pdf.set_text_color(*color)
    write()


@lru_cache(maxsize=8)
def _qr_numbers(size: int, module: float, x0: float, y0: float, overlap: float, k: float,
                page_h: float) -> tuple[list[str], list[str], list[str], str]:
    """The formatted coordinates of a QR code's runs (x by column, y by row, width by length):
    the same for every code of a size, so a batch formats them once, not for each run."""
    xs = [f"{(x0 + i * module) * k:.3f}" for i in range(size + 1)]
    ys = [f"{(page_h - (y0 + i * module)) * k:.3f}" for i in range(size)]
    ws = [f"{(i * module + overlap) * k:.3f}" for i in range(size + 1)]
    return xs, ys, ws, f" {-((module + overlap) * k):.3f} re"


def _draw_qr(pdf, content: str, spec: dict[str, Any]) -> None:
    import segno

    # A fixed mask (the template's "mask", 0-7) skips segno's scoring of all eight: about 8 ms a code.
    qr = segno.make(content, error=spec.get("error", "M").lower(), boost_error=False, micro=False,
                    mask=spec.get("mask"))
    quiet = int(spec.get("quiet_zone", 2))
    matrix = qr.matrix  # rows of 0/1 bytes, without the quiet zone
    n = len(matrix) + 2 * quiet
    module = float(spec["size"]) / n
    x0, y0 = float(spec["x"]) + quiet * module, float(spec["y"]) + quiet * module
    r, g, b = _color(spec)
    overlap = module * 0.02  # hides anti-aliasing seams between adjacent squares
    k, page_h = pdf.k, pdf.h
    # One filled path of rectangles (runs of dark modules), written in a saved graphics state: far
    # cheaper than one fpdf2 rect() call per run, and the fill colour cannot leak.
    ops = [f"q {r / 255:.3f} {g / 255:.3f} {b / 255:.3f} rg"]
    xs, ys, ws, tail = _qr_numbers(len(matrix), module, x0, y0, overlap, k, page_h)
    for row_no, row in enumerate(matrix):
        y = ys[row_no]
        for run in _DARK_RUN.finditer(bytes(row)):
            start, end = run.span()
            ops.append(f"{xs[start]} {y} {ws[end - start]}{tail}")
    ops.append("f Q")
    pdf._out("\n".join(ops))  # noqa: SLF001 - fpdf2's content-stream writer, as its own rect() uses


def _text_at(pdf, font: PreparedFont, x: float, y: float, w: float, h: float, text: str, align: str) -> None:
    """One line of text placed like fpdf2's cell() would, through the much cheaper text().

    With a fallback font, cell() is used: only it switches fonts for the glyphs the main one lacks.
    """
    if font.fallback is not None:
        pdf.set_xy(x, y)
        pdf.cell(w, h, text=text, align=align)
        return
    if align != "L":
        width = _string_width(pdf, text)
        x = x + (w - width) / 2 if align == "C" else x + w - width
    pdf.text(x, y + 0.5 * h + 0.3 * pdf.font_size, text)


def _string_width(pdf, text: str) -> float:
    """pdf.get_string_width, remembered per document: labels, headers and most values repeat on
    every page of a merged file, and fpdf2 measures through its bidi and markdown machinery."""
    cache = pdf.__dict__.setdefault("_hnce_width_cache", {})
    key = (text, pdf.font_family, pdf.font_style, pdf.font_size_pt, pdf.char_spacing, pdf.font_stretching)
    width = cache.get(key)
    if width is None:
        width = cache[key] = pdf.get_string_width(text)
    return width


def _wrapped(pdf, text: str, width: float, size: float, bold: bool) -> list[str]:
    """Lines of a wrapped paragraph, computed once per document (most paragraphs repeat on every page)."""
    cache = pdf.__dict__.setdefault("_hnce_wrap_cache", {})
    key = (text, width, size, bold)
    if key not in cache:
        cache[key] = pdf.multi_cell(width, size, text=text, dry_run=True, output="LINES")
    return cache[key]


def _text_block(pdf, font: PreparedFont, block: dict[str, Any], text: str) -> None:
    size = float(block["size"])
    bold, color = bool(block.get("bold")), _color(block)
    pdf.set_font(REGULAR, "B" if bold and not font.synthetic_bold else "", size)
    w, h = float(block["w"]), float(block["h"])
    align = block.get("align", "L")
    pdf.set_xy(float(block["x"]), float(block["y"]))
    if block.get("wrap"):
        if font.fallback is not None:
            _write(pdf, font, bold, size, color, lambda: pdf.multi_cell(w, h, text=text, align=align))
            return
        lines = _wrapped(pdf, text, w, size, bold)
        x, y = float(block["x"]), float(block["y"])
        for i, line in enumerate(lines):
            _write(pdf, font, bold, size, color,
                   lambda i=i, line=line: _text_at(pdf, font, x, y + i * h, w, h, line, align))
        return
    lines = [text]
    if block.get("shrink"):
        min_size = float(block.get("min_size", size * 0.6))
        while size > min_size and _string_width(pdf, text) > w:
            size -= 0.5
            pdf.set_font_size(size)
        if _string_width(pdf, text) > w:
            # Still too wide at the smallest size (a unit's name of 60 characters, or a no-employer
            # label 无工作单位（临时管理单位：…） around a long bureau name): wrapped onto the lines the
            # block's height holds, smaller still if it must, rather than drawn past the frame.
            # A value that fits is drawn exactly as before.
            lines = _wrapped(pdf, text, w, size, bold)
            while size > _SMALLEST and len(lines) * size * _LINE_MM > h:
                size -= 0.5
                pdf.set_font_size(size)
                lines = _wrapped(pdf, text, w, size, bold)
    if block.get("underline"):
        # the rule under a value: drawn apart from the text, so a synthetic-bold stroke never widens it
        x, y = float(block["x"]), float(block["y"])
        pdf.set_draw_color(*_color(block, (0, 0, 0)))
        _line_width(pdf, 0.2)
        pdf.line(x, y + h, x + w, y + h)
        pdf.set_xy(x, y)
    x, y = float(block["x"]), float(block["y"])
    if len(lines) == 1:
        _write(pdf, font, bold, size, color, lambda: _text_at(pdf, font, x, y, w, h, text, align))
        return
    step = h / len(lines)
    for i, line in enumerate(lines):
        _write(pdf, font, bold, size, color,
               lambda i=i, line=line: _text_at(pdf, font, x, y + i * step, w, step, line, align))


def _draw_page(pdf, data: CertificateData, template: Template, font: PreparedFont) -> None:
    refused = unprintable(name=data.name, unit_name=data.unit_name, id_number_masked=data.id_number_masked)
    if refused:  # the services refuse such a record before issuing; the engine never draws one either
        raise ValidationFailed.one("person", f"{data.certificate_number}: {refused}",
                                   "correct the person's record, then print again")
    raw = template.raw
    values = template.values(data)
    pdf.add_page()
    for rect in raw.get("rects", []):
        pdf.set_draw_color(*_color(rect))
        _line_width(pdf, float(rect.get("line_width", 0.3)))
        pdf.rect(float(rect["x"]), float(rect["y"]), float(rect["w"]), float(rect["h"]))
    for line in raw.get("lines", []):
        pdf.set_draw_color(*_color(line))
        _line_width(pdf, float(line.get("line_width", 0.3)))
        pdf.line(float(line["x1"]), float(line["y1"]), float(line["x2"]), float(line["y2"]))
    for block in raw.get("texts", []):
        text = template.render_text(block["text"], values)
        font.check(text, f"{block.get('id', 'text')}: {text}")
        _text_block(pdf, font, block, text)
    table = raw.get("table")
    if table:
        _draw_table(pdf, table, template, values, font)
    qr = raw.get("qr")
    if qr:
        mode = qr.get("content", "verify_url_or_code")
        content = data.verification_code if mode == "verification_code" else data.verify_url
        if mode == "verify_url_or_code" and not content:
            content = data.verification_code
        if not content:
            raise ValueError(f"certificate {data.certificate_number}: the template's QR code needs a verify_url")
        _draw_qr(pdf, content, qr)


def _draw_table(pdf, table: dict[str, Any], template: Template, values: dict[str, str], font: PreparedFont) -> None:
    x, y = float(table["x"]), float(table["y"])
    widths = [float(w) for w in table["col_widths"]]
    height = float(table["row_height"])
    size = float(table["size"])
    rows: list[tuple[list[str], bool]] = []
    if table.get("header"):
        rows.append((list(table["header"]), True))
    rows.extend(([template.render_text(cell, values) for cell in row], False) for row in table["rows"])
    for r, (cells, header) in enumerate(rows):
        fill = header and "header_fill" in table
        cx = x
        for w, text in zip(widths, cells, strict=True):
            font.check(text, f"table: {text}")
            pdf.set_draw_color(*_color(table))
            _line_width(pdf, float(table.get("line_width", 0.3)))
            if fill:
                pdf.set_fill_color(*[int(v) for v in table["header_fill"]])
            pdf.rect(cx, y + r * height, w, height, style="DF" if fill else "D")
            ty = y + r * height
            _write(pdf, font, header, size, (0, 0, 0), lambda cx=cx, ty=ty, w=w, text=text:
                   _text_at(pdf, font, cx, ty, w, height, text, "C"))
            cx += w


def _when(data: CertificateData) -> datetime:
    return datetime.combine(data.issue_date, time(0, 0), tzinfo=UTC)


def _title(data: CertificateData, template: Template) -> str:
    return f"{template.title} {data.year} {data.certificate_number}"


def render_certificate(data: CertificateData, template: Template | None = None,
                       font: PreparedFont | None = None) -> bytes:
    """One certificate as a one-page PDF (bytes)."""
    template = template or load_template()
    font = font or prepare_batch_font([data], template)
    with _RENDERING:
        pdf = _new_document(template, font, _title(data, template), _when(data), [data.verification_code])
        _draw_page(pdf, data, template, font)
        return bytes(pdf.output())


def render_many(datas: Iterable[CertificateData], template: Template | None = None,
                font: PreparedFont | None = None, title: str | None = None) -> bytes:
    """Many certificates merged into one PDF, one page each, in the given order."""
    template = template or load_template()
    datas = list(datas)
    if not datas:
        raise ValueError("render_many needs at least one certificate")
    font = font or prepare_batch_font(datas, template)
    with _RENDERING:
        pdf = _new_document(template, font, title or template.title, _when(datas[0]),
                            [d.verification_code for d in datas])
        for data in datas:
            _draw_page(pdf, data, template, font)
        return bytes(pdf.output())


def write_one(path: str | Path, data: CertificateData, template: Template | None = None,
              font: PreparedFont | None = None) -> Path:
    """Render one certificate and write it atomically to `path`."""
    return write_atomic(path, render_certificate(data, template, font))


def write_many(path: str | Path, datas: Iterable[CertificateData], template: Template | None = None,
               font: PreparedFont | None = None, title: str | None = None) -> Path:
    """Render a merged PDF and write it atomically to `path`."""
    return write_atomic(path, render_many(datas, template, font, title))
