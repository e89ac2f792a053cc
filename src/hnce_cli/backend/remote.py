"""The HTTP backend: the same interface as LocalBackend, spoken to `hnce serve`.

Errors come back as JSON with a stable code and are raised again as the same
domain errors, so a command behaves (message, exit code) the same in both modes.
Only idempotent reads are retried.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from hnce_cli.backend import CONNECT_TIMEOUT, READ_TIMEOUT
from hnce_cli.certificates.model import CERTIFICATE_HEADER, desk_draws_itself
from hnce_cli.errors import AuthRequired, HnceError, Unavailable, Unsupported, error_from_dict
from hnce_cli.schemas import (
    AccountInput,
    AccountOut,
    AttachmentBundle,
    CertificateBatchRequest,
    CertificateOut,
    CertificatePage,
    CertificateRequest,
    CertificateVerification,
    DbInfo,
    DecisionRequest,
    DecisionResult,
    DeclarationDeleted,
    DeclarationEdit,
    DeclarationImportResult,
    DeclarationInput,
    DeclarationList,
    DeclarationOut,
    DeclarationQuery,
    FormsOut,
    LoginResult,
    LookupResult,
    PendingList,
    ProfessionalOut,
    RegionOut,
    RegistrationInput,
    ReviewRequest,
    ReviewResult,
    UnitImportResult,
    UnitInput,
    UnitOut,
    UnitSearchResult,
)

if TYPE_CHECKING:  # issue 5
    from collections.abc import Iterator

    from hnce_cli.schemas import (
        CompletionPage,
        CompletionQuery,
        CompletionRow,
        CompletionSummary,
        CreditExportPage,
        PersonCompletion,
        RulesOut,
        SyncImportResult,
    )

API = "/api/v1"
COMPLETION_PAGE = 5000
READ_RETRIES = 3
PAGE = 1000
T = TypeVar("T", bound=BaseModel)


class RemoteBackend:
    def __init__(self, base_url: str, token: str | None = None, *,
                 timeout: float = READ_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.description = self.base_url
        self.timeout = timeout

    @cached_property
    def _client(self) -> Any:
        """The HTTP client, made on the first request: a print drawn by the server needs none."""
        import httpx

        return httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT),
                            headers={"User-Agent": "hnce-cli"})

    def close(self) -> None:
        """Close the connection pool (a long-lived caller's tidy-up; the CLI just exits)."""
        if "_client" in self.__dict__:
            self._client.close()

    # --- transport ------------------------------------------------------
    def _request(self, method: str, path: str, *, json: Any = None,
                 params: dict[str, Any] | None = None) -> Any:
        return self._send(method, path, json=json, params=params).content

    def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
              accept: str | None = None) -> Any:
        """The successful response (its headers too); an error answer is raised as its domain error."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if accept:
            headers["Accept"] = accept
        params = {k: v for k, v in (params or {}).items() if v is not None}
        import httpx

        attempts = READ_RETRIES if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.request(method, API + path, json=json, params=params,
                                                 headers=headers)
            except httpx.TimeoutException as exc:
                if attempt < attempts:
                    time.sleep(0.2 * attempt)
                    continue
                raise Unavailable(f"服务器无响应 (timed out): {self.base_url}") from exc
            except httpx.TransportError as exc:
                if attempt < attempts:
                    time.sleep(0.2 * attempt)
                    continue
                raise Unavailable(
                    f"无法连接服务器 {self.base_url} (server unreachable: {exc}); "
                    "check the address in `hnce profile list` and that `hnce serve` runs"
                ) from exc
            if response.status_code in (502, 503, 504) and attempt < attempts:
                time.sleep(0.2 * attempt)
                continue
            return self._decode(response)
        raise AssertionError("unreachable")

    def _decode(self, response: Any) -> Any:
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise error_from_dict(body["error"])
        if response.status_code == 401:
            raise AuthRequired("请先登录 (login required)")
        raise HnceError(f"服务器错误 HTTP {response.status_code}: {response.text[:200]}")

    def _get(self, path: str, model: type[T], **params: Any) -> T:
        return model.model_validate_json(self._request("GET", path, params=params))

    def _post(self, path: str, model: type[T], body: Any) -> T:
        return model.model_validate_json(self._request("POST", path, json=body))

    # --- database -------------------------------------------------------
    def db_upgrade(self) -> DbInfo:
        raise Unsupported("数据库迁移须在服务器上执行：hnce --db URL db upgrade "
                        "(migrations run on the server host, see docs/deploy.md)")

    def db_init(self, login: str, name: str, password: str) -> AccountOut:
        raise Unsupported("初始化须在服务器上执行：hnce --db URL db init "
                        "(run on the server host, see docs/deploy.md)")

    # --- accounts -------------------------------------------------------
    def login(self, login: str, password: str) -> LoginResult:
        return self._post("/auth/login", LoginResult, {"login": login, "password": password})

    def logout(self) -> None:
        if self.token:
            self._request("POST", "/auth/logout")

    def whoami(self) -> AccountOut:
        return self._get("/auth/whoami", AccountOut)

    def create_account(self, data: AccountInput) -> AccountOut:
        return self._post("/accounts", AccountOut, data.model_dump(mode="json"))

    # --- regions and units ---------------------------------------------
    def list_regions(self, level: str | None = None, parent: str | None = None
                     ) -> list[RegionOut]:
        raw = self._request("GET", "/regions", params={"level": level, "parent": parent})
        return TypeAdapter(list[RegionOut]).validate_json(raw)

    def add_unit(self, data: UnitInput) -> UnitOut:
        return self._post("/units", UnitOut, data.model_dump(mode="json"))

    def import_units(self, rows: list[UnitInput]) -> UnitImportResult:
        return self._post("/units/import", UnitImportResult,
                          [r.model_dump(mode="json") for r in rows])

    def search_units(self, query: str, region: str | None = None) -> UnitSearchResult:
        return self._get("/units/search", UnitSearchResult, q=query, region=region)

    def show_unit(self, value: str) -> UnitOut:
        from urllib.parse import quote

        return self._get(f"/units/{quote(value, safe='')}", UnitOut)

    # --- registration ---------------------------------------------------
    def register(self, data: RegistrationInput) -> ProfessionalOut:
        return self._post("/registrations", ProfessionalOut, data.model_dump(mode="json"))

    def list_pending(self, request: DecisionRequest, limit: int | None = 100,
                     offset: int = 0) -> PendingList:
        """One page, or every page when limit is None (the server caps a page at 1000)."""
        params = {"unit": request.unit,
                  "registered_from": request.registered_from,
                  "registered_to": request.registered_to}
        if limit is not None and limit <= PAGE:
            return self._get("/registrations/pending", PendingList, limit=limit, offset=offset,
                             **params)
        rows: list[ProfessionalOut] = []
        total = 0
        while limit is None or len(rows) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(rows))
            page = self._get("/registrations/pending", PendingList, limit=size,
                             offset=offset + len(rows), **params)
            rows.extend(page.registrations)
            total = page.total
            if len(page.registrations) < size:
                break
        return PendingList(registrations=rows, total=total)

    def decide(self, request: DecisionRequest) -> DecisionResult:
        return self._post("/registrations/decisions", DecisionResult,
                          request.model_dump(mode="json"))

    def lookup(self, query: str) -> LookupResult:
        return self._get("/professionals/lookup", LookupResult, q=query)

    # --- learning forms and declarations --------------------------------
    def list_forms(self) -> FormsOut:
        return self._get("/forms", FormsOut)

    def load_forms(self, data: Any) -> FormsOut:
        return FormsOut.model_validate_json(self._request("PUT", "/forms", json=data))

    def create_declaration(self, data: DeclarationInput) -> DeclarationOut:
        return self._post("/declarations", DeclarationOut, data.model_dump(mode="json"))

    def edit_declaration(self, declaration_id: int, data: DeclarationEdit) -> DeclarationOut:
        return DeclarationOut.model_validate_json(self._request(
            "PATCH", f"/declarations/{declaration_id}", json=data.model_dump(mode="json")))

    def delete_declaration(self, declaration_id: int) -> DeclarationDeleted:
        return DeclarationDeleted.model_validate_json(
            self._request("DELETE", f"/declarations/{declaration_id}"))

    def submit_declaration(self, declaration_id: int) -> DeclarationOut:
        return self._post(f"/declarations/{declaration_id}/submit", DeclarationOut, None)

    def withdraw_declaration(self, declaration_id: int) -> DeclarationOut:
        return self._post(f"/declarations/{declaration_id}/withdraw", DeclarationOut, None)

    def show_declaration(self, declaration_id: int) -> DeclarationOut:
        return self._get(f"/declarations/{declaration_id}", DeclarationOut)

    def list_declarations(self, query: DeclarationQuery, limit: int | None = 100,
                          offset: int = 0) -> DeclarationList:
        """One page, or every page when limit is None (the server caps a page at 1000)."""
        params = query.model_dump(exclude_none=True)
        if limit is not None and limit <= PAGE:
            return self._get("/declarations", DeclarationList, limit=limit, offset=offset, **params)
        result: DeclarationList | None = None
        rows: list[DeclarationOut] = []
        while limit is None or len(rows) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(rows))
            page = self._get("/declarations", DeclarationList, limit=size, offset=offset + len(rows),
                             **params)
            rows.extend(page.declarations)
            result = page
            if len(page.declarations) < size:
                break
        assert result is not None
        return result.model_copy(update={"declarations": rows})

    def review_declarations(self, request: ReviewRequest) -> ReviewResult:
        return self._post("/declarations/reviews", ReviewResult, request.model_dump(mode="json"))

    def import_declarations(self, rows: list[dict]) -> DeclarationImportResult:
        return self._post("/declarations/import", DeclarationImportResult, {"rows": rows})

    def declaration_attachments(self, query: DeclarationQuery) -> AttachmentBundle:
        return self._post("/declarations/attachments/export", AttachmentBundle,
                          query.model_dump(mode="json"))

    # --- certificates (docs/certificates.md) -----------------------------
    def issue_certificate(self, request: CertificateRequest) -> CertificateOut:
        return self._post("/certificates", CertificateOut, request.model_dump(mode="json"))

    def certificate_pdf(self, request: CertificateRequest) -> tuple[CertificateOut, bytes]:
        """The server issues and draws (it keeps fpdf2 and the font loaded), so this process never
        imports fpdf2; the one request goes out on the standard library's HTTP client
        (remote_pdf), since loading httpx would cost a desk's one-certificate command a third of
        its time. A desk that set its own template or fonts (HNCE_CERT_TEMPLATE, HNCE_CERT_FONT,
        HNCE_CERT_FALLBACK_FONT) keeps drawing here with them, as a batch does; a proxy in the
        environment, which httpx honours, takes httpx."""
        from hnce_cli.backend import remote_pdf

        if desk_draws_itself():
            from hnce_cli.certificates.issued import render_issued

            cert = self.issue_certificate(request)
            return cert, render_issued(cert)
        answer = remote_pdf.issue_pdf(self.base_url, self.token, person=request.person, year=request.year)
        if answer is not None:
            return CertificateOut.model_validate(answer[0]), answer[1]
        response = self._send("POST", "/certificates/pdf", json=request.model_dump(mode="json"),
                              accept="application/pdf")
        cert = CertificateOut.model_validate_json(response.headers[CERTIFICATE_HEADER])
        return cert, response.content

    def issue_certificates(self, request: CertificateBatchRequest) -> CertificatePage:
        """One page (the command asks page after page, `after` = the previous `next_after`)."""
        return self._post("/certificates/batch", CertificatePage, request.model_dump(mode="json"))

    def verify_certificate(self, code: str) -> CertificateVerification:
        from urllib.parse import quote

        code = code.strip()
        if "/" in code:  # a scanned verify URL: the code is its last path segment
            code = code.rstrip("/").rsplit("/", 1)[-1]
        return self._get(f"/verify/{quote(code, safe='')}", CertificateVerification)

    def revoke_certificate(self, number: str, reason: str) -> CertificateOut:
        from urllib.parse import quote

        return self._post(f"/certificates/{quote(number.strip(), safe='')}/revoke", CertificateOut,
                          {"reason": reason})

    # --- year rules, annual completion, national-platform sync (issue 5) --
    def show_rules(self, year: int | None = None) -> RulesOut:
        from hnce_cli.schemas import RulesOut

        return self._get("/rules", RulesOut, year=year)

    def load_rules(self, data: object) -> RulesOut:
        from hnce_cli.schemas import RulesOut

        return RulesOut.model_validate_json(self._request("PUT", "/rules", json=data))

    def person_completion(self, person: str | None, year: int | None = None,
                          details: bool = False) -> PersonCompletion:
        from hnce_cli.schemas import PersonCompletion

        return self._get("/completion/person", PersonCompletion, person=person or None, year=year,
                         details=details)

    def completion_page(self, query: CompletionQuery, after: int | None = None,
                        limit: int = 1000) -> CompletionPage:
        from hnce_cli.schemas import CompletionPage

        return self._get("/completion", CompletionPage, after=after, limit=limit,
                         **query.model_dump(exclude_none=True))

    def completion_list(self, query: CompletionQuery) -> tuple[CompletionPage, Iterator[CompletionRow]]:
        """The first page now (errors raise here), the rest fetched page by page as it is read."""
        from hnce_cli.schemas import CompletionRow

        first = self.completion_page(query, None, COMPLETION_PAGE)

        def rows() -> Iterator[CompletionRow]:
            page = first
            while True:
                for r in page.rows:
                    yield CompletionRow(r.professional_id, r.id_number, r.name, r.unit_id, r.unit_name,
                                        r.region_code, r.public, r.professional, r.total, r.result)
                if page.next_after is None:
                    return
                page = self.completion_page(query, page.next_after, COMPLETION_PAGE)

        return first.model_copy(update={"rows": []}), rows()

    def completion_summary(self, query: CompletionQuery, by: str = "city") -> CompletionSummary:
        from hnce_cli.schemas import CompletionSummary

        # The whole query, --result too: the server's service refuses what the local one would.
        return self._get("/completion/summary", CompletionSummary, by=by, **query.model_dump(exclude_none=True))

    def import_credits(self, rows: list[dict], source: str = "national",
                       first_row: int = 2) -> SyncImportResult:
        from hnce_cli.schemas import SyncImportResult

        return self._post("/sync/import", SyncImportResult,
                          {"rows": rows, "source": source, "first_row": first_row})

    def export_credits(self, year: int, after: int | None = None,
                       limit: int = 10_000) -> CreditExportPage:
        from hnce_cli.schemas import CreditExportPage

        return self._get("/sync/export", CreditExportPage, year=year, after=after, limit=limit)
