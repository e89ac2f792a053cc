"""`hnce certificate print` against `hnce serve`, with the standard library only.

RemoteBackend.certificate_pdf does the same request, but loading httpx and hnce's pydantic
schemas costs a desk's CLI ~0.45 s of CPU, most of a one-certificate process. The server
issues, checks every rule and draws the PDF (POST /api/v1/certificates/pdf); this module
sends the request and hands back the facts (plain JSON, from the X-Hnce-Certificate
header) and the bytes, or raises the server's error as the same domain error.
None means: take RemoteBackend (a proxy is configured, which httpx honours and this does
not, or the desk draws with its own template or fonts).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

from hnce_cli.backend import CONNECT_TIMEOUT, READ_TIMEOUT
from hnce_cli.certificates.model import CERTIFICATE_HEADER, desk_draws_itself
from hnce_cli.errors import AuthRequired, HnceError, Unavailable, error_from_dict
from hnce_cli.masking import hide_password


def _deferred() -> bool:
    return desk_draws_itself() or any(
        k.lower() in ("http_proxy", "https_proxy", "all_proxy") and v for k, v in os.environ.items())


def issue_pdf(base_url: str, token: str | None, *, person: str | None,
              year: int) -> tuple[dict[str, Any], bytes] | None:
    """(the certificate's facts as CertificateOut's JSON, the PDF), or None: use RemoteBackend."""
    import http.client

    url = urlsplit(base_url.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.hostname or _deferred():
        return None
    shown = hide_password(base_url)  # what messages show: never a password
    if url.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            url.hostname, url.port, timeout=CONNECT_TIMEOUT, context=_ssl_context())
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=CONNECT_TIMEOUT)
    body = json.dumps({"person": person, "year": year}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/pdf", "User-Agent": "hnce-cli"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        try:
            conn.connect()
        except TimeoutError as exc:
            raise Unavailable(f"服务器无响应 (timed out): {shown}") from exc
        except OSError as exc:
            raise Unavailable(f"无法连接服务器 {shown} (server unreachable: {exc}); "
                              "check the address in `hnce profile list` and that `hnce serve` runs") from exc
        conn.sock.settimeout(READ_TIMEOUT)
        try:  # a write: sent once, never retried (as RemoteBackend)
            conn.request("POST", f"{url.path}/api/v1/certificates/pdf", body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        except TimeoutError as exc:
            raise Unavailable(f"服务器无响应 (timed out): {shown}") from exc
        except OSError as exc:
            raise Unavailable(f"无法连接服务器 {shown} (connection lost: {exc})") from exc
        facts = response.getheader(CERTIFICATE_HEADER)
        if 200 <= response.status < 300 and facts:
            return json.loads(facts), content
        if 200 <= response.status < 300:
            raise HnceError(f"服务器 {shown} 未返回证书信息 (no {CERTIFICATE_HEADER} header): "
                            "is it an older hnce serve, or a proxy that drops headers?")
        _raise(response.status, content)
    finally:
        conn.close()
    raise AssertionError("unreachable")


def _ssl_context():  # noqa: ANN202 - ssl is imported only for https
    """The CAs httpx trusts (SSL_CERT_FILE, else SSL_CERT_DIR, else certifi): both clients accept the same servers."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _raise(status: int, content: bytes) -> None:
    """The server's JSON error as its domain error, as RemoteBackend._decode does."""
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        raise error_from_dict(data["error"])
    if status == 401:
        raise AuthRequired("请先登录 (login required)")
    raise HnceError(f"服务器错误 HTTP {status}: {content[:200].decode('utf-8', 'replace')}")
