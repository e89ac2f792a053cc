"""Several hosts in front of one PostgreSQL database sign certificates with one key: a
certificate issued through one `hnce serve` verifies on another that holds the same
HNCE_CERT_KEY; a host with another key refuses to start, naming the key the database's
certificates were signed with; and answering a verifier never makes a key file, even on a
host that holds no key at all (docs/deploy.md, "The certificate key")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from conftest import Setup, Templates, World, free_port, seeded, serve_command, serve_env
from serving import Server

from hnce_cli.certificates.signing import key_id

KEY = "5a1e" * 16  # 64 hex digits: the deployment's key, given to every host
OTHER = "c0de" * 16  # a host set up with a key of its own by mistake
YEAR = 2025
UNKNOWN = "HN2025-00000999-ABCD-EFGH-JKMN-PQRS"  # well formed; no certificate has this number


@pytest.fixture
def pg_world(postgres_setup: Setup, templates: Templates, request: pytest.FixtureRequest) -> World:
    return seeded(postgres_setup, templates, request)


def key_file(server: Server) -> Path:
    return server.folder / "data" / "certificate.key"


@pytest.mark.postgres
def test_hosts_sharing_the_key_verify_each_others_certificates(pg_world: World, tmp_path: Path) -> None:
    world = pg_world
    me = world.passed_person(YEAR)
    db_url = world.setup.db_url
    world.setup.close()  # the servers' connections only, while they run
    servers: list[Server] = []
    try:
        # A host with no key, started while the database has no certificate (it may: there is
        # nothing to vouch for yet). Answering a verifier makes no key.
        keyless = Server(db_url, tmp_path / "keyless")
        servers.append(keyless)
        with httpx.Client(base_url=keyless.url, timeout=30) as http:
            answer = http.get(f"/api/v1/verify/{UNKNOWN}")
        assert answer.status_code == 200 and answer.json()["status"] == "unknown", answer.text
        assert not key_file(keyless).exists()

        first = Server(db_url, tmp_path / "host-1", env={"HNCE_CERT_KEY": KEY})
        servers.append(first)
        second = Server(db_url, tmp_path / "host-2", env={"HNCE_CERT_KEY": KEY})
        servers.append(second)
        with httpx.Client(base_url=first.url, timeout=60, headers={"Authorization": f"Bearer {me.token}"}) as http:
            issued = http.post("/api/v1/certificates", json={"year": YEAR})
        assert issued.status_code == 200, issued.text
        cert = issued.json()
        assert world.setup.scalar("SELECT key_id FROM certificate WHERE number = :n",
                                  n=cert["number"]) == key_id(bytes.fromhex(KEY))

        for host in (second, first):  # verified where it was not issued, and where it was
            with httpx.Client(base_url=host.url, timeout=30) as http:
                answer = http.get(f"/api/v1/verify/{cert['verification_code']}")
            assert answer.status_code == 200, answer.text
            assert (answer.json()["status"], answer.json()["name"]) == ("genuine", me.name), answer.text

        # The keyless host cannot vouch for it: it says which key it lacks (not "altered"), and
        # still makes no key of its own.
        with httpx.Client(base_url=keyless.url, timeout=30) as http:
            answer = http.get(f"/api/v1/verify/{cert['verification_code']}")
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "unavailable" and key_id(bytes.fromhex(KEY)) in error["message"]
        assert error["details"]["expected_key_id"] == key_id(bytes.fromhex(KEY))
        for host in servers:  # the key came from HNCE_CERT_KEY: no host wrote a key file
            assert not key_file(host).exists(), host.folder
    finally:
        for host in servers:
            host.stop()

    # A host given another key (or none) is refused before it serves anyone, naming the key
    # the database's certificates were signed with and the one it holds.
    for name, extra in (("wrong-key", {"HNCE_CERT_KEY": OTHER}), ("no-key", {})):
        folder = tmp_path / name
        folder.mkdir()
        proc = subprocess.run([*serve_command(), "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                              env=serve_env(db_url, folder, extra), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 8, proc.stdout + proc.stderr
        assert key_id(bytes.fromhex(KEY)) in proc.stderr and "HNCE_CERT_KEY" in proc.stderr, proc.stderr
        if extra:
            assert key_id(bytes.fromhex(OTHER)) in proc.stderr
        assert "Traceback" not in proc.stderr and "Uvicorn running" not in proc.stderr
        assert not (folder / "data" / "certificate.key").exists()


NEW = "9e37" * 16  # the key a rotation brings in


def verdict(host: Server, code: str) -> httpx.Response:
    with httpx.Client(base_url=host.url, timeout=30) as http:
        return http.get(f"/api/v1/verify/{code}")


def issue(host: Server, token: str) -> dict:
    with httpx.Client(base_url=host.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        answer = http.post("/api/v1/certificates", json={"year": YEAR})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.postgres
def test_a_rotation_in_two_rounds_and_a_withdrawn_key_across_hosts(pg_world: World, tmp_path: Path) -> None:
    """docs/deploy.md's rotation: every host first learns the new key (HNCE_CERT_OLD_KEYS), then
    signs with it; certificates of either key verify on every host throughout. A withdrawn key's
    certificates verify as altered and are signed anew on their next print."""
    world = pg_world
    first_person, second_person = world.passed_person(YEAR), world.passed_person(YEAR)
    db_url = world.setup.db_url
    world.setup.close()
    old_id, new_id = key_id(bytes.fromhex(KEY)), key_id(bytes.fromhex(NEW))
    servers: list[Server] = []

    def start(name: str, **env: str) -> Server:
        servers.append(Server(db_url, tmp_path / name, env=env))
        return servers[-1]

    try:
        unchanged = start("unchanged", HNCE_CERT_KEY=KEY)
        before = issue(unchanged, first_person.token)
        learnt = start("round-1", HNCE_CERT_KEY=KEY, HNCE_CERT_OLD_KEYS=NEW)  # verifies NEW, signs KEY
        rotated = start("round-2", HNCE_CERT_KEY=NEW, HNCE_CERT_OLD_KEYS=KEY)
        after = issue(rotated, second_person.token)
        assert world.setup.scalar("SELECT key_id FROM certificate WHERE number = :n", n=after["number"]) == new_id
        for host in (learnt, rotated):
            for cert in (before, after):
                answer = verdict(host, cert["verification_code"])
                assert answer.status_code == 200 and answer.json()["status"] == "genuine", (host.folder, answer.text)
        # A host left out of the first round cannot vouch for the new key's certificates: it
        # says so, naming the key — which is why every host learns the new key first.
        answer = verdict(unchanged, after["verification_code"])
        assert answer.status_code == 503 and new_id in answer.json()["error"]["message"], answer.text
        assert issue(rotated, first_person.token)["verification_code"] == before["verification_code"]  # as it was

        # The old key withdrawn: what it signed is no longer vouched for, and is signed anew.
        withdrawn = start("withdrawn", HNCE_CERT_KEY=NEW, HNCE_CERT_WITHDRAWN_KEYS=old_id)
        answer = verdict(withdrawn, before["verification_code"])
        assert answer.status_code == 200 and answer.json()["status"] == "altered", answer.text
        assert "已停用" in answer.json()["message"]
        again = issue(withdrawn, first_person.token)
        assert again["number"] == before["number"] and again["verification_code"] != before["verification_code"]
        assert world.setup.scalar("SELECT key_id FROM certificate WHERE number = :n", n=again["number"]) == new_id
        assert verdict(rotated, again["verification_code"]).json()["status"] == "genuine"
        assert verdict(withdrawn, after["verification_code"]).json()["status"] == "genuine"
    finally:
        for host in servers:
            host.stop()
