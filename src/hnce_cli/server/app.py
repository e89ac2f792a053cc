"""The FastAPI application: the operations table (hnce_cli.operations) as routes.

Each route parses its path, query and body as the table says, calls that method of a
LocalBackend (the very object the CLI uses in local mode) with the caller's bearer
token, and returns its result. No rule lives here: scope and permission checks happen in
the services, and errors become JSON in one handler. The process keeps no state between
requests, so any number of workers can run behind a load balancer.

Four routes are not backend methods of one JSON answer and are written out below: the
health check, a certificate as a PDF, the verify page a phone opens from a QR code, and
a national-platform import whose rows are streamed as lines of JSON.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

import pydantic
from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from hnce_cli import __version__, schemas
from hnce_cli.backend.local import LocalBackend
from hnce_cli.certificates.model import CERTIFICATE_HEADER, file_name
from hnce_cli.errors import (
    AuthRequired,
    Conflict,
    FieldProblem,
    HnceError,
    NotFound,
    PermissionDenied,
    Unavailable,
    Unsupported,
    ValidationFailed,
    from_pydantic,
    server_internal_error,
)
from hnce_cli.operations import API, OPERATIONS, REQUIRED, Operation
from hnce_cli.operations import resolve as schema
from hnce_cli.server.boundary import checking

# What a route receives that is not input: the request itself, the caller's backend.
NOT_INPUT = (Request, LocalBackend)

# Routes anyone may call: the platform's public pages (log in, register, find a unit or
# region, verify a certificate) and the health check. Every other route needs a bearer
# token; a test walks the route table and holds every route to that.
PUBLIC_ROUTES = {
    *((op.method, op.route) for op in OPERATIONS.values() if op.public),
    ("GET", f"{API}/health"),
    ("GET", "/verify/{code}"),  # what a certificate's QR code opens
    ("GET", "/verify"), ("GET", "/verify/{rest:path}"),  # the page to type a code; a Chinese 404 below it
}

logger = logging.getLogger("uvicorn.error")  # the server's log, beside uvicorn's own lines
bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/login")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict = {}
    problems: list[dict] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 408, 409, 413, 422, 503)}


def database_url() -> str:
    from hnce_cli.settings import default_database_url

    return os.environ.get("HNCE_DATABASE_URL") or default_database_url()


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def client_address(request: Request) -> str:
    """The caller's address, which login throttling counts by: the connection's peer, or the
    client a proxy named by `hnce serve --trusted-proxy` forwarded for (uvicorn reads
    X-Forwarded-For from those proxies alone)."""
    return request.client.host if request.client else "unknown"


# The dependencies are `async def` because they never block: a plain `def` would send
# each of them through the thread pool, two extra thread hand-offs per request.
async def backend(credentials: Credentials, request: Request) -> LocalBackend:
    """The caller's backend; the services check the token (one query) and the scope."""
    return LocalBackend(database_url(), credentials.credentials if credentials else None, client_address(request))


async def public_backend(request: Request) -> LocalBackend:
    """For the public routes: no credentials are read, so none are declared either."""
    return LocalBackend(database_url(), None, client_address(request))


Caller = Annotated[LocalBackend, Depends(backend)]
Public = Annotated[LocalBackend, Depends(public_backend)]


