"""The HTTP backend: the Backend protocol spoken to `hnce serve`, built from the
operations table (hnce_cli.operations).

Each method of the table becomes a method here that puts its arguments where the table
says (path, query, JSON body), sends one request and reads the answer back into its
schema. Errors come back as JSON with a stable code and are raised again as the same
domain errors, so a command behaves (message, exit code) the same in both modes. Only
idempotent reads are retried. What is not one request is written out below: reads that
collect every page, the completion list streamed page by page, a certificate as a PDF,
and an import whose rows are streamed as they are read from the file.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from hnce_cli.backend import CONNECT_TIMEOUT, READ_TIMEOUT, Backend
from hnce_cli.errors import AuthRequired, HnceError, Unavailable, Unsupported, ValidationFailed, error_from_dict
from hnce_cli.masking import hide_password
from hnce_cli.operations import API, COMPOSED, LOCAL_ONLY, OPERATIONS, Operation, resolve

if TYPE_CHECKING:
    from hnce_cli import schemas

COMPLETION_PAGE = 5000
READ_RETRIES = 3
IMPORT_TIMEOUT = 3600.0  # seconds for the answer to a streamed import (a million rows take a minute or two)
PAGE = 1000  # the server's largest page of a list
# A path or query value longer than this is refused here, naming its field: the server's
# request line holds some 16 KB in all (and no text hnce takes is a tenth as long), so a
# longer one would come back as a proxy's or the HTTP parser's page, not as hnce's answer.
MAX_URL_VALUE = 2000


def _bad_address(url: str, why: str) -> ValidationFailed:
    return ValidationFailed.one(
        "api", f"API 地址无效 (not a usable http(s) address): {hide_password(url)}"
               + (f" ({hide_password(why)})" if why else ""),
        "e.g. https://hnce.example.gov.cn; check HNCE_API_URL or `hnce profile list`")


def _checked(url: str) -> str:
    """An API address hnce can send to (http or https, a host, a numeric port), else exit 2
    naming it — with its password hidden, as everywhere."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError as exc:
        raise _bad_address(url, str(exc)) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad_address(url, "")
    return url


@cache
def _reader(name: str) -> Callable[[bytes], Any]:
    """How to read an answer into the type the table names."""
    if name in ("None", "Any"):
        import json

        return json.loads
    from pydantic import TypeAdapter

    return TypeAdapter(resolve(name)).validate_json


