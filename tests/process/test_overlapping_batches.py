"""Twenty unit admins deciding overlapping batches through a real `hnce serve` at the same
moment, three times over, on PostgreSQL and on SQLite: every registration is decided
exactly once with one audit row, every admin who asked for it too late is told who was
first, and no request fails (no 5xx: no deadlock, no "database is busy")."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from conftest import PASSWORD, Setup, Templates, World, new_id_number, seeded
from serving import Server

from hnce_cli import clock
from hnce_cli.schemas import AccountInput

CLIENTS = 20
ITEMS = 600  # registrations per run
STEP = ITEMS // CLIENTS  # client i's batch starts at item i × 30 …
RUNS = 3
LABELS = {"approve": "审核通过", "reject": "审核不通过"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def batch_world(request: pytest.FixtureRequest, templates: Templates) -> World:
    setup: Setup = request.getfixturevalue(f"{request.param}_setup")
    world = seeded(setup, templates, request)
    if setup.name == "postgres":
        province(setup, world.unit_a.id)
    return world


def province(setup: Setup, unit_id: int, people: int = 50_000) -> None:
    """A queue the size of a province's: the planner then finds a batch's rows through the
    ID-number index, in the order of the batch's hashed keys."""
    setup.execute("INSERT INTO account (login, password_hash, role, name, active, failed_logins, created_at) "
                  "SELECT 'P' || lpad(CAST(g AS TEXT), 17, '0'), 'x', 'professional', '某某', true, 0, now() "
                  "FROM generate_series(1, :n) AS g", n=people)
    setup.execute("INSERT INTO professional (account_id, id_number, name, gender, birth_date, mobile, email, "
                  "unit_id, status, registered_at) SELECT a.id, substr(a.login, 2), '某某', '男', DATE '1980-01-01', "
                  "'13900000000', 'p@example.cn', :unit, 'pending', now() FROM account a WHERE a.login LIKE 'P%'",
                  unit=unit_id)
    setup.execute("ANALYZE")


def pending(world: World, count: int) -> dict[str, int]:
    """`count` new registrations awaiting unit A's decision, written straight into the tables
    (a batch test needs many, not the registration rules): ID number → professional id."""
    numbers = [new_id_number() for _ in range(count)]
    now = clock.now()
    with world.setup.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO account (login, password_hash, role, name, active, failed_logins, "
                             "created_at) VALUES (:n, 'x', 'professional', :name, :yes, 0, :now)"),
                     [{"n": n, "name": f"申请人{i}", "yes": True, "now": now} for i, n in enumerate(numbers)])
        accounts = dict(conn.execute(sa.text("SELECT login, id FROM account WHERE login IN ({})".format(
            ",".join(f"'{n}'" for n in numbers)))).all())
        conn.execute(sa.text("INSERT INTO professional (account_id, id_number, name, gender, birth_date, mobile, "
                             "email, unit_id, status, registered_at) VALUES (:a, :n, '申请人', '男', :born, "
                             "'13900000000', 'p@example.cn', :unit, 'pending', :now)"),
                     [{"a": accounts[n], "n": n, "born": date(1980, 1, 1), "unit": world.unit_a.id, "now": now}
                      for n in numbers])
        return dict(conn.execute(sa.text("SELECT id_number, id FROM professional WHERE id_number IN ({})".format(
            ",".join(f"'{n}'" for n in numbers)))).all())


@pytest.fixture
def server(batch_world: World, tmp_path: Path) -> Iterator[Server]:
    batch_world.setup.close()  # the server's own connections only, while it runs
    running = Server(batch_world.setup.db_url, tmp_path, "--workers", "2")
    try:
        yield running
    finally:
        running.stop()


def admins(world: World) -> list[tuple[int, str, str]]:
    """Twenty unit admins of unit A, logged in: (account id, name, token)."""
    sysadmin = world.setup.backend(world.admin.token)
    made = []
    for i in range(CLIENTS):
        login = f"batch-admin-{i:02d}"
        out = sysadmin.create_account(AccountInput(login=login, name=f"审核员{i:02d}", role="unit_admin",
                                                   password=PASSWORD, units=[str(world.unit_a.id)]))
        made.append((out.id, out.name, world.setup.login(login)))
    return made


