"""The HTTP API against strangers' input, on SQLite and on PostgreSQL: a short run of the
schema fuzzer (bench/fuzz_api.py does 10,000 cases on demand) answers no request with a
server error, and every route refuses a control character in any of its values with 422
naming the field — the boundary (server/boundary.py), one place for every route."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import Setup
from test_server_api import PASSWORD, ROUTES, ApiWorld, build_api, sample_request

ROOT = Path(__file__).resolve().parents[1]


def bench_fuzz() -> Any:
    """bench/fuzz_api.py as a module: the test runs the very fuzzer the bench runs, only shorter."""
    spec = importlib.util.spec_from_file_location("fuzz_api", ROOT / "bench" / "fuzz_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_api", module)
    spec.loader.exec_module(module)
    return module


def test_a_short_fuzz_of_every_operation_finds_no_server_error(local_setup: Setup, monkeypatch) -> None:
    """Every operation, as four roles, with schema-valid and schema-breaking input: no 5xx, and
    every answer is one the schema documents (status, content type, body)."""
    pytest.importorskip("schemathesis")
    monkeypatch.setenv("HNCE_DATABASE_URL", local_setup.db_url)
    report = bench_fuzz().fuzz(local_setup.db_url, 300, name=local_setup.name)
    assert report.cases >= 300
    assert report.server_errors == 0, report.summary()
    broken = {kind: n for kind, n in report.findings.items() if not kind.startswith(ACCEPTED_FINDINGS)}
    assert not broken, report.summary()


# What the fuzzer's checks may still report: input the schema allows that the platform's
# rules refuse (a string with a control character, an ID number with a wrong check digit:
# 422), and input the schema refuses that is harmless to take (a missing optional header).
ACCEPTED_FINDINGS = ("RejectedPositiveData", "AcceptedNegativeData")


@pytest.fixture
def api_world(local_setup: Setup, monkeypatch) -> ApiWorld:
    monkeypatch.setenv("HNCE_DATABASE_URL", local_setup.db_url)
    return build_api(local_setup.db_url)


PUBLIC_SAMPLES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/auth/login"): {"json": {"login": "admin", "password": PASSWORD}},
    ("POST", "/api/v1/registrations"): {"json": {"id_number": "410105199001011233", "password": PASSWORD,
                                                 "mobile": "13800138000", "email": "p@example.cn",
                                                 "name": "李四", "unit": "甲单位"}},
    ("GET", "/api/v1/units/search"): {"params": {"q": "甲单位"}},
    ("GET", "/api/v1/units/{unit}"): {"path_params": {"unit": "甲单位"}},
    ("GET", "/api/v1/regions"): {"params": {"parent": "410100"}},
    ("GET", "/api/v1/verify/{code}"): {"path_params": {"code": "HN2025-00000001"}},
    ("GET", "/verify/{code}"): {"path_params": {"code": "HN2025-00000001"}},
    ("GET", "/api/v1/health"): {},
}


def _poison(value: Any, where: str) -> tuple[Any, str] | None:
    """`value` with a NUL put into its first text, and that text's place (a.b.0), or None."""
    if isinstance(value, str):
        return value[:1] + "\x00" + value[1:], where
    if isinstance(value, dict):
        for key, item in value.items():
            found = _poison(item, f"{where}.{key}" if where else str(key))
            if found is not None:
                return {**value, key: found[0]}, found[1]
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _poison(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return [*value[:index], found[0], *value[index + 1:]], found[1]
    return None


def poisoned(request: dict) -> tuple[dict, str] | None:
    """The request with a NUL in its first text value — a query or path parameter, else the
    body — and the name the answer must give that field."""
    for part in ("params", "path_params", "json"):
        if part in request:
            found = _poison(request[part], "")
            if found is not None:
                return {**request, part: found[0]}, found[1]
    return None


def test_every_route_refuses_a_control_character_naming_the_field(api_world: ApiWorld) -> None:
    from hnce_cli.operations import OPERATIONS
    from hnce_cli.server.app import field_names

    words = {(op.method, op.route): field_names(op) for op in OPERATIONS.values()}
    headers = api_world.headers("admin")
    checked, without_text = [], []
    for method, path in ROUTES:
        if path.startswith("/verify") and (method, path) not in PUBLIC_SAMPLES:
            continue  # the verify form and its 404 page take no value
        request = PUBLIC_SAMPLES[(method, path)] if (method, path) in PUBLIC_SAMPLES \
            else sample_request(api_world, method, path)
        if (method, path) == ("PATCH", "/api/v1/declarations/{declaration_id}"):  # its sample changes a number
            request = {**request, "json": {"fields": {"meeting_name": "年会（三）"}}}
        if (method, path) == ("POST", "/api/v1/declarations/attachments/export"):  # its sample names ids
            request = {**request, "json": {"person": api_world.person_a}}
        found = poisoned(request)
        if found is None:
            without_text.append(f"{method} {path}")
            continue
        bad, field = found
        url = path.format(**{k: quote(str(v), safe="") for k, v in bad.get("path_params", {}).items()})
        answer = api_world.client.request(method, url, params=bad.get("params"), json=bad.get("json"),
                                          headers=headers)
        assert answer.status_code == 422, (method, path, answer.status_code, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "validation", (method, path, error)
        named = [p["field"] for p in error["problems"]]
        field = words.get((method, path), {}).get(field, field)  # a parameter: as its service names it
        assert field in named, (method, path, field, error)
        problem = next(p for p in error["problems"] if p["field"] == field)
        # a choice (approve / reject) is refused as not one of them, any other text for its NUL
        assert "U+0000" in problem["message"] and problem["fix"] or "Input should be" in problem["message"], \
            (method, path, problem)
        checked.append(f"{method} {path}")
    # routes whose every value is a number or a choice: nothing to check (inbox, health, …)
    assert len(checked) >= 28 and len(checked) + len(without_text) >= 45, (checked, without_text)
    assert not [route for route in without_text if route.startswith(("POST", "PUT", "PATCH"))
                and not route.endswith(("submit", "withdraw", "logout", "stream"))], without_text


def test_a_control_character_deep_in_a_long_body_is_named_by_its_row(api_world: ApiWorld) -> None:
    """The rows of an import are checked in one pass; the one bad cell is still named."""
    rows = [{"身份证号": api_world.person_a, "年度": 2025, "科目类型": "专业科目", "学时": 1, "记录编号": f"N-{i}"}
            for i in range(1000)]
    rows[700]["记录编号"] = "N-\x1b[2J"
    answer = api_world.client.post("/api/v1/sync/import", json={"rows": rows}, headers=api_world.headers("admin"))
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["error"]["problems"]] == ["rows.700.记录编号"]
    assert "U+001B" in answer.json()["error"]["problems"][0]["message"]


def test_a_streamed_import_refuses_a_control_character_naming_its_row(api_world: ApiWorld) -> None:
    """The streamed import's body is lines of JSON, not a schema FastAPI reads: its cells are
    held to the import's own checks, each refused row named in its report (docs/sync.md)."""
    lines = ['{"columns": ["身份证号", "年度", "科目类型", "学时", "记录编号"]}',
             f'["{api_world.person_a}", "2025", "专业科目", "10", "N-\\u0000"]', '{"end": 1}']
    answer = api_world.client.post("/api/v1/sync/import/stream", content="\n".join(lines).encode(),
                                   headers={**api_world.headers("admin"), "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text  # the import's report: each refused row named, none written
    result = answer.json()
    assert result["added"] == 0 and result["failed"] == 1
    assert [(p["row"], p["field"]) for p in result["problems"]] == [(2, "记录编号")]


@pytest.mark.parametrize("offset", ["9223372036854775808", "-9223372036854775809", "1e400", "NaN"])
def test_a_number_no_database_holds_is_422_naming_it(api_world: ApiWorld, offset: str) -> None:
    answer = api_world.client.get("/api/v1/declarations", params={"offset": offset},
                                  headers=api_world.headers("a-admin"))
    assert answer.status_code == 422, answer.text
    # beyond a 64-bit integer: the boundary's words; not a whole number at all: the parameter parser's
    assert [p["field"] for p in answer.json()["error"]["problems"]] in (["offset"], ["query.offset"])


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1" + "0" * 30])
def test_a_body_number_that_is_not_a_number_is_422_naming_it(api_world: ApiWorld, literal: str) -> None:
    """Python's JSON reader takes NaN and Infinity; no column holds them, nor 10^30."""
    body = ('{"year": LITERAL, "min_total": 90, "min_professional": 60, "min_public": 30, '
            '"deadline": "2027-12-31", "source": "测试通知"}').replace("LITERAL", literal)
    answer = api_world.client.put("/api/v1/rules", content=body.encode(),
                                  headers={**api_world.headers("admin"), "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "year" in [p["field"] for p in answer.json()["error"]["problems"]], answer.text


def test_a_body_that_is_not_utf8_is_422_naming_body(api_world: ApiWorld) -> None:
    answer = api_world.client.post("/api/v1/units", content=b'{"name": "\xb6\xfb"}',
                                   headers={**api_world.headers("admin"), "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "body"
    assert "UTF-8" in answer.json()["error"]["problems"][0]["message"]


def test_openapi_documents_the_guards_answers() -> None:
    """413 (too large) and 408 (body timed out) can come from any route: the contract says so."""
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text("utf-8"))
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"408", "413"} <= set(login)
