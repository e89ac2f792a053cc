"""The audit trail: one row per state change (who, when, before, after), written in the
same transaction as the change, so there is never a change without its record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hnce_cli import clock

if TYPE_CHECKING:
    from hnce_cli.services.context import Actor
    from hnce_cli.store import Db

# The trail of a batch: many rows in one statement (record_many); one change is one model row.
_INSERT = ("INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
           "VALUES (:at, :actor, :action, :subject_type, :subject_id, :before, :after)")


def dump(value: dict[str, Any] | None) -> str | None:
    """Audit before/after as the trail stores them (sorted keys, Chinese kept); the one
    encoding for row-by-row and set-based audit writes alike."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(db: Db, actor: Actor | None, action: str, subject_type: str, subject_id: str | int,
           before: dict[str, Any] | None, after: dict[str, Any] | None, at: datetime | None = None) -> None:
    from hnce_cli.models import AuditLog

    db.add(AuditLog(at=at or clock.now(), actor_id=actor.account_id if actor else None, action=action,
                    subject_type=subject_type, subject_id=str(subject_id), before=dump(before), after=dump(after)))


def record_many(db: Db, actor: Actor | None, action: str, subject_type: str,
                changes: Iterable[tuple[str | int, dict[str, Any] | None, dict[str, Any] | None]]) -> int:
    """One row per change in one executemany (changes of a batch share before/after dicts:
    each distinct one is serialised once)."""
    at = clock.now()
    actor_id = actor.account_id if actor else None
    cache: dict[int, str | None] = {}

    def dumped(value: dict[str, Any] | None) -> str | None:
        key = id(value)
        if key not in cache:
            cache[key] = dump(value)
        return cache[key]

    rows = [{"at": at, "actor": actor_id, "action": action, "subject_type": subject_type,
             "subject_id": str(subject_id), "before": dumped(before), "after": dumped(after)}
            for subject_id, before, after in changes]
    db.many(_INSERT, rows)
    return len(rows)


def record_for_ids(db: Db, actor: Actor | None, action: str, subject_type: str, ids: Sequence[int],
                   before: dict[str, Any] | None, after: dict[str, Any] | None, at: datetime) -> int:
    """One row per id with the same before/after, in one INSERT … SELECT inside the database:
    a batch of 100,000 decisions writes its trail without 100,000 parameter sets."""
    if not ids:
        return 0
    from hnce_cli.store import json_list

    db.execute("INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
               f"SELECT :at, :actor, :action, :subject_type, {db.text_key('x.value')}, :before, :after "
               f"FROM {db.json_values('ids', 'BIGINT')} AS x",
               at=at, actor=actor.account_id if actor else None, action=action, subject_type=subject_type,
               before=dump(before), after=dump(after), ids=json_list(ids))
    return len(ids)
