"""The error contract, whatever is typed or sent: an expected error is its message and its
documented exit code (JSON on stdout with --json), an HTTP error is
{"error": {"code", "message", "details"}} with its status — never a traceback, a 500, a
number read from digits that are not 0–9, or a password (docs/exit-codes.md, docs/remote.md).

Each row runs on SQLite, PostgreSQL and through a real `hnce serve` where it applies; a
bug is forced in process (a backend method that raises) to see how it is reported."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from conftest import (
    PASSWORD,
    Setup,
    World,
    error_fields,
    free_port,
    json_out,
    new_id_number,
    new_mobile,
    run_hnce,
)
from fastapi.testclient import TestClient

from hnce_cli import clock
from hnce_cli.backend.local import LocalBackend
from hnce_cli.backend.remote import RemoteBackend
from hnce_cli.errors import ValidationFailed
from hnce_cli.schemas import DeclarationInput
from hnce_cli.server.app import create_app

BIG = "99999999999999999999"  # no database integer holds it
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SECRET = "s3cretPW"
TRUNCATED = "HN2025-00000048-H80Q-NN5J-F8MC-D6R"  # the last group lost a character in copying


def clean(proc: subprocess.CompletedProcess[str], *secrets: str) -> None:
    """Said as hnce says things: no traceback, no password."""
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    for secret in secrets:
        assert secret not in out, out


def error_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json_out(proc)["error"]


@contextmanager
def http(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """The API of this setup: the running `hnce serve` (remote), else the app in process on
    the setup's database, answering a bug as the server does (no exception raised here)."""
    if setup.server is not None:
        with httpx.Client(base_url=setup.server.url) as client:
            yield client
        return
    monkeypatch.setenv("HNCE_DATABASE_URL", setup.db_url)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def error_body(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape, with this status and code; no traceback in it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "details"} <= set(error), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert "Traceback" not in response.text
    return error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- numbers: ASCII digits only, and no number a database cannot hold --------------------------


