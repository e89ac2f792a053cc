"""Files hnce writes into a folder are safe, and one person never stops a batch: attachment
names and registrants' names that end up as file names (control characters, 600-byte names,
paths, a symbolic link planted under the exact name), and a stored name a certificate cannot
print (`张\\r覆盖`, written straight into the database) failing that person alone — through the
real `hnce` command on every storage, PDFs read back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import World, error_fields, json_out
from test_certificates import YEAR, Certs, font_cache, manifest, masked, page_texts  # noqa: F401 - font_cache: a fixture

from hnce_cli import clock
from hnce_cli.filenames import is_invisible, numbered, safe_name

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LONG = "王" * 200 + ".pdf"  # 204 characters, within the API's 255; 604 bytes, over every disk's 255


@pytest.fixture
def certs(world: World, font_cache: Path) -> Certs:  # noqa: F811 - the fixture imported above
    return Certs(world, font_cache)


def masked_in_file_names(id_number: str) -> str:
    return id_number[:6] + "x" * 8 + id_number[-4:]


def clean(name: str) -> bool:
    """A name a reviewer's disk (and Windows, and an SMB share) takes as it is."""
    return (len(name.encode("utf-8")) <= 255 and not any(is_invisible(c) for c in name)
            and not set(name) & set('<>:"/\\|?*') and not name.startswith("."))


