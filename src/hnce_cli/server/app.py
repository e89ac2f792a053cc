"""The FastAPI application.

Each endpoint parses, calls the LocalBackend (the very object the CLI uses in
local mode) with the caller's bearer token, and returns its result. No rule
lives here: scope and permission checks happen in the services, and errors are
mapped to JSON by one handler. The process keeps no state between requests, so
any number of workers can run behind a load balancer.
"""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from hnce_cli import __version__
from hnce_cli.backend.local import LocalBackend
from hnce_cli.certificates.model import CERTIFICATE_HEADER, file_name
from hnce_cli.errors import FieldProblem, HnceError, ValidationFailed
from hnce_cli.schemas import (
    AccountInput,
    AccountOut,
    AttachmentBundle,
    CertificateBatchRequest,
    CertificateOut,
    CertificatePage,
    CertificateRequest,
    CertificateRevokeRequest,
    CertificateVerification,
    CompletionPage,
    CompletionQuery,
    CompletionSummary,
    CreditExportPage,
    DbInt,
    DecisionRequest,
    DecisionResult,
    DeclarationDeleted,
    DeclarationEdit,
    DeclarationImportRequest,
    DeclarationImportResult,
    DeclarationInput,
    DeclarationList,
    DeclarationOut,
    DeclarationQuery,
    FormsOut,
    LoginResult,
    LookupResult,
    PendingList,
    PersonCompletion,
    ProfessionalOut,
    RegionOut,
    RegistrationInput,
    ReviewRequest,
    ReviewResult,
    RulesOut,
    SyncImportRequest,
    SyncImportResult,
    UnitImportResult,
    UnitInput,
    UnitOut,
    UnitSearchResult,
)

API = "/api/v1"
# Routes anyone may call: the platform's public pages (log in, register, find a
# unit or region) and the health check. Every other route needs a bearer token;
# a test walks the route table and holds every route to that.
PUBLIC_ROUTES = {
    ("POST", f"{API}/auth/login"),
    ("POST", f"{API}/registrations"),
    ("GET", f"{API}/units/search"),
    ("GET", f"{API}/units/{{value}}"),
    ("GET", f"{API}/regions"),
    ("GET", f"{API}/health"),
    # certificate verification: anyone holding a certificate (or scanning its QR code)
    ("GET", f"{API}/verify/{{code}}"),
    ("GET", "/verify/{code}"),
}

bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/login")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict = {}
    problems: list[dict] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class LoginRequest(BaseModel):
    login: str
    password: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class LoggedOut(BaseModel):
    logged_out: bool


ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422, 503)}


def database_url() -> str:
    from hnce_cli.settings import default_database_url

    return os.environ.get("HNCE_DATABASE_URL") or default_database_url()


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


# The dependencies are `async def` because they never block: a plain `def` would send
# each of them through the thread pool, two extra thread hand-offs per request.
async def backend(credentials: Credentials) -> LocalBackend:
    """The caller's backend; the services check the token (one query) and the scope."""
    return LocalBackend(database_url(), credentials.credentials if credentials else None)


async def public_backend() -> LocalBackend:
    """For the public routes: no credentials are read, so none are declared either."""
    return LocalBackend(database_url(), None)


Backend = Annotated[LocalBackend, Depends(backend)]
Public = Annotated[LocalBackend, Depends(public_backend)]
DeclarationId = Annotated[int, Path(ge=1, le=2_147_483_647)]
VerificationCode = Annotated[str, Path(min_length=1, max_length=200)]
CertificateNumber = Annotated[str, Path(min_length=1, max_length=32)]
# Completion lists: words checked by the service (the same refusal as the CLI's), not here.
ResultWord = Annotated[str | None, Query(max_length=20, description="passed 通过 | not_passed 未通过")]
PersonWord = Annotated[str | None, Query(max_length=64, description="refused: a list is not a person's view")]


