"""uvicorn's HTTP protocol with a deadline for a request's headers, and a cap on their size.

uvicorn closes an idle connection between two requests (`timeout_keep_alive`), but it sets
no timer while a request's line and headers arrive: a client that connects and sends
nothing, or one header byte every few seconds, held its connection (and the worker's file
descriptor) for ever, and httptools keeps every header it is sent. Here a connection that
has not delivered a whole request head within HNCE_HEADER_TIMEOUT seconds — counted from
the connection, or from the first byte of the next request on a kept-alive one — is closed,
and so is one whose head grows past MAX_HEADER_BYTES. The body's own time-out is the
guard's (server/guard.py): only the route knows when it waits for the body.

`hnce serve` passes this class to uvicorn (`http=`); the workers import it by name.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from hnce_cli.settings import MAX_HEADER_BYTES, ServerLimits

_Base: Any = AutoHTTPProtocol  # httptools when installed (uvicorn[standard]), else h11


@cache
def head_timeout() -> float:
    """HNCE_HEADER_TIMEOUT, read once per worker (`hnce serve` checked it before starting)."""
    return ServerLimits.from_env().header_timeout


class GuardedHTTPProtocol(_Base):  # type: ignore[misc]
    """AutoHTTPProtocol that closes a connection whose request head is late or too large."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timeout = head_timeout()
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    def _awaiting_head(self) -> bool:
        """No request is being answered: whatever arrives is the head of the next one."""
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_late)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._head_bytes = 0

    def _head_late(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers did not arrive in %gs", self._head_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never says anything is closed too

    def data_received(self, data: bytes) -> None:
        was_waiting = self._awaiting_head()
        super().data_received(data)
        if not self._awaiting_head():
            self._disarm()  # the head is complete: the route (and the guard) take over
            return
        if self.transport.is_closing():
            return
        self._head_bytes += len(data) if was_waiting else 0
        if self._head_bytes > MAX_HEADER_BYTES:
            self.logger.info("closing a connection whose request headers exceed %d bytes", MAX_HEADER_BYTES)
            self.transport.close()
            return
        self._arm()  # part of a head, or bytes after an answer: the clock runs until a request starts

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # idle between requests: uvicorn's keep-alive timer closes it; new bytes re-arm

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
