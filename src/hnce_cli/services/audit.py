"""The audit trail: one row per state change, written in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hnce_cli import clock

if TYPE_CHECKING:  # imported where rows are written: `dump` serves the paths without SQLAlchemy too
    from sqlmodel import Session

    from hnce_cli.services.context import Actor


def dump(value: dict[str, Any] | None) -> str | None:
    """Audit before/after as the trail stores them (sorted keys, Chinese kept); the one
    encoding for row-by-row and set-based (services/bulk.py) audit writes alike."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    record_many(session, actor, action, subject_type, [(subject_id, before, after)])


def record_many(
    session: Session,
    actor: Actor | None,
    action: str,
    subject_type: str,
    changes: Iterable[tuple[str | int, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """Insert audit rows in one executemany; batches of 100k stay fast."""
    at = clock.now()
    actor_id = actor.account_id if actor else None
    cache: dict[int, str | None] = {}

    def dumped(value: dict[str, Any] | None) -> str | None:
        # Batch changes share before/after dicts; serialise each distinct one once.
        key = id(value)
        if key not in cache:
            cache[key] = dump(value)
        return cache[key]

    rows = [
        {
            "at": at,
            "actor_id": actor_id,
            "action": action,
            "subject_type": subject_type,
            "subject_id": str(subject_id),
            "before": dumped(before),
            "after": dumped(after),
        }
        for subject_id, before, after in changes
    ]
    if rows:
        from sqlalchemy import insert

        from hnce_cli.models import AuditLog

        session.execute(insert(AuditLog), rows)
    return len(rows)
