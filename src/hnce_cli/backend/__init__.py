"""The one interface commands talk to, and how to pick an implementation.

`LocalBackend` runs the services on a database; `RemoteBackend` (HTTP) calls
`hnce serve`. Both take and return the models in `hnce_cli.schemas`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

# How long a CLI waits for `hnce serve`: to connect, and for an answer (a batch can be large).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0

if TYPE_CHECKING:
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
    from hnce_cli.settings import Profile

if TYPE_CHECKING:  # issue 5: year rules, annual completion, national-platform sync
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


class Backend(Protocol):
    """Everything a command can ask for. One method per user-visible action."""

    description: str

    def db_upgrade(self) -> DbInfo: ...
    def db_init(self, login: str, name: str, password: str) -> AccountOut: ...
    def login(self, login: str, password: str) -> LoginResult: ...
    def logout(self) -> None: ...
    def whoami(self) -> AccountOut: ...
    def create_account(self, data: AccountInput) -> AccountOut: ...
    def list_regions(self, level: str | None = None, parent: str | None = None
                     ) -> list[RegionOut]: ...
    def add_unit(self, data: UnitInput) -> UnitOut: ...
    def import_units(self, rows: list[UnitInput]) -> UnitImportResult: ...
    def search_units(self, query: str, region: str | None = None) -> UnitSearchResult: ...
    def show_unit(self, value: str) -> UnitOut: ...
    def register(self, data: RegistrationInput) -> ProfessionalOut: ...
    def list_pending(self, request: DecisionRequest, limit: int | None = 100,
                     offset: int = 0) -> PendingList: ...
    def decide(self, request: DecisionRequest) -> DecisionResult: ...
    def lookup(self, query: str) -> LookupResult: ...
    def list_forms(self) -> FormsOut: ...
    def load_forms(self, data: Any) -> FormsOut: ...
    def create_declaration(self, data: DeclarationInput) -> DeclarationOut: ...
    def edit_declaration(self, declaration_id: int, data: DeclarationEdit) -> DeclarationOut: ...
    def delete_declaration(self, declaration_id: int) -> DeclarationDeleted: ...
    def submit_declaration(self, declaration_id: int) -> DeclarationOut: ...
    def withdraw_declaration(self, declaration_id: int) -> DeclarationOut: ...
    def show_declaration(self, declaration_id: int) -> DeclarationOut: ...
    def list_declarations(self, query: DeclarationQuery, limit: int | None = 100,
                          offset: int = 0) -> DeclarationList: ...
    def review_declarations(self, request: ReviewRequest) -> ReviewResult: ...
    def import_declarations(self, rows: list[dict]) -> DeclarationImportResult: ...
    def declaration_attachments(self, query: DeclarationQuery) -> AttachmentBundle: ...
    # certificates: signed facts come back; batches are rendered by the CLI, one print by
    # whoever runs the services (docs/certificates.md)
    def issue_certificate(self, request: CertificateRequest) -> CertificateOut: ...
    def certificate_pdf(self, request: CertificateRequest) -> tuple[CertificateOut, bytes]:
        """Issue as issue_certificate does, and the PDF (drawn by the server in remote mode)."""
        ...
    def issue_certificates(self, request: CertificateBatchRequest) -> CertificatePage: ...
    def verify_certificate(self, code: str) -> CertificateVerification: ...
    def revoke_certificate(self, number: str, reason: str) -> CertificateOut: ...
    # year rules, annual completion 年度完成情况, national-platform sync (docs/completion.md, docs/sync.md)
    def show_rules(self, year: int | None = None) -> RulesOut: ...
    def load_rules(self, data: object) -> RulesOut: ...
    def person_completion(self, person: str | None, year: int | None = None,
                          details: bool = False) -> PersonCompletion: ...
    def completion_page(self, query: CompletionQuery, after: int | None = None,
                        limit: int = 1000) -> CompletionPage: ...
    def completion_list(self, query: CompletionQuery) -> tuple[CompletionPage, Iterator[CompletionRow]]: ...
    def completion_summary(self, query: CompletionQuery, by: str = "city") -> CompletionSummary: ...
    def import_credits(self, rows: list[dict], source: str = "national",
                       first_row: int = 2) -> SyncImportResult: ...
    def export_credits(self, year: int, after: int | None = None,
                       limit: int = 10_000) -> CreditExportPage: ...


def choose_target(profile: Profile, db_url: str | None = None) -> tuple[str | None, str | None]:
    """(API URL, database URL) by the precedence open_backend documents; remote when
    only the API is set. Also used by the fast progress view (services/progress_view.py)."""
    api = None if db_url else os.environ.get("HNCE_API_URL")
    database = db_url or (None if api else os.environ.get("HNCE_DATABASE_URL"))
    if not api and not database:
        api, database = profile.api, profile.db
    return api, database


def open_backend(profile: Profile, db_url: str | None = None) -> Backend:
    """The backend for a profile. The most explicit choice wins: --db, then
    HNCE_API_URL, then HNCE_DATABASE_URL, then the profile's API or database (a
    variable set for one script must beat whatever the current profile says)."""
    token = os.environ.get("HNCE_TOKEN") or profile.token
    api, database = choose_target(profile, db_url)
    if api and not database:
        from hnce_cli.backend.remote import RemoteBackend

        return RemoteBackend(api, token)
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.settings import default_database_url

    return LocalBackend(database or default_database_url(), token)
