"""The HTTP API in-process: its contract, its guards on every route, and a
property-based run of the whole schema (no 500s, responses match the schema)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import set_now
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hnce_cli import clock
from hnce_cli.backend.local import LocalBackend
from hnce_cli.schemas import AccountInput, DeclarationInput, RegistrationInput, UnitInput
from hnce_cli.server.app import PUBLIC_ROUTES, create_app
from hnce_cli.services.forms import package_forms
from hnce_cli.validation import id_check_char, uscc_check_char

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Passw0rd!x"


def make_id(seq: int, area: str = "410105") -> str:
    first17 = f"{area}19900101{seq:03d}"
    return first17 + id_check_char(first17)


def make_uscc(seq: int) -> str:
    first17 = f"91410105MA44{seq:05d}"
    return first17 + uscc_check_char(first17)


@dataclass
class ApiWorld:
    client: TestClient
    url: str
    tokens: dict[str, str]
    pending_a: str  # a pending registration in unit A
    person_a: str  # an approved professional in unit A (logs in)
    draft: int = 0  # person_a's draft declaration
    pending: int = 0  # person_a's declaration awaiting unit A's review
    certificate: str = ""  # the number of person_a's 2025 certificate (passed year)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def api(tmp_path, monkeypatch) -> ApiWorld:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    monkeypatch.setenv("HNCE_DATABASE_URL", url)
    return build_api(url)


def build_api(url: str) -> ApiWorld:
    """The API's world over the database at `url` (new or migrated and empty; HNCE_DATABASE_URL names it)."""
    b = LocalBackend(url)
    b.db_upgrade()
    b.db_init("admin", "系统管理员", PASSWORD)
    b.token = b.login("admin", PASSWORD).token
    unit_a = b.add_unit(UnitInput(name="甲单位", uscc=make_uscc(1), region="410105"))
    unit_b = b.add_unit(UnitInput(name="乙单位", uscc=make_uscc(2), region="410302"))
    for login, role, units in [("a-admin", "unit_admin", [str(unit_a.id)]),
                               ("b-admin", "unit_admin", [str(unit_b.id)]),
                               ("kefu", "support", [])]:
        b.create_account(AccountInput(login=login, name=login, role=role, password=PASSWORD,
                                      units=units))
    people = [make_id(i) for i in range(1, 4)]
    for number in people:
        b.register(RegistrationInput(id_number=number, password=PASSWORD, mobile="13800138000",
                                     email="p@example.cn", name="张三", unit=str(unit_a.id)))
    tokens = {who: b.login(who, PASSWORD).token for who in ("admin", "a-admin", "b-admin", "kefu")}
    b.token = tokens["a-admin"]
    from hnce_cli.schemas import DecisionRequest

    b.decide(DecisionRequest(decision="approve", id_numbers=[people[0]]))
    tokens["person"] = b.login(people[0], PASSWORD).token
    b.token = tokens["person"]
    draft = b.create_declaration(DeclarationInput(form="conference", fields=conference_fields()))
    pending = b.create_declaration(DeclarationInput(form="conference", fields={
        **conference_fields(), "meeting_name": "年会（二）"}, submit=True))
    certificate = passed_year_certificate(b, url, people[0], tokens["admin"])
    client = TestClient(create_app(), raise_server_exceptions=False)
    return ApiWorld(client, url, tokens, pending_a=people[1], person_a=people[0], draft=draft.id,
                    certificate=certificate,
                    pending=pending.id)


def passed_year_certificate(b: LocalBackend, url: str, id_number: str, admin_token: str) -> str:
    """Credits that pass 2025 for `id_number`, and its certificate issued by the system admin."""
    import sqlalchemy as sa

    from hnce_cli.schemas import CertificateRequest
    from hnce_cli.store.migrate import normalise_url

    engine = sa.create_engine(normalise_url(url))
    with engine.begin() as conn:
        pid = conn.execute(sa.text("SELECT id FROM professional WHERE id_number = :i"), {"i": id_number}).scalar()
        for subject, credits in (("public", 30), ("professional", 60)):
            conn.execute(sa.text(
                "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
                "created_at) VALUES (:p, :i, 2025, :s, :c, 'national', :r, CURRENT_TIMESTAMP)"),
                {"p": pid, "i": id_number, "s": subject, "c": credits, "r": f"api-{subject}"})
    engine.dispose()
    b.token = admin_token
    return b.issue_certificate(CertificateRequest(person=id_number, year=2025)).number