def _dump(value: Any) -> Any:
    """A body as JSON data: a schema as its JSON form, lists of them item by item."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _method(name: str) -> Callable[..., Any]:
    """The Backend method `name` for RemoteBackend: its arguments bound by the protocol's
    signature, then sent as the operations table says (or refused: it runs on the server host)."""
    signature = inspect.signature(getattr(Backend, name))
    if name in LOCAL_ONLY:
        def refused(self: RemoteBackend, *args: Any, **kwargs: Any) -> Any:
            raise Unsupported(LOCAL_ONLY[name])

        method = refused
    else:
        op = OPERATIONS[name]

        def method(self: RemoteBackend, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            del arguments["self"]
            return self._paged(op, arguments) if op.page else self.call(op, arguments)

    method.__name__ = name
    method.__signature__ = signature  # type: ignore[attr-defined]
    method.__doc__ = getattr(Backend, name).__doc__
    return method


def _from_operations(cls: type) -> type:
    """Give the class a method for every row of the operations table it does not write out."""
    for name in (*OPERATIONS, *LOCAL_ONLY):
        if name not in cls.__dict__:
            setattr(cls, name, _method(name))
    missing = [name for name in COMPOSED if name not in cls.__dict__]
    assert not missing, f"write these out: {missing}"
    return cls


@_from_operations
class RemoteBackend:
    def __init__(self, base_url: str, token: str | None = None, *,
                 timeout: float = READ_TIMEOUT) -> None:
        self.base_url = _checked(base_url.strip().rstrip("/"))
        self.token = token
        self.description = hide_password(self.base_url)  # what messages show: never a password
        self.timeout = timeout

    @cached_property
    def _client(self) -> Any:
        """The HTTP client, made on the first request: a print drawn by the server needs none."""
        import httpx

        return httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT),
                            headers={"User-Agent": "hnce-cli"})

    def close(self) -> None:
        """Close the connection pool (a long-lived caller's tidy-up; the CLI just exits)."""
        if "_client" in self.__dict__:
            self._client.close()

    # --- transport ------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
              accept: str | None = None, content: Any = None, content_type: str | None = None,
              timeout: float | None = None) -> Any:
        """The successful response (its headers too); an error answer is raised as its domain error.
        `content`: a body of bytes, or an iterator of them (an upload streamed as it is made)."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        params = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {} if timeout is None else {
            "timeout": httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)}
        attempts = READ_RETRIES if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.request(method, API + path, json=json, params=params, headers=headers,
                                                content=content, **extra)
            except httpx.TimeoutException as exc:
                if attempt < attempts:
                    time.sleep(0.2 * attempt)
                    continue
                raise Unavailable(f"服务器无响应 (timed out): {self.description}") from exc
            except httpx.TransportError as exc:
                if attempt < attempts:
                    time.sleep(0.2 * attempt)
                    continue
                raise Unavailable(
                    f"无法连接服务器 {self.description} (server unreachable: {hide_password(str(exc))}); "
                    "check the address in `hnce profile list` and that `hnce serve` runs"
                ) from exc
            except httpx.InvalidURL as exc:  # what urlsplit let through and httpx did not
                raise _bad_address(self.base_url, str(exc)) from exc
            if response.status_code in (502, 503, 504) and attempt < attempts:
                time.sleep(0.2 * attempt)
                continue
            return self._decode(response)
        raise AssertionError("unreachable")

    def _decode(self, response: Any) -> Any:
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise error_from_dict(body["error"])
        if response.status_code == 401:
            raise AuthRequired("请先登录 (login required)")
        # Not hnce's answer (a proxy's page, an older server): its status and a little of its text.
        raise HnceError(f"服务器 {self.description} 错误 HTTP {response.status_code}: "
                        f"{hide_password(response.text[:200])}")

    def call(self, op: Operation, arguments: dict[str, Any]) -> Any:
        """One operation: its arguments placed as the table says, the answer read into its schema."""
        path, query = op.path, {}
        for p in op.params:
            arg, _, field = p.arg.partition(".")
            value = arguments.get(arg)
            if field:
                value = getattr(value, field, None)
            if isinstance(value, str) and len(value) > MAX_URL_VALUE:
                raise ValidationFailed.one(field or arg, f"内容过长（{len(value)} 个字符），无法在请求地址中发送 "
                                                         f"(too long to send: at most {MAX_URL_VALUE} characters)",
                                           "shorten it")
            if "{" + p.name + "}" in path:
                path = path.replace("{" + p.name + "}", quote(str(value).strip(), safe=""))
            else:
                query[p.name] = value
        body = None
        if op.body is not None:
            body = (_dump(arguments[op.body.arg]) if op.body.arg
                    else {name: _dump(arguments[name]) for name in op.body.fields})
        response = self._send(op.method, path, json=body, params=query)
        return _reader(op.result)(response.content)

    def _paged(self, op: Operation, arguments: dict[str, Any]) -> Any:
        """A list read: one page, or (limit None, or more than a page) every page in turn."""
        limit, offset = arguments.get("limit"), arguments.get("offset") or 0
        if limit is not None and limit <= PAGE:
            return self.call(op, arguments)
        assert op.page is not None
        result, rows = None, []
        while limit is None or len(rows) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(rows))
            result = self.call(op, {**arguments, "limit": size, "offset": offset + len(rows)})
            got = getattr(result, op.page)
            rows.extend(got)
            if len(got) < size:
                break
        assert result is not None
        return result.model_copy(update={op.page: rows})

    # --- what is not one request ------------------------------------------------------------
    def review(self, kind: str, request: Any) -> Any:
        """A decision of any workflow, read back into that workflow's result shape."""
        from hnce_cli import schemas
        from hnce_cli.workflows import workflow

        wf = workflow(kind)
        response = self._send("POST", f"/reviews/{quote(wf.name)}", json=_dump(request))
        return getattr(schemas, wf.result_class).model_validate_json(response.content)

    def import_credits(self, rows: Iterable[dict], source: str = "national", first_row: int = 2
                       ) -> schemas.SyncImportResult:
        """The rows streamed in one request as lines of JSON (backend/ndjson.py), made as the
        file is read: the server spools them to disk, checks every row, then writes all or none.
        It answers when the whole import is written, so the wait for the answer is long."""
        from hnce_cli.backend import ndjson
        from hnce_cli.schemas import SyncImportResult

        response = self._send("POST", "/sync/import/stream", content=ndjson.encode(rows),
                              content_type=ndjson.MEDIA_TYPE, params={"source": source, "first_row": first_row},
                              timeout=IMPORT_TIMEOUT)
        return SyncImportResult.model_validate_json(response.content)

    def verify_certificate(self, code: str) -> schemas.CertificateVerification:
        """A scanned verify URL is sent as its last path segment, the code."""
        code = code.strip()
        if "/" in code:
            code = code.rstrip("/").rsplit("/", 1)[-1]
        return self.call(OPERATIONS["verify_certificate"], {"code": code})

    def completion_list(self, query: schemas.CompletionQuery
                        ) -> tuple[schemas.CompletionPage, Iterator[schemas.CompletionRow]]:
        """The first page now (errors raise here), the rest fetched page by page as it is read."""
        from hnce_cli.schemas import CompletionRow

        first = self.completion_page(query, None, COMPLETION_PAGE)  # type: ignore[attr-defined]

        def rows() -> Iterator[CompletionRow]:
            page = first
            while True:
                for r in page.rows:
                    yield CompletionRow(r.professional_id, r.id_number, r.name, r.unit_id, r.unit_name,
                                        r.region_code, r.public, r.professional, r.total, r.result)
                if page.next_after is None:
                    return
                page = self.completion_page(query, page.next_after, COMPLETION_PAGE)  # type: ignore[attr-defined]

        return first.model_copy(update={"rows": []}), rows()

    def certificate_pdf(self, request: schemas.CertificateRequest) -> tuple[schemas.CertificateOut, bytes]:
        """The server issues and draws (it keeps fpdf2 and the font loaded), so this process never
        imports fpdf2; the one request goes out on the standard library's HTTP client
        (remote_pdf), since loading httpx would cost a desk's one-certificate command a third of
        its time. A desk that set its own template or fonts (HNCE_CERT_TEMPLATE, HNCE_CERT_FONT,
        HNCE_CERT_FALLBACK_FONT) keeps drawing here with them, as a batch does; a proxy in the
        environment, which httpx honours, takes httpx."""
        from hnce_cli.backend import remote_pdf
        from hnce_cli.certificates.model import CERTIFICATE_HEADER, desk_draws_itself
        from hnce_cli.schemas import CertificateOut

        if desk_draws_itself():
            from hnce_cli.certificates.issued import render_issued

            cert = self.issue_certificate(request)  # type: ignore[attr-defined]
            return cert, render_issued(cert)
        answer = remote_pdf.issue_pdf(self.base_url, self.token, person=request.person, year=request.year)
        if answer is not None:
            return CertificateOut.model_validate(answer[0]), answer[1]
        response = self._send("POST", "/certificates/pdf", json=request.model_dump(mode="json"),
                              accept="application/pdf")
        return CertificateOut.model_validate_json(response.headers[CERTIFICATE_HEADER]), response.content