def _signature(op: Operation) -> inspect.Signature:
    """The route function's parameters as FastAPI reads them: the backend, then the path
    and query parameters with their bounds, then the body."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("b", keyword, annotation=Public if op.public else Caller)]
    for p in op.params:
        where = Path if "{" + p.name + "}" in op.path else Query
        default = inspect.Parameter.empty if p.default is REQUIRED or where is Path else p.default
        params.append(inspect.Parameter(p.name, keyword, annotation=Annotated[p.type, where(**p.limits())],
                                        default=default))
    if op.body is not None:
        description = op.body.description
        params.append(inspect.Parameter("body", keyword,
                                        annotation=Annotated[schema(op.body.model), Body(description=description)]))
    return inspect.Signature(params)


def _call(op: Operation) -> Callable[..., Any]:
    """A route function calling the backend method with the arguments the table assembles."""
    models = {arg: schema(name) for arg, name in op.models}

    def arguments(values: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        fields: dict[str, dict[str, Any]] = {arg: {} for arg in models}
        for p in op.params:
            arg, _, field = p.arg.partition(".")
            if field:
                fields[arg][field] = values[p.name]
            else:
                kwargs[arg] = values[p.name]
        for arg, model in models.items():
            kwargs[arg] = model(**fields[arg])
        if op.body is not None:
            body = values["body"]
            if op.body.arg:
                kwargs[op.body.arg] = body
            else:
                kwargs.update((name, getattr(body, name)) for name in op.body.fields)
        return kwargs

    def answer(result: Any) -> Any:
        if op.raw:  # up to 100,000 items: serialised once, not validated again
            return Response(result.model_dump_json(), media_type="application/json")
        return result

    if op.inline:
        # Short and bounded (at most 51 rows): on the event loop, as the thread pool's
        # hand-offs would cost as much CPU as the queries. Serialised once.
        async def inline(b: LocalBackend, **values: Any) -> Response:
            result = getattr(b, op.name)(**arguments(values))
            return Response(result.model_dump_json(), media_type="application/json")

        return inline

    def route(b: LocalBackend, **values: Any) -> Any:
        return answer(getattr(b, op.name)(**arguments(values)))

    return route


def field_names(op: Operation) -> dict[str, str]:
    """How a refusal names each parameter of `op`: as its service does (`q` is the look-up's
    `query`, `person` a query's `person`), so a value is named alike locally and over HTTP."""
    return {p.name: p.arg.rpartition(".")[2] for p in op.params}


def add_operations(app: FastAPI) -> None:
    """One route per row of the operations table, in its order (the hottest first)."""
    for op in OPERATIONS.values():
        endpoint = _call(op)
        endpoint.__signature__ = _signature(op)  # type: ignore[attr-defined]
        endpoint.__name__ = op.name
        # every value is held to the boundary's floor first (server/boundary.py): a body's
        # fields are named by their path in it, a parameter as the service names it
        endpoint = checking(endpoint, {"body": "", **field_names(op)}, NOT_INPUT)
        result = None if op.result in ("None", "Any") else schema(op.result)
        app.add_api_route(op.route, endpoint, methods=[op.method], status_code=op.status, name=op.name,
                          response_model=result, summary=op.summary or None,
                          response_class=Response if op.raw or op.inline else JSONResponse)


def _answer(error: HnceError, status: int | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """Every error the API gives, in the one shape: {"error": {"code", "message", "details"}}."""
    return JSONResponse(status_code=status or error.http_status, content={"error": error.to_dict()},
                        headers=headers)


def _problem(err: dict[str, Any]) -> FieldProblem:
    """One of FastAPI's request errors as a field problem; a body that is not JSON says so."""
    loc = [str(p) for p in err.get("loc", ())]
    if err.get("type") == "json_invalid":
        at = f"，第 {int(loc[1]) + 1} 个字符处" if len(loc) > 1 and loc[1].isascii() and loc[1].isdigit() else ""
        why = err.get("ctx", {}).get("error") or "JSON decode error"
        return FieldProblem("body", f"请求体不是有效的 JSON{at} (invalid JSON: {why})",
                            "send a JSON object with Content-Type: application/json (docs/openapi.json)")
    return FieldProblem(".".join(p for p in loc if p != "body") or "body", str(err.get("msg", "invalid")))


def _http_error(request: Request, exc: StarletteHTTPException) -> HnceError:
    """Starlette's own refusals (no such route, a method the route does not take) as hnce errors."""
    where = {"method": request.method, "path": request.url.path}
    if exc.status_code == 404:
        return NotFound(f"没有这个接口 (no such API route): {request.method} {request.url.path}; "
                        "see /docs — an older server may not have it", where)
    if exc.status_code == 405:
        allowed = next((v for k, v in (exc.headers or {}).items() if k.lower() == "allow"), "")
        return Unsupported(f"该接口不接受 {request.method} (method not allowed): {request.url.path}"
                           + (f"; allowed: {allowed}" if allowed else ""), {**where, "allowed": allowed})
    kind = {401: AuthRequired, 403: PermissionDenied, 409: Conflict, 400: ValidationFailed,
            422: ValidationFailed, 503: Unavailable}.get(exc.status_code, HnceError)
    return kind(f"HTTP {exc.status_code}: {exc.detail}", where)


def add_error_handlers(app: FastAPI) -> None:
    """Errors become JSON in one place: the domain's with their status (docs/exit-codes.md),
    a request that breaks the route's parameters as `validation` naming each field, an
    unknown route or method in the same shape, and a bug as `error` 500 with no traceback
    and no text of it (the server's log has both)."""

    @app.exception_handler(HnceError)
    async def domain_error(_request: Request, exc: HnceError) -> JSONResponse:
        if exc.http_status == 500:  # a bug that happens to be an HnceError (an unmapped constraint)
            logger.error("internal error", exc_info=exc)
            return _answer(server_internal_error(exc))
        return _answer(exc)

    @app.exception_handler(RequestValidationError)
    async def request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(err) for err in exc.errors()]
        return _answer(ValidationFailed("请求参数有误 (invalid request): " + ", ".join(p.field for p in problems),
                                        problems=problems))

    @app.exception_handler(pydantic.ValidationError)
    async def model_error(_request: Request, exc: pydantic.ValidationError) -> JSONResponse:
        """A query model assembled from valid parameters can still break its own rules."""
        return _answer(from_pydantic(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not read the body as text (not UTF-8): not JSON either
            return _answer(ValidationFailed.one(
                "body", "请求体不是有效的 JSON：不是 UTF-8 文本 (invalid JSON: the body is not UTF-8 text)",
                "send a JSON object in UTF-8 with Content-Type: application/json (docs/openapi.json)"))
        return _answer(_http_error(request, exc), exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers with this, then raises the error again for the server to log.
        return _answer(server_internal_error(exc))


def add_streamed_import(app: FastAPI) -> None:
    """POST /sync/import/stream: a national-platform import of any size in one request, its
    rows as lines of JSON (backend/ndjson.py) — what `hnce sync import` sends. The caller's
    session is checked before a byte is read; the body is spooled to a temporary file (not
    held in memory, and the database is not kept waiting on the network); then the same
    LocalBackend.import_credits checks every row and writes all of them or none."""
    from typing import Literal

    from starlette.concurrency import run_in_threadpool

    from hnce_cli.backend import ndjson
    from hnce_cli.operations import MAX_ID

    body = {"required": True, "description": "One JSON value a line: "
            '{"columns": [...]}, then each row as an array of its values ([] for a blank row), '
            'then {"end": N} with the number of rows (docs/sync.md)',
            "content": {ndjson.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}

    async def import_credits_stream(request: Request, b: LocalBackend, source: str, first_row: int) -> Response:
        import tempfile

        from starlette.requests import ClientDisconnect

        await run_in_threadpool(b.whoami)  # a stranger is refused before the upload is read
        with tempfile.TemporaryFile() as spool:
            try:  # the guard counts the upload against HNCE_MAX_IMPORT_MB (413) and times it (408)
                async for piece in request.stream():
                    spool.write(piece)
            except ClientDisconnect:  # the client stopped sending (its own error, Ctrl-C): nothing to write
                return Response(status_code=400)
            spool.seek(0)
            result = await run_in_threadpool(b.import_credits, ndjson.decode(spool), source, first_row)
        return Response(result.model_dump_json(), media_type="application/json")

    keyword = inspect.Parameter.KEYWORD_ONLY
    import_credits_stream.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("b", keyword, annotation=Caller),
        inspect.Parameter("source", keyword, annotation=Annotated[Literal["national", "online", "base"], Query()],
                          default="national"),
        inspect.Parameter("first_row", keyword, annotation=Annotated[int, Query(ge=1, le=MAX_ID)], default=2)])
    app.add_api_route(f"{API}/sync/import/stream", checking(import_credits_stream, {}, NOT_INPUT), methods=["POST"],
                      response_model=schemas.SyncImportResult, name="import_credits_stream",
                      openapi_extra={"requestBody": body}, summary="Import credits, the rows streamed as lines of JSON")


def _checked(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A route written out here, held to the boundary as the table's routes are."""
    return checking(endpoint, {"body": ""}, NOT_INPUT)


def add_guard(app: FastAPI) -> None:
    """The request guard (server/guard.py) in front of every route: a body is refused before it
    is read when its caller has no live session or it is larger than its route takes, and it is
    counted and timed while it is read. The limits come from the server's environment."""
    from starlette.concurrency import run_in_threadpool

    from hnce_cli.server.guard import RequestGuard, rules_of
    from hnce_cli.settings import ServerLimits

    limits = ServerLimits.from_env()

    async def live_session(token: str) -> None:
        await run_in_threadpool(LocalBackend(database_url(), token).whoami)

    app.add_middleware(RequestGuard, rules=lambda: rules_of(app.routes, PUBLIC_ROUTES, limits,
                                                             {f"{API}/sync/import/stream"}),
                       limits=limits, check_token=live_session)


def create_app() -> FastAPI:
    app = FastAPI(
        title="hnce API",
        version=__version__,
        description="Henan accounting continuing education: registrations, approvals, look-ups.",
        responses=ERRORS,
    )

    add_error_handlers(app)
    add_guard(app)
    add_operations(app)
    add_streamed_import(app)

    @app.get(f"{API}/health")
    def health() -> schemas.Health:
        return schemas.Health(status="ok", version=__version__)

    @app.post(f"{API}/certificates/pdf", response_class=Response, responses={200: {
        "description": "The certificate as an A4 PDF, drawn by the server from its template and fonts; "
                       f"the issued facts (CertificateOut, ASCII JSON) in the {CERTIFICATE_HEADER} header.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {CERTIFICATE_HEADER: {"description": "CertificateOut as JSON", "schema": {"type": "string"}},
                    "Content-Disposition": {"schema": {"type": "string"}}}}})
    @_checked
    def certificate_pdf(body: schemas.CertificateRequest, b: Caller) -> Response:
        """Issue as POST /certificates does (same rules, same record) and return the PDF: the
        `hnce certificate print` of a remote desk, which then never loads fpdf2."""
        cert, pdf = b.certificate_pdf(body)
        name = file_name(cert.number, cert.name)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f"attachment; filename=\"{cert.number}.pdf\"; filename*=UTF-8''{quote(name)}",
            CERTIFICATE_HEADER: json.dumps(cert.model_dump(mode="json"), ensure_ascii=True),
        })

    # the verify pages a phone opens (the form, what the QR code opens): HTML for a browser,
    # errors included, JSON for everyone else (server/verify_page.py)
    from hnce_cli.server.verify_page import add_verify_pages

    add_verify_pages(app, Public)

    return app