def conference_fields() -> dict:
    return {"meeting_name": "年会", "organizer": "会计学会", "start_date": clock.today().isoformat(),
            "days": 1}


def test_openapi_schema_is_checked_in() -> None:
    """docs/openapi.json is the contract; regenerate with python -m hnce_cli.server.openapi."""
    from hnce_cli.server.openapi import schema

    checked_in = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert schema() == checked_in, "API changed: run `python -m hnce_cli.server.openapi`"


ROUTES = sorted(
    (method, route.path)
    for route in create_app().routes
    if isinstance(route, APIRoute)
    for method in route.methods
)
PROTECTED = [r for r in ROUTES if r not in PUBLIC_ROUTES]


def sample_request(world: ApiWorld, method: str, path: str) -> dict:
    """A well-formed request for each protected route (what a real caller sends)."""
    samples = {
        ("POST", "/api/v1/accounts"): {"json": {"login": "new-kefu", "name": "新客服",
                                                "role": "support", "password": PASSWORD}},
        ("POST", "/api/v1/units"): {"json": {"name": "丙单位", "uscc": make_uscc(3),
                                             "region": "410105"}},
        ("POST", "/api/v1/units/import"): {"json": [{"name": "丁单位", "uscc": make_uscc(4),
                                                     "region": "410105"}]},
        ("GET", "/api/v1/registrations/pending"): {"params": {}},
        ("POST", "/api/v1/registrations/decisions"): {
            "json": {"decision": "approve", "id_numbers": [world.pending_a]}},
        ("GET", "/api/v1/inbox"): {},
        ("GET", "/api/v1/reviews/{kind}"): {"path_params": {"kind": "registration"}},
        ("POST", "/api/v1/reviews/{kind}"): {
            "path_params": {"kind": "registration"}, "json": {"decision": "approve", "id_numbers": [world.pending_a]}},
        ("GET", "/api/v1/professionals/lookup"): {"params": {"q": world.person_a}},
        ("GET", "/api/v1/auth/whoami"): {},
        ("POST", "/api/v1/auth/logout"): {},
        ("GET", "/api/v1/forms"): {},
        ("PUT", "/api/v1/forms"): {"json": [f.model_dump(exclude_none=True) for f in package_forms()]},
        ("POST", "/api/v1/declarations"): {"json": {"form": "conference", "fields": conference_fields(),
                                                    "allow_duplicate": True}},
        ("GET", "/api/v1/declarations"): {"params": {"person": world.person_a}},
        ("POST", "/api/v1/declarations/reviews"): {"json": {"decision": "approve", "ids": [world.pending]}},
        ("POST", "/api/v1/declarations/import"): {"json": {"rows": [
            {"id_number": world.person_a, "form": "conference", **conference_fields()}]}},
        ("POST", "/api/v1/declarations/attachments/export"): {"json": {"ids": [world.pending]}},
        ("GET", "/api/v1/declarations/{declaration_id}"): {"path_params": {"declaration_id": world.draft}},
        ("PATCH", "/api/v1/declarations/{declaration_id}"): {
            "path_params": {"declaration_id": world.draft}, "json": {"fields": {"days": 2}}},
        ("DELETE", "/api/v1/declarations/{declaration_id}"): {"path_params": {"declaration_id": world.draft}},
        ("POST", "/api/v1/declarations/{declaration_id}/submit"): {
            "path_params": {"declaration_id": world.draft}},
        ("POST", "/api/v1/declarations/{declaration_id}/withdraw"): {
            "path_params": {"declaration_id": world.pending}},
        ("POST", "/api/v1/certificates"): {"json": {"person": world.person_a, "year": 2025}},
        ("POST", "/api/v1/certificates/pdf"): {"json": {"person": world.person_a, "year": 2025}},
        ("POST", "/api/v1/certificates/batch"): {"json": {"year": 2025, "unit": "甲单位"}},
        ("POST", "/api/v1/certificates/{number}/revoke"): {
            "path_params": {"number": world.certificate}, "json": {"reason": "学分记录有误"}},
        ("GET", "/api/v1/rules"): {"params": {"year": 2025}},
        ("PUT", "/api/v1/rules"): {"json": {"year": 2027, "min_total": 90, "min_professional": 60, "min_public": 30,
                                            "deadline": "2027-12-31", "source": "测试通知"}},
        ("GET", "/api/v1/completion/person"): {"params": {"person": world.person_a}},
        ("GET", "/api/v1/completion"): {"params": {"year": 2025, "unit": "甲单位"}},
        ("GET", "/api/v1/completion/summary"): {"params": {"year": 2025, "unit": "甲单位", "by": "unit"}},
        ("POST", "/api/v1/sync/import"): {"json": {"rows": [
            {"身份证号": world.person_a, "年度": 2025, "科目类型": "专业科目", "学时": 10, "记录编号": "N-1"}]}},
        ("POST", "/api/v1/sync/import/stream"): {"content": "\n".join([
            '{"columns": ["身份证号", "年度", "科目类型", "学时", "记录编号"]}',
            f'["{world.person_a}", "2025", "专业科目", "10", "N-2"]', '{"end": 1}']).encode()},
        ("GET", "/api/v1/sync/export"): {"params": {"year": 2025}},
        ("GET", "/api/v1/checks/text"): {"params": {"limit": 10}},
        ("GET", "/api/v1/accounts/locks"): {"params": {"limit": 10}},
        ("POST", "/api/v1/accounts/locks/unlock"): {"json": {"login": "kefu"}},
    }
    return samples[(method, path)]


