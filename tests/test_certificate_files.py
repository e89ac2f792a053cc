"""Certificates on disk stay true: a batch run again rewrites the file of a re-issued
certificate, moves a revoked one aside into 已撤销/, removes a copy left at a path no longer
used, and its manifest lists exactly the files in the folder, each holding the code the row
names — read back from every PDF. Also when the run is stopped by SIGTERM or Ctrl-C (a real
`hnce` process and a real signal), and when the manifest was deleted. And a person without
an employer is printed as 无工作单位（临时管理单位：…）, fitting the unit's line."""

from __future__ import annotations

import io
import itertools
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import Person, World, hnce_command, json_out, new_id_number, registration
from test_certificates import YEAR, Certs, manifest, page_texts, print_cert

pypdf = pytest.importorskip("pypdf")
pdfium = pytest.importorskip("pypdfium2")

@pytest.fixture(scope="session")
def cert_fonts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One font cache for every test's subprocesses (subsets are made once)."""
    return tmp_path_factory.mktemp("certificate-files-fonts")


@pytest.fixture
def certs(world: World, cert_fonts: Path) -> Certs:
    return Certs(world, cert_fonts)


REVOKED = "已撤销"
PRESENT = ("written", "rewritten", "existing")
CODE_ON_PAGE = re.compile(r"验证码：(HN\d{4}-\d{8}(?:-[0-9A-Z]{4}){4})")


def codes_in(pdf: Path) -> list[str]:
    """The verification codes a PDF shows, page by page — and its /Keywords say the same."""
    data = pdf.read_bytes()
    shown = [m for text in page_texts(data) for m in CODE_ON_PAGE.findall(text)]
    assert pypdf.PdfReader(io.BytesIO(data)).metadata["/Keywords"].split() == shown, pdf
    return shown


def top_level_pdfs(out: Path) -> set[str]:
    """Every PDF in the folder outside 已撤销/ (hidden temporary files aside), as manifest paths."""
    return {p.relative_to(out).as_posix() for p in out.rglob("*.pdf")
            if not p.name.startswith(".") and p.relative_to(out).parts[0] != REVOKED}


def assert_manifest_is_the_folder(out: Path) -> list[dict[str, str]]:
    """manifest.csv lists exactly the PDFs present, and each of them holds its row's code."""
    rows = manifest(out)
    present = [r for r in rows if r["status"] in PRESENT]
    assert {r["file"] for r in present} == top_level_pdfs(out)
    for row in present:
        assert codes_in(out / row["file"]) == [row["verification_code"]], row
    for row in rows:
        if row["status"] not in PRESENT and row["file"] and not row["file"].startswith(REVOKED + "/"):
            assert not (out / row["file"]).exists(), row  # pending or failed: no stale paper left there
    return rows


def by_number(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["number"]: r for r in rows}


def number(person_id: int) -> str:
    return f"HN{YEAR}-{person_id:08d}"


