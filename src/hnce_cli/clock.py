"""The one clock. Deadlines drive many rules, so tests (and demos) can set "now".

Set HNCE_NOW to an ISO timestamp (e.g. 2025-12-31T23:00:00) to freeze time, or
call `set_now()` in-process.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
_frozen: datetime | None = None


def set_now(value: datetime | None) -> None:
    """Freeze the clock at `value` (None unfreezes)."""
    global _frozen
    _frozen = value


def now() -> datetime:
    """Current time as an aware UTC datetime."""
    if _frozen is not None:
        return _frozen
    env = os.environ.get("HNCE_NOW")
    if env:
        parsed = datetime.fromisoformat(env)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=CHINA_TZ)
        return parsed.astimezone(UTC)
    return datetime.now(UTC)


def today() -> date:
    """Today's date in China (deadlines are Beijing time)."""
    return now().astimezone(CHINA_TZ).date()
