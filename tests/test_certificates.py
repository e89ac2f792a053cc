"""Certificates end to end through the real `hnce` command, on every storage (and remote):
refused for a failed year, PDFs read back (Chinese text, embedded font, QR), stable
numbers across re-issue, verify (genuine / altered / revoked / unknown, CLI and
GET /verify/CODE), revocation, and the resumable batch with its manifest."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Person, World, error_fields, free_port, json_out

pypdf = pytest.importorskip("pypdf")
pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

YEAR = 2025
VERIFY_BASE = "https://hnce.example.cn/verify"
RARE = "\U00020000"  # 𠀀, CJK Extension B: in no configured font


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One font cache for every test's subprocesses (subsets are made once)."""
    return tmp_path_factory.mktemp("certificate-fonts")


@dataclass
class Certs:
    """The world, and how to run `hnce` in it with the certificate settings."""

    world: World
    font_cache: Path

    def run(self, *args: str, token: str, **env: str):  # noqa: ANN201
        extra = {"HNCE_CERT_FONT_CACHE": str(self.font_cache), "HNCE_CERT_VERIFY_URL": VERIFY_BASE, **env}
        return self.world.setup.run("certificate", *args, token=token, env=extra, timeout=300)

    def person(self, unit=None, *, public: float = 0, professional: float = 0,  # noqa: ANN001
               year: int = YEAR) -> Person:
        """An approved professional in `unit` (default A), logged in, with credits of `year`."""
        person = self.world.approved_person(unit)
        self.give(person, public=public, professional=professional, year=year)
        return person

    def give(self, person: Person, *, public: float = 0, professional: float = 0, year: int = YEAR) -> None:
        """Credit records as the national import or an HR approval would leave them."""
        self.world.give_credits(person, year, public=public, professional=professional)


@pytest.fixture
def certs(world: World, font_cache: Path) -> Certs:
    return Certs(world, font_cache)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def decode_qr(pdf: bytes, page: int = 0) -> list[str]:
    image = pdfium.PdfDocument(pdf)[page].render(scale=3).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


def masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def print_cert(certs: Certs, person: Person, out: Path, *, token: str | None = None, **env: str) -> dict:
    proc = certs.run(person.id_number, "--year", str(YEAR), "-o", str(out), "--json",
                     token=token or person.token, **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json_out(proc)["certificate"]


# --- issuing ----------------------------------------------------------------------


def test_failed_year_is_refused_and_nothing_is_recorded(certs: Certs, tmp_path: Path) -> None:
    me = certs.person(public=29, professional=61)  # one public credit short of 30
    out = tmp_path / "c.pdf"
    proc = certs.run("--year", str(YEAR), "-o", str(out), "--json", token=me.token)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert error_fields(proc) == ["year"]
    assert "未通过" in json_out(proc)["error"]["message"] and "29/30" in json_out(proc)["error"]["message"]
    assert not out.exists()
    assert certs.world.setup.count("certificate") == 0
    # credits of another year never count
    certs.give(me, public=1, year=YEAR - 1)
    assert certs.run("--year", str(YEAR), "-o", str(out), token=me.token).returncode == 2
    # a plain terminal message names the problem, no traceback
    proc = certs.run("--year", str(YEAR), "-o", str(out), token=me.token)
    assert "未通过" in proc.stderr and "Traceback" not in proc.stderr


def test_passed_year_prints_a_pdf_that_reads_back(certs: Certs, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    me = certs.person(public=30.5, professional=60)
    out = tmp_path / "证书.pdf"
    proc = certs.run("--year", str(YEAR), "-o", str(out), "--json", token=me.token)  # PERSON omitted: own
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cert = json_out(proc)["certificate"]
    assert json_out(proc)["file"] == str(out)
    assert cert["number"] == f"HN{YEAR}-{me.id:08d}" and cert["outcome"] == "issued"
    expected_qr = reads_back(out.read_bytes(), me, cert, certs.world.unit_a.name)
    if not certs.world.setup.remote:  # the URL base is the services' setting (the server's in remote mode)
        assert expected_qr == f"{VERIFY_BASE}/{cert['verification_code']}"
    # the backend's print (remote: the server draws, fetched through httpx) reads back the same
    from hnce_cli.schemas import CertificateRequest

    monkeypatch.setenv("HNCE_CERT_VERIFY_URL", VERIFY_BASE)  # the in-process services' setting, as the CLI's
    monkeypatch.setenv("HNCE_CERT_FONT_CACHE", str(certs.font_cache))
    again, pdf = certs.world.setup.backend(me.token).certificate_pdf(CertificateRequest(year=YEAR))
    assert again.model_dump(mode="json") == {**cert, "outcome": "unchanged"}
    assert page_texts(pdf) == page_texts(out.read_bytes())
    actions = certs.world.setup.rows("SELECT action, actor_id FROM audit_log WHERE subject_type = 'certificate'")
    assert [a for a, _ in actions] == ["certificate.issue"]


def reads_back(pdf: bytes, me: Person, cert: dict, unit_name: str) -> str:
    """The printed facts extract as text, the font is embedded, the QR code decodes; returns its text."""
    (text,) = page_texts(pdf)
    for expected in (me.name, f"{YEAR}年度", "公需科目", "30.5", "专业科目", "60", "90.5", "通过",
                     cert["number"], masked(me.id_number), unit_name, cert["verification_code"]):
        assert expected in text, expected
    assert me.id_number not in text  # only the masked ID number is printed
    fonts = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        descriptor = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
    # the QR code carries the verify URL where the service has one configured, else the code
    expected_qr = cert["verify_url"] or cert["verification_code"]
    assert decode_qr(pdf) == [expected_qr]
    return expected_qr


def test_remote_print_is_drawn_by_the_server(certs: Certs, tmp_path: Path) -> None:
    """A remote desk's print: `hnce serve` issues and draws (POST /api/v1/certificates/pdf), the CLI
    process only writes the bytes and never imports fpdf2; the same rules and errors as issuing."""
    import subprocess
    import sys
    from urllib.parse import quote

    import httpx

    setup = certs.world.setup
    if not setup.remote:
        pytest.skip("local mode draws in the CLI process (test_passed_year_prints_a_pdf_that_reads_back)")
    me = certs.person(public=30.5, professional=60)
    out = tmp_path / "证书.pdf"
    env = setup._env(me.token, {"HNCE_CERT_FONT_CACHE": str(certs.font_cache)})  # noqa: SLF001
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "hnce_cli", "certificate", "--year", str(YEAR),
                           "-o", str(out), "--json"], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "hnce_cli" in imported and not imported & {"fpdf", "fontTools", "segno", "httpx", "sqlalchemy"}
    cert = json_out(proc)["certificate"]
    assert cert["outcome"] == "issued"
    reads_back(out.read_bytes(), me, cert, certs.world.unit_a.name)

    # the route itself: a PDF with its file name, the facts beside it, the issue's rules
    url = f"{setup.server.url}/api/v1/certificates/pdf"
    answer = httpx.post(url, json={"year": YEAR}, headers={"Authorization": f"Bearer {me.token}"}, timeout=120)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    filename = quote(f"{cert['number']}-{me.name}.pdf")
    assert f"filename*=UTF-8''{filename}" in answer.headers["content-disposition"]
    facts = json.loads(answer.headers["x-hnce-certificate"])
    assert facts == {**cert, "outcome": "unchanged"}
    assert page_texts(answer.content) == page_texts(out.read_bytes())
    other = certs.person(public=30, professional=60)
    refused = httpx.post(url, json={"person": me.id_number, "year": YEAR},
                         headers={"Authorization": f"Bearer {other.token}"}, timeout=120)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    short = certs.person(public=29, professional=61)
    failed = httpx.post(url, json={"year": YEAR}, headers={"Authorization": f"Bearer {short.token}"}, timeout=120)
    assert failed.status_code == 422 and "29/30" in failed.json()["error"]["message"]
    assert httpx.post(url, json={"year": YEAR}, timeout=120).status_code == 401
    assert setup.count("certificate") == 1
    # the CLI's answers for those, as from every other remote command
    assert certs.run(me.id_number, "--year", str(YEAR), "-o", str(out), token=other.token).returncode == 4
    assert certs.run("--year", str(YEAR), "-o", str(out), token="not-a-token").returncode == 6
    gone = certs.run("--year", str(YEAR), "-o", str(tmp_path / "no.pdf"), token=me.token,
                     HNCE_API_URL=f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 8 and "hnce serve" in gone.stderr and not (tmp_path / "no.pdf").exists()


def test_number_is_stable_and_a_late_credit_gives_a_new_code(certs: Certs, tmp_path: Path) -> None:
    setup = certs.world.setup
    me = certs.person(public=30, professional=60)
    first = print_cert(certs, me, tmp_path / "1.pdf")
    again = print_cert(certs, me, tmp_path / "2.pdf", token=certs.world.a_admin1.token)  # the unit admin
    assert (again["number"], again["verification_code"], again["outcome"]) == (
        first["number"], first["verification_code"], "unchanged")
    assert setup.count("certificate") == 1
    certs.give(me, professional=4)  # a late HR approval
    third = print_cert(certs, me, tmp_path / "3.pdf")
    assert third["number"] == first["number"] and third["outcome"] == "reissued"
    assert third["verification_code"] != first["verification_code"] and third["total_credits"] == 94
    assert "94" in page_texts((tmp_path / "3.pdf").read_bytes())[0]
    assert setup.count("certificate") == 1
    assert [r[0] for r in setup.rows("SELECT action FROM audit_log WHERE subject_type = 'certificate' "
                                     "ORDER BY id")] == ["certificate.issue", "certificate.reissue"]
    assert json_out(certs.run("verify", third["verification_code"], "--json", token=me.token))["status"] == "genuine"
    old = certs.run("verify", first["verification_code"], "--json", token=me.token)
    assert old.returncode == 9 and json_out(old)["status"] == "altered"


def test_a_reprint_needs_no_write_lock(certs: Certs, tmp_path: Path) -> None:
    """In January thousands reprint while a unit admin approves a batch: a certificate already
    recorded and still true is read, not written, so a reprint does not queue behind the
    batch's write lock."""
    import sqlite3

    setup = certs.world.setup
    if setup.name != "sqlite":
        pytest.skip("SQLite's single write lock; PostgreSQL writers do not block readers")
    me = certs.person(public=30, professional=60)
    first = print_cert(certs, me, tmp_path / "1.pdf")
    batch = sqlite3.connect(setup.database, timeout=0)
    try:
        batch.execute("BEGIN IMMEDIATE")  # another desk's approval holds the write lock
        again = print_cert(certs, me, tmp_path / "2.pdf")
        assert (again["verification_code"], again["outcome"]) == (first["verification_code"], "unchanged")
        assert page_texts((tmp_path / "2.pdf").read_bytes()) == page_texts((tmp_path / "1.pdf").read_bytes())
    finally:
        batch.rollback()
        batch.close()


def test_who_may_print(certs: Certs, tmp_path: Path) -> None:
    world = certs.world
    me = certs.person(public=30, professional=60)
    other = certs.person(public=30, professional=60)
    out = str(tmp_path / "x.pdf")

    def code(token: str, person: Person = me) -> int:
        return certs.run(person.id_number, "--year", str(YEAR), "-o", out, "--json", token=token).returncode

    assert code(other.token) == 4  # another professional
    assert code(world.kefu.token) == 4  # support is read-only
    assert code(world.b_admin.token) == 3  # another unit's admin: not in their scope
    assert code(world.hr.token) == 0  # HR of 郑州 (unit A is in 金水区)
    assert code(world.admin.token) == 0
    assert world.setup.count("certificate") == 1


def test_own_certificate_print_records_and_prints_what_the_service_does(
        certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A professional printing their own certificate: the CLI records, signs and prints
    exactly what the service answers, a float sum just under 30 included."""
    from hnce_cli.schemas import CertificateRequest

    monkeypatch.setenv("HNCE_CERT_VERIFY_URL", VERIFY_BASE)  # the in-process service's setting, as the CLI's
    setup = certs.world.setup
    me = certs.person(public=10.1, professional=60)  # 10.1 + 10.1 + 9.8: a float sum just under 30
    certs.give(me, public=10.1)
    certs.give(me, public=9.8)
    other = certs.person(public=30, professional=60)

    first = print_cert(certs, me, tmp_path / "a.pdf")
    assert first["outcome"] == "issued" and first["public_credits"] == pytest.approx(30)
    by_service = setup.backend(other.token).issue_certificate(CertificateRequest(year=YEAR))
    again = print_cert(certs, me, tmp_path / "b.pdf")
    expected = setup.backend(me.token).issue_certificate(CertificateRequest(year=YEAR)).model_dump(mode="json")
    assert again == expected and first == {**expected, "outcome": "issued"}
    assert page_texts((tmp_path / "a.pdf").read_bytes()) == page_texts((tmp_path / "b.pdf").read_bytes())
    shown = certs.run("--year", str(YEAR), "-o", str(tmp_path / "c.pdf"), token=me.token)  # the details table
    assert shown.returncode == 0 and first["number"] in shown.stdout and "已签发（与记录一致）" in shown.stdout
    assert masked(me.id_number) in shown.stdout and me.id_number not in shown.stdout
    verified = certs.run("verify", first["verification_code"], "--json", token=me.token)
    assert verified.returncode == 0 and json_out(verified)["status"] == "genuine"
    # the audit rows of the CLI's and the service's issue have the same shape: who, what, masked facts
    rows = setup.rows("SELECT subject_id, actor_id, action, before, after FROM audit_log "
                      "WHERE subject_type = 'certificate' ORDER BY id")
    assert [(r[0], r[2], r[3]) for r in rows] == [(first["number"], "certificate.issue", None),
                                                  (by_service.number, "certificate.issue", None)]
    cli_after, service_after = json.loads(rows[0][4]), json.loads(rows[1][4])
    assert set(cli_after) == set(service_after) and cli_after["id_number"] == masked(me.id_number)
    assert cli_after["code"] == first["verification_code"]
    assert rows[0][1] == setup.scalar("SELECT account_id FROM professional WHERE id = :i", i=me.id)
    assert setup.count("certificate") == 2


# --- verification and revocation --------------------------------------------------


def verify_http(certs: Certs, code: str, monkeypatch: pytest.MonkeyPatch, accept: str = "application/json"):  # noqa: ANN201
    """GET /verify/CODE on the running server (remote) or the app in-process (local)."""
    setup = certs.world.setup
    if setup.remote:
        import httpx

        return httpx.get(f"{setup.server.url}/verify/{code}", headers={"Accept": accept})
    from fastapi.testclient import TestClient

    from hnce_cli.server.app import create_app

    monkeypatch.setenv("HNCE_DATABASE_URL", setup.db_url)
    return TestClient(create_app()).get(f"/verify/{code}", headers={"Accept": accept})


def test_verify_genuine_altered_unknown_and_revoked(certs: Certs, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    world = certs.world
    me = certs.person(public=30, professional=60)
    cert = print_cert(certs, me, tmp_path / "c.pdf")
    code = cert["verification_code"]

    genuine = certs.run("verify", code, "--json", token=world.kefu.token)
    assert genuine.returncode == 0
    facts = json_out(genuine)
    assert facts["status"] == "genuine" and facts["name"] == me.name and facts["total_credits"] == 90
    assert facts["id_number_masked"] == masked(me.id_number) and me.id_number not in genuine.stdout
    # a code as scanned from the QR (the URL) and typed loosely (lower case, spaces) is the same code
    assert certs.run("verify", f"{VERIFY_BASE}/{code}", token=world.kefu.token).returncode == 0
    loose = cert["number"].lower() + " " + code[len(cert["number"]) + 1:].lower().replace("-", " ")
    assert certs.run("verify", loose, token=world.kefu.token).returncode == 0

    last = code[-1]
    altered = code[:-1] + ("0" if last != "0" else "1")
    proc = certs.run("verify", altered, "--json", token=world.kefu.token)
    assert proc.returncode == 9 and json_out(proc)["status"] == "altered"
    assert json_out(proc)["name"] is None  # an altered code reveals nothing about anyone
    unknown = f"HN{YEAR}-99999999" + code[len(cert["number"]):]
    proc = certs.run("verify", unknown, "--json", token=world.kefu.token)
    assert proc.returncode == 9 and json_out(proc)["status"] == "unknown"
    proc = certs.run("verify", "not-a-code", "--json", token=world.kefu.token)
    assert proc.returncode == 2 and error_fields(proc) == ["code"]

    # verification needs no login, over HTTP as from the QR code
    answer = verify_http(certs, code, monkeypatch)
    assert answer.status_code == 200 and answer.json()["status"] == "genuine"
    assert answer.json()["id_number_masked"] == masked(me.id_number) and me.id_number not in answer.text
    page = verify_http(certs, code, monkeypatch, accept="text/html")
    assert page.headers["content-type"].startswith("text/html") and "真实有效" in page.text
    assert verify_http(certs, altered, monkeypatch).json()["status"] == "altered"

    # revocation: support may not, the system admin may (once), verification then says so
    reason = "学分记录有误"
    assert certs.run("revoke", cert["number"], "--reason", reason, "--yes", token=world.kefu.token).returncode == 4
    no_tty = certs.run("revoke", cert["number"], "--reason", reason, "--json", token=world.admin.token)
    assert no_tty.returncode == 2 and error_fields(no_tty) == ["yes"]  # no terminal to confirm on
    done = certs.run("revoke", cert["number"], "--reason", reason, "--yes", "--json", token=world.admin.token)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json_out(done)["revoke_reason"] == reason
    twice = certs.run("revoke", cert["number"], "--reason", "again", "--yes", "--json", token=world.admin.token)
    assert twice.returncode == 5 and reason in json_out(twice)["error"]["message"]
    proc = certs.run("verify", code, "--json", token=world.kefu.token)
    assert proc.returncode == 9
    revoked = json_out(proc)
    assert revoked["status"] == "revoked" and revoked["revoke_reason"] == reason and revoked["revoked_at"]
    assert verify_http(certs, code, monkeypatch).json()["status"] == "revoked"
    assert world.setup.count("audit_log", "action = 'certificate.revoke'") == 1
    # a revoked certificate is not printed again
    proc = certs.run("--year", str(YEAR), "-o", str(tmp_path / "again.pdf"), "--json", token=me.token)
    assert proc.returncode == 5 and not (tmp_path / "again.pdf").exists()


def test_tampered_record_no_longer_verifies(certs: Certs, tmp_path: Path) -> None:
    """The code signs the content: raising the credits in the database breaks it."""
    world = certs.world
    me = certs.person(public=30, professional=60)
    cert = print_cert(certs, me, tmp_path / "c.pdf")
    content = json.loads(world.setup.scalar("SELECT content FROM certificate"))
    content["professional"] = "160"
    world.setup.execute("UPDATE certificate SET content = :c", c=json.dumps(content, ensure_ascii=False))
    proc = certs.run("verify", cert["verification_code"], "--json", token=world.kefu.token)
    assert proc.returncode == 9 and json_out(proc)["status"] == "altered"


# --- batches ----------------------------------------------------------------------


def manifest(out: Path) -> list[dict[str, str]]:
    with (out / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_batch_resumes_without_rewriting_and_writes_a_manifest(certs: Certs, tmp_path: Path) -> None:
    world = certs.world
    passed = [certs.person(public=30, professional=60 + i) for i in range(3)]
    failed = certs.person(public=30, professional=59)
    out = tmp_path / "out"
    args = ["batch", "--year", str(YEAR), "--unit", world.unit_a.name, "--out", str(out), "--jobs", "2", "--json"]
    proc = certs.run(*args, token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json_out(proc)
    assert summary["counts"] == {"written": 3} and summary["not_passed"] >= 1
    rows = manifest(out)
    assert sorted(r["number"] for r in rows) == sorted(f"HN{YEAR}-{p.id:08d}" for p in passed)
    assert f"HN{YEAR}-{failed.id:08d}" not in {r["number"] for r in rows}
    files = {r["number"]: out / r["file"] for r in rows}
    for p in passed:
        row = next(r for r in rows if r["number"] == f"HN{YEAR}-{p.id:08d}")
        assert row["status"] == "written" and row["id_number_masked"] == masked(p.id_number)
        # in file names the masked digits are x: Windows and SMB shares refuse '*'
        assert row["file"] == f"金水区/{world.unit_a.name}/{YEAR}-{masked(p.id_number).replace('*', 'x')}-{p.name}.pdf"
        (text,) = page_texts(files[row["number"]].read_bytes())
        assert p.name in text and row["number"] in text
        assert decode_qr(files[row["number"]].read_bytes()) in ([row["verification_code"]],
                                                                [f"{VERIFY_BASE}/{row['verification_code']}"])
    for p in passed:
        assert p.id_number not in (out / "manifest.csv").read_text("utf-8-sig")
    assert json.loads((out / "manifest.json").read_text())["counts"] == {"written": 3}

    # an interrupted run: one file never got written, another left a temp file behind
    kept, lost = sorted(files.values())[:2]
    lost.unlink()
    (lost.parent / f".{lost.name}.12345.part").write_bytes(b"%PDF-half")
    os.utime(kept, (1_000_000_000, 1_000_000_000))
    before = {p: p.stat().st_mtime_ns for p in files.values() if p.exists()}
    proc = certs.run(*args, token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json_out(proc)["counts"] == {"written": 1, "existing": 2}
    assert lost.exists() and page_texts(lost.read_bytes())
    assert not list(lost.parent.glob("*.part"))  # the killed run's temporary file is gone
    for path, mtime in before.items():
        assert path.stat().st_mtime_ns == mtime, f"{path} was rewritten"
    by_status = {r["file"]: r["status"] for r in manifest(out)}
    assert by_status[str(lost.relative_to(out))] == "written"
    assert by_status[str(kept.relative_to(out))] == "existing"
    # the same numbers and codes, no second issue
    assert world.setup.count("certificate") == 3
    assert world.setup.count("audit_log", "action = 'certificate.issue'") == 3


def test_batch_merged_per_unit_and_failures_exit_7(certs: Certs, tmp_path: Path) -> None:
    world = certs.world
    a = [certs.person(public=31, professional=60) for _ in range(3)]
    b = [certs.person(world.unit_b, public=30, professional=70) for _ in range(2)]
    certs.person(world.unit_b, public=10, professional=10)
    out = tmp_path / "merged"
    proc = certs.run("batch", "--year", str(YEAR), "--province", "--merge-per-unit", "--out", str(out), "--json",
                     token=world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    unit_a = out / "金水区" / f"{world.unit_a.name}-{YEAR}.pdf"
    unit_b = out / "老城区" / f"{world.unit_b.name}-{YEAR}.pdf"
    texts_a, texts_b = page_texts(unit_a.read_bytes()), page_texts(unit_b.read_bytes())
    assert len(texts_a) == len(a) and len(texts_b) == len(b)
    assert [p.name in t for p, t in zip(a, texts_a, strict=True)] == [True] * len(a)
    assert sorted(json_out(proc)["counts"].items()) == [("written", 5)]

    # a name with a character no font has: that person fails and says why, the rest are written
    odd = certs.person(public=30, professional=60)
    world.setup.execute("UPDATE professional SET name = :n WHERE id = :i", n="王" + RARE, i=odd.id)
    out2 = tmp_path / "single"
    proc = certs.run("batch", "--year", str(YEAR), "--unit", str(world.unit_a.id), "--out", str(out2), "--json",
                     token=world.admin.token)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    summary = json_out(proc)
    assert summary["counts"] == {"written": 3, "failed": 1}
    (failure,) = summary["failed"]
    assert failure["number"] == f"HN{YEAR}-{odd.id:08d}" and "U+20000" in failure["error"]
    row = next(r for r in manifest(out2) if r["status"] == "failed")
    assert "U+20000" in row["error"] and not (out2 / row["file"]).exists()
    # scope: a unit admin cannot batch another unit or the province
    assert certs.run("batch", "--year", str(YEAR), "--unit", str(world.unit_b.id), "--out", str(out2),
                     token=world.a_admin1.token).returncode == 4
    assert certs.run("batch", "--year", str(YEAR), "--province", "--out", str(out2),
                     token=world.a_admin1.token).returncode == 4
    bad = certs.run("batch", "--year", str(YEAR), "--unit", str(world.unit_a.id), "--out", str(out2),
                    "--name-template", "{nope}.pdf", "--json", token=world.admin.token)
    assert bad.returncode == 2 and error_fields(bad) == ["name_template"]


def test_rotated_key_keeps_old_certificates_true(certs: Certs, tmp_path: Path) -> None:
    """A rotation keeps the old key by its id (HNCE_CERT_OLD_KEYS): what it signed still verifies,
    and a host holding only another key says which key is missing instead of calling it altered."""
    from hnce_cli.certificates.signing import key_id, key_path

    setup = certs.world.setup
    if setup.remote:
        pytest.skip("the key is the server's setting; rotating it means restarting hnce serve")
    me = certs.person(public=30, professional=60)
    old = print_cert(certs, me, tmp_path / "old.pdf")
    other = {"HNCE_CERT_KEY": "a-new-key-after-rotation-0123456789"}
    refused = certs.run("verify", old["verification_code"], "--json", token=me.token, **other)
    assert refused.returncode == 8, refused.stdout + refused.stderr
    assert "证书签发密钥与数据库不符" in refused.stdout + refused.stderr
    old_key = key_path().read_bytes()  # the key file the first print created
    rotated = {**other, "HNCE_CERT_OLD_KEYS": old_key.hex()}
    assert json_out(refused)["error"]["details"]["expected_key_id"] == key_id(old_key)
    kept = certs.run("verify", old["verification_code"], token=me.token, **rotated)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    again = print_cert(certs, me, tmp_path / "again.pdf", **rotated)
    assert (again["number"], again["verification_code"]) == (old["number"], old["verification_code"])
    assert setup.count("certificate") == 1


def test_batch_killed_mid_run_continues_where_it_stopped(certs: Certs, tmp_path: Path) -> None:
    """SIGKILL during the PDFs, then rerun: files finished before the kill are left as they are."""
    import signal
    import time

    world = certs.world
    if world.setup.name != "sqlite":
        pytest.skip("writing the files is the CLI's part; the storages are covered by the test above")
    people = [certs.person(public=30, professional=60) for _ in range(24)]
    out = tmp_path / "killed"
    args = ["certificate", "batch", "--year", str(YEAR), "--unit", str(world.unit_a.id), "--out", str(out), "--json"]
    env = {"HNCE_CERT_FONT_CACHE": str(certs.font_cache)}
    proc = world.setup.popen(*args, token=world.a_admin1.token, env=env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and len(list(out.rglob("*.pdf"))) < 2:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.pdf")}
    assert 0 < len(before) < len(people), "the kill should land while the PDFs are being written"
    rerun = world.setup.run(*args, token=world.a_admin1.token, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    counts = json_out(rerun)["counts"]
    assert counts.get("existing", 0) == len(before) and sum(counts.values()) == len(people)
    for path, mtime in before.items():
        assert path.stat().st_mtime_ns == mtime, f"{path} was rewritten"
    assert len(list(out.rglob("*.pdf"))) == len(people)
    assert all(page_texts(p.read_bytes()) for p in out.rglob("*.pdf"))  # every file is whole
    assert world.setup.count("certificate") == len(people)
