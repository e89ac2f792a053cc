"""What a printed certificate's QR code holds, on every storage (and remote): the verify URL
when the issuing services have HNCE_CERT_VERIFY_URL, else the code alone — and then the
person printing is told, since a phone's camera opens nothing with it. A value no phone
could open is refused before any certificate carries it. (The pages the URL opens, in a
real browser: tests/process/test_verify_page.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import World, error_fields, json_out, run_hnce

pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

YEAR = 2025
BASE = "https://hnce.example.cn/verify"


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verify-url-fonts")


def decode_qr(pdf: bytes) -> list[str]:
    image = pdfium.PdfDocument(pdf)[0].render(scale=3).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_the_qr_holds_the_verify_url_or_says_it_holds_only_the_code(world: World, tmp_path: Path,
                                                                    font_cache: Path) -> None:
    setup = world.setup
    me = world.passed_person(YEAR)
    fonts = {"HNCE_CERT_FONT_CACHE": str(font_cache)}

    # no verify URL where the services run (the shared test server has none either)
    out = tmp_path / "code.pdf"
    proc = setup.run("certificate", "--year", str(YEAR), "-o", str(out), "--json", token=me.token, env=fonts,
                     timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cert = json_out(proc)["certificate"]  # stdout is still the JSON alone: the note is on stderr
    assert cert["verify_url"] is None
    assert decode_qr(out.read_bytes()) == [cert["verification_code"]]
    assert "二维码只含验证码" in proc.stderr and "HNCE_CERT_VERIFY_URL" in proc.stderr
    plain = setup.run("certificate", "--year", str(YEAR), "-o", str(out), token=me.token, env=fonts, timeout=300)
    assert plain.returncode == 0 and "二维码只含验证码" in plain.stderr and "二维码只含验证码" not in plain.stdout

    if setup.remote:
        return  # the URL is the server's setting: tests/process/test_verify_page.py starts one with it
    # with one: the QR code opens GET /verify/CODE of the deployment, and there is nothing to say
    out = tmp_path / "url.pdf"
    proc = setup.run("certificate", "--year", str(YEAR), "-o", str(out), "--json", token=me.token,
                     env={**fonts, "HNCE_CERT_VERIFY_URL": BASE + "/"}, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cert = json_out(proc)["certificate"]
    assert decode_qr(out.read_bytes()) == [f"{BASE}/{cert['verification_code']}"] == [cert["verify_url"]]
    assert "HNCE_CERT_VERIFY_URL" not in proc.stderr

    # a value a phone cannot open is refused, naming the setting, and nothing is written
    for bad in ("hnce.example.cn/verify", "ftp://hnce.example.cn/verify", f"{BASE}?code="):
        out = tmp_path / "bad.pdf"
        proc = setup.run("certificate", "--year", str(YEAR), "-o", str(out), "--json", token=me.token,
                         env={**fonts, "HNCE_CERT_VERIFY_URL": bad}, timeout=300)
        assert proc.returncode == 2 and error_fields(proc) == ["HNCE_CERT_VERIFY_URL"], proc.stdout + proc.stderr
        assert "https://hnce.example.cn/verify" in json_out(proc)["error"]["problems"][0]["fix"]
        assert not out.exists() and "Traceback" not in proc.stderr


def test_serve_refuses_a_verify_url_a_phone_cannot_open(tmp_path: Path) -> None:
    proc = run_hnce("--db", f"sqlite:///{tmp_path}/hnce.db", "serve",
                    env={"HNCE_CERT_VERIFY_URL": "hnce.example.cn/verify"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "HNCE_CERT_VERIFY_URL" in proc.stderr and "not an http(s) URL" in proc.stderr
    assert "Traceback" not in proc.stderr