def test_a_rerun_rewrites_reissued_moves_revoked_and_lists_exactly_the_files(certs: Certs, tmp_path: Path) -> None:
    world = certs.world
    kept, reissued, revoked, renamed = (certs.person(public=30, professional=60 + i) for i in range(4))
    out = tmp_path / "证书"
    args = ["batch", "--year", str(YEAR), "--unit", world.unit_a.name, "--out", str(out), "--json"]
    first = certs.run(*args, token=world.a_admin1.token)
    assert first.returncode == 0, first.stdout + first.stderr
    assert json_out(first)["counts"] == {"written": 4}
    before = by_number(assert_manifest_is_the_folder(out))
    kept_file = out / before[number(kept.id)]["file"]
    kept_mtime = kept_file.stat().st_mtime_ns
    revoked_file = before[number(revoked.id)]["file"]
    old_code = before[number(reissued.id)]["verification_code"]

    certs.give(reissued, professional=4)  # approved late: the next issue has a new code
    world.setup.execute("UPDATE professional SET name = :n WHERE id = :i", n="赵改名", i=renamed.id)
    done = certs.run("revoke", number(revoked.id), "--reason", "学分记录有误", "--yes", token=world.admin.token)
    assert done.returncode == 0, done.stdout + done.stderr

    again = certs.run(*args, token=world.a_admin1.token)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = json_out(again)
    assert summary["counts"] == {"existing": 1, "rewritten": 1, "written": 1, "revoked": 1}
    assert (summary["moved_aside"], summary["removed"]) == (1, 1)
    rows = by_number(assert_manifest_is_the_folder(out))
    # the re-issued certificate's file now holds the new code, which verifies; the old one is gone
    new = rows[number(reissued.id)]
    assert new["status"] == "rewritten" and new["verification_code"] != old_code
    assert "65" in page_texts((out / new["file"]).read_bytes())[0]
    assert certs.run("verify", new["verification_code"], token=kept.token).returncode == 0
    # a file still true is not touched
    assert rows[number(kept.id)]["status"] == "existing" and kept_file.stat().st_mtime_ns == kept_mtime
    # the revoked certificate's file is out of the top level, kept in 已撤销/ under the same path
    gone = rows[number(revoked.id)]
    assert gone["status"] == "revoked" and gone["file"] == f"{REVOKED}/{revoked_file}"
    assert not (out / revoked_file).exists() and codes_in(out / gone["file"]) == [
        before[number(revoked.id)]["verification_code"]]
    # a corrected name is a new file name: the old paper (its code now altered) is removed
    moved = rows[number(renamed.id)]
    assert moved["status"] == "written" and "赵改名" in moved["file"]
    assert not (out / before[number(renamed.id)]["file"]).exists()

    # the manifest deleted: the files themselves say what they hold
    (out / "manifest.csv").unlink()
    (out / "manifest.json").unlink()
    certs.give(kept, public=1)
    third = certs.run(*args, token=world.a_admin1.token)
    assert third.returncode == 0, third.stdout + third.stderr
    assert json_out(third)["counts"] == {"rewritten": 1, "existing": 2, "revoked": 1}
    rows = by_number(assert_manifest_is_the_folder(out))
    assert rows[number(kept.id)]["status"] == "rewritten"
    assert (out / gone["file"]).exists() and not (out / revoked_file).exists()
    # a file changed by hand (not one hnce wrote) is rewritten, not trusted
    (out / rows[number(reissued.id)]["file"]).write_bytes(b"%PDF-1.4 not a certificate")
    fourth = certs.run(*args, token=world.a_admin1.token)
    assert json_out(fourth)["counts"] == {"rewritten": 1, "existing": 2, "revoked": 1}
    rows = by_number(assert_manifest_is_the_folder(out))
    assert rows[number(revoked.id)]["file"] == gone["file"]  # the earlier move is still named
    assert world.setup.count("certificate") == 4


def test_merged_files_are_rewritten_without_a_revoked_page(certs: Certs, tmp_path: Path) -> None:
    world = certs.world
    people = [certs.person(public=30, professional=60) for _ in range(3)]
    out = tmp_path / "merged"
    args = ["batch", "--year", str(YEAR), "--unit", str(world.unit_a.id), "--merge-per-unit", "--out", str(out),
            "--json"]
    assert certs.run(*args, token=world.admin.token).returncode == 0
    (merged,) = top_level_pdfs(out)
    assert len(codes_in(out / merged)) == 3
    rerun = certs.run(*args, token=world.admin.token)
    assert json_out(rerun)["counts"] == {"existing": 3}
    assert certs.run("revoke", number(people[0].id), "--reason", "重复发证", "--yes",
                     token=world.admin.token).returncode == 0
    rerun = certs.run(*args, token=world.admin.token)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert json_out(rerun)["counts"] == {"rewritten": 2, "revoked": 1}
    rows = by_number(manifest(out))
    assert codes_in(out / merged) == [rows[number(p.id)]["verification_code"] for p in people[1:]]
    assert top_level_pdfs(out) == {merged}


