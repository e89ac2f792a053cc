"""The CJK font a certificate embeds: where it is, whether it has every glyph, and fast subsets.

Default font: Noto Sans SC (SIL Open Font Licence 1.1, font/OFL.txt), shipped inside hnce:
the Simplified Chinese face alone (17.7 MB), the same file the `justmytype-intl-cjk` bundle
of four CJK faces (48 MB) carried; a variable TrueType font (weight axis 100-900, default instance Thin),
so every font handed to fpdf2 is a static instance at the template's weights.
HNCE_CERT_FONT points at another TTF/OTF (``path#N`` picks face N of a TTC/OTC);
HNCE_CERT_FALLBACK_FONT names a font for characters the main font lacks (rare
characters in names). A character neither has raises `MissingGlyph` naming it:
a certificate never shows a blank box.

Speed: subsetting the 17 MB source costs about half a second and instancing more,
so subsets are cached on disk by a hash of (source file, characters, weight) in
HNCE_CERT_FONT_CACHE (default: the user cache dir). `warm_base()` builds, once, a
"base" subset of the 6,763 GB 2312 hanzi plus ASCII and punctuation; any later
character set inside it is cut from that small static file instead of the source.
fontTools is imported only when a subset has to be made.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hnce_cli.errors import FieldProblem, ValidationFailed

FONT_ENV = "HNCE_CERT_FONT"
FALLBACK_ENV = "HNCE_CERT_FALLBACK_FONT"
CACHE_ENV = "HNCE_CERT_FONT_CACHE"
DEFAULT_FONT = Path(__file__).with_name("font") / "NotoSansSC[wght].ttf"
_SUBSET_VERSION = "3"  # bump when the subsetting options change, to invalidate the cache

# Always in a subset, so that numbers, codes and URLs never need a new one.
ALWAYS_CHARS = frozenset(
    [chr(c) for c in range(0x20, 0x7F)] + list("　，。、：；！？（）《》“”‘’—…·－％＊")
)


class MissingGlyph(ValidationFailed):
    """A character that no configured font can draw."""

    def __init__(self, chars: Iterable[str], context: str | None = None, font: str | None = None) -> None:
        self.chars = sorted(set(chars))
        shown = ", ".join(f"'{c}' (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in self.chars)
        where = f" in {context!r}" if context else ""
        message = (
            f"the certificate font {font or ''} has no glyph for {shown}{where}".replace("  ", " ")
            + f"; set {FALLBACK_ENV} to a font that has it (or {FONT_ENV} to a fuller font)"
        )
        super().__init__(
            message,
            details={"characters": self.chars, "codepoints": [f"U+{ord(c):04X}" for c in self.chars]},
            problems=[FieldProblem("font", message, f"set {FALLBACK_ENV}")],
        )


def _font_error(message: str) -> ValidationFailed:
    fix = f"reinstall hnce (its font is part of the package) or set {FONT_ENV}"
    return ValidationFailed.one("certificate font", message, fix)


@dataclass(frozen=True)
class FontSource:
    """A font file on disk (and its face number inside a collection)."""

    path: Path
    index: int = 0

    @classmethod
    def parse(cls, spec: str | Path) -> FontSource:
        text = str(spec)
        path, _, idx = text.partition("#")
        if idx and not (idx.isascii() and idx.isdigit()):  # int() refuses ² that isdigit() takes
            path, idx = text, ""
        source = cls(Path(path).expanduser(), int(idx or 0))
        if not source.path.is_file():
            raise _font_error(f"字体文件不存在：{source.path} (font file {source.path} does not exist)")
        return source

    def identity(self) -> str:
        st = self.path.stat()
        return f"{self.path.resolve()}#{self.index}:{st.st_size}:{st.st_mtime_ns}"

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else str(self.path)


def locate_font(spec: str | Path | None = None) -> FontSource:
    """The main font: `spec`, else HNCE_CERT_FONT, else the Noto Sans SC shipped with hnce."""
    spec = spec or os.environ.get(FONT_ENV)
    if spec:
        return FontSource.parse(spec)
    if not DEFAULT_FONT.is_file():
        raise _font_error(f"安装的 hnce 缺少证书字体 {DEFAULT_FONT} "
                          f"({DEFAULT_FONT} is missing from the installed hnce)")
    return FontSource(DEFAULT_FONT)


def locate_fallback_font(spec: str | Path | None = None) -> FontSource | None:
    spec = spec or os.environ.get(FALLBACK_ENV)
    return FontSource.parse(spec) if spec else None


def cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        path = Path(env)
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("hnce", appauthor=False)) / "fonts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open(source: FontSource):
    from fontTools.ttLib import TTFont

    return TTFont(str(source.path), fontNumber=source.index, lazy=True, recalcTimestamp=False)


def _cmap_path(source: FontSource) -> Path:
    key = hashlib.sha256(f"cmap:{source.identity()}".encode()).hexdigest()[:20]
    return cache_dir() / f"cmap-{key}.json"


@lru_cache(maxsize=8)
def _font_cmap(identity: str, path: str, index: int) -> frozenset[int]:
    source = FontSource(Path(path), index)
    cached = _cmap_path(source)
    if cached.is_file():
        try:
            return frozenset(json.loads(cached.read_text()))
        except ValueError:
            pass
    cmap = frozenset(_open(source).getBestCmap() or {})
    _atomic_write(cached, json.dumps(sorted(cmap)).encode())
    return cmap


def font_codepoints(source: FontSource) -> frozenset[int]:
    """Every code point the font maps to a glyph (cached on disk per font file)."""
    return _font_cmap(source.identity(), str(source.path), source.index)


def _needs_glyph(ch: str) -> bool:
    return ch not in "\n\r\t" and unicodedata.category(ch) not in ("Cc", "Cf")


def check_coverage(chars: Iterable[str], font: FontSource, fallback: FontSource | None = None,
                   context: str | None = None) -> set[str]:
    """The characters the fallback must draw; raises MissingGlyph for those no font has."""
    wanted = {c for c in chars if _needs_glyph(c)}
    main = font_codepoints(font)
    lacking = {c for c in wanted if ord(c) not in main}
    if not lacking:
        return set()
    if fallback is not None:
        other = font_codepoints(fallback)
        nowhere = {c for c in lacking if ord(c) not in other}
    else:
        nowhere = lacking
    if nowhere:
        raise MissingGlyph(nowhere, context, font.path.name)
    return lacking


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _subset_key(source: FontSource, chars: frozenset[str], weight: int | None) -> str:
    h = hashlib.sha256()
    h.update(f"{_SUBSET_VERSION}|{source.identity()}|{weight}|".encode())
    h.update("".join(sorted(chars)).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:24]


def _make_subset(source: FontSource, chars: frozenset[str], weight: int | None, out: Path) -> None:
    from fontTools import subset

    font = _open(source)
    options = subset.Options()
    options.layout_features = []  # no shaping is done: plain horizontal text
    options.hinting = False
    options.glyph_names = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.drop_tables += ["BASE", "GSUB", "GPOS", "GDEF", "STAT", "vhea", "vmtx", "VORG", "MVAR"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    if "fvar" in font:
        from fontTools.varLib import instancer

        axes = {a.axisTag: a for a in font["fvar"].axes}
        location = {tag: axis.defaultValue for tag, axis in axes.items()}
        if "wght" in axes and weight is not None:
            location["wght"] = max(axes["wght"].minValue, min(axes["wght"].maxValue, weight))
        font = instancer.instantiateVariableFont(font, location, static=True)
    if "glyf" in font and font["post"].formatType != 2.0:
        # Store glyph names (post format 2): readers such as fpdf2 then need not rebuild them from cmap.
        post = font["post"]
        post.formatType = 2.0
        post.extraNames = []
        post.mapping = {}
        post.glyphOrder = font.getGlyphOrder()
    buf = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    font.save(str(buf))
    os.replace(buf, out)


def subset_font(chars: Iterable[str], *, font: FontSource | None = None, weight: int | None = 400) -> Path:
    """A static TrueType/OpenType file with just `chars` (plus ASCII), cached by the set's hash.

    Characters the font lacks are simply left out (check them with `check_coverage`).
    """
    source = font or locate_font()
    wanted = frozenset(c for c in chars if _needs_glyph(c)) | ALWAYS_CHARS
    key = _subset_key(source, wanted, weight)
    suffix = ".otf" if source.path.suffix.lower() in (".otf", ".otc") else ".ttf"
    out = cache_dir() / f"subset-{key}-w{weight}{suffix}"
    if out.is_file():
        return out
    base = _base_path(source, weight)
    if base.is_file():
        covered = _base_chars(source)
        if wanted <= covered:
            _make_subset(FontSource(base), wanted, None, out)
            return out
    _make_subset(source, wanted, weight, out)
    return out


# -- the base subset (GB 2312 hanzi + ASCII + punctuation) ---------------------------------


@lru_cache(maxsize=1)
def gb2312_chars() -> frozenset[str]:
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                out.add(bytes([hi, lo]).decode("gb2312"))
    return frozenset(out)


def _base_id(source: FontSource) -> str:
    return hashlib.sha256(f"base|{_SUBSET_VERSION}|{source.identity()}".encode()).hexdigest()[:16]


def _base_path(source: FontSource, weight: int | None) -> Path:
    return cache_dir() / f"base-{_base_id(source)}-w{weight}.ttf"


def _base_chars(source: FontSource) -> frozenset[str]:
    return frozenset(chr(c) for c in font_codepoints(FontSource(_base_path(source, 400))))


def warm_base(weights: Iterable[int] = (400,), font: FontSource | None = None,
              extra_chars: Iterable[str] = ()) -> list[Path]:
    """Build (once; takes some seconds per weight) the base subsets of the default font."""
    source = font or locate_font()
    chars = frozenset(gb2312_chars() | ALWAYS_CHARS | set(extra_chars))
    chars = frozenset(c for c in chars if ord(c) in font_codepoints(source))
    paths = []
    for weight in weights:
        path = _base_path(source, weight)
        if not path.is_file():
            _make_subset(source, chars, weight, path)
        paths.append(path)
    return paths


# -- what the PDF renderer gets ------------------------------------------------------------


@dataclass(frozen=True)
class PreparedFont:
    """Font files ready for fpdf2, covering `chars` (a fallback subset for the main font's gaps)."""

    regular: Path
    bold: Path
    fallback: Path | None
    chars: frozenset[str]
    name: str = "font"

    @property
    def synthetic_bold(self) -> bool:
        """One weight only: bold text is drawn with a thin outline stroke instead."""
        return self.bold == self.regular

    def check(self, text: str, context: str | None = None) -> None:
        """Raise MissingGlyph if `text` has a character this prepared font was not made for."""
        missing = {c for c in text if _needs_glyph(c) and c not in self.chars}
        if missing:
            raise MissingGlyph(missing, context or text, self.name)


def prepare_font(chars: Iterable[str], *, font: str | Path | FontSource | None = None,
                 fallback: str | Path | FontSource | None = None, weights: tuple[int, int | None] = (400, None),
                 check: bool = True, whole_base: bool = True) -> PreparedFont:
    """Subsets of the main font (regular and bold) and, if needed, of the fallback, for `chars`.

    With a warm base (see `warm_base`) that already covers `chars`, the base files are used
    directly (`whole_base`): nothing is subset and the big source font is not opened. That
    suits one document; a batch passes whole_base=False and gets its own subset, cut once
    from the base, because fpdf2 reads the whole font again for each document it writes.
    """
    source = font if isinstance(font, FontSource) else locate_font(font)
    fb = fallback if isinstance(fallback, FontSource) else locate_fallback_font(fallback)
    wanted = frozenset(c for c in chars if _needs_glyph(c)) | ALWAYS_CHARS
    regular_w, bold_w = weights
    bold_w = regular_w if bold_w is None else bold_w
    default = font is None and not os.environ.get(FONT_ENV)
    if default and whole_base:
        base_r, base_b = _base_path(source, regular_w), _base_path(source, bold_w)
        if base_r.is_file() and base_b.is_file():
            covered = _base_chars(source)
            if wanted <= covered:
                return PreparedFont(base_r, base_b, None, covered, source.path.name)
    lacking = check_coverage(wanted, source, fb) if check else set()
    regular = subset_font(wanted - lacking, font=source, weight=regular_w)
    bold = subset_font(wanted - lacking, font=source, weight=bold_w) if bold_w != regular_w else regular
    fallback_path = subset_font(lacking, font=fb, weight=regular_w) if lacking and fb else None
    covered = wanted if check else frozenset(c for c in wanted if ord(c) in font_codepoints(source))
    return PreparedFont(regular, bold, fallback_path, covered, source.path.name)
