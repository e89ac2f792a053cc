"""The standalone certificate engine: real PDFs read back, fonts, QR codes and signatures."""

from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")
pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

from hnce_cli.certificates import (  # noqa: E402
    CertificateContent,
    CertificateData,
    InvalidCode,
    MissingGlyph,
    format_credits,
    load_key,
    load_template,
    mask_id_number,
    parse,
    prepare_batch_font,
    render_certificate,
    render_many,
    sign,
    verify,
    write_one,
)
from hnce_cli.certificates import fonts as cert_fonts  # noqa: E402
from hnce_cli.errors import ValidationFailed  # noqa: E402

KEY = bytes(range(32))
ISSUED = date(2026, 1, 15)
RARE = "\U00020000"  # 𠀀, CJK Extension B: not in Noto Sans SC
PEOPLE = [
    ("张三丰", "410102199001011237", "郑州市二七区财政局", 30, 60),
    ("欧阳娜娜", "41030219851203002X", "洛阳市某某会计师事务所有限公司", 32.5, 61),
    ("李淼", "410105197707070016", "河南省直机关事务管理局", 45, 90),
]


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fontcache")


@pytest.fixture(autouse=True)
def _env(monkeypatch, font_cache, tmp_path):
    monkeypatch.setenv("HNCE_CERT_FONT_CACHE", str(font_cache))
    monkeypatch.setenv("HNCE_DATA_DIR", str(tmp_path / "data"))
    for name in ("HNCE_CERT_FONT", "HNCE_CERT_FALLBACK_FONT", "HNCE_CERT_TEMPLATE", "HNCE_CERT_KEY"):
        monkeypatch.delenv(name, raising=False)


def content_for(name, id_number, public, professional, number="HN2025-00000001") -> CertificateContent:
    return CertificateContent(number, id_number, name, 2025, public, professional, ISSUED)


def data_for(i: int, person=None, url: bool = True) -> CertificateData:
    name, id_number, unit, public, professional = person or PEOPLE[i]
    number = f"HN2025-{i + 1:08d}"
    code = sign(content_for(name, id_number, public, professional, number), KEY)
    return CertificateData(
        name=name,
        id_number_masked=mask_id_number(id_number),
        unit_name=unit,
        year=2025,
        public_credits=public,
        professional_credits=professional,
        total_credits=public + professional,
        certificate_number=number,
        issue_date=ISSUED,
        verification_code=code,
        verify_url=f"https://hnce.example.cn/verify/{code}" if url else None,
    )


@pytest.fixture(scope="session")
def template():
    return load_template()


@pytest.fixture(scope="session")
def batch_font(template, font_cache):
    os.environ["HNCE_CERT_FONT_CACHE"] = str(font_cache)
    datas = [data_for(i) for i in range(len(PEOPLE))] + [data_for(0, url=False)]
    return prepare_batch_font(datas, template)