# Who may NOT use each protected route, and the status they get. Self-only routes
# (whoami, logout) have no foreign scope: any valid session is its own scope.
FOREIGN = {
    ("POST", "/api/v1/accounts"): ("a-admin", 403),
    ("POST", "/api/v1/units"): ("a-admin", 403),
    ("POST", "/api/v1/units/import"): ("kefu", 403),
    ("GET", "/api/v1/registrations/pending"): ("kefu", 403),
    ("POST", "/api/v1/registrations/decisions"): ("person", 403),
    ("GET", "/api/v1/inbox"): ("kefu", 403),
    ("GET", "/api/v1/reviews/{kind}"): ("kefu", 403),
    ("POST", "/api/v1/reviews/{kind}"): ("person", 403),
    ("GET", "/api/v1/professionals/lookup"): ("b-admin", 404),
    ("PUT", "/api/v1/forms"): ("a-admin", 403),
    ("POST", "/api/v1/declarations"): ("a-admin", 403),
    ("GET", "/api/v1/declarations"): ("b-admin", 404),
    ("POST", "/api/v1/declarations/reviews"): ("person", 403),
    ("POST", "/api/v1/declarations/import"): ("person", 403),
    ("POST", "/api/v1/declarations/attachments/export"): ("b-admin", 404),
    ("GET", "/api/v1/declarations/{declaration_id}"): ("b-admin", 404),
    ("PATCH", "/api/v1/declarations/{declaration_id}"): ("b-admin", 403),
    ("DELETE", "/api/v1/declarations/{declaration_id}"): ("b-admin", 403),
    ("POST", "/api/v1/declarations/{declaration_id}/submit"): ("b-admin", 403),
    ("POST", "/api/v1/declarations/{declaration_id}/withdraw"): ("b-admin", 403),
    ("POST", "/api/v1/certificates"): ("b-admin", 404),
    ("POST", "/api/v1/certificates/pdf"): ("b-admin", 404),
    ("POST", "/api/v1/certificates/batch"): ("b-admin", 403),
    ("POST", "/api/v1/certificates/{number}/revoke"): ("a-admin", 403),
    ("PUT", "/api/v1/rules"): ("a-admin", 403),
    ("GET", "/api/v1/completion/person"): ("b-admin", 404),
    ("GET", "/api/v1/completion"): ("b-admin", 403),
    ("GET", "/api/v1/completion/summary"): ("b-admin", 403),
    ("POST", "/api/v1/sync/import"): ("kefu", 403),
    ("POST", "/api/v1/sync/import/stream"): ("kefu", 403),
    ("GET", "/api/v1/sync/export"): ("a-admin", 403),
    ("GET", "/api/v1/checks/text"): ("a-admin", 403),
    ("GET", "/api/v1/accounts/locks"): ("kefu", 403),
    ("POST", "/api/v1/accounts/locks/unlock"): ("a-admin", 403),
}
# GET /forms: every logged-in user reads the same learning forms (no scope to cross).
# GET /rules: likewise every logged-in user reads the same year rules.
SELF_ONLY = {("GET", "/api/v1/auth/whoami"), ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/forms"),
             ("GET", "/api/v1/rules")}