# --- the one function -----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "safe"), [
    ("成绩单.pdf", "成绩单.pdf"),
    ("a\x00b.pdf", "a_b.pdf"),
    ("esc\x1b[31m红.pdf", "esc_[31m红.pdf"),
    ("new\nline\r.pdf", "new_line_.pdf"),
    ("../../x.pdf", "_.._x.pdf"),
    ("发票\u202efdp.exe", "发票_fdp.exe"),  # a bidi override shows what it hid
    ("零\u200b宽.pdf", "零_宽.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("..", "_"),
    ("CON.pdf", "_CON.pdf"),
    ("2026-410105********1233-王五.pdf", "2026-410105________1233-王五.pdf"),
    ("名字. ", "名字"),
])
def test_safe_name(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe and clean(safe)


def test_long_names_are_cut_to_255_bytes_keeping_the_extension() -> None:
    name = safe_name(LONG)
    assert name.endswith(".pdf") and len(name.encode()) <= 255 and name.startswith("王" * 80)
    second = numbered(name, 2)
    assert second.endswith(" (2).pdf") and len(second.encode()) <= 255
    assert safe_name("x" * 300).startswith("x") and len(safe_name("x" * 300).encode()) == 255


# --- certificates ----------------------------------------------------------------------


def test_batch_fails_only_the_person_a_certificate_cannot_print(certs: Certs, tmp_path: Path) -> None:
    """A name with CR (or ESC) stored before validation existed: that person is refused with
    the field and the fix, everyone else's PDF is written; the unit's and the province's batch alike."""
    world = certs.world
    good = [certs.person(public=30, professional=60) for _ in range(2)]
    cr, esc = certs.person(public=30, professional=60), certs.person(public=30, professional=60)
    world.setup.execute("UPDATE professional SET name = :n WHERE id = :i", n="张\r覆盖", i=cr.id)
    world.setup.execute("UPDATE professional SET name = :n WHERE id = :i", n="王\x1b[31m五", i=esc.id)

    out = tmp_path / "unit"
    proc = certs.run("batch", "--year", str(YEAR), "--unit", world.unit_a.name, "--out", str(out), "--json",
                     token=world.a_admin1.token)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    summary = json_out(proc)
    assert summary["counts"] == {"written": 2, "failed": 2}
    failed = {f["number"]: f["error"] for f in summary["failed"]}
    assert set(failed) == {f"HN{YEAR}-{cr.id:08d}", f"HN{YEAR}-{esc.id:08d}"}
    assert "姓名" in failed[f"HN{YEAR}-{cr.id:08d}"] and "U+000D" in failed[f"HN{YEAR}-{cr.id:08d}"]
    assert "U+001B" in failed[f"HN{YEAR}-{esc.id:08d}"]
    rows = {r["number"]: r for r in json.loads((out / "manifest.json").read_text("utf-8"))["entries"]}
    for person in (cr, esc):
        row = rows[f"HN{YEAR}-{person.id:08d}"]
        assert row["status"] == "failed" and "姓名" in row["error"] and "correct the record" in row["error"]
    for person in good:
        row = rows[f"HN{YEAR}-{person.id:08d}"]
        assert row["status"] == "written"
        assert row["file"] == f"金水区/{world.unit_a.name}/{YEAR}-{masked_in_file_names(person.id_number)}-" \
                              f"{person.name}.pdf"
        assert row["id_number_masked"] == masked(person.id_number)  # the data keeps the printed mask
        (text,) = page_texts((out / row["file"]).read_bytes())
        assert person.name in text
    assert len(list(out.rglob("*.pdf"))) == 2
    assert not [p for p in out.rglob("*") if "*" in p.name]
    # nothing was issued for the refused: no certificate recorded, nothing signed with the line break
    assert world.setup.count("certificate") == 2

    # the province, one merged file per unit: the refused are left out of it, the rest printed
    merged = tmp_path / "province"
    proc = certs.run("batch", "--year", str(YEAR), "--province", "--merge-per-unit", "--out", str(merged),
                     "--json", token=world.admin.token)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert json_out(proc)["counts"] == {"written": 2, "failed": 2}
    texts = page_texts((merged / "金水区" / f"{world.unit_a.name}-{YEAR}.pdf").read_bytes())
    assert [[f"HN{YEAR}-{p.id:08d}" in t for p in good] for t in texts] == [[True, False], [False, True]]

    # printing that person alone is refused the same way: exit 2, naming the field, nothing written
    one = tmp_path / "one.pdf"
    proc = certs.run(cr.id_number, "--year", str(YEAR), "-o", str(one), "--json", token=world.a_admin1.token)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert error_fields(proc) == ["person"] and "姓名" in json_out(proc)["error"]["message"]
    assert not one.exists()


def test_batch_file_names_are_safe_and_no_planted_link_is_followed(certs: Certs, tmp_path: Path) -> None:
    """A 120-character name still gets its file (cut to 255 bytes); a link planted under the exact
    name is replaced, not written through; a folder that is a planted link fails that file alone."""
    world = certs.world
    if world.setup.name != "sqlite":
        pytest.skip("writing the files is the CLI's part; the storages are covered by the test above")
    long_name = "欧阳" + "王" * 118  # 360 bytes of UTF-8
    long = certs.person(public=30, professional=60)
    world.setup.execute("UPDATE professional SET name = :n WHERE id = :i", n=long_name, i=long.id)
    planted = certs.person(public=30, professional=60)
    elsewhere = certs.person(world.unit_b, public=30, professional=60)
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("不能被覆盖")
    unit_folder = out / "金水区" / world.unit_a.name
    unit_folder.mkdir(parents=True)
    link = unit_folder / f"{YEAR}-{masked_in_file_names(planted.id_number)}-{planted.name}.pdf"
    link.symlink_to(victim)
    away = tmp_path / "away"
    away.mkdir()
    (out / "老城区").symlink_to(away, target_is_directory=True)

    proc = certs.run("batch", "--year", str(YEAR), "--province", "--out", str(out), "--json",
                     token=world.admin.token)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    summary = json_out(proc)
    assert summary["counts"] == {"written": 2, "failed": 1}
    (failure,) = summary["failed"]
    assert failure["number"] == f"HN{YEAR}-{elsewhere.id:08d}" and "符号链接" in failure["error"]
    assert list(away.iterdir()) == []  # nothing written where the planted folder link points
    assert victim.read_text() == "不能被覆盖"
    assert not link.is_symlink() and page_texts(link.read_bytes())
    rows = {r["number"]: r for r in manifest(out)}
    long_file = out / rows[f"HN{YEAR}-{long.id:08d}"]["file"]
    assert rows[f"HN{YEAR}-{long.id:08d}"]["status"] == "written" and long_file.is_file()
    assert long_file.name.endswith(".pdf") and clean(long_file.name) and long_file.name.count("王") > 50
    (text,) = page_texts(long_file.read_bytes())
    assert "欧阳" in text
    assert all(clean(p.name) for p in out.rglob("*"))


# --- attachments -----------------------------------------------------------------------


def _declaration_with_proof(world: World, tmp_path: Path) -> dict:
    me = world.approved_person()
    proof = tmp_path / "proof.pdf"
    proof.write_bytes(PDF)
    proc = world.setup.run("declare", "new", "--form", "conference", "--field", "meeting_name=全省会计年会",
                           "--field", "organizer=河南省会计学会", "--field", f"start_date={clock.today().isoformat()}",
                           "--field", "days=2", "--attach", str(proof), "--json", token=me.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json_out(proc)
    assert world.setup.run("declare", "submit", str(out["id"]), token=me.token).returncode == 0
    return out


def _attach_raw(world: World, declaration: dict, names: list[str]) -> None:
    """Attachment rows as an old version (or a direct write) left them: names never checked."""
    sha = declaration["attachments"][0]["sha256"]
    for name in names:
        world.setup.execute("INSERT INTO attachment (declaration_id, sha256, filename, media_type, size) "
                            "VALUES (:d, :s, :f, 'application/pdf', :n)",
                            d=declaration["id"], s=sha, f=name, n=len(PDF))


def test_exported_attachment_names_are_safe_and_every_file_is_written(world: World, tmp_path: Path) -> None:
    declaration = _declaration_with_proof(world, tmp_path)
    names = [LONG, "esc\x1b[31m.pdf", "new\nline.pdf", "../../x.pdf", "发票\u202efdp.pdf"]
    if world.setup.name == "sqlite":  # PostgreSQL text cannot hold NUL at all
        names.append("nul\x00.pdf")
    _attach_raw(world, declaration, names)
    folder = tmp_path / "export"
    mine = folder / str(declaration["id"])
    mine.mkdir(parents=True)
    victim = tmp_path / "victim.pdf"
    victim.write_bytes(b"not yours")
    (mine / "proof.pdf").symlink_to(victim)  # planted under the exact name the export uses

    proc = world.setup.run("review", "--all", "--export-attachments", str(folder), "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json_out(proc)
    assert len(rows) == 1 + len(names) and all(r["error"] is None for r in rows)
    paths = [Path(r["path"]) for r in rows]
    assert len(set(paths)) == len(paths)
    for path in paths:
        assert path.parent == mine and not path.is_symlink() and path.read_bytes() == PDF
        assert clean(path.name) and path.name.endswith(".pdf")
    assert victim.read_bytes() == b"not yours" and (mine / "proof.pdf").is_symlink()
    assert not (tmp_path / "x.pdf").exists() and not (folder / "x.pdf").exists()
    assert sorted(os.listdir(mine)) == sorted(["proof.pdf", *(p.name for p in paths)])
    by_name = {r["filename"]: Path(r["path"]).name for r in rows}
    assert by_name[LONG].startswith("王" * 80) and by_name["proof.pdf"] == "proof (2).pdf"

    # run again: the same files, none written twice
    proc = world.setup.run("review", "--all", "--export-attachments", str(folder), "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["path"] for r in json_out(proc)] == [r["path"] for r in rows]

    # one declaration opened: its files saved where asked, the long name too
    opened = tmp_path / "opened"
    proc = world.setup.run("review", "--open", str(declaration["id"]), "--export-attachments", str(opened),
                           "--json", token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    saved = sorted((opened / str(declaration["id"])).iterdir())
    assert len(saved) == 1 + len(names) and all(clean(p.name) for p in saved)


def test_one_attachment_that_cannot_be_written_is_reported_and_the_others_are_written(
        world: World, tmp_path: Path) -> None:
    first, second = _declaration_with_proof(world, tmp_path), _declaration_with_proof(world, tmp_path)
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / str(first["id"])).write_text("a file where the folder goes")
    proc = world.setup.run("review", "--all", "--export-attachments", str(folder), "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    rows = {r["declaration_id"]: r for r in json_out(proc)}
    assert rows[first["id"]]["path"] is None and "不是文件夹" in rows[first["id"]]["error"]
    assert Path(rows[second["id"]]["path"]).read_bytes() == PDF and rows[second["id"]]["error"] is None
    assert (folder / str(first["id"])).read_text() == "a file where the folder goes"
    proc = world.setup.run("review", "--all", "--export-attachments", str(folder), token=world.a_admin1.token)
    assert proc.returncode == 7 and "未写入" in proc.stdout + proc.stderr
