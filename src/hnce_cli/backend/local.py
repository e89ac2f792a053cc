"""The local backend: services over a SQLModel session, one transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from hnce_cli import db
from hnce_cli.errors import HnceError, Unavailable
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
from hnce_cli.services import accounts, declarations, forms, lookup, registration, units
from hnce_cli.services.context import Actor

if TYPE_CHECKING:  # issue 5
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


@cache
def redact_url(url: str) -> str:
    """A database URL without its password, safe to print (cached: the API builds a
    backend per request)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class LocalBackend:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = db.normalise_url(url)
        self.token = token
        self.description = redact_url(self.url)

    @contextmanager
    def _session(self, write: bool) -> Iterator[Session]:
        engine = db.ensure_schema(self.url)
        if write:
            engine = engine.execution_options(hnce_write=True)
        try:
            with Session(engine, expire_on_commit=False) as session:
                try:
                    yield session
                except HnceError as exc:
                    # Some refusals must still persist what led to them (a failed
                    # login's counter); everything else leaves nothing written.
                    if exc.keep_changes:
                        session.commit()
                    raise
                session.commit()
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise Unavailable("数据库正忙，请稍后重试 (database is locked)") from exc
            raise Unavailable(f"数据库不可用 (database error): {exc.orig}") from exc

    @contextmanager
    def _as_actor(self, write: bool) -> Iterator[tuple[Session, Actor]]:
        with self._session(write) as session:
            actor = accounts.actor_for_token(session, self.token)
            yield session, actor

    # --- database -------------------------------------------------------
    def db_upgrade(self) -> DbInfo:
        before, after = db.upgrade(self.url)
        return DbInfo(url=self.description, dialect=db.get_engine(self.url).dialect.name,
                      revision_before=before, revision=after)

    def db_init(self, login: str, name: str, password: str) -> AccountOut:
        with self._session(write=True) as session:
            return accounts.init_system_admin(session, login, name, password)

    # --- accounts -------------------------------------------------------
    def login(self, login: str, password: str) -> LoginResult:
        with self._session(write=True) as session:
            return accounts.login(session, login, password)

    def logout(self) -> None:
        if self.token:
            with self._session(write=True) as session:
                accounts.logout(session, self.token)

    def whoami(self) -> AccountOut:
        with self._as_actor(write=False) as (session, actor):
            return accounts.whoami(session, actor)

    def create_account(self, data: AccountInput) -> AccountOut:
        with self._as_actor(write=True) as (session, actor):
            return accounts.create_account(session, actor, data)

    # --- regions and units ---------------------------------------------
    def list_regions(self, level: str | None = None, parent: str | None = None
                     ) -> list[RegionOut]:
        with self._session(write=False) as session:
            return units.list_regions(session, level, parent)

    def add_unit(self, data: UnitInput) -> UnitOut:
        with self._as_actor(write=True) as (session, actor):
            return units.add_unit(session, actor, data)

    def import_units(self, rows: list[UnitInput]) -> UnitImportResult:
        with self._as_actor(write=True) as (session, actor):
            return units.import_units(session, actor, rows)

    def search_units(self, query: str, region: str | None = None) -> UnitSearchResult:
        with self._session(write=False) as session:
            return units.search_units(session, query, region)

    def show_unit(self, value: str) -> UnitOut:
        with self._session(write=False) as session:
            return units.show_unit(session, value)

    # --- registration ---------------------------------------------------
    def register(self, data: RegistrationInput) -> ProfessionalOut:
        with self._session(write=True) as session:
            return registration.register(session, data)

    def list_pending(self, request: DecisionRequest, limit: int | None = 100,
                     offset: int = 0) -> PendingList:
        with self._as_actor(write=False) as (session, actor):
            return registration.list_pending(session, actor, request, limit, offset)

    def decide(self, request: DecisionRequest) -> DecisionResult:
        with self._as_actor(write=True) as (session, actor):
            return registration.decide(session, actor, request)

    def lookup(self, query: str) -> LookupResult:
        """The one-statement path where it applies (PostgreSQL, support / system admin),
        else the full path, which applies every rule and raises the documented errors."""
        found = lookup.token_lookup(self.url).lookup(self.token, query)
        if found is not None:
            return found
        with self._as_actor(write=False) as (session, actor):
            return lookup.lookup(session, actor, query)

    # --- learning forms and declarations --------------------------------
    def list_forms(self) -> FormsOut:
        with self._as_actor(write=False) as (session, _actor):
            return forms.show(session)

    def load_forms(self, data: Any) -> FormsOut:
        with self._as_actor(write=True) as (session, actor):
            return forms.load(session, actor, data)

    def create_declaration(self, data: DeclarationInput) -> DeclarationOut:
        with self._as_actor(write=True) as (session, actor):
            return declarations.create(session, actor, data)

    def edit_declaration(self, declaration_id: int, data: DeclarationEdit) -> DeclarationOut:
        with self._as_actor(write=True) as (session, actor):
            return declarations.edit(session, actor, declaration_id, data)

    def delete_declaration(self, declaration_id: int) -> DeclarationDeleted:
        with self._as_actor(write=True) as (session, actor):
            return declarations.delete_draft(session, actor, declaration_id)

    def submit_declaration(self, declaration_id: int) -> DeclarationOut:
        with self._as_actor(write=True) as (session, actor):
            return declarations.submit(session, actor, declaration_id)

    def withdraw_declaration(self, declaration_id: int) -> DeclarationOut:
        with self._as_actor(write=True) as (session, actor):
            return declarations.withdraw(session, actor, declaration_id)

    def show_declaration(self, declaration_id: int) -> DeclarationOut:
        with self._as_actor(write=False) as (session, actor):
            return declarations.show(session, actor, declaration_id)

    def list_declarations(self, query: DeclarationQuery, limit: int | None = 100,
                          offset: int = 0) -> DeclarationList:
        with self._as_actor(write=False) as (session, actor):
            return declarations.list_declarations(session, actor, query, limit, offset)

    def review_declarations(self, request: ReviewRequest) -> ReviewResult:
        with self._as_actor(write=True) as (session, actor):
            return declarations.review(session, actor, request)

    def import_declarations(self, rows: list[dict]) -> DeclarationImportResult:
        with self._as_actor(write=True) as (session, actor):
            return declarations.import_rows(session, actor, rows)

    def declaration_attachments(self, query: DeclarationQuery) -> AttachmentBundle:
        with self._as_actor(write=False) as (session, actor):
            return declarations.attachment_bundle(session, actor, query)

    # --- certificates (docs/certificates.md) -----------------------------
    def issue_certificate(self, request: CertificateRequest) -> CertificateOut:
        from hnce_cli.services import certificates

        with self._as_actor(write=True) as (session, actor):
            return certificates.issue(session, actor, request)

    def certificate_pdf(self, request: CertificateRequest) -> tuple[CertificateOut, bytes]:
        """Issue (committed first: a font error must not undo the record), then draw the PDF here.
        `hnce serve` answers POST /certificates/pdf with this, in a process that keeps fpdf2 loaded."""
        from hnce_cli.certificates.batch import render_issued

        cert = self.issue_certificate(request)
        return cert, render_issued(cert)

    def issue_certificates(self, request: CertificateBatchRequest) -> CertificatePage:
        from hnce_cli.services import certificates

        with self._as_actor(write=True) as (session, actor):
            return certificates.batch(session, actor, request)

    def verify_certificate(self, code: str) -> CertificateVerification:
        """Public: anyone holding a certificate may check it, no login needed."""
        from hnce_cli.services import certificates

        with self._session(write=False) as session:
            return certificates.verify(session, code)

    def revoke_certificate(self, number: str, reason: str) -> CertificateOut:
        from hnce_cli.services import certificates

        with self._as_actor(write=True) as (session, actor):
            return certificates.revoke(session, actor, number, reason)

    # --- year rules, annual completion, national-platform sync (issue 5) --
    def show_rules(self, year: int | None = None) -> RulesOut:
        from hnce_cli.services import rules

        with self._as_actor(write=False) as (session, _actor):
            return rules.show(session, year)

    def load_rules(self, data: object) -> RulesOut:
        from hnce_cli.services import rules

        with self._as_actor(write=True) as (session, actor):
            return rules.load(session, actor, data)

    def person_completion(self, person: str | None, year: int | None = None,
                          details: bool = False) -> PersonCompletion:
        from hnce_cli.services import completion

        with self._as_actor(write=False) as (session, actor):
            return completion.person_view(session, actor, person, year, details)

    def completion_page(self, query: CompletionQuery, after: int | None = None,
                        limit: int = 1000) -> CompletionPage:
        from hnce_cli.services import completion

        with self._as_actor(write=False) as (session, actor):
            return completion.page(session, actor, query, after, limit)

    def completion_list(self, query: CompletionQuery) -> tuple[CompletionPage, Iterator[CompletionRow]]:
        """The header now (errors raise here), the rows as one streamed query."""
        from hnce_cli.services import completion

        def stream() -> Iterator:
            with self._as_actor(write=False) as (session, actor):
                header, rows = completion.list_rows(session, actor, query)
                yield header
                yield from rows

        rows = stream()
        return next(rows), rows

    def completion_summary(self, query: CompletionQuery, by: str = "city") -> CompletionSummary:
        from hnce_cli.services import completion

        with self._as_actor(write=False) as (session, actor):
            return completion.summary(session, actor, query, by)

    def import_credits(self, rows: list[dict], source: str = "national",
                       first_row: int = 2) -> SyncImportResult:
        from hnce_cli.services import sync

        with self._as_actor(write=True) as (session, actor):
            return sync.import_rows(session, actor, rows, source, first_row)

    def export_credits(self, year: int, after: int | None = None,
                       limit: int = 10_000) -> CreditExportPage:
        from hnce_cli.services import sync

        with self._as_actor(write=False) as (session, actor):
            return sync.export_page(session, actor, year, after, limit)
