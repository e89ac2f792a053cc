"""The local backend: the services on a database, one transaction per call.

Every method is one service call inside `_read` or `_write`: a transaction on the
database (hnce_cli.store), the caller resolved from the session token, the service
run, and the transaction committed — or rolled back on an error (a refused login
still keeps its failure count). `hnce serve` answers every route with this class, so
a rule lives in a service and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from hnce_cli import store

if TYPE_CHECKING:
    from hnce_cli import schemas as s
    from hnce_cli.services.context import Actor
    from hnce_cli.store import Db

T = TypeVar("T")


class LocalBackend:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.target = store.target(url)
        self.url = self.target.url
        self.token = token
        self.description = self.target.shown

    # --- one transaction per call ---------------------------------------------------------
    def _read(self, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A read as the session's holder: service(db, actor, ...)."""
        with store.transaction(self.url) as db:
            return service(db, self._actor(db), *args, **kwargs)

    def _write(self, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A change as the session's holder: service(db, actor, ...), all or nothing."""
        with store.transaction(self.url, write=True) as db:
            return service(db, self._actor(db), *args, **kwargs)

    def _public(self, service: Callable[..., T], *args: Any, write: bool = False, **kwargs: Any) -> T:
        """Anyone, no login: service(db, ...) (registering, unit search, verifying a certificate)."""
        with store.transaction(self.url, write=write) as db:
            return service(db, *args, **kwargs)

    def _actor(self, db: Db) -> Actor:
        from hnce_cli.services.accounts import actor_for_token

        return actor_for_token(db, self.token)

    # --- database -------------------------------------------------------------------------
    def ready(self) -> None:
        """Open the database once: a fresh SQLite file is migrated, an outdated one refused
        (`hnce serve` checks before its workers start)."""
        with store.transaction(self.url):
            pass

    def db_upgrade(self) -> s.DbInfo:
        from hnce_cli.schemas import DbInfo
        from hnce_cli.store import migrate

        before, after = migrate.upgrade(self.url)
        store.close(self.url)
        return DbInfo(url=self.description, dialect=self.target.dialect, revision_before=before, revision=after)

    def db_init(self, login: str, name: str, password: str) -> s.AccountOut:
        from hnce_cli.services import accounts

        return self._public(accounts.init_system_admin, login, name, password, write=True)

    # --- accounts -------------------------------------------------------------------------
    def login(self, login: str, password: str) -> s.LoginResult:
        from hnce_cli.services import accounts

        return self._public(accounts.login, login, password, write=True)

    def logout(self) -> s.LoggedOut:
        from hnce_cli.services import accounts

        return self._write(accounts.logout, self.token)

    def whoami(self) -> s.AccountOut:
        from hnce_cli.services import accounts

        return self._read(accounts.whoami)

    def create_account(self, data: s.AccountInput) -> s.AccountOut:
        from hnce_cli.services import accounts

        return self._write(accounts.create_account, data)

    # --- regions and units ----------------------------------------------------------------
    def list_regions(self, level: str | None = None, parent: str | None = None) -> list[s.RegionOut]:
        from hnce_cli.services import units

        return self._public(units.list_regions, level, parent)

    def add_unit(self, data: s.UnitInput) -> s.UnitOut:
        from hnce_cli.services import units

        return self._write(units.add_unit, data)

    def import_units(self, rows: list[s.UnitInput]) -> s.UnitImportResult:
        from hnce_cli.services import units

        return self._write(units.import_units, rows)

    def search_units(self, query: str, region: str | None = None) -> s.UnitSearchResult:
        from hnce_cli.services import units

        return self._public(units.search_units, query, region)

    def show_unit(self, value: str) -> s.UnitOut:
        from hnce_cli.services import units

        return self._public(units.show_unit, value)

    # --- registration ---------------------------------------------------------------------
    def register(self, data: s.RegistrationInput) -> s.ProfessionalOut:
        from hnce_cli.services import registration

        return self._public(registration.register, data, write=True)

    def list_pending(self, request: s.RegistrationQuery, limit: int | None = 100, offset: int = 0) -> s.PendingList:
        from hnce_cli.services import registration

        return self._read(registration.list_pending, request, limit, offset)

    def decide(self, request: s.DecisionRequest) -> s.DecisionResult:
        from hnce_cli.services import review

        return self._write(review.decide, "registration", request)

    def lookup(self, query: str) -> s.LookupResult:
        from hnce_cli.services import lookup

        return self._read(lookup.lookup, query)

    # --- what awaits a decider --------------------------------------------------------------
    def inbox(self, limit: int = 5) -> s.Inbox:
        from hnce_cli.services import review

        return self._read(review.inbox, limit)

    def awaiting(self, kind: str, limit: int | None = 100, offset: int = 0) -> s.InboxQueue:
        from hnce_cli.services import review

        return self._read(review.awaiting, kind, limit, offset)

    def review(self, kind: str, request: Any) -> Any:
        """Decide items of any review workflow (the request in its workflow's shape, or as JSON)."""
        from hnce_cli.services import review

        return self._write(review.decide_any, kind, request)

    # --- learning forms and declarations ----------------------------------------------------
    def list_forms(self) -> s.FormsOut:
        from hnce_cli.services import forms

        return self._read(lambda db, _actor: forms.show(db))

    def load_forms(self, data: Any) -> s.FormsOut:
        from hnce_cli.services import forms

        return self._write(forms.load, data)

    def create_declaration(self, data: s.DeclarationInput) -> s.DeclarationOut:
        from hnce_cli.services import declarations

        return self._write(declarations.create, data)

    def edit_declaration(self, declaration_id: int, data: s.DeclarationEdit) -> s.DeclarationOut:
        from hnce_cli.services import declarations

        return self._write(declarations.edit, declaration_id, data)

    def delete_declaration(self, declaration_id: int) -> s.DeclarationDeleted:
        from hnce_cli.services import declarations

        return self._write(declarations.delete_draft, declaration_id)

    def submit_declaration(self, declaration_id: int) -> s.DeclarationOut:
        from hnce_cli.services import declarations

        return self._write(declarations.submit, declaration_id)

    def withdraw_declaration(self, declaration_id: int) -> s.DeclarationOut:
        from hnce_cli.services import declarations

        return self._write(declarations.withdraw, declaration_id)

    def show_declaration(self, declaration_id: int) -> s.DeclarationOut:
        from hnce_cli.services import declarations

        return self._read(declarations.show, declaration_id)

    def list_declarations(self, query: s.DeclarationQuery, limit: int | None = 100,
                          offset: int = 0) -> s.DeclarationList:
        from hnce_cli.services import declarations

        return self._read(declarations.list_declarations, query, limit, offset)

    def review_declarations(self, request: s.ReviewRequest) -> s.ReviewResult:
        from hnce_cli.services import review

        return self._write(review.decide, "declaration", request)

    def import_declarations(self, rows: list[dict]) -> s.DeclarationImportResult:
        from hnce_cli.services import declarations

        return self._write(declarations.import_rows, rows)

    def declaration_attachments(self, query: s.DeclarationQuery) -> s.AttachmentBundle:
        from hnce_cli.services import declarations

        return self._read(declarations.attachment_bundle, query)

    # --- certificates (docs/certificates.md) ------------------------------------------------
    def issue_certificate(self, request: s.CertificateRequest) -> s.CertificateOut:
        from hnce_cli.services import certificates

        return self._write(certificates.issue, request)

    def certificate_pdf(self, request: s.CertificateRequest) -> tuple[s.CertificateOut, bytes]:
        """Issue (committed first: a font error must not undo the record), then draw the PDF
        here. `hnce serve` answers POST /certificates/pdf with this, in a process that keeps
        fpdf2 loaded."""
        from hnce_cli.certificates.issued import render_issued

        cert = self.issue_certificate(request)
        return cert, render_issued(cert)

    def issue_certificates(self, request: s.CertificateBatchRequest) -> s.CertificatePage:
        from hnce_cli.services import certificates

        return self._write(certificates.batch, request)

    def verify_certificate(self, code: str) -> s.CertificateVerification:
        """Public: anyone holding a certificate may check it, no login needed."""
        from hnce_cli.services import certificates

        return self._public(certificates.verify, code)

    def revoke_certificate(self, number: str, reason: str) -> s.CertificateOut:
        from hnce_cli.services import certificates

        return self._write(certificates.revoke, number, reason)

    # --- year rules, annual completion, national-platform sync --------------------------------
    def show_rules(self, year: int | None = None) -> s.RulesOut:
        from hnce_cli.services import rules

        return self._read(lambda db, _actor: rules.show(db, year))

    def load_rules(self, data: object) -> s.RulesOut:
        from hnce_cli.services import rules

        return self._write(rules.load, data)

    def person_completion(self, person: str | None, year: int | None = None,
                          details: bool = False) -> s.PersonCompletion:
        from hnce_cli.services import completion

        return self._read(completion.person_view, person, year, details)

    def completion_page(self, query: s.CompletionQuery, after: int | None = None,
                        limit: int = 1000) -> s.CompletionPage:
        from hnce_cli.services import completion

        return self._read(completion.page, query, after, limit)

    def completion_list(self, query: s.CompletionQuery) -> tuple[s.CompletionPage, Iterator[s.CompletionRow]]:
        """The header now (errors raise here), the rows as one streamed query."""
        from hnce_cli.services import completion

        def stream() -> Iterator[Any]:
            with store.transaction(self.url) as db:
                header, rows = completion.list_rows(db, self._actor(db), query)
                yield header
                yield from rows

        rows = stream()
        return next(rows), rows

    def completion_summary(self, query: s.CompletionQuery, by: str = "city") -> s.CompletionSummary:
        from hnce_cli.services import completion

        return self._read(completion.summary, query, by)

    def import_credits(self, rows: list[dict], source: str = "national", first_row: int = 2) -> s.SyncImportResult:
        from hnce_cli.services import sync

        return self._write(sync.import_rows, rows, source, first_row)

    def export_credits(self, year: int, after: int | None = None, limit: int = 10_000) -> s.CreditExportPage:
        from hnce_cli.services import sync

        return self._read(sync.export_page, year, after, limit)
