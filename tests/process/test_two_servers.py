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


def completed(world: World):  # noqa: ANN201
    """A professional of unit A with the year's credits complete (as the national import leaves them)."""
    me = world.approved_person()
    for subject, credits in (("public", 30), ("professional", 60)):
        world.setup.execute(
            "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
            "created_at) VALUES (:p, :i, :y, :s, :c, 'national', :r, CURRENT_TIMESTAMP)",
            p=me.id, i=me.id_number, y=YEAR, s=subject, c=credits, r=f"two-hosts-{subject}")
    return me


def key_file(server: Server) -> Path:
    return server.folder / "data" / "certificate.key"


@pytest.mark.postgres
def test_hosts_sharing_the_key_verify_each_others_certificates(pg_world: World, tmp_path: Path) -> None:
    world = pg_world
    me = completed(world)
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
