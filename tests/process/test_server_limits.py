"""A server a stranger cannot knock over: a real `hnce serve` on loopback, spoken to over raw
sockets, refuses what would hold its memory or its connections (docs/deploy.md, "Limits and
time-outs"):

- a body sent without a login is answered 401 before it is read, however large it says it
  is, and four of 200 MB at once leave the server's memory where it was;
- a body over the limit, with a login, is 413 too_large in the one error shape, whether its
  size is declared or it is sent in chunks;
- a request whose headers stop coming is closed after HNCE_HEADER_TIMEOUT;
- a body that stops coming is answered 408 after HNCE_BODY_TIMEOUT and closed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import World, free_port, hnce_command, serve_command
from serving import Server

MB = 1024 * 1024
PROTECTED = "/api/v1/declarations"  # a route that needs a login and takes a JSON body


def limited_server(db_url: str, folder: Path, **limits: str) -> Server:
    """`hnce serve` over `db_url` with the limits the test sets (HNCE_MAX_BODY_MB, HNCE_HEADER_TIMEOUT, …)."""
    return Server(db_url, folder, env=limits)


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def head(path: str, length: int | None, token: str | None = None, *, chunked: bool = False) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], dict]:
    """One HTTP answer (status, headers, JSON body) read to its end, then whether the server closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        assert piece, f"closed without an answer: {data!r}"
        data += piece
    top, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    while len(body) < int(headers["content-length"]):
        piece = sock.recv(65536)
        assert piece
        body += piece
    return int(status_line.split()[1]), headers, json.loads(body)


def closed(sock: socket.socket) -> bool:
    """The server closed the connection (an orderly end or a reset), within the socket's time-out."""
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def send_all_it_can(sock: socket.socket, total: int, sent: list[int]) -> None:
    """Try to send `total` bytes of body; stop when the server has closed the connection."""
    chunk = b" " * MB
    try:
        while sent[0] < total:
            sock.sendall(chunk)
            sent[0] += len(chunk)
    except OSError:  # broken pipe, reset: the server stopped reading and closed
        pass


@pytest.fixture
def token(sqlite_world: World) -> str:
    return sqlite_world.admin.token


def test_anonymous_200mb_bodies_are_refused_unread_and_the_server_stays_small(sqlite_world: World,
                                                                               tmp_path: Path) -> None:
    server = limited_server(sqlite_world.setup.db_url, tmp_path)
    try:
        before = server.rss_kib()
        size = 200 * MB
        socks = [connect(server) for _ in range(4)]
        sent = [[0] for _ in socks]
        senders = []
        for sock, counter in zip(socks, sent, strict=True):
            sock.sendall(head(PROTECTED, size))
            sender = threading.Thread(target=send_all_it_can, args=(sock, size, counter), daemon=True)
            sender.start()
            senders.append(sender)
        for sock in socks:
            status, headers, body = read_answer(sock)
            assert status == 401
            assert body["error"]["code"] == "auth_required" and "hnce login" in body["error"]["message"]
            assert headers["connection"] == "close" and headers["www-authenticate"] == "Bearer"
        for sender in senders:
            sender.join(60)
            assert not sender.is_alive(), "the server went on reading a refused body"
        # what left the client at all is what the kernel's buffers took, never the 200 MB
        assert all(counter[0] < 32 * MB for counter in sent), sent
        grown = server.rss_kib() - before
        assert grown < 40 * 1024, f"the server grew by {grown} KiB for bodies it refused"
        for sock in socks:
            sock.close()
        assert httpx.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200  # still serving
    finally:
        server.stop()


