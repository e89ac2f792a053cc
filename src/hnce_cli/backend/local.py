"""The local backend: the services on a database, one transaction per call.

Every method is one service call inside `_read` or `_write`: a transaction on the
database (hnce_cli.store), the caller resolved from the session token, the service
run, and the transaction committed — or rolled back on an error (a refused login
still keeps its failure count). `hnce serve` answers every route with this class, so
a rule lives in a service and nowhere else.

Which service a method runs, and whether it writes or is public, is one row of the
operations table (hnce_cli.operations): those methods are made from it. The few that
are more than one call (migrating, a streamed list, a certificate drawn here) are
written out below.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from functools import cache, partial
from typing import TYPE_CHECKING, Any, TypeVar

from hnce_cli import store
from hnce_cli.backend import Backend
from hnce_cli.operations import MAX_ID, OPERATIONS, Operation

if TYPE_CHECKING:
    from hnce_cli import schemas as s
    from hnce_cli.services.context import Actor
    from hnce_cli.store import Db

T = TypeVar("T")


def _method(op: Operation) -> Callable[..., Any]:
    """The Backend method of one row: its arguments bound by the protocol's signature, then
    service(db, actor, *arguments) in a reader's or a writer's transaction (public rows:
    service(db, *arguments), no login; rows marked `client` also get client=the caller's
    address). A row's service depends on the database and its arguments alone, so a change
    the database aborted (a deadlock) is run again whole (store.retried)."""
    from importlib import import_module

    module, function = op.service.split(":")
    bounds = _bounds(op)

    def method(self: LocalBackend, *args: Any, **kwargs: Any) -> Any:
        bound = _signature(op.name).bind(self, *args, **kwargs)
        bound.apply_defaults()
        if bounds:
            _check_bounds(bounds, bound.arguments)
        arguments = list(bound.arguments.values())[1:]
        service = getattr(import_module(f"hnce_cli.services.{module}"), function)
        extra = {"client": self.client} if op.client else {}
        if op.public:
            run = partial(self._public, service, *arguments, write=op.write, **extra)
        else:
            run = partial(self._write if op.write else self._read, service, *arguments, **extra)
        return store.retried(run) if op.write else run()

    method.__name__ = op.name
    method.__doc__ = getattr(Backend, op.name).__doc__
    return method


def _bounds(op: Operation) -> list[tuple[str, int | None, int]]:
    """(argument, lowest, highest) of a row's whole-number arguments, from the table's bounds:
    what the API refuses by name (422), a local run refuses by name too (exit 2), instead of
    a number no database integer holds (99999999999999999999) failing as a bug. A local read
    has no page size: a `limit` above what the database holds means every row, as a remote
    client that collects page after page reads it."""
    found = []
    for p in op.params:
        limits = p.limits()
        if "." in p.arg or not ({"ge", "le"} & limits.keys()):
            continue  # a query model's field: its schema checks it
        highest = MAX_ID if p.name == "limit" else limits.get("le", MAX_ID)
        found.append((p.arg, limits.get("ge"), highest))
    return found


def _check_bounds(bounds: list[tuple[str, int | None, int]], arguments: dict[str, Any]) -> None:
    from hnce_cli.errors import ValidationFailed

    for name, lowest, highest in bounds:
        value = arguments.get(name)
        if name == "limit" and isinstance(value, int) and value > highest:
            arguments[name] = highest
        elif isinstance(value, int) and not isinstance(value, bool) \
                and not ((lowest is None or value >= lowest) and value <= highest):
            span = f"{lowest}–{highest}" if lowest is not None else f"不大于 {highest}"
            raise ValidationFailed.one(name, f"须为 {span} 的整数，实际为 {value} (out of range)",
                                       f"give a whole number from {lowest} to {highest}" if lowest is not None
                                       else f"give a whole number up to {highest}")


@cache
def _signature(name: str) -> inspect.Signature:
    """The protocol's signature of a method, read when the method is first called."""
    return inspect.signature(getattr(Backend, name))


def _from_operations(cls: type) -> type:
    """Give the class a method for every row of the operations table it does not write out."""
    for op in OPERATIONS.values():
        if op.name not in cls.__dict__:
            setattr(cls, op.name, _method(op))
    return cls


@_from_operations
class LocalBackend:
    def __init__(self, url: str, token: str | None = None, client: str | None = None) -> None:
        self.target = store.target(url)
        self.url = self.target.url
        self.token = token
        self.description = self.target.shown
        # The caller's network address as `hnce serve` saw it; None for a command run here.
        # Logins are throttled per account and address (services/accounts.py).
        self.client = client

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
        """Open the database once: a fresh SQLite file is migrated, an outdated one refused,
        and a host without the key its certificates were signed with is refused (`hnce serve`
        checks before its workers start)."""
        from hnce_cli.services import certificates

        with store.transaction(self.url) as db:
            certificates.check_signing_key(db)

    def db_upgrade(self) -> s.DbInfo:
        from hnce_cli.schemas import DbInfo
        from hnce_cli.store import migrate

        before, after = migrate.upgrade(self.url)
        store.close(self.url)
        return DbInfo(url=self.description, dialect=self.target.dialect, revision_before=before, revision=after)

    def db_init(self, login: str, name: str, password: str) -> s.AccountOut:
        from hnce_cli.services import accounts

        return self._public(accounts.init_system_admin, login, name, password, write=True)

    # --- what is more than one service call in one transaction ----------------------------
    def logout(self) -> s.LoggedOut:
        from hnce_cli.services import accounts

        return self._write(accounts.logout, self.token)

    # --- certificates (docs/certificates.md) ------------------------------------------------
    def certificate_pdf(self, request: s.CertificateRequest) -> tuple[s.CertificateOut, bytes]:
        """Read the recorded certificate, or issue it (committed first: a font error must not
        undo the record), then draw the PDF here. `hnce serve` answers POST /certificates/pdf
        with this, in a process that keeps fpdf2 loaded."""
        from hnce_cli.certificates.issued import render_issued
        from hnce_cli.services import certificates

        cert = self._read(certificates.recorded, request) or self.issue_certificate(request)  # type: ignore[attr-defined]
        return cert, render_issued(cert)

    def import_credits(self, rows: Iterable[dict], source: str = "national", first_row: int = 2
                       ) -> s.SyncImportResult:
        """A national-platform (or online, base) import: who may, asked first; then every row
        checked as `rows` streams, outside any transaction (a million rows of a file or an
        upload are never a list here, and the SQLite write lock is not held while a file is
        read); then the good rows written in one transaction — all of them, or none."""
        from hnce_cli.services import sync

        self._read(sync.may_import, source)
        checked = sync.check_rows(rows, source, first_row)
        try:
            return self._write(sync.write_checked, checked)
        finally:
            checked.close()

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