def batches(numbers: list[str], rng: random.Random) -> list[tuple[str, list[str]]]:
    """(decision, ID numbers) per client: windows of 40 to 300 consecutive items that overlap
    their neighbours', each in a random order (batches of many sizes, as people send them);
    every fourth client rejects."""
    out = []
    for i in range(CLIENTS):
        size = STEP + 10 + (i * 97) % 261
        window = [numbers[(i * STEP + k) % ITEMS] for k in range(size)]
        rng.shuffle(window)
        out.append(("reject" if i % 4 == 3 else "approve", window))
    return out


def send_together(url: str, tokens: list[str], work: list[tuple[str, list[str]]]) -> list[httpx.Response]:
    """Every client's batch in its own thread and HTTP connection, released at one instant."""
    barrier = threading.Barrier(len(work))
    answers: list[Any] = [None] * len(work)

    def client(i: int) -> None:
        decision, numbers = work[i]
        body = {"decision": decision, "id_numbers": numbers}
        if decision == "reject":
            body["reason"] = "单位信息不符"
        with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {tokens[i]}"}) as http:
            http.get("/api/v1/auth/whoami")  # connected and warm before the start
            barrier.wait()
            try:
                answers[i] = http.post("/api/v1/registrations/decisions", json=body)
            except httpx.HTTPError as exc:
                answers[i] = exc

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return answers


def test_overlapping_batches_decide_each_item_exactly_once(batch_world: World, server: Server) -> None:
    world, setup = batch_world, batch_world.setup
    team = admins(world)
    names = {account_id: name for account_id, name, _ in team}
    rng = random.Random(20250520)
    figures = []
    for run in range(RUNS):
        people = pending(world, ITEMS)
        numbers = sorted(people)
        work = batches(numbers, rng)
        started = time.perf_counter()
        answers = send_together(server.url, [token for *_, token in team], work)
        elapsed = time.perf_counter() - started
        statuses = Counter(getattr(a, "status_code", type(a).__name__) for a in answers)
        assert statuses == {200: CLIENTS}, (run, statuses, [a.text[:300] for a in answers
                                                           if getattr(a, "status_code", 0) != 200])

        audits = setup.rows("SELECT subject_id, actor_id, action FROM audit_log WHERE subject_type = 'professional' "
                            "AND action IN ('registration.approve', 'registration.reject') AND subject_id IN "
                            "({})".format(",".join(f"'{i}'" for i in people.values())))
        per_item = Counter(a.subject_id for a in audits)
        assert len(per_item) == ITEMS and set(per_item.values()) == {1}, per_item.most_common(3)
        winner = {a.subject_id: (a.actor_id, a.action.rsplit(".", 1)[1]) for a in audits}
        stored = dict(setup.rows("SELECT id_number, status FROM professional WHERE id_number IN ({})".format(
            ",".join(f"'{n}'" for n in numbers))))
        outcomes: Counter[str] = Counter()
        for (account_id, _, _), (_, asked), answer in zip(team, work, answers, strict=True):
            items = {item["id_number"]: item for item in answer.json()["items"]}
            assert sorted(items) == sorted(asked)
            for number, item in items.items():
                actor, decided = winner[str(people[number])]
                outcomes[item["outcome"]] += 1
                assert stored[number] == ("approved" if decided == "approve" else "rejected")
                if actor == account_id:
                    assert (item["outcome"], decided) in (("approved", "approve"), ("rejected", "reject")), item
                else:
                    assert item["outcome"] == "conflict", item
                    assert item["reason"].startswith(f"已被 {names[actor]} 于 "), item
                    assert item["reason"].endswith(LABELS[decided]), item
        assert outcomes["approved"] + outcomes["rejected"] == ITEMS
        assert outcomes["conflict"] == sum(len(asked) for _, asked in work) - ITEMS
        figures.append(f"run {run + 1}: {CLIENTS} requests, {sum(outcomes.values())} items in {elapsed:.2f} s, "
                       f"{dict(sorted(outcomes.items()))}, 5xx: 0")
    # No batch needed the server's help to survive: no error was logged, retried or not.
    log = server.log.read_text("utf-8", "replace")
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
    print(f"\n{setup.name}: " + "; ".join(figures))