OWNER = {
    ("POST", "/api/v1/accounts"): "admin",
    ("POST", "/api/v1/units"): "admin",
    ("POST", "/api/v1/units/import"): "admin",
    ("GET", "/api/v1/registrations/pending"): "a-admin",
    ("POST", "/api/v1/registrations/decisions"): "a-admin",
    ("GET", "/api/v1/inbox"): "a-admin",
    ("GET", "/api/v1/reviews/{kind}"): "a-admin",
    ("POST", "/api/v1/reviews/{kind}"): "a-admin",
    ("GET", "/api/v1/professionals/lookup"): "kefu",
    ("GET", "/api/v1/auth/whoami"): "kefu",
    ("POST", "/api/v1/auth/logout"): "kefu",
    ("GET", "/api/v1/forms"): "person",
    ("PUT", "/api/v1/forms"): "admin",
    ("POST", "/api/v1/declarations"): "person",
    ("GET", "/api/v1/declarations"): "a-admin",
    ("POST", "/api/v1/declarations/reviews"): "a-admin",
    ("POST", "/api/v1/declarations/import"): "a-admin",
    ("POST", "/api/v1/declarations/attachments/export"): "a-admin",
    ("GET", "/api/v1/declarations/{declaration_id}"): "person",
    ("PATCH", "/api/v1/declarations/{declaration_id}"): "person",
    ("DELETE", "/api/v1/declarations/{declaration_id}"): "person",
    ("POST", "/api/v1/declarations/{declaration_id}/submit"): "person",
    ("POST", "/api/v1/declarations/{declaration_id}/withdraw"): "person",
    ("POST", "/api/v1/certificates"): "person",
    ("POST", "/api/v1/certificates/pdf"): "person",
    ("POST", "/api/v1/certificates/batch"): "a-admin",
    ("POST", "/api/v1/certificates/{number}/revoke"): "admin",
    ("GET", "/api/v1/rules"): "person",
    ("PUT", "/api/v1/rules"): "admin",
    ("GET", "/api/v1/completion/person"): "a-admin",
    ("GET", "/api/v1/completion"): "a-admin",
    ("GET", "/api/v1/completion/summary"): "a-admin",
    ("POST", "/api/v1/sync/import"): "admin",
    ("POST", "/api/v1/sync/import/stream"): "admin",
    ("GET", "/api/v1/sync/export"): "admin",
    ("GET", "/api/v1/checks/text"): "admin",
    ("GET", "/api/v1/accounts/locks"): "admin",
    ("POST", "/api/v1/accounts/locks/unlock"): "admin",
}


def test_every_protected_route_has_a_scope_case() -> None:
    """A new endpoint cannot be forgotten: it is public by decision or guarded here."""
    assert set(PROTECTED) == set(FOREIGN) | SELF_ONLY
    assert set(PROTECTED) == set(OWNER)


