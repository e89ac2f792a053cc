"""Shapes that cross the backend boundary: what services return, what --json prints and
what the HTTP API sends. Changing a field here is an API change.

The shapes live in modules by subject and are loaded when first named
(`from hnce_cli.schemas import AccountOut` loads the accounts module alone): building
every model at once would cost each command a few dozen milliseconds it does not need.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "AccountInput": "accounts",
    "AccountOut": "accounts",
    "AttachmentBundle": "declarations",
    "AttachmentFile": "declarations",
    "AttachmentIn": "declarations",
    "AttachmentOut": "declarations",
    "BaseModel": "_base",
    "CertificateBatchRequest": "certificates",
    "CertificateOut": "certificates",
    "CertificatePage": "certificates",
    "CertificateRequest": "certificates",
    "CertificateRevokeRequest": "certificates",
    "CertificateSkip": "certificates",
    "CertificateVerification": "certificates",
    "CompletionGroup": "completion",
    "CompletionPage": "completion",
    "CompletionQuery": "completion",
    "CompletionRow": "rows",
    "CompletionRowOut": "completion",
    "CompletionSummary": "completion",
    "CompletionYear": "completion",
    "CreditExportPage": "sync",
    "CreditExportRow": "sync",
    "CreditRecordOut": "completion",
    "CreditRule": "forms",
    "Credits": "_base",
    "DbInfo": "accounts",
    "DbInt": "_base",
    "DecisionItem": "registration",
    "DecisionRequest": "registration",
    "DecisionResult": "registration",
    "DeclarationDeleted": "declarations",
    "DeclarationEdit": "declarations",
    "DeclarationEventOut": "declarations",
    "DeclarationImportRequest": "declarations",
    "DeclarationImportResult": "declarations",
    "DeclarationInput": "declarations",
    "DeclarationList": "declarations",
    "DeclarationOut": "declarations",
    "DeclarationQuery": "declarations",
    "FieldValue": "_base",
    "FormField": "forms",
    "FormsOut": "forms",
    "Health": "accounts",
    "Inbox": "reviews",
    "InboxItem": "reviews",
    "InboxQueue": "reviews",
    "LearningForm": "forms",
    "LoggedOut": "accounts",
    "LoginLock": "accounts",
    "LoginLocks": "accounts",
    "LoginRequest": "accounts",
    "LoginResult": "accounts",
    "LookupResult": "people",
    "PendingList": "people",
    "PersonCompletion": "completion",
    "ProfessionalOut": "people",
    "RegionOut": "units",
    "RegistrationInput": "registration",
    "RegistrationQuery": "registration",
    "ReviewItem": "declarations",
    "ReviewRequest": "declarations",
    "ReviewResult": "declarations",
    "RulesOut": "rules",
    "SyncImportRequest": "sync",
    "SyncImportResult": "sync",
    "SyncProblem": "sync",
    "TextCheck": "checks",
    "TextFinding": "checks",
    "UnitImportResult": "units",
    "UnitInput": "units",
    "UnitOut": "units",
    "UnitSearchResult": "units",
    "UnlockRequest": "accounts",
    "Unlocked": "accounts",
    "Year": "_base",
    "YearRulesOut": "rules",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
