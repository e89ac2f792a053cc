"""The one clock. Deadlines drive many rules, so tests (and demos) can set "now".

`HNCE_NOW=2025-12-31T23:00:00` (Beijing time unless it names a zone) freezes it for a
process; `clock.frozen(t)` for a block of code (a test, one command run in-process).
Every "now" of the services comes from `now()` here, stored as UTC, shown in Beijing time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, NamedTuple

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock(NamedTuple):
    """A clock that is either the system's or frozen at one moment."""

    frozen_at: datetime | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Clock:
        text = env.get("HNCE_NOW")
        if not text:
            return SYSTEM
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=CHINA_TZ)
        return cls(parsed.astimezone(UTC))

    def now(self) -> datetime:
        return self.frozen_at if self.frozen_at is not None else datetime.now(UTC)


SYSTEM = Clock()
# The clock of the code running now: a command's (its invocation sets it), a test's
# (`frozen`), or else the process's (HNCE_NOW or the system clock).
_current: ContextVar[Clock | None] = ContextVar("hnce_clock", default=None)


def current() -> Clock:
    return _current.get() or Clock.from_env(os.environ)


def now() -> datetime:
    """Current time as an aware UTC datetime."""
    return current().now()


def today() -> date:
    """Today's date in China (deadlines are Beijing time)."""
    return now().astimezone(CHINA_TZ).date()


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Run a block with this clock (restored afterwards)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


def frozen(value: datetime) -> Any:
    """Run a block at a fixed moment (a naive value is Beijing time)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TZ)
    return using(Clock(value.astimezone(UTC)))