def call(world: ApiWorld, method: str, path: str, headers: dict[str, str]):
    sample = sample_request(world, method, path)
    return world.client.request(method, path.format(**sample.pop("path_params", {})), headers=headers,
                                **sample)


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
def test_route_refuses_missing_bad_expired_and_revoked_tokens(api, method, path) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = call(api, method, path, headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "auth_required"
    owner = OWNER[(method, path)]
    set_now(clock.now() + timedelta(hours=13))
    try:
        expired = call(api, method, path, api.headers(owner))
    finally:
        set_now(None)
    assert expired.status_code == 401 and "过期" in expired.json()["error"]["message"]
    ok = call(api, method, path, api.headers(owner))
    assert ok.status_code in (200, 201), ok.text
    api.client.post("/api/v1/auth/logout", headers=api.headers(owner))
    revoked = call(api, method, path, api.headers(owner))
    assert revoked.status_code == 401


@pytest.mark.parametrize(("method", "path"), sorted(FOREIGN), ids=[f"{m} {p}" for m, p in sorted(FOREIGN)])
def test_route_refuses_a_foreign_scope(api, method, path) -> None:
    who, status = FOREIGN[(method, path)]
    response = call(api, method, path, api.headers(who))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] in ("permission_denied", "not_found")


def test_support_sees_masked_data_over_http(api) -> None:
    response = api.client.get("/api/v1/professionals/lookup", params={"q": api.person_a},
                              headers=api.headers("kefu"))
    person = response.json()["matches"][0]
    assert person["id_number"] == api.person_a[:6] + "********" + api.person_a[-4:]
    assert person["mobile"] == "138****8000" and person["masked"] is True


def test_login_errors_are_json_with_stable_codes(api) -> None:
    bad = api.client.post("/api/v1/auth/login", json={"login": "nobody", "password": "x"})
    assert bad.status_code == 401
    assert bad.json()["error"] == {"code": "login_failed", "message": "账户或密码错误", "details": {}}
    pending = api.client.post("/api/v1/auth/login", json={"login": api.pending_a,
                                                          "password": PASSWORD})
    assert "还未被审核" in pending.json()["error"]["message"]


# --- property-based: every operation, generated from the schema ----------------
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, methods in json.loads((ROOT / "docs" / "openapi.json").read_text("utf-8"))["paths"].items()
    for method in methods
)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_never_500_and_matches_schema(api, label) -> None:
    """Hypothesis drives each operation with schema-generated input (as the admin):
    no 500 response, and every response matches the documented schema."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    # A streamed import's body (lines of JSON) is sent as the bytes Hypothesis makes for it.
    schemathesis.serializer.alias("application/x-ndjson", "application/octet-stream")
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)

    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.headers = {**(case.headers or {}), **api.headers("admin")}
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance,
                                       status_code_conformance, content_type_conformance])

    run()


def test_the_operations_table_covers_the_backend_protocol() -> None:
    """Every Backend method travels as a row of the operations table, runs only next to the
    database, or is written out by the remote client; both backends have every method."""
    import importlib
    import inspect

    from hnce_cli.backend import Backend
    from hnce_cli.backend.remote import RemoteBackend
    from hnce_cli.operations import COMPOSED, LOCAL_ONLY, OPERATIONS

    methods = {name for name, value in vars(Backend).items() if inspect.isfunction(value) and not name.startswith("_")}
    assert methods == set(OPERATIONS) | set(LOCAL_ONLY) | set(COMPOSED)
    for name in methods:
        assert callable(getattr(LocalBackend, name, None)), name
        assert callable(getattr(RemoteBackend, name, None)), name
        if name in OPERATIONS and not OPERATIONS[name].service:
            assert name in vars(LocalBackend), f"{name}: no service in its row, so LocalBackend writes it out"
        elif name in OPERATIONS:
            op = OPERATIONS[name]
            protocol = [p for p in inspect.signature(getattr(Backend, name)).parameters if p != "self"]
            assert {p.arg.split(".")[0] for p in op.params} <= set(protocol), name
            # the service LocalBackend runs takes the method's arguments, in order, after db (and actor)
            module, function = op.service.split(":")
            service = getattr(importlib.import_module(f"hnce_cli.services.{module}"), function)
            taken = list(inspect.signature(service).parameters)
            assert len(taken) >= 2 + len(protocol) - op.public, name
            assert taken[2 - op.public:2 - op.public + len(protocol)] == protocol, (name, taken, protocol)
