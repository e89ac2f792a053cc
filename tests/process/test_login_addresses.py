"""Which address `hnce serve` counts a login's failures by: the connection's own, unless the
connection comes from a proxy named with --trusted-proxy, whose X-Forwarded-For is believed."""

from __future__ import annotations

from pathlib import Path

import httpx
from conftest import PASSWORD, World
from serving import Server

WRONG = "Wrong-pass-1"


def login(http: httpx.Client, password: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return http.post("/api/v1/auth/login", json={"login": "admin", "password": password}, headers=headers)


def test_behind_a_trusted_proxy_each_client_is_counted_apart(sqlite_world: World, tmp_path: Path) -> None:
    server = Server(sqlite_world.setup.db_url, tmp_path, "--trusted-proxy", "127.0.0.1")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as proxy:  # the proxy forwards for two clients
            answers = [login(proxy, WRONG, "198.51.100.7") for _ in range(6)]
            assert [a.status_code for a in answers] == [401] * 6
            assert "次数过多" in answers[5].json()["error"]["message"]
            assert login(proxy, PASSWORD, "198.51.100.7").status_code == 401  # that client waits
            owner = login(proxy, PASSWORD, "203.0.113.9")  # the owner, elsewhere, does not
            assert owner.status_code == 200, owner.text
            token = owner.json()["token"]
            locks = proxy.get("/api/v1/accounts/locks", headers={"Authorization": f"Bearer {token}"}).json()
            assert [(r["login"], r["client"]) for r in locks["locks"]] == [("ADMIN", "198.51.100.7")]
    finally:
        server.stop()


def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(sqlite_world: World, tmp_path: Path) -> None:
    """Anyone can write X-Forwarded-For: a new address in it each time buys no new tries."""
    server = Server(sqlite_world.setup.db_url, tmp_path)
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    try:
        with httpx.Client(base_url=server.url, timeout=30, transport=transport) as guesser:
            answers = [login(guesser, WRONG, f"198.51.100.{i}") for i in range(6)]
            assert "次数过多" in answers[5].json()["error"]["message"], answers[5].text
        with httpx.Client(base_url=server.url, timeout=30) as owner:  # 127.0.0.1: another address
            assert login(owner, PASSWORD).status_code == 200
    finally:
        server.stop()
