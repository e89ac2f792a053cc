"""The certificate verify pages (证书查验) in a real headless Chromium at a phone's width,
against a real `hnce serve`: the QR code of a printed certificate opens the result page, the
form at /verify takes a typed code, a mistyped code is a Chinese page (not JSON), and what
is shown from the records is escaped. Also what `hnce serve` and `hnce certificate print`
say when the deployment has no verify URL, and what the QR code holds then.

The browser is Debian's Chromium driven by Playwright (no browser download): absent, these
tests are skipped with the reason — except under CI (HNCE_REQUIRE_BROWSER=1, set by .ci/run),
where its absence is a failure."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Person, World, free_port, json_out
from serving import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
YEAR = 2025


def _browser_missing(reason: str) -> None:
    if os.environ.get("HNCE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and HNCE_REQUIRE_BROWSER=1 (CI) needs it: .ci/browser.sh installs it")
    pytest.skip(f"{reason}: install Debian's chromium (apt-get install chromium) and `pip install playwright`")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module's tests (each test opens its own context)."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _browser_missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page at a phone's size (390×844, touch), Chinese first."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


def serve(db_url: str, folder: Path, *, verify_url: bool) -> Server:
    """A real `hnce serve` on loopback over `db_url` with the certificate settings of the test:
    this process's config and data folders (the certificate key is the one the test sees),
    its standard error kept apart (its start-up line is under test). `verify_url`: the
    deployment sets HNCE_CERT_VERIFY_URL to its own /verify."""
    port = free_port()
    env = {"HNCE_CONFIG_DIR": os.environ["HNCE_CONFIG_DIR"], "HNCE_DATA_DIR": os.environ["HNCE_DATA_DIR"],
           "HNCE_CERT_FONT_CACHE": str(folder.parent / "fonts")}
    if verify_url:
        env["HNCE_CERT_VERIFY_URL"] = f"http://127.0.0.1:{port}/verify/"  # a trailing slash is no second one
    return Server(db_url, folder, env=env, port=port, errors=True)


def print_remote(world: World, server: Server, person: Person, out: Path) -> subprocess.CompletedProcess[str]:
    """`hnce certificate print` of a remote desk: the server issues and draws the PDF."""
    return world.setup.process("certificate", "--year", str(YEAR), "-o", str(out), "--json", token=person.token,
                               env={"HNCE_API_URL": server.url}, timeout=300)


def decode_qr(pdf: bytes) -> list[str]:
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pdfium.PdfDocument(pdf)[0].render(scale=3).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


def masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def fits_the_phone(page: Any) -> None:
    """No sideways scrolling at 390 px: long codes and unit names wrap."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def screenshot(page: Any, path: Path) -> None:
    """A real rendering: a PNG of the phone's width (×2 pixels) with more than a blank page in it."""
    from PIL import Image

    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with Image.open(io.BytesIO(data)) as image:
        assert image.width == PHONE["width"] * 2
        assert len(image.convert("RGB").getcolors(1 << 20) or ()) > 50  # text, colours, a button