def test_a_body_over_the_limit_with_a_login_is_413_in_the_one_shape(sqlite_world: World, token: str,
                                                                    tmp_path: Path) -> None:
    server = limited_server(sqlite_world.setup.db_url, tmp_path, HNCE_MAX_BODY_MB="1")
    try:
        with closing(connect(server)) as sock:  # its size declared: refused before a byte is read
            sock.sendall(head(PROTECTED, 2 * MB, token))
            status, headers, body = read_answer(sock)
            assert status == 413 and headers["connection"] == "close"
            error = body["error"]
            assert set(error) == {"code", "message", "details"}
            assert error["code"] == "too_large" and error["details"] == {"limit_bytes": MB}
            assert "1 MiB" in error["message"] and "HNCE_MAX_BODY_MB" in error["message"]
        with closing(connect(server)) as sock:  # sent in chunks of unknown total: counted as it comes
            sock.sendall(head(PROTECTED, None, token, chunked=True))
            chunk = b"[" + b" " * (256 * 1024 - 1)
            try:
                for _ in range(8):
                    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:
                pass
            status, _, body = read_answer(sock)
            assert status == 413 and body["error"]["code"] == "too_large"
        with httpx.Client(base_url=server.url, timeout=30) as http:  # a body within it is the route's
            answer = http.post(PROTECTED, json={"form": "conference", "fields": {}},
                               headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 403, answer.text  # an admin does not declare: the service said so
            limited = http.post("/api/v1/auth/login", content=b" " * (2 * MB),
                                headers={"Content-Type": "application/json"})
            assert limited.status_code == 413 and "login" in limited.json()["error"]["message"]
    finally:
        server.stop()


def test_a_remote_cli_sending_too_much_exits_2_naming_the_limit(sqlite_world: World, token: str,
                                                                tmp_path: Path) -> None:
    """The CLI reads the server's 413 as the one error (exit 2), though the server answered before
    the request's body was all sent."""
    server = limited_server(sqlite_world.setup.db_url, tmp_path, HNCE_MAX_BODY_MB="1")
    try:
        ids = tmp_path / "ids.txt"
        ids.write_text("\n".join(f"41010519900101{i:04d}" for i in range(200_000)), encoding="utf-8")  # ~4 MB
        env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
        env.update({"HNCE_API_URL": server.url, "HNCE_TOKEN": token, "HNCE_CONFIG_DIR": str(tmp_path / "cli")})
        proc = subprocess.run([*hnce_command(), "approve", "--file", str(ids), "--yes", "--json"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        error = json.loads(proc.stdout)["error"]
        assert error["code"] == "too_large" and error["details"] == {"limit_bytes": MB}
        assert "batch of ID numbers in parts" in error["message"]
    finally:
        server.stop()


def test_a_wrong_token_is_refused_before_a_large_body_is_read(sqlite_world: World, tmp_path: Path) -> None:
    server = limited_server(sqlite_world.setup.db_url, tmp_path)
    try:
        with closing(connect(server)) as sock:
            sock.sendall(head(PROTECTED, 50 * MB, "not-a-session"))
            status, headers, body = read_answer(sock)
            assert status == 401 and headers["connection"] == "close"
            assert body["error"]["code"] == "auth_required"
    finally:
        server.stop()


def test_headers_that_stop_coming_are_closed_after_the_header_timeout(sqlite_world: World,
                                                                       tmp_path: Path) -> None:
    server = limited_server(sqlite_world.setup.db_url, tmp_path, HNCE_HEADER_TIMEOUT="1")
    try:
        with closing(connect(server)) as sock:
            sock.settimeout(20)
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
            assert closed(sock), "a request whose headers never finished kept its connection"
        with closing(connect(server)) as sock:  # one that says nothing at all
            sock.settimeout(20)
            assert closed(sock)
        assert httpx.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
    finally:
        server.stop()


def test_a_body_that_stops_coming_is_408_and_closed(sqlite_world: World, token: str, tmp_path: Path) -> None:
    server = limited_server(sqlite_world.setup.db_url, tmp_path, HNCE_BODY_TIMEOUT="1")
    try:
        with closing(connect(server)) as sock:
            sock.settimeout(20)
            sock.sendall(head(PROTECTED, 100, token) + b'{"form": "confer')
            status, headers, body = read_answer(sock)
            assert status == 408 and headers["connection"] == "close"
            assert body["error"]["code"] == "unavailable"
            assert "HNCE_BODY_TIMEOUT" not in body["error"]["message"]  # a client's words: check the network
            assert "1 秒" in body["error"]["message"] and "check the network" in body["error"]["message"]
            assert closed(sock)
    finally:
        server.stop()


def test_a_limit_that_is_not_a_number_stops_serve_naming_it(sqlite_world: World, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
    env.update({"HNCE_DATABASE_URL": sqlite_world.setup.db_url, "HNCE_CONFIG_DIR": str(tmp_path / "c"),
                "HNCE_DATA_DIR": str(tmp_path / "d"), "HNCE_MAX_BODY_MB": "七十"})
    proc = subprocess.run([*serve_command(), "serve", "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert "HNCE_MAX_BODY_MB" in proc.stderr and "Traceback" not in proc.stderr


def test_the_streamed_import_has_its_own_limit_and_the_same_timeout(sqlite_world: World, token: str,
                                                                      tmp_path: Path) -> None:
    """The national import streams its rows (any length, chunked): counted against
    HNCE_MAX_IMPORT_MB as they come, and timed like any body; nothing is imported."""
    server = limited_server(sqlite_world.setup.db_url, tmp_path, HNCE_MAX_IMPORT_MB="1", HNCE_BODY_TIMEOUT="1")
    stream = "/api/v1/sync/import/stream"
    try:
        with closing(connect(server)) as sock:
            sock.sendall(head(stream, None, token, chunked=True))
            try:
                for _ in range(8):
                    sock.sendall(b"40000\r\n" + b" " * 0x40000 + b"\r\n")
            except OSError:
                pass
            status, _, body = read_answer(sock)
            assert status == 413 and body["error"]["code"] == "too_large"
            assert "HNCE_MAX_IMPORT_MB" in body["error"]["message"] and "split the file" in body["error"]["message"]
        with closing(connect(server)) as sock:
            sock.settimeout(20)
            sock.sendall(head(stream, None, token, chunked=True) + b'10\r\n{"columns": [1]}\r\n')
            status, headers, body = read_answer(sock)
            assert status == 408 and headers["connection"] == "close" and body["error"]["code"] == "unavailable"
            assert closed(sock)
        assert sqlite_world.setup.count("credit_record") == 0
    finally:
        server.stop()