def page_texts(pdf_bytes: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    return [page.extract_text() for page in reader.pages]


def decode_qr(pdf_bytes: bytes, page: int = 0) -> list[str]:
    doc = pdfium.PdfDocument(pdf_bytes)
    image = doc[page].render(scale=3).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


# -- rendering --------------------------------------------------------------------------


def test_text_extracts_as_chinese(template, batch_font):
    data = data_for(1)
    pdf = render_certificate(data, template, batch_font)
    assert pdf.startswith(b"%PDF-")
    (text,) = page_texts(pdf)
    for expected in ("河南省专业技术人员继续教育证书", "欧阳娜娜", "2025年度", "公需科目", "专业科目", "合计",
                     "32.5", "61", "93.5", "通过", "HN2025-00000002", "洛阳市某某会计师事务所有限公司",
                     "410302********002X", "河南省人力资源和社会保障厅", "2026年1月15日", data.verification_code):
        assert expected in text, expected
    assert "41030219851203002X" not in text  # only the masked ID number is printed


def test_fonts_are_embedded(template, batch_font):
    reader = pypdf.PdfReader(io.BytesIO(render_certificate(data_for(0), template, batch_font)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0"
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
        assert "/ToUnicode" in font


def test_qr_code_decodes_to_verify_url_and_code(template, batch_font):
    data = data_for(0)
    assert decode_qr(render_certificate(data, template, batch_font)) == [data.verify_url]
    plain = data_for(0, url=False)
    decoded = decode_qr(render_certificate(plain, template, batch_font))
    assert decoded == [plain.verification_code]
    assert parse(decoded[0]).certificate_number == "HN2025-00000001"
    assert parse(data.verify_url).certificate_number == "HN2025-00000001"


def test_render_many_one_page_each(template, batch_font):
    datas = [data_for(i) for i in range(len(PEOPLE))]
    pdf = render_many(datas, template, batch_font)
    texts = page_texts(pdf)
    assert len(texts) == len(datas)
    for text, data in zip(texts, datas, strict=True):
        assert data.name in text and data.certificate_number in text
    assert decode_qr(pdf, page=2) == [datas[2].verify_url]
    # the font is embedded once for the whole file, not once per page
    assert pdf.count(b"/FontFile2") + pdf.count(b"/FontFile3") <= 2


def test_write_one_is_atomic(tmp_path, template, batch_font, monkeypatch):
    target = tmp_path / "out" / "cert.pdf"
    write_one(target, data_for(0), template, batch_font)
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in target.parent.iterdir()] == ["cert.pdf"]

    import hnce_cli.certificates.pdf as pdf_mod

    def interrupted(fh_bytes):
        raise KeyboardInterrupt

    original = target.read_bytes()
    monkeypatch.setattr(pdf_mod, "render_certificate", lambda *a, **k: interrupted(None))
    with pytest.raises(KeyboardInterrupt):
        pdf_mod.write_one(target, data_for(1), template, batch_font)
    assert target.read_bytes() == original  # the old file is untouched, no half file appears
    assert [p.name for p in target.parent.iterdir()] == ["cert.pdf"]


# -- fonts ------------------------------------------------------------------------------


def test_missing_glyph_is_a_clear_error(template):
    person = ("王" + RARE, "410102199001011237", "郑州市二七区财政局", 30, 60)
    data = data_for(0, person=person)
    with pytest.raises(MissingGlyph) as info:
        prepare_batch_font([data], template)
    message = str(info.value)
    assert RARE in message and "U+20000" in message and "HNCE_CERT_FALLBACK_FONT" in message
    assert isinstance(info.value, ValidationFailed)


def test_font_prepared_for_others_refuses_new_character(template, batch_font):
    person = ("赵" + "犇", "410102199001011237", "郑州市二七区财政局", 30, 60)
    with pytest.raises(MissingGlyph, match="犇"):
        render_certificate(data_for(0, person=person), template, batch_font)


def make_rare_font(path: Path, chars: str) -> Path:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *(f"u{ord(c):X}" for c in chars)]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"u{ord(c):X}" for c in chars})
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        pen.moveTo((100, -50))
        pen.lineTo((100, 800))
        pen.lineTo((900, 800))
        pen.lineTo((900, -50))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (1000, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "HnceRareTest", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


def test_fallback_font_draws_rare_character(template, tmp_path, monkeypatch):
    fallback = make_rare_font(tmp_path / "rare.ttf", RARE)
    monkeypatch.setenv("HNCE_CERT_FALLBACK_FONT", str(fallback))
    person = ("王" + RARE, "410102199001011237", "郑州市二七区财政局", 30, 60)
    data = data_for(0, person=person)
    font = prepare_batch_font([data], template)
    assert font.fallback is not None
    pdf = render_certificate(data, template, font)
    (text,) = page_texts(pdf)
    assert "王" + RARE in text
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    names = [f.get_object()["/BaseFont"] for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert any("HnceRareTest" in str(n) for n in names)


def test_subset_cache_reuses_files(font_cache):
    first = cert_fonts.subset_font("河南省继续教育")
    mtime = first.stat().st_mtime_ns
    again = cert_fonts.subset_font("育教续继省南河")
    assert again == first and again.stat().st_mtime_ns == mtime
    assert first.parent == font_cache
    assert first.stat().st_size < 200_000


def test_parsed_font_metrics_cache_gives_the_same_pdf(template, batch_font, font_cache):
    """fpdf2's parse of a font is kept on disk for the next process; a PDF drawn from the
    cached metrics, or after the cache file was damaged, is the very same PDF."""
    from hnce_cli.certificates import pdf

    data = data_for(1)
    pdf._PROTOTYPES.clear()
    for old in font_cache.glob("metrics-*.pickle"):
        old.unlink()
    parsed = render_certificate(data, template, batch_font)  # parses the font, writes the cache
    (cached,) = font_cache.glob("metrics-*.pickle")
    pdf._PROTOTYPES.clear()  # as a new process would start
    assert render_certificate(data, template, batch_font) == parsed
    cached.write_bytes(b"not a pickle")
    pdf._PROTOTYPES.clear()
    assert render_certificate(data, template, batch_font) == parsed
    assert cached.read_bytes() != b"not a pickle"  # parsed again and rewritten
    assert "欧阳娜娜" in page_texts(parsed)[0]


def test_font_env_must_exist(monkeypatch, template):
    monkeypatch.setenv("HNCE_CERT_FONT", "/nonexistent/font.ttf")
    with pytest.raises(ValidationFailed, match="does not exist"):
        prepare_batch_font([data_for(0)], template)


# -- template ---------------------------------------------------------------------------


def test_packaged_template_says_it_is_an_approximation(template):
    assert template.title == "河南省专业技术人员继续教育证书"
    assert any("not public" in line for line in template.raw["_about"])
    assert template.page_size == (210.0, 297.0)


def test_template_with_unknown_placeholder_is_refused(tmp_path, monkeypatch, template):
    raw = json.loads(json.dumps(template.raw))
    raw["texts"][0]["text"] = "编号 {certificate_no}"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("HNCE_CERT_TEMPLATE", str(bad))
    with pytest.raises(ValidationFailed, match="certificate_no"):
        load_template()


def test_admin_template_changes_authority(tmp_path, template, batch_font):
    raw = json.loads(json.dumps(template.raw))
    raw["authority"]["name"] = "河南省财政厅"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    mine = load_template(path)
    font = prepare_batch_font([data_for(0)], mine)
    (text,) = page_texts(render_certificate(data_for(0), mine, font))
    assert "河南省财政厅" in text


# -- signing ----------------------------------------------------------------------------


def test_sign_and_verify():
    content = content_for("张三丰", "410102199001011237", 30, 60)
    code = sign(content, KEY)
    assert code.startswith("HN2025-00000001-")
    tag = code.removeprefix("HN2025-00000001-").replace("-", "")
    assert len(tag) == 16  # 80 bits
    assert verify(code, content, KEY)
    assert parse(code.lower()).certificate_number == "HN2025-00000001"
    assert verify(code.lower(), content, KEY)


@pytest.mark.parametrize(
    "change",
    [
        {"public_credits": 31},
        {"professional_credits": 59},
        {"name": "张三峰"},
        {"id_number": "410102199001011245"},
        {"year": 2024},
        {"issue_date": date(2026, 1, 16)},
        {"certificate_number": "HN2025-00000002"},
    ],
)
def test_changed_content_fails(change):
    content = content_for("张三丰", "410102199001011237", 30, 60)
    code = sign(content, KEY)
    assert not verify(code, replace(content, **change), KEY)


def test_equal_numbers_in_other_forms_still_verify():
    content = content_for("张三丰", "41010219900101123x", 30, 60.0)
    code = sign(content, KEY)
    assert verify(code, content_for("张三丰", "41010219900101123X", "30.00", 60), KEY)


def test_changed_character_in_code_fails():
    content = content_for("张三丰", "410102199001011237", 30, 60)
    code = sign(content, KEY)
    for i, ch in enumerate(code):
        if ch == "-":
            continue
        other = "7" if ch not in "7" else "8"
        assert not verify(code[:i] + other + code[i + 1 :], content, KEY), (i, ch)


def test_different_key_fails():
    content = content_for("张三丰", "410102199001011237", 30, 60)
    assert not verify(sign(content, KEY), content, bytes(32))


def test_parse_rejects_garbage():
    for bad in ("", "HN2025", "HN2025-ABCD", "HN2025-UUUU-UUUU-UUUU-UUUU", "-0000-0000-0000-0000"):
        with pytest.raises(InvalidCode):
            parse(bad)
        assert not verify(bad, content_for("张三丰", "410102199001011237", 30, 60), KEY)


def test_parse_reads_typed_variants():
    content = content_for("张三丰", "410102199001011237", 30, 60)
    code = sign(content, KEY)
    parsed = parse(code)
    typed = parsed.certificate_number + " " + parsed.tag.lower().replace("0", "o").replace("1", "l")
    assert parse(typed) == parsed


def test_key_file_created_once_private(tmp_path):
    key = load_key()
    path = tmp_path / "data" / "certificate.key"
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key() == key


def test_key_from_env(monkeypatch):
    monkeypatch.setenv("HNCE_CERT_KEY", "ab" * 32)
    assert load_key() == bytes([0xAB]) * 32
    monkeypatch.setenv("HNCE_CERT_KEY", "short")
    with pytest.raises(ValueError, match="too short"):
        load_key()


def test_format_credits():
    assert format_credits(30) == "30"
    assert format_credits(30.0) == "30"
    assert format_credits("62.50") == "62.5"
    with pytest.raises(ValueError):
        format_credits(-1)


def test_the_shipped_font_is_noto_sans_sc_alone_with_its_licence() -> None:
    """hnce ships the Simplified Chinese face only (not a bundle of four CJK faces), with the
    SIL Open Font Licence beside it, and it draws the rare characters real names hold."""
    from fontTools.ttLib import TTFont

    from hnce_cli.certificates.fonts import DEFAULT_FONT, locate_font

    assert locate_font().path == DEFAULT_FONT
    licence = DEFAULT_FONT.with_name("OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert sorted(p.suffix for p in DEFAULT_FONT.parent.iterdir()) == [".ttf", ".txt"]
    font = TTFont(DEFAULT_FONT, lazy=True)
    assert font["name"].getDebugName(16) == "Noto Sans SC"  # the typographic family of the variable font
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "王䶮买买提·艾力张三河南省财政厅")
