"""What a request body may cost before anyone has looked at it: the server's guard.

FastAPI reads and parses a route's whole JSON body before it resolves the route's
dependencies, so without this a stranger's 200 MB body was held (and parsed) in memory
before the missing token was noticed. This ASGI middleware runs before the route:

1. a route that needs a login answers 401 to a body sent without a bearer token, and
   reads none of it;
2. a body declared (Content-Length) larger than its route takes is 413 `too_large`, unread:
   the public routes (login, registration) take PUBLIC_BODY_BYTES, the streamed import
   HNCE_MAX_IMPORT_MB, every other route HNCE_MAX_BODY_MB (settings.ServerLimits);
3. a large body (more than SMALL_BODY, or of unknown length) to a route that needs a login
   is read only after its token was found to be a live session (one indexed query);
4. while it is read, a body is counted (one sent in chunks cannot outgrow its limit either)
   and timed: the server waits HNCE_BODY_TIMEOUT seconds at most for its next piece, then
   answers 408 and closes the connection;
5. an answer given before the whole body arrived closes the connection, so the rest of the
   body is never read.

Every refusal has the one error shape ({"error": {code, message, details}}).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hnce_cli.errors import AuthRequired, HnceError, TooLarge, Unavailable
from hnce_cli.settings import MIB, PUBLIC_BODY_BYTES, ServerLimits

SMALL_BODY = 64 * 1024  # what uvicorn buffers anyway before the route asks for it
NO_TOKEN = "请先登录：hnce login (login required)"  # as services/accounts.py says it


class Rule(NamedTuple):
    """One route as the guard sees it: where, whether anyone may call it, its body limit and
    what kind of body it takes ("public", "import" or "body": the refusal's advice)."""

    path: re.Pattern[str]
    method: str
    public: bool
    limit: int
    kind: str


class BodyTimeout(Unavailable):
    """A body whose next piece did not come in time: a network that stalled, or a client holding
    the connection on purpose. HTTP 408; a CLI reports it as the network's trouble (exit 8)."""

    http_status = 408


class _Refused(Exception):  # noqa: N818 - not an error of the app: the guard's own way out of it
    """Raised into the route from `receive`: the guard answers instead of the route."""

    def __init__(self, error: HnceError) -> None:
        super().__init__(error.message)
        self.error = error


def _mib(size: int) -> str:
    return f"{size / MIB:g} MiB"


def too_large(limit: int, kind: str) -> TooLarge:
    """The refusal of a body over `limit`, with what to do instead."""
    if kind == "public":
        fix = "a login or a registration is a few hundred bytes: check what is being sent"
    elif kind == "import":
        fix = "split the file and import the parts one after another, or ask the operator to raise HNCE_MAX_IMPORT_MB"
    else:
        fix = ("send fewer items in one request (a batch of ID numbers in parts; a declaration takes at most 5 "
               "attachments of 10 MiB each); the operator sets the limit with HNCE_MAX_BODY_MB")
    return TooLarge(f"请求内容超过上限 {_mib(limit)} (request body too large: at most {_mib(limit)}); {fix}",
                    {"limit_bytes": limit})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class RequestGuard:
    """The ASGI middleware (see the module). `rules` lists the app's routes (made on the first
    request, when every route is known); `check_token` raises AuthRequired for a token that
    is not a live session."""

    def __init__(self, app: ASGIApp, *, rules: Callable[[], Iterable[Rule]], limits: ServerLimits,
                 check_token: Callable[[str], Awaitable[None]]) -> None:
        self.app = app
        self._make_rules = rules
        self._rules: list[Rule] | None = None
        self.limits = limits
        self.check_token = check_token

    def rule(self, method: str, path: str) -> Rule | None:
        if self._rules is None:
            self._rules = list(self._make_rules())
        for rule in self._rules:
            if method == rule.method and rule.path.match(path):
                return rule
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        length = int(raw_length) if raw_length is not None and raw_length.isdigit() else None
        if not chunked and not length:  # no body: nothing to guard
            await self.app(scope, receive, send)
            return
        # an unknown route or method is answered 404/405 without reading the body
        rule = self.rule(scope["method"], scope["path"]) or Rule(re.compile(""), "", True,
                                                                 self.limits.max_body_bytes, "body")
        public, limit = rule.public, rule.limit
        token = _bearer(scope)
        if not public and token is None:
            await self._refuse(send, AuthRequired(NO_TOKEN))
            return
        if length is not None and length > limit:
            await self._refuse(send, too_large(limit, rule.kind))
            return
        if not public and token is not None and (chunked or (length or 0) > SMALL_BODY):
            try:
                await self.check_token(token)
            except HnceError as exc:
                await self._refuse(send, exc)
                return
        await self._guarded(scope, receive, send, rule)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, rule: Rule) -> None:
        """Run the route with its body counted and timed; answer for it if the body broke a rule."""
        received = 0
        body_done = False
        refused: HnceError | None = None
        started = False

        async def counted() -> Message:
            nonlocal received, body_done, refused
            if body_done:
                return await receive()  # after the body: a disconnect, waited for as long as it takes
            try:
                message = await asyncio.wait_for(receive(), self.limits.body_timeout)
            except TimeoutError:
                refused = BodyTimeout(
                    f"请求内容在 {self.limits.body_timeout:g} 秒内没有继续到达 (request body timed out: no data for "
                    f"{self.limits.body_timeout:g} s); check the network and send it again")
                raise _Refused(refused) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > rule.limit:
                    refused = too_large(rule.limit, rule.kind)
                    raise _Refused(refused)
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            if refused is not None:
                return  # the route's answer to a body it could not read: the guard answers instead
            if message["type"] == "http.response.start":
                started = True
                if not body_done:  # answered before the body was read: the rest of it is never read
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        with contextlib.suppress(_Refused):  # raised from `counted`, through the route: ours to answer
            await self.app(scope, counted, answer)
        if refused is not None and not started:
            await self._refuse(send, refused)

    @staticmethod
    async def _refuse(send: Send, error: HnceError) -> None:
        """Answer with `error` in the one shape and close the connection (its body stays unread)."""
        body = json.dumps({"error": error.to_dict()}, ensure_ascii=False).encode()
        headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json"),
                                              (b"content-length", str(len(body)).encode()),
                                              (b"connection", b"close")]
        if error.http_status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def rules_of(routes: Iterable[Any], public: set[tuple[str, str]], limits: ServerLimits,
             import_routes: set[str]) -> list[Rule]:
    """The guard's rules for an app's routes: the public ones take a small body, the streamed
    imports (`import_routes`, by path) the import limit, the others the body limit."""
    found = []
    for route in routes:
        regex, methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        for method in sorted(methods or ()) if regex is not None else ():
            if (method, route.path) in public:
                found.append(Rule(regex, method, True, PUBLIC_BODY_BYTES, "public"))
            elif route.path in import_routes:
                found.append(Rule(regex, method, False, limits.max_import_bytes, "import"))
            else:
                found.append(Rule(regex, method, False, limits.max_body_bytes, "body"))
    return found
