"""`hnce db upgrade`: a fresh SQLite file is created in WAL mode with foreign keys
on; upgrading again changes nothing; the code knows its newest migration."""

from __future__ import annotations

import json
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import Setup, Templates, json_out, run_hnce, seeded
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

import hnce_cli.models  # noqa: F401  (the tables, on the metadata)
from hnce_cli.store import migrate as db


def test_upgrade_creates_a_fresh_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "hnce.db"
    url = f"sqlite:///{path}"
    proc = run_hnce("--db", url, "db", "upgrade", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json_out(proc)
    assert (info["dialect"], info["revision_before"], info["revision"]) == (
        "sqlite", None, db.HEAD_REVISION)
    assert path.exists()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        regions = conn.execute("SELECT count(*) FROM region").fetchone()[0]
        temporary = conn.execute("SELECT count(*) FROM unit WHERE kind = 'temporary'").fetchone()[0]
    assert regions > 200  # the divisions file plus 省直 / 市直
    assert temporary > 150  # one finance bureau per county-level area

    # hnce's own connections enforce foreign keys.
    engine = db.get_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(sa.exc.IntegrityError):
                conn.exec_driver_sql(
                    "INSERT INTO unit (name, uscc, region_code, kind, created_at) "
                    "VALUES ('x', NULL, 'no-such-region', 'ordinary', '2025-01-01 00:00:00')")
    finally:
        engine.dispose()
        db.get_engine.cache_clear()

    again = run_hnce("--db", url, "db", "upgrade", "--json")
    assert again.returncode == 0, again.stderr
    assert json_out(again)["revision_before"] == db.HEAD_REVISION
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM region").fetchone()[0] == regions
        assert conn.execute("SELECT count(*) FROM unit").fetchone()[0] == temporary


def test_a_new_database_file_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    """It holds ID numbers and phones: created mode 600, by the first command or by db upgrade."""
    for name, argv in (("first-use.db", ("unit", "search", "金水")), ("upgraded.db", ("db", "upgrade"))):
        path = tmp_path / name
        proc = run_hnce("--db", f"sqlite:///{path}", *argv)
        assert proc.returncode == 0, proc.stderr
        assert path.stat().st_mode & 0o777 == 0o600, oct(path.stat().st_mode)


def test_a_damaged_database_file_says_restore_it_from_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "hnce.db"
    path.write_bytes(secrets.token_bytes(8192))
    proc = run_hnce("--db", f"sqlite:///{path}", "unit", "search", "金水", "--json")
    assert proc.returncode == 8, proc.stdout + proc.stderr
    error = json_out(proc)["error"]
    assert error["code"] == "unavailable" and "备份" in error["message"] and "report" not in proc.stdout


def test_an_existing_empty_file_is_not_made_a_new_database(tmp_path: Path) -> None:
    """A wiped database must not look like a fresh one: refused, the file left as it was; only
    db upgrade creates a schema in an existing file."""
    path = tmp_path / "hnce.db"
    path.touch()
    proc = run_hnce("--db", f"sqlite:///{path}", "unit", "search", "金水", "--json")
    assert proc.returncode == 8, proc.stdout + proc.stderr
    message = json_out(proc)["error"]["message"]
    assert "空文件" in message and "备份" in message and "db upgrade" in message
    assert path.stat().st_size == 0
    assert run_hnce("--db", f"sqlite:///{path}", "db", "upgrade").returncode == 0
    assert run_hnce("--db", f"sqlite:///{path}", "unit", "search", "金水").returncode == 0


def test_a_second_upgrade_is_a_no_op(local_setup: Setup) -> None:
    """Local only: migrations run next to the database (remote: see the next test)."""
    setup = local_setup
    counts = {t: setup.count(t) for t in ("region", "unit", "account", "audit_log")}
    proc = setup.run("db", "upgrade", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json_out(proc)["revision_before"] == json_out(proc)["revision"] == db.HEAD_REVISION
    assert {t: setup.count(t) for t in counts} == counts
    assert ":hnce@" not in proc.stdout  # no password shown


@pytest.mark.postgres
def test_upgrade_and_init_through_the_api_are_refused_with_the_way_to_do_it(
        remote_setup: Setup) -> None:
    """Migrations are an operator's job on the server host, not something a desk's CLI
    can trigger over HTTP: exit 2, the message says where to run it, nothing changes."""
    setup = remote_setup
    accounts = setup.count("account")
    upgrade = setup.run("db", "upgrade", "--json")
    assert upgrade.returncode == 2, upgrade.stdout + upgrade.stderr
    error = json_out(upgrade)["error"]
    assert error["code"] == "unsupported" and "hnce --db URL db upgrade" in error["message"]
    init = setup.run("db", "init", "--login", "root", "--name", "管理员", "--password-stdin",
                     input="Passw0rd2025\n")
    assert init.returncode == 2, init.stdout + init.stderr
    assert "db init" in init.stderr and "Traceback" not in init.stderr
    assert setup.count("account") == accounts


def test_upgrade_creates_the_schema_in_an_empty_postgres_database(
        pg_admin_url: str, pg_admin_engine: Engine) -> None:
    name = f"hnce_t_{secrets.token_hex(6)}"
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        proc = run_hnce("--db", url, "db", "upgrade", "--json")
        assert proc.returncode == 0, proc.stderr
        info = json_out(proc)
        assert (info["dialect"], info["revision_before"], info["revision"]) == (
            "postgresql", None, db.HEAD_REVISION)
        assert ":***@" in info["url"] and ":hnce@" not in info["url"]  # no password shown
    finally:
        with pg_admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_head_revision_is_the_newest_migration() -> None:
    scripts = ScriptDirectory(str(db.MIGRATIONS))
    assert scripts.get_heads() == [db.HEAD_REVISION]


def test_migrations_match_the_models(local_setup: Setup) -> None:
    """A model changed without a migration would break existing databases."""
    setup = local_setup
    engine = sa.create_engine(db.normalise_url(setup.db_url))
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_migration_0009_gives_older_declarations_the_fingerprint_the_service_computes(
        local_setup: Setup, templates: Templates, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A database at revision 0008 holding declarations — some made twice by a re-run import, more
    than one migration batch of them — upgraded: every declaration's fingerprint is what
    services.declarations computes (so a re-run import and `declare new` find them), the old
    duplicates are left as they were, and no import key is invented for them."""
    from alembic import command
    from alembic.config import Config

    from hnce_cli.services.declarations import fingerprint

    world = seeded(local_setup, templates, request)
    setup = world.setup
    me = world.approved_person()
    meeting = ["--form", "conference", "--field", "meeting_name=全省会计年会", "--field", "organizer=河南省会计学会",
               "--field", "start_date=2026-03-01", "--field", "days=2", "--year", "2026", "--submit", "--json"]
    first = json_out(setup.run("declare", "new", *meeting, token=me.token))["id"]
    setup.run("declare", "new", *meeting, "--allow-duplicate", token=me.token)
    sheet = tmp_path / "单位.csv"
    sheet.write_text("身份证号,学习形式,计入年度,meeting_name,organizer,start_date,days\n"
                     f"{me.id_number},学术会议,2026,财务论坛,学会,2026-03-02,1\n", encoding="utf-8")
    assert setup.run("declare", "import", str(sheet), token=world.a_admin1.token).returncode == 0

    engine = db.get_engine(setup.db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
    finally:
        engine.dispose()
        db.get_engine.cache_clear()
    setup.close()
    assert "fingerprint" not in {c["name"] for c in sa.inspect(setup.engine).get_columns("declaration")}
    # What an older hnce left: the unit's file imported twice (before import keys), and a
    # province's worth more, answers written with their keys in any order.
    older = 20_050
    setup.execute("INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, "
                  "status, created_at, updated_at, submitted_at) SELECT professional_id, unit_id, form_code, "
                  "subject, year, credits, fields, status, created_at, updated_at, submitted_at FROM declaration "
                  "WHERE fields LIKE '%财务论坛%'")
    setup.execute("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :n) "
                  "INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, "
                  "status, created_at, updated_at, submitted_at) SELECT :p, :u, 'conference', 'public', 2026, 10, "
                  "'{\"organizer\": \"学会\", \"meeting_name\": \"讲座' || CAST(n AS VARCHAR(10)) || "
                  "'\", \"days\": 1, \"start_date\": \"2026-04-01\"}', 'pending_hr', :t, :t, :t FROM g",
                  n=older, p=me.id, u=world.unit_a.id, t="2026-04-02 08:00:00")
    total = setup.count("declaration")
    assert total == older + 4

    proc = setup.run("db", "upgrade", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (json_out(proc)["revision_before"], json_out(proc)["revision"]) == ("0008", db.HEAD_REVISION)
    rows = setup.rows("SELECT p.id_number, d.form_code, d.year, d.fields, d.fingerprint, d.import_key "
                      "FROM declaration d JOIN professional p ON p.id = d.professional_id")
    assert len(rows) == total
    assert [r.fingerprint for r in rows] == [
        fingerprint(r.id_number, r.form_code, r.year, json.loads(r.fields)) for r in rows]
    assert {r.import_key for r in rows} == {None}
    assert setup.count("declaration", "fields LIKE '%财务论坛%'") == 2  # left as they were

    # What the fingerprints are for: the same file again creates nothing, the same meeting by
    # hand is refused naming the earliest.
    again = json_out(setup.run("declare", "import", str(sheet), "--json", token=world.a_admin1.token))
    assert (again["created"], again["already_imported"]) == (0, 1)
    proc = setup.run("declare", "new", *meeting, token=me.token)
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert json_out(proc)["error"]["details"]["id"] == first
    assert setup.count("declaration") == total