def create_app() -> FastAPI:
    app = FastAPI(
        title="hnce API",
        version=__version__,
        description="Henan accounting continuing education: registrations, approvals, look-ups.",
        responses=ERRORS,
    )

    @app.exception_handler(HnceError)
    def domain_error(_request: Request, exc: HnceError) -> JSONResponse:
        return JSONResponse(status_code=exc.http_status, content={"error": exc.to_dict()})

    @app.exception_handler(RequestValidationError)
    def request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            FieldProblem(".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body",
                         str(err.get("msg", "invalid")))
            for err in exc.errors()
        ]
        error = ValidationFailed("请求参数有误 (invalid request): "
                                 + ", ".join(p.field for p in problems), problems=problems)
        return JSONResponse(status_code=422, content={"error": error.to_dict()})

    # The hottest route (support's 状态查询), first in the table because every request
    # is matched against the routes in order. The backend answers it in one statement
    # where it can (services/lookup.py, TokenLookup). Bounded (at most 51 rows), so it
    # runs on the event loop: the thread pool's hand-offs cost as much CPU as the
    # queries. The result is serialised once, without re-validation.
    @app.get(f"{API}/professionals/lookup", response_model=LookupResult)
    async def lookup(b: Backend, q: Annotated[str, Query(min_length=1)]) -> Response:
        return Response(b.lookup(q).model_dump_json(), media_type="application/json")

    @app.get(f"{API}/health")
    def health() -> Health:
        return Health(status="ok", version=__version__)

    @app.post(f"{API}/auth/login")
    def login(body: LoginRequest, b: Public) -> LoginResult:
        return b.login(body.login, body.password)

    @app.post(f"{API}/auth/logout")
    def logout(b: Backend) -> LoggedOut:
        b.whoami()  # refuses a missing, expired or revoked token like every other route
        b.logout()
        return LoggedOut(logged_out=True)

    @app.get(f"{API}/auth/whoami")
    def whoami(b: Backend) -> AccountOut:
        return b.whoami()

    @app.post(f"{API}/accounts", status_code=201)
    def create_account(body: AccountInput, b: Backend) -> AccountOut:
        return b.create_account(body)

    @app.get(f"{API}/regions")
    def regions(b: Public, level: str | None = None, parent: str | None = None) -> list[RegionOut]:
        return b.list_regions(level, parent)

    @app.post(f"{API}/units", status_code=201)
    def add_unit(body: UnitInput, b: Backend) -> UnitOut:
        return b.add_unit(body)

    @app.post(f"{API}/units/import", status_code=201)
    def import_units(body: list[UnitInput], b: Backend) -> UnitImportResult:
        return b.import_units(body)

    @app.get(f"{API}/units/search")
    def search_units(b: Public, q: str, region: str | None = None) -> UnitSearchResult:
        return b.search_units(q, region)

    @app.get(f"{API}/units/{{value}}")
    def show_unit(value: str, b: Public) -> UnitOut:
        return b.show_unit(value)

    @app.post(f"{API}/registrations", status_code=201)
    def register(body: RegistrationInput, b: Public) -> ProfessionalOut:
        return b.register(body)

    @app.get(f"{API}/registrations/pending")
    def pending(
        b: Backend,
        unit: str | None = None,
        registered_from: date | None = None,
        registered_to: date | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> PendingList:
        request = DecisionRequest(decision="approve", all_matching=True, unit=unit,
                                  registered_from=registered_from, registered_to=registered_to)
        return b.list_pending(request, limit, offset)

    @app.post(f"{API}/registrations/decisions", response_model=DecisionResult)
    def decide(body: DecisionRequest, b: Backend) -> Response:
        # A batch result can hold 100,000 items: serialise once, skip re-validation.
        return Response(b.decide(body).model_dump_json(), media_type="application/json")

    # --- learning forms and declarations (docs/declarations.md) ---------
    @app.get(f"{API}/forms")
    def list_forms(b: Backend) -> FormsOut:
        return b.list_forms()

    @app.put(f"{API}/forms")
    def load_forms(body: Annotated[Any, Body(description='the forms file: a list of forms or '
                                                   '{"forms": [...]} (docs/declarations.md)')],
                   b: Backend) -> FormsOut:
        # Any JSON: the service's parse_forms is the one check, with the CLI's errors.
        return b.load_forms(body)

    @app.post(f"{API}/declarations", status_code=201)
    def create_declaration(body: DeclarationInput, b: Backend) -> DeclarationOut:
        return b.create_declaration(body)

    @app.get(f"{API}/declarations")
    def list_declarations(
        b: Backend,
        filter: Literal["all", "draft", "pending", "approved", "rejected"] = "all",
        person: str | None = None,
        unit: str | None = None,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        form: str | None = None,
        awaiting_review: bool = False,
        ids: Annotated[list[DbInt] | None, Query(max_length=1000)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> DeclarationList:
        query = DeclarationQuery(filter=filter, person=person, unit=unit, year=year, form=form,
                                 awaiting_review=awaiting_review, ids=ids)
        return b.list_declarations(query, limit, offset)

    @app.post(f"{API}/declarations/reviews", response_model=ReviewResult)
    def review_declarations(body: ReviewRequest, b: Backend) -> Response:
        # A batch result can hold 100,000 items: serialise once, skip re-validation.
        return Response(b.review_declarations(body).model_dump_json(), media_type="application/json")

    @app.post(f"{API}/declarations/import", status_code=201)
    def import_declarations(body: DeclarationImportRequest, b: Backend) -> DeclarationImportResult:
        return b.import_declarations(body.rows)

    @app.post(f"{API}/declarations/attachments/export")
    def export_attachments(body: DeclarationQuery, b: Backend) -> AttachmentBundle:
        return b.declaration_attachments(body)

    @app.get(f"{API}/declarations/{{declaration_id}}")
    def show_declaration(declaration_id: DeclarationId, b: Backend) -> DeclarationOut:
        return b.show_declaration(declaration_id)

    @app.patch(f"{API}/declarations/{{declaration_id}}")
    def edit_declaration(declaration_id: DeclarationId, body: DeclarationEdit,
                         b: Backend) -> DeclarationOut:
        return b.edit_declaration(declaration_id, body)

    @app.delete(f"{API}/declarations/{{declaration_id}}")
    def delete_declaration(declaration_id: DeclarationId, b: Backend) -> DeclarationDeleted:
        return b.delete_declaration(declaration_id)

    @app.post(f"{API}/declarations/{{declaration_id}}/submit")
    def submit_declaration(declaration_id: DeclarationId, b: Backend) -> DeclarationOut:
        return b.submit_declaration(declaration_id)

    @app.post(f"{API}/declarations/{{declaration_id}}/withdraw")
    def withdraw_declaration(declaration_id: DeclarationId, b: Backend) -> DeclarationOut:
        return b.withdraw_declaration(declaration_id)

    # --- certificates (docs/certificates.md) -----------------------------
    @app.post(f"{API}/certificates")
    def issue_certificate(body: CertificateRequest, b: Backend) -> CertificateOut:
        return b.issue_certificate(body)

    @app.post(f"{API}/certificates/pdf", response_class=Response, responses={200: {
        "description": "The certificate as an A4 PDF, drawn by the server from its template and fonts; "
                       f"the issued facts (CertificateOut, ASCII JSON) in the {CERTIFICATE_HEADER} header.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {CERTIFICATE_HEADER: {"description": "CertificateOut as JSON", "schema": {"type": "string"}},
                    "Content-Disposition": {"schema": {"type": "string"}}}}})
    def certificate_pdf(body: CertificateRequest, b: Backend) -> Response:
        """Issue as POST /certificates does (same rules, same record) and return the PDF: the
        `hnce certificate print` of a remote desk, which then never loads fpdf2."""
        cert, pdf = b.certificate_pdf(body)
        name = file_name(cert.number, cert.name)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f"attachment; filename=\"{cert.number}.pdf\"; filename*=UTF-8''{quote(name)}",
            CERTIFICATE_HEADER: json.dumps(cert.model_dump(mode="json"), ensure_ascii=True),
        })

    @app.post(f"{API}/certificates/batch")
    def issue_certificates(body: CertificateBatchRequest, b: Backend) -> CertificatePage:
        return b.issue_certificates(body)

    @app.post(f"{API}/certificates/{{number}}/revoke")
    def revoke_certificate(number: CertificateNumber, body: CertificateRevokeRequest,
                           b: Backend) -> CertificateOut:
        return b.revoke_certificate(number, body.reason)

    @app.get(f"{API}/verify/{{code}}")
    def verify_certificate(code: VerificationCode, b: Public) -> CertificateVerification:
        return b.verify_certificate(code)

    @app.get("/verify/{code}", response_model=CertificateVerification,
             responses={200: {"content": {"text/html": {}}}})
    def verify_page(code: VerificationCode, request: Request, b: Public) -> Response:
        """What the QR code opens: a small page for a browser, JSON for everyone else."""
        result = b.verify_certificate(code)
        if "text/html" in request.headers.get("accept", ""):
            from hnce_cli.server.verify_page import render_html

            return Response(render_html(result), media_type="text/html; charset=utf-8")
        return Response(result.model_dump_json(), media_type="application/json")

    # --- year rules, annual completion, national-platform sync (docs/completion.md, docs/sync.md)
    @app.get(f"{API}/rules")
    def show_rules(b: Backend, year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> RulesOut:
        return b.show_rules(year)

    @app.put(f"{API}/rules")
    def load_rules(body: Annotated[Any, Body(description="one year's object, a list of them, or "
                                                   '{"years": [...]} (docs/completion.md)')],
                   b: Backend) -> RulesOut:
        # Any JSON: the service's parse_rules is the one check, with the CLI's errors.
        return b.load_rules(body)

    @app.get(f"{API}/completion/person")
    def person_completion(
        b: Backend,
        person: Annotated[str | None, Query(min_length=1, max_length=64,
                                            description="ID number, mobile or name; omit for yourself")] = None,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        details: bool = False,
    ) -> PersonCompletion:
        return b.person_completion(person, year, details)

    @app.get(f"{API}/completion", response_model=CompletionPage)
    def completion_page(
        b: Backend,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        unit: str | None = None,
        region: str | None = None,
        result: ResultWord = None,
        person: PersonWord = None,
        after: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> Response:
        # The service checks the query (services.completion.check_query), as for the CLI.
        # Pages of 5,000 rows: serialise once, skip re-validation.
        page = b.completion_page(CompletionQuery(year=year, unit=unit, region=region, result=result,
                                                 person=person), after, limit)
        return Response(page.model_dump_json(), media_type="application/json")

    @app.get(f"{API}/completion/summary")
    def completion_summary(
        b: Backend,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        unit: str | None = None,
        region: str | None = None,
        result: ResultWord = None,
        person: PersonWord = None,
        by: Annotated[str, Query(max_length=20, description="city 市 | county 区县 | unit 单位")] = "city",
    ) -> CompletionSummary:
        return b.completion_summary(CompletionQuery(year=year, unit=unit, region=region, result=result,
                                                    person=person), by)

    @app.post(f"{API}/sync/import")
    def import_credits(body: SyncImportRequest, b: Backend) -> SyncImportResult:
        return b.import_credits(body.rows, body.source, body.first_row)

    @app.get(f"{API}/sync/export", response_model=CreditExportPage)
    def export_credits(
        b: Backend,
        year: Annotated[int, Query(ge=2000, le=2100)],
        after: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
        limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
    ) -> Response:
        page = b.export_credits(year, after, limit)
        return Response(page.model_dump_json(), media_type="application/json")

    return app
