"""Domain errors and the exit codes they map to.

Services raise these and never print; the CLI (and the HTTP layer) map each one
to a message, a stable machine-readable code and an exit code in one place.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar, NamedTuple


class ExitCode(IntEnum):
    """Documented exit codes (see docs/exit-codes.md); stable for scripts."""

    OK = 0
    ERROR = 1  # unexpected internal error (a bug: please report it)
    USAGE = 2  # bad usage or invalid input; nothing was written
    NOT_FOUND = 3
    PERMISSION = 4  # logged in, but the role or scope does not allow it
    CONFLICT = 5  # the item changed under you (e.g. already decided by someone else)
    AUTH = 6  # login required, session expired, wrong account or password, locked
    PARTIAL = 7  # a batch finished but some items failed
    UNAVAILABLE = 8  # the server or database could not be reached
    NOT_GENUINE = 9  # `hnce certificate verify`: altered, revoked or unknown certificate


class FieldProblem(NamedTuple):
    """One invalid field: which one, what is wrong, and how to fix it."""

    field: str
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "fix": self.fix}


class HnceError(Exception):
    """Base of every expected error; carries a stable `code` for JSON and HTTP.

    Plain classes, not dataclasses: this module loads on every `hnce --help`.
    """

    code: ClassVar[str] = "error"
    exit_code: ClassVar[ExitCode] = ExitCode.ERROR
    http_status: ClassVar[int] = 500
    # When True the backend commits the transaction before passing the error on.
    keep_changes: ClassVar[bool] = False

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(HnceError):
    """Input that breaks a rule; lists every bad field at once, not just the first."""

    def __init__(self, message: str, details: dict[str, Any] | None = None, *,
                 problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message, details)
        self.problems = problems or []

    code: ClassVar[str] = "validation"
    exit_code: ClassVar[ExitCode] = ExitCode.USAGE
    http_status: ClassVar[int] = 422

    @classmethod
    def one(cls, field_name: str, message: str, fix: str | None = None) -> ValidationFailed:
        return cls(f"{field_name}: {message}", problems=[FieldProblem(field_name, message, fix)])

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["problems"] = [p.to_dict() for p in self.problems]
        return data


class NotFound(HnceError):
    code: ClassVar[str] = "not_found"
    exit_code: ClassVar[ExitCode] = ExitCode.NOT_FOUND
    http_status: ClassVar[int] = 404


class PermissionDenied(HnceError):
    code: ClassVar[str] = "permission_denied"
    exit_code: ClassVar[ExitCode] = ExitCode.PERMISSION
    http_status: ClassVar[int] = 403


class Conflict(HnceError):
    code: ClassVar[str] = "conflict"
    exit_code: ClassVar[ExitCode] = ExitCode.CONFLICT
    http_status: ClassVar[int] = 409


class AuthRequired(HnceError):
    """No session, or it expired or was revoked: log in again."""

    code: ClassVar[str] = "auth_required"
    exit_code: ClassVar[ExitCode] = ExitCode.AUTH
    http_status: ClassVar[int] = 401


class LoginFailed(HnceError):
    """Login refused; the message is the platform's own (账户或密码错误 …)."""

    code: ClassVar[str] = "login_failed"
    exit_code: ClassVar[ExitCode] = ExitCode.AUTH
    http_status: ClassVar[int] = 401


class Unsupported(HnceError):
    """The action exists, but not in this mode (e.g. migrations through the API)."""

    code: ClassVar[str] = "unsupported"
    exit_code: ClassVar[ExitCode] = ExitCode.USAGE
    http_status: ClassVar[int] = 400


class TooLarge(HnceError):
    """More than one request may carry or one answer may hold: a body over the server's limit,
    an export over its cap. Nothing was done; send less (smaller pieces, a narrower query)."""

    code: ClassVar[str] = "too_large"
    exit_code: ClassVar[ExitCode] = ExitCode.USAGE
    http_status: ClassVar[int] = 413


class Unavailable(HnceError):
    code: ClassVar[str] = "unavailable"
    exit_code: ClassVar[ExitCode] = ExitCode.UNAVAILABLE
    http_status: ClassVar[int] = 503


class SchemaOutdated(HnceError):
    """The database is older than this hnce; an operator must migrate it
    (`hnce db upgrade`). Raised by `db.ensure_schema`, also behind the API."""

    code: ClassVar[str] = "schema_outdated"
    exit_code: ClassVar[ExitCode] = ExitCode.UNAVAILABLE
    http_status: ClassVar[int] = 503


class InternalError(HnceError):
    """A bug: something hnce did not expect. Short message; the traceback with HNCE_DEBUG=1.
    Its code is `error`, as documented for exit 1 (docs/exit-codes.md), locally and over HTTP."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[ExitCode] = ExitCode.ERROR
    http_status: ClassVar[int] = 500


def internal_error(exc: BaseException) -> InternalError:
    """A bug as the CLI reports it: what went wrong in one line, a driver's quoted address
    without its password."""
    from hnce_cli.masking import hide_password

    return InternalError(f"内部错误 (internal error): {type(exc).__name__}: {hide_password(str(exc))}\n"
                         "Run again with HNCE_DEBUG=1 for the traceback and report it.",
                         {"type": type(exc).__name__})


def server_internal_error(exc: BaseException) -> InternalError:
    """A bug as the API answers it: the kind of error only — its text may quote SQL, values
    or addresses, and the traceback is in the server's log."""
    return InternalError("服务器内部错误 (internal server error): the details are in the server's log; "
                         "please report the time of the request", {"type": type(exc).__name__})


ERRORS_BY_CODE: dict[str, type[HnceError]] = {
    cls.code: cls
    for cls in (
        HnceError,
        ValidationFailed,
        NotFound,
        PermissionDenied,
        Conflict,
        AuthRequired,
        LoginFailed,
        Unsupported,
        TooLarge,
        Unavailable,
        SchemaOutdated,
        InternalError,
    )
}


def error_from_dict(data: dict[str, Any]) -> HnceError:
    """Rebuild a domain error from its JSON form (used by the HTTP client)."""
    cls = ERRORS_BY_CODE.get(data.get("code", ""), HnceError)
    message = data.get("message", "error")
    details = data.get("details") or {}
    if cls is ValidationFailed:
        problems = [FieldProblem(**p) for p in data.get("problems", [])]
        return ValidationFailed(message, details, problems=problems)
    return cls(message, details)


def from_pydantic(exc: Exception) -> ValidationFailed:
    """A pydantic ValidationError as our own, naming each field."""
    problems = []
    for err in exc.errors():  # type: ignore[attr-defined]
        where = ".".join(str(p) for p in err.get("loc", ())) or "input"
        allowed = err.get("ctx", {}).get("expected")
        problems.append(FieldProblem(where, err.get("msg", "invalid"),
                                     f"expected {allowed}" if allowed else None))
    fields = ", ".join(p.field for p in problems)
    return ValidationFailed(f"输入有误 (invalid input): {fields}", problems=problems)
