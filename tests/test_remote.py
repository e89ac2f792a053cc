"""Remote mode as a desk uses it: a profile pointing at `hnce serve`, a login kept in
that profile, commands through HTTP; which of --db, HNCE_API_URL, HNCE_DATABASE_URL
and the profile wins; and errors that only exist between a CLI and a server."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, Setup, World, free_port, invoke, json_out

from hnce_cli.errors import ERRORS_BY_CODE, ExitCode, SchemaOutdated
from hnce_cli.services.security import token_digest
from hnce_cli.store import migrate as db


def hnce(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return invoke(list(args), env, input)


def desk_env(setup: Setup, **extra: str) -> dict[str, str]:
    """A desk's environment: no HNCE_* pointing anywhere, only the profiles file."""
    env = {k: v for k, v in setup.env.items() if k not in ("HNCE_API_URL", "HNCE_DATABASE_URL")}
    env.update(extra)
    return env


def stored_profiles(setup: Setup) -> dict:
    return json.loads((Path(setup.env["HNCE_CONFIG_DIR"]) / "profiles.json").read_text("utf-8"))


@pytest.mark.postgres
def test_serve_profile_login_approve_and_status_end_to_end(remote_world: World) -> None:
    setup = remote_world.setup
    assert setup.server is not None
    env = desk_env(setup)
    person = remote_world.people_a[0]

    added = hnce(env, "profile", "add", "remote", "--api", setup.server.url + "/", "--json")
    assert added.returncode == 0, added.stderr
    assert {p["name"]: p["api"] for p in json_out(added)["profiles"]}["remote"] == setup.server.url

    login = hnce(env, "--profile", "remote", "login", "a-admin1", "--password-stdin", "--json",
                 input=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert json_out(login)["login"] == "a-admin1"
    profiles = stored_profiles(setup)["profiles"]
    assert profiles["remote"]["login"] == "a-admin1" and profiles["remote"]["token"]
    assert profiles["default"]["token"] is None  # the session belongs to that profile only
    assert PASSWORD not in json.dumps(profiles)

    approve = hnce(env, "--profile", "remote", "approve", person.id_number, "--yes", "--json")
    assert approve.returncode == 0, approve.stdout + approve.stderr
    assert [i["outcome"] for i in json_out(approve)["items"]] == ["approved"]
    assert [tuple(r) for r in setup.rows(
        "SELECT status, decided_by FROM professional WHERE id_number = :n", n=person.id_number)] == [
        ("approved", remote_world.a_admin1.account_id)]

    status = hnce(env, "--profile", "remote", "status", person.id_number, "--json")
    assert status.returncode == 0, status.stderr
    [match] = json_out(status)["matches"]
    assert (match["id_number"], match["status"], match["status_label"]) == (
        person.id_number, "approved", "审核通过")
    table = hnce(env, "--profile", "remote", "status", person.id_number)
    assert table.returncode == 0 and "审核通过" in table.stdout

    # The same command on the default profile (a local SQLite file) has no session.
    local = hnce(env, "status", person.id_number)
    assert local.returncode == 6, local.stdout + local.stderr
    assert "hnce login" in local.stderr


@pytest.mark.postgres
def test_logout_with_an_expired_remote_session_still_forgets_it(remote_world: World) -> None:
    """The server refuses the expired token (401), so there is nothing to revoke; the
    stale token must leave the profile anyway, and the user is told why."""
    setup = remote_world.setup
    assert setup.server is not None
    env = desk_env(setup)
    assert hnce(env, "profile", "add", "remote", "--api", setup.server.url, "--use").returncode == 0
    assert hnce(env, "login", "kefu", "--password-stdin", input=PASSWORD + "\n").returncode == 0
    token = stored_profiles(setup)["profiles"]["remote"]["token"]
    later = (datetime.now() + timedelta(days=2)).isoformat()
    setup.server_env({"HNCE_NOW": later})  # two days on: the 12-hour session has expired
    out = hnce(env, "logout")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "已过期" in out.stderr and "Traceback" not in out.stderr
    assert stored_profiles(setup)["profiles"]["remote"]["token"] is None
    setup.server_env({})
    again = hnce(env, "logout", "--json")  # nothing stored: a plain logout
    assert again.returncode == 0 and json_out(again) == {"logged_out": True, "session_expired": False}
    # Nothing was revoked: the session had simply expired.
    assert setup.scalar("SELECT revoked_at FROM auth_session WHERE token_hash = :h",
                        h=token_digest(token)) is None


def test_which_backend_wins(sqlite_world: World) -> None:
    """--db, then HNCE_API_URL, then HNCE_DATABASE_URL, then the profile: a variable set
    for one script beats the current profile, and --db beats everything."""
    setup = sqlite_world.setup
    dead_api = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = desk_env(setup)
    assert hnce(env, "profile", "add", "remote", "--api", dead_api, "--use").returncode == 0

    profile_only = hnce(env, "unit", "search", "财政")
    assert profile_only.returncode == 8, profile_only.stdout + profile_only.stderr
    assert dead_api in profile_only.stderr

    database = desk_env(setup, HNCE_DATABASE_URL=setup.db_url)
    assert hnce(database, "unit", "search", "财政").returncode == 0  # HNCE_DATABASE_URL > profile

    both = {**database, "HNCE_API_URL": dead_api}
    assert hnce(both, "unit", "search", "财政").returncode == 8  # HNCE_API_URL > HNCE_DATABASE_URL

    flag = hnce(both, "--db", setup.db_url, "unit", "search", "财政", "--json")
    assert flag.returncode == 0, flag.stderr  # --db > everything
    assert json_out(flag)["units"]


def test_schema_outdated_has_a_stable_code_and_exit_8() -> None:
    assert ERRORS_BY_CODE["schema_outdated"] is SchemaOutdated
    assert SchemaOutdated.exit_code == ExitCode.UNAVAILABLE == 8 and SchemaOutdated.http_status == 503
    assert db.SchemaOutdated is SchemaOutdated  # the old import path still works


@pytest.mark.postgres
def test_an_outdated_schema_reaches_the_remote_cli_as_the_same_error(
        postgres_setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server refuses to run on a database older than itself, and a request that
    meets one is answered 503 `schema_outdated`, which the client raises again as
    SchemaOutdated (exit 8, "run hnce db upgrade")."""
    from fastapi.testclient import TestClient

    from hnce_cli.backend.remote import RemoteBackend
    from hnce_cli.server.app import create_app

    setup = postgres_setup
    setup.execute("UPDATE alembic_version SET version_num = '0002'")
    serve = hnce({**setup.env}, "serve", "--port", str(free_port()))
    assert serve.returncode == 8, serve.stdout + serve.stderr
    assert "hnce db upgrade" in serve.stderr and "Traceback" not in serve.stderr

    monkeypatch.setenv("HNCE_DATABASE_URL", setup.db_url)
    setup.close()  # no schema check remembered from this process
    client = TestClient(create_app(), base_url="http://hnce.test")
    raw = client.get("/api/v1/units/search", params={"q": "财政"})
    assert raw.status_code == 503 and raw.json()["error"]["code"] == "schema_outdated"
    remote = RemoteBackend("http://hnce.test")
    remote._client = client  # the real client code over the in-process app
    with pytest.raises(SchemaOutdated) as exc:
        remote.search_units("财政")
    assert "hnce db upgrade" in exc.value.message


def test_an_unreachable_server_is_exit_8_with_the_address(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
    env.update(HNCE_CONFIG_DIR=str(tmp_path / "c"), HNCE_DATA_DIR=str(tmp_path / "d"),
               HNCE_API_URL=url, HNCE_TOKEN="x")
    proc = hnce(env, "status", "410105199001011234", "--json")
    assert proc.returncode == 8, proc.stdout + proc.stderr
    error = json_out(proc)["error"]
    assert error["code"] == "unavailable" and url in error["message"]


def test_a_database_from_a_newer_hnce_is_refused_not_upgraded(sqlite_setup: Setup) -> None:
    """An older hnce (an old worker restarted during a roll-out, a desk not yet updated)
    must neither touch a newer schema nor advise an upgrade that cannot help."""
    setup = sqlite_setup
    setup.execute("UPDATE alembic_version SET version_num = '9999'")
    setup.close()
    proc = setup.run("unit", "search", "财政", "--json")
    assert proc.returncode == 8, proc.stdout + proc.stderr
    error = json_out(proc)["error"]
    assert error["code"] == "schema_outdated" and "newer than this hnce" in error["message"]
    assert setup.scalar("SELECT version_num FROM alembic_version") == "9999"