def _start(world: World, fonts: Certs, out: Path, *extra: str):  # noqa: ANN202
    """`hnce certificate batch` as a program of its own, in its own process group (as a terminal's
    foreground job: Ctrl-C there reaches the batch and its worker processes alike)."""
    args = ["certificate", "batch", "--year", str(YEAR), "--unit", str(world.unit_a.id), "--out", str(out), "--json",
            *extra]
    env = world.setup._env(world.a_admin1.token, {"HNCE_CERT_FONT_CACHE": str(fonts.font_cache)})  # noqa: SLF001
    return subprocess.Popen([*hnce_command(), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _when(condition, proc, seconds: float = 240) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None and not condition():
        time.sleep(0.01)


def test_sigterm_mid_run_writes_a_manifest_of_exactly_the_files_present(certs: Certs, tmp_path: Path) -> None:
    """A service manager stops the batch while it rewrites re-issued certificates: it exits 143
    saying 已取消, the manifest is written, every file it names holds the current code, and no
    stale paper is left; a rerun finishes the job."""
    world = certs.world
    people = [certs.person(public=30, professional=60) for _ in range(40)]
    out = tmp_path / "stopped"
    args = ["batch", "--year", str(YEAR), "--unit", str(world.unit_a.id), "--out", str(out), "--json"]
    first = certs.run(*args, token=world.a_admin1.token)
    assert json_out(first)["counts"] == {"written": len(people)}
    old = {r["number"]: r["verification_code"] for r in manifest(out)}
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.pdf")}
    for p in people:
        certs.give(p, professional=1)  # every certificate is re-issued on the next run

    proc = _start(world, certs, out)
    _when(lambda: any(p.stat().st_mtime_ns != m for p, m in mtimes.items() if p.exists()), proc)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stdout + stderr
    assert "已取消" in stderr and "Traceback" not in stderr and "manifest.csv" in stderr
    rows = assert_manifest_is_the_folder(out)
    statuses = [r["status"] for r in rows]
    assert "rewritten" in statuses and "pending" in statuses, statuses  # stopped half-way
    assert set(statuses) <= {"rewritten", "pending"}
    for row in rows:
        assert row["verification_code"] != old[row["number"]]  # the manifest holds the current codes
    assert not [p for p in out.rglob(".*.part")]  # the file being drawn when stopped left no temporary file

    rerun = certs.run(*args, token=world.a_admin1.token)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    counts = json_out(rerun)["counts"]
    # the stale files not reached were removed when stopped: their people's files are written anew
    assert counts == {"existing": statuses.count("rewritten"), "written": statuses.count("pending")}
    assert len(assert_manifest_is_the_folder(out)) == len(people)


def test_ctrl_c_mid_run_with_workers_writes_the_manifest_and_exits_130(certs: Certs, tmp_path: Path) -> None:
    """A real Ctrl-C (SIGINT to the process group) to a batch drawing with two worker processes:
    已取消, exit 130, no worker's traceback, a manifest of exactly the files present (one a worker
    finished just before the stop included)."""
    world = certs.world
    if world.setup.name != "sqlite":
        pytest.skip("stopping is the CLI's part; SIGTERM is run on every storage above")
    if not hasattr(os, "killpg"):
        pytest.skip("a terminal's process group is POSIX")
    people = [certs.person(public=30, professional=60) for _ in range(40)]
    out = tmp_path / "cancelled"
    proc = _start(world, certs, out, "--jobs", "2")
    _when(lambda: len(top_level_pdfs(out)) >= 2, proc)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal: the whole foreground group, workers too
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "已取消 (cancelled)" in stderr and "Traceback" not in stderr
    rows = assert_manifest_is_the_folder(out)
    written = [r for r in rows if r["status"] == "written"]
    assert 0 < len(written) < len(people) and {r["status"] for r in rows} == {"written", "pending"}
    rerun = world.setup.run("certificate", "batch", "--year", str(YEAR), "--unit", str(world.unit_a.id),
                            "--out", str(out), "--json", token=world.a_admin1.token,
                            env={"HNCE_CERT_FONT_CACHE": str(certs.font_cache)}, timeout=300)
    assert json_out(rerun)["counts"] == {"existing": len(written), "written": len(people) - len(written)}
    assert_manifest_is_the_folder(out)


# --- no employer ------------------------------------------------------------------------------

NO_EMPLOYER = "无工作单位（临时管理单位：金水区财政局）"
# The longest county-level name in Henan's divisions: its bureau's label must still fit the line.
LONGEST = "新乡市平原城乡一体化示范区财政局"
MM = 72 / 25.4  # PDF points in a millimetre


def _in_unit_block(pdf: bytes) -> tuple[str, list[tuple[float, float, float, float]]]:
    """The characters drawn right of the label 工作单位： in its line's band (y 91–102 mm from the
    top), and their boxes (left, right, top, bottom in mm from the page's top-left corner)."""
    text = pdfium.PdfDocument(pdf)[0].get_textpage()
    chars, boxes = [], []
    for i in range(text.count_chars()):
        left, bottom, right, top = (v / MM for v in text.get_charbox(i))
        box = (left, right, 297 - top, 297 - bottom)
        char = text.get_text_range(i, 1)
        if char.strip() and box[2] >= 91 and box[3] <= 102 and left >= 60:
            chars.append(char)
            boxes.append(box)
    return "".join(chars), boxes


def _unit_line(pdf: bytes, label: str) -> tuple[float, float, float]:
    """Where the unit's value is drawn: its left and right edges in mm, and its font size in points."""
    page = pdfium.PdfDocument(pdf)[0]
    text = page.get_textpage()
    whole = text.get_text_range()
    start = whole.find(label)
    assert start >= 0, whole
    first, last = text.get_charbox(start), text.get_charbox(start + len(label) - 1)
    return first[0] / MM, last[2] / MM, pdfium.raw.FPDFText_GetFontSize(text.raw, start)


def test_no_employer_certificate_says_so_and_fits(certs: Certs, tmp_path: Path) -> None:
    world = certs.world
    setup = world.setup
    person = setup.backend().register(registration(has_employer=False, region="金水区", unit=None,
                                                   id_number=new_id_number("410105"), name="钱无单位"))
    from hnce_cli.schemas import DecisionRequest

    setup.backend(world.jinshui.token).decide(DecisionRequest(decision="approve", id_numbers=[person.id_number]))
    token = setup.login(person.id_number)
    me = Person(person.id, person.id_number, person.name, token)
    certs.give(me, public=30, professional=60)
    employed = certs.person(public=30, professional=60)

    cert = print_cert(certs, me, tmp_path / "无单位.pdf")
    assert cert["unit_name"] == NO_EMPLOYER
    (text,) = page_texts((tmp_path / "无单位.pdf").read_bytes())
    assert f"工作单位： {NO_EMPLOYER}" in text and "工作单位： 金水区财政局" not in text
    left, right, height = _unit_line((tmp_path / "无单位.pdf").read_bytes(), NO_EMPLOYER)
    assert left >= 62 and right <= 180  # the value's block: x 62, width 118 mm
    # an employer's unit is drawn as before, at the line's full size
    print_cert(certs, employed, tmp_path / "有单位.pdf")
    _, _, employed_height = _unit_line((tmp_path / "有单位.pdf").read_bytes(), world.unit_a.name)
    assert employed_height == pytest.approx(height) == 13  # the template's size for the line

    # the longest bureau's label is shrunk onto the same line, never past the frame
    setup.execute("UPDATE unit SET name = :n WHERE id = :i", n=LONGEST, i=world.temp_unit.id)
    longest = f"无工作单位（临时管理单位：{LONGEST}）"
    again = print_cert(certs, me, tmp_path / "最长.pdf")
    assert again["unit_name"] == longest and again["outcome"] == "reissued"
    (text,) = page_texts((tmp_path / "最长.pdf").read_bytes())
    assert longest in text
    left, right, shrunk = _unit_line((tmp_path / "最长.pdf").read_bytes(), longest)
    assert left >= 62 and right <= 180 and shrunk < height

    # longer than the line holds even shrunk: wrapped inside the block (x 62–180, y 92–101 mm)
    setup.execute("UPDATE unit SET name = :n WHERE id = :i", n=LONGEST * 2, i=world.temp_unit.id)
    wrapped = print_cert(certs, me, tmp_path / "折行.pdf")
    drawn, boxes = _in_unit_block((tmp_path / "折行.pdf").read_bytes())
    assert drawn == wrapped["unit_name"] == f"无工作单位（临时管理单位：{LONGEST * 2}）"
    bottoms = sorted(bottom for *_, bottom in boxes)
    assert sum(b - a > 2 for a, b in itertools.pairwise(bottoms)) == 1  # two lines
    assert all(left >= 62 and right <= 180 and top >= 92 and bottom <= 101 for left, right, top, bottom in boxes)
    setup.execute("UPDATE unit SET name = :n WHERE id = :i", n=LONGEST, i=world.temp_unit.id)
    assert print_cert(certs, me, tmp_path / "最长2.pdf")["unit_name"] == longest

    # a batch of the temporary unit prints the same words; the look-up views show them too
    out = tmp_path / "batch"
    batch = certs.run("batch", "--year", str(YEAR), "--unit", str(world.temp_unit.id), "--out", str(out), "--json",
                      token=world.jinshui.token)
    assert batch.returncode == 0, batch.stdout + batch.stderr
    (row,) = manifest(out)
    assert row["unit_name"] == longest and longest in page_texts((out / row["file"]).read_bytes())[0]
    shown = setup.run("status", person.id_number, "--json", token=world.jinshui.token)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert longest in shown.stdout
    table = setup.run("status", person.id_number, token=world.jinshui.token)
    assert table.returncode == 0 and "无工作单位" in table.stdout
    verified = certs.run("verify", again["verification_code"], "--json", token=token)
    assert json_out(verified)["unit_name"] == longest