def test_digits_other_than_ascii_are_bad_input_naming_the_field(world: World,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    setup = world.setup
    proc = setup.run("unit", "show", "²", "--json")
    assert proc.returncode == 3 and error_of(proc)["code"] == "not_found", proc.stdout + proc.stderr
    clean(proc)
    # An ID number typed in full width (an input method's ４１０…) is not looked up as a number.
    typed = world.people_a[0].id_number.translate(FULL_WIDTH)
    proc = setup.run("status", typed, "--json", token=world.kefu.token)
    assert proc.returncode == 2 and error_fields(proc) == ["query"], proc.stdout + proc.stderr
    assert "半角" in error_of(proc)["problems"][0]["fix"]
    clean(proc)
    with http(setup, monkeypatch) as client:
        error_body(client.get("/api/v1/units/%C2%B2"), 404, "not_found")
        error_body(client.get("/api/v1/professionals/lookup", params={"q": typed},
                              headers=bearer(world.kefu.token)), 422, "validation")


def test_numbers_no_database_holds_are_bad_input_not_a_bug(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, token = world.setup, world.admin.token
    proc = setup.run("declare", "show", BIG, "--json", token=token)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert [f.rsplit(".", 1)[-1] for f in error_fields(proc)] == ["declaration_id"]
    clean(proc)
    proc = setup.run("sync", "export", "--year", BIG, token=token)
    assert proc.returncode == 2 and "year" in proc.stderr, proc.stdout + proc.stderr
    clean(proc)
    # A limit larger than any table is every row, in both modes.
    proc = setup.run("declare", "list", "--limit", BIG, "--json", token=token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with http(setup, monkeypatch) as client:
        error_body(client.get(f"/api/v1/declarations/{BIG}", headers=bearer(token)), 422, "validation")


def test_registering_with_a_superscript_unit_names_the_unit(world: World) -> None:
    proc = world.setup.run("register", "--unit", "³", "--id-number", new_id_number(), "--mobile", new_mobile(),
                           "--email", "a@example.cn", "--name", "王上标", "--password-stdin", "--json",
                           input=PASSWORD + "\n")
    assert proc.returncode == 2 and error_fields(proc) == ["unit"], proc.stdout + proc.stderr
    clean(proc, PASSWORD)


def test_import_cells_and_answers_are_read_in_ascii_digits(world: World) -> None:
    setup = world.setup
    me = world.approved_person()
    year = str(clock.today().year)
    # the national platform's file: a year in full width is that row's problem, by its column
    result = setup.backend(world.admin.token).import_credits([
        {"身份证号": me.id_number, "姓名": me.name, "年度": year.translate(FULL_WIDTH), "科目类型": "专业科目",
         "学时": "10", "记录编号": "FW-1"},
        {"身份证号": me.id_number, "姓名": me.name, "年度": year, "科目类型": "专业科目",
         "学时": "１０", "记录编号": "FW-2"}])
    assert result.added == 0
    assert sorted(p.field for p in result.problems) == ["学时", "年度"]
    # a unit's import: the row's year, by its column
    with pytest.raises(ValidationFailed) as refused:
        setup.backend(world.a_admin1.token).import_declarations([
            {"id_number": me.id_number, "form": "conference", "year": year.translate(FULL_WIDTH),
             "meeting_name": "年会", "organizer": "学会", "start_date": clock.today().isoformat(), "days": "2"}])
    assert [(r["row"], r["field"]) for r in refused.value.details["rows"]] == [(2, "year")]
    # a declaration's answer: a count in full width is not a count
    with pytest.raises(ValidationFailed) as refused:
        setup.backend(me.token).create_declaration(DeclarationInput(form="conference", fields={
            "meeting_name": "年会", "organizer": "学会", "start_date": clock.today().isoformat(), "days": "２"}))
    assert [p.field.rsplit(".", 1)[-1] for p in refused.value.problems] == ["days"]
    assert setup.count("declaration") == 0


# --- search text: limited before the database, no NUL on any storage ----------------------------


def test_long_searches_and_nul_bytes_are_validation_errors(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = world.setup
    for args, field in ((["unit", "search", "a" * 40_000], "query"), (["status", "王" * 40_000], "query"),
                        (["status", "王\x00伟"], "query"), (["unit", "show", "甲\x00"], "unit")):
        proc = setup.run(*args, "--json", token=world.kefu.token)
        assert proc.returncode == 2, (args[0], proc.stdout + proc.stderr)
        assert error_fields(proc) == [field], proc.stdout  # named alike locally and over HTTP
        clean(proc)
    proc = setup.run("login", "ad\x00min", "--password-stdin", "--json", input=PASSWORD + "\n")
    assert proc.returncode == 2 and error_fields(proc) == ["login"], proc.stdout + proc.stderr
    clean(proc, PASSWORD)

    kefu = bearer(world.kefu.token)
    with http(setup, monkeypatch) as client:
        for response, field in [
            (client.get("/api/v1/units/search", params={"q": "a\x00b"}), "query"),
            (client.get("/api/v1/units/search", params={"q": "a" * 1000}), "query"),
            (client.get("/api/v1/units/甲%00"), "unit"),
            (client.post("/api/v1/auth/login", json={"login": "ad\x00min", "password": PASSWORD}), "login"),
            (client.get("/api/v1/professionals/lookup", params={"q": "王\x00伟"}, headers=kefu), "query"),
            (client.get("/api/v1/professionals/lookup", params={"q": "王" * 1000}, headers=kefu), "query"),
            (client.get("/api/v1/declarations", params={"person": "王\x00伟"}, headers=kefu), "person"),
            (client.get("/api/v1/completion/person", params={"person": "王\x00伟"}, headers=kefu), "person"),
            (client.post("/api/v1/certificates", json={"person": "4101\x00", "year": 2025},
                         headers=bearer(world.admin.token)), "person"),
        ]:
            error = error_body(response, 422, "validation")
            assert [p["field"] for p in error["problems"]] == [field], error


# --- a certificate code that is not a code ------------------------------------------------------


def test_a_truncated_certificate_code_is_not_a_code(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = world.setup
    for code in (TRUNCATED, TRUNCATED.replace("-H80Q-NN5J-F8MC-", "H80QNN5JF8MC")):  # with the groups' hyphens or not
        proc = setup.run("certificate", "verify", code, "--json")
        assert proc.returncode == 2 and error_fields(proc) == ["code"], proc.stdout + proc.stderr
        problem = error_of(proc)["problems"][0]
        assert "不是有效的验证码格式" in problem["message"] and "0000004 " not in problem["message"]
        assert "printed on the certificate" in problem["fix"]
        clean(proc)
    plain = setup.run("certificate", "verify", TRUNCATED)
    assert plain.returncode == 2 and "不是有效的验证码格式" in plain.stderr and "没有编号" not in plain.stderr
    # a well-formed code of a number never issued is still `unknown`, exit 9
    unknown = setup.run("certificate", "verify", "HN2025-99999999-H80Q-NN5J-F8MC-D6RX", "--json")
    assert unknown.returncode == 9 and json_out(unknown)["status"] == "unknown"
    with http(setup, monkeypatch) as client:
        for path in (f"/verify/{TRUNCATED}", f"/api/v1/verify/{TRUNCATED}"):
            error = error_body(client.get(path), 422, "validation")
            assert [p["field"] for p in error["problems"]] == ["code"]


# --- passwords in addresses -------------------------------------------------------------------


def test_profiles_never_show_a_password() -> None:
    for args in (["profile", "add", "pg", "--db", f"postgresql://hnce:{SECRET}@db.internal:5432/hnce"],
                 ["profile", "add", "api", "--api", f"https://desk:{SECRET}@hnce.example.cn/"],
                 ["profile", "add", "libpq", "--db", f"postgresql://hnce@db.internal/hnce?password={SECRET}"]):
        proc = run_hnce(*args, "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        clean(proc, SECRET)
    for output in ([], ["--json"], ["--csv"]):
        proc = run_hnce("profile", "list", *output)
        assert proc.returncode == 0, proc.stderr
        clean(proc, SECRET)
        assert "hnce:***@db.internal" in proc.stdout and "desk:***@hnce.example.cn" in proc.stdout
        assert "password=***" in proc.stdout
    listed = {p["name"]: p for p in json_out(run_hnce("profile", "list", "--json"))["profiles"]}
    assert listed["api"]["api"] == "https://desk:***@hnce.example.cn"
    proc = run_hnce("profile", "add", "bad", "--api", f"ftp://desk:{SECRET}@hnce.example.cn", "--json")
    assert proc.returncode == 2 and error_fields(proc) == ["api"]
    clean(proc, SECRET)


@pytest.mark.parametrize("api, code", [
    (f"http://desk:{SECRET}@127.0.0.1:{{port}}", 8),  # nothing listens there
    (f"http://desk:{SECRET}@127.0.0.1:notaport", 2),
    (f"http://desk:{SECRET}@[::1", 2),
    (f"ftp://desk:{SECRET}@127.0.0.1", 2),
])
def test_an_api_address_with_a_password_is_never_echoed(api: str, code: int) -> None:
    api = api.replace("{port}", str(free_port()))
    for output in (["--json"], []):
        proc = run_hnce("unit", "search", "财政", *output, env={"HNCE_API_URL": api})
        assert proc.returncode == code, proc.stdout + proc.stderr
        clean(proc, SECRET)
        assert "desk:***@" in proc.stdout + proc.stderr
        if output:
            assert error_of(proc)["code"] == ("unavailable" if code == 8 else "validation")


def test_a_database_url_the_driver_cannot_read_is_bad_input_without_its_password() -> None:
    proc = run_hnce("--db", f"postgresql://hnce:{SECRET}@[db/hnce", "unit", "search", "财政", "--json")
    assert proc.returncode == 2 and error_fields(proc) == ["db"], proc.stdout + proc.stderr
    clean(proc, SECRET)


# --- a bug: exit 1 and the documented JSON, 500 with no traceback -------------------------------


def _bug(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError(f"could not reach postgresql://hnce:{SECRET}@db.internal/hnce")


def test_a_bug_with_json_prints_the_documented_error(local_setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalBackend, "search_units", _bug)
    proc = local_setup.run("unit", "search", "财政", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    error = error_of(proc)
    assert error["code"] == "error" and error["details"] == {"type": "RuntimeError"}
    assert "HNCE_DEBUG=1" in error["message"] and "hnce:***@db.internal" in error["message"]
    assert proc.stderr == ""  # a script reads one stream
    clean(proc, SECRET)
    plain = local_setup.run("unit", "search", "财政")
    assert plain.returncode == 1 and plain.stdout == "" and "内部错误" in plain.stderr
    clean(plain, SECRET)


def test_a_server_bug_is_a_500_in_the_error_shape_and_the_remote_cli_exits_1(
        sqlite_setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalBackend, "search_units", _bug)
    with http(sqlite_setup, monkeypatch) as client:
        response = client.get("/api/v1/units/search", params={"q": "财政"})
        error = error_body(response, 500, "error")
        assert error["details"] == {"type": "RuntimeError"}
        assert SECRET not in response.text and "db.internal" not in response.text  # the error's text stays in the log
        # the remote CLI, served by this very app
        monkeypatch.setattr(RemoteBackend, "_client", property(lambda _self: client))
        env = {"HNCE_API_URL": "http://testserver"}
        proc = run_hnce("unit", "search", "财政", "--json", env=env)
        assert proc.returncode == 1 and error_of(proc)["code"] == "error", proc.stdout + proc.stderr
        assert "服务器内部错误" in error_of(proc)["message"]
        clean(proc, SECRET)
        plain = run_hnce("unit", "search", "财政", env=env)
        assert plain.returncode == 1 and "服务器内部错误" in plain.stderr
        clean(plain, SECRET)


# --- every HTTP error in the one shape ----------------------------------------------------------


def test_every_http_error_has_the_error_shape(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with http(world.setup, monkeypatch) as client:
        error = error_body(client.get("/api/v1/no/such/route"), 404, "not_found")
        assert error["details"] == {"method": "GET", "path": "/api/v1/no/such/route"}
        error_body(client.get("/nowhere"), 404, "not_found")
        wrong = client.delete("/api/v1/health")
        error = error_body(wrong, 405, "unsupported")
        assert error["details"]["allowed"] == "GET" and wrong.headers["allow"] == "GET"
        error = error_body(client.post("/api/v1/auth/login", content=b"{not json",
                                       headers={"Content-Type": "application/json"}), 422, "validation")
        assert [p["field"] for p in error["problems"]] == ["body"] and "JSON" in error["problems"][0]["message"]
        error = error_body(client.get("/api/v1/units/search"), 422, "validation")  # q is required
        assert [p["field"] for p in error["problems"]] == ["query.q"]
        error_body(client.get("/api/v1/professionals/lookup", params={"q": "王伟"}), 401, "auth_required")
        error_body(client.get("/api/v1/professionals/lookup", params={"q": "王伟"},
                              headers=bearer("not-a-token")), 401, "auth_required")
        error_body(client.get("/api/v1/declarations", params={"limit": "-1"},
                              headers=bearer(world.admin.token)), 422, "validation")