def test_a_phone_scans_the_qr_code_or_types_the_code_and_sees_the_certificate(
        sqlite_world: World, phone: Any, tmp_path: Path) -> None:
    world = sqlite_world
    me = world.passed_person(YEAR)
    server = serve(world.setup.db_url, tmp_path / "serve", verify_url=True)
    try:
        proc = print_remote(world, server, me, tmp_path / "c.pdf")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "HNCE_CERT_VERIFY_URL" not in proc.stderr  # a deployment with a verify URL: nothing to say
        assert "HNCE_CERT_VERIFY_URL" not in server.stderr()
        cert = json_out(proc)["certificate"]
        code = cert["verification_code"]
        # the QR code holds the verify URL: a phone's camera opens the result page
        (qr,) = decode_qr((tmp_path / "c.pdf").read_bytes())
        assert qr == f"{server.url}/verify/{code}" == cert["verify_url"]
        phone.goto(qr)
        assert phone.locator("h1").inner_text() == "真实有效"
        assert me.name in phone.content() and masked(me.id_number) in phone.content()

        # the page to type the code: field, button, the result at /verify/CODE
        phone.goto(f"{server.url}/verify")
        assert phone.locator("h1").inner_text() == "证书查验"
        fits_the_phone(phone)
        phone.fill("#code", code.lower())  # typed loosely, as read off the paper
        phone.click("button[type=submit]")
        phone.wait_for_url(f"{server.url}/verify/{code.lower()}")
        assert phone.locator("h1").inner_text() == "真实有效"
        text = phone.locator("main").inner_text()
        for shown in (me.name, masked(me.id_number), world.unit_a.name, cert["number"], "90"):
            assert shown in text, shown
        assert me.id_number not in phone.content()  # the ID number only masked
        fits_the_phone(phone)
        screenshot(phone, tmp_path / "genuine.png")

        # a character lost in typing: a Chinese page saying so, the form kept with what was typed
        typo = code[:-1]
        phone.click("text=查验其他证书")
        phone.wait_for_url(f"{server.url}/verify")
        phone.fill("#code", typo)
        phone.click("button[type=submit]")
        phone.wait_for_load_state()
        assert phone.locator("h1").inner_text() == "验证码格式不正确"
        assert "不是有效的验证码格式" in phone.locator("main").inner_text()
        assert "请核对证书上印的验证码" in phone.locator("main").inner_text()
        assert phone.input_value("#code") == typo and me.name not in phone.content()
        fits_the_phone(phone)
        screenshot(phone, tmp_path / "typo.png")
        # the same address for a script is the API's one error shape
        answer = httpx.get(f"{server.url}/verify/{typo}", headers={"Accept": "application/json"})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation"
        assert [p["field"] for p in answer.json()["error"]["problems"]] == ["code"]
        api = httpx.get(f"{server.url}/api/v1/verify/{typo}", headers={"Accept": "text/html"})
        assert api.status_code == 422 and api.json()["error"]["code"] == "validation"  # the API: JSON always

        # a character changed: the code is not the record's, and nothing about anyone is shown
        changed = code[:-1] + ("0" if code[-1] != "0" else "1")
        phone.goto(f"{server.url}/verify/{changed}")
        assert "验证码与证书记录不符" in phone.locator("h1").inner_text() and me.name not in phone.content()

        # no such page under /verify/: a Chinese 404 for the phone, JSON for a script
        missing = phone.goto(f"{server.url}/verify/{code}/extra")
        assert missing is not None and missing.status == 404
        assert phone.locator("h1").inner_text() == "没有这个页面"
        answer = httpx.get(f"{server.url}/verify/{code}/extra")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
        # and an empty form sent anyway
        empty = phone.goto(f"{server.url}/verify?code=+")
        assert empty is not None and empty.status == 422 and "请输入" in phone.locator("main").inner_text()
    finally:
        server.stop()


def test_what_the_records_hold_is_shown_as_text_never_as_html(sqlite_world: World, phone: Any,
                                                              tmp_path: Path) -> None:
    """A revocation reason (free text) that looks like HTML is shown as those characters."""
    world = sqlite_world
    me = world.passed_person(YEAR)
    server = serve(world.setup.db_url, tmp_path / "serve", verify_url=True)
    try:
        proc = print_remote(world, server, me, tmp_path / "c.pdf")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cert = json_out(proc)["certificate"]
        reason = '<img src=x onerror="document.title=1">学分记录有误'
        revoked = world.setup.process("certificate", "revoke", cert["number"], "--reason", reason, "--yes",
                                      token=world.admin.token,
                                      env={"HNCE_API_URL": server.url})
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr
        phone.goto(cert["verify_url"])
        assert phone.locator("h1").inner_text() == "已撤销"
        assert reason in phone.locator("main").inner_text()  # the characters, as stored
        assert phone.locator("img").count() == 0 and phone.title() != "1"
        fits_the_phone(phone)
    finally:
        server.stop()


def test_a_deployment_without_a_verify_url_is_told_and_its_qr_holds_the_code(
        sqlite_world: World, tmp_path: Path) -> None:
    world = sqlite_world
    me = world.passed_person(YEAR)
    server = serve(world.setup.db_url, tmp_path / "serve", verify_url=False)
    try:
        told = [line for line in server.stderr().splitlines() if "HNCE_CERT_VERIFY_URL" in line]
        assert len(told) == 1 and "二维码只含验证码" in told[0] and "hold only the code" in told[0]
        proc = print_remote(world, server, me, tmp_path / "c.pdf")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cert = json_out(proc)["certificate"]
        assert cert["verify_url"] is None
        assert decode_qr((tmp_path / "c.pdf").read_bytes()) == [cert["verification_code"]]
        assert "二维码只含验证码" in proc.stderr and "HNCE_CERT_VERIFY_URL" in proc.stderr  # the desk is told
        # the code itself still verifies at the page the deployment does serve
        page = httpx.get(f"{server.url}/verify/{cert['verification_code']}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "真实有效" in page.text
    finally:
        server.stop()
