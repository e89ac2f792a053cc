"""Two people acting on the same thing at the same moment: exactly one wins,
the other is told, and nothing is done twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, Setup, World, new_id_number, new_mobile, registration, set_now

from hnce_cli.errors import HnceError, LoginFailed, ValidationFailed
from hnce_cli.schemas import DecisionRequest


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; results (or errors) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # kept, so the test can say what happened
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def approve_audits(setup: Setup) -> list:
    return setup.rows("SELECT subject_id, actor_id FROM audit_log "
                      "WHERE action = 'registration.approve'")


def test_two_admins_approve_the_same_registration_at_once(world: World) -> None:
    setup = world.setup
    number = world.people_a[0].id_number
    procs = [setup.popen("approve", number, "--yes", "--json", token=admin.token)
             for admin in (world.a_admin1, world.a_admin2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 5], results
    outcomes = sorted(json.loads(out)["items"][0]["outcome"] for _, out, _ in results)
    assert outcomes == ["approved", "conflict"]
    winner = world.a_admin1 if results[0][0] == 0 else world.a_admin2
    row = setup.rows("SELECT status, decided_by FROM professional WHERE id_number = :n", n=number)
    assert [tuple(r) for r in row] == [("approved", winner.account_id)]
    audits = approve_audits(setup)
    assert [(a.subject_id, a.actor_id) for a in audits] == [(str(world.people_a[0].id),
                                                             winner.account_id)]


def test_concurrent_decisions_in_process(world: World) -> None:
    """The same race through the backend, with approve against reject for good measure."""
    setup = world.setup
    people = [world.register() for _ in range(4)]
    for person in people:
        approve = setup.backend(world.a_admin1.token)
        reject = setup.backend(world.a_admin2.token)
        results = run_together(
            lambda a=approve, n=person.id_number: a.decide(
                DecisionRequest(decision="approve", id_numbers=[n])),
            lambda r=reject, n=person.id_number: r.decide(
                DecisionRequest(decision="reject", id_numbers=[n], reason="重复")),
        )
        for result in results:
            assert not isinstance(result, Exception), result
        outcomes = sorted(r.items[0].outcome for r in results)
        assert outcomes in (["approved", "conflict"], ["conflict", "rejected"]), outcomes
    decided = setup.count("audit_log", "action IN ('registration.approve', 'registration.reject')"
                                       " AND subject_id IN ({})".format(
                                           ",".join(f"'{p.id}'" for p in people)))
    assert decided == len(people)


def test_two_admins_approve_the_same_batch_at_once(world: World, tmp_path: Path) -> None:
    setup = world.setup
    numbers = world.register_many(200)
    file = tmp_path / "ids.txt"
    file.write_text("\n".join(numbers) + "\n", encoding="utf-8")
    procs = [setup.popen("approve", "--file", str(file), "--yes", "--json", token=admin.token)
             for admin in (world.a_admin1, world.a_admin2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code in (0, 5), (code, err)
        counts = json.loads(out)["counts"]
        assert set(counts) <= {"approved", "conflict"}
        assert sum(counts.values()) == 200
    assert sum(json.loads(out)["counts"].get("approved", 0) for _, out, _ in results) == 200
    assert set(dict(setup.rows("SELECT id_number, status FROM professional WHERE id_number IN "
                               "({})".format(",".join(f"'{n}'" for n in numbers)))).values()) == {
        "approved"}
    audits = approve_audits(setup)
    assert len(audits) == 200
    assert len({a.subject_id for a in audits}) == 200


def test_the_same_person_registering_several_times_at_once(setup: Setup) -> None:
    """Submissions of one ID number at the same moment (double click, two tabs, a retry):
    one registration, and the others are told the number is taken, not an internal error."""
    number = new_id_number()
    args = ["register", "--id-number", number, "--email", "a@example.cn", "--name", "王五",
            "--no-employer", "--region", "金水区", "--json"]
    procs = [setup.popen(*args, "--mobile", new_mobile(), env={"HNCE_PASSWORD": PASSWORD})
             for _ in range(3)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2, 2], results
    for code, out, _ in results:
        if code == 2:
            assert [p["field"] for p in json.loads(out)["error"]["problems"]] == ["id_number"]
    assert setup.count("professional", "id_number = :n", n=number) == 1
    assert setup.count("account", "login = :n", n=number) == 1


def test_the_same_person_registering_twice_at_once_in_process(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from hnce_cli.services import security

    # The production cost: hashing takes long enough for both to pass the duplicate check.
    monkeypatch.setattr(security, "_hasher", PasswordHasher)
    number = new_id_number()
    forms = [registration(has_employer=False, region="金水区", id_number=number) for _ in range(2)]
    results = run_together(*(lambda f=f: setup.backend().register(f) for f in forms))
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ValidationFailed), repr(errors[0])
    assert [p.field for p in errors[0].problems] == ["id_number"]
    assert setup.count("professional", "id_number = :n", n=number) == 1


def test_parallel_wrong_passwords_still_make_the_address_wait(world: World) -> None:
    """Guessing in parallel must not get more tries than guessing one by one: the sixth of
    six guesses sent at once is refused unchecked, and so is the right password after them."""
    from argon2 import PasswordHasher

    setup = world.setup
    # The production cost, so that each check takes as long as it really does.
    setup.execute("UPDATE account SET password_hash = :h WHERE login = 'kefu'",
                  h=PasswordHasher().hash(PASSWORD))
    set_now(datetime.now())  # one moment for all: the one-second wait does not pass meanwhile
    results = run_together(*(lambda: setup.backend().login("kefu", "wrong-guess-1")
                             for _ in range(6)))
    assert all(isinstance(r, LoginFailed) for r in results), results
    messages = [r.message for r in results]
    assert messages.count("账户或密码错误") == 5, messages
    assert sum("次数过多" in m for m in messages) == 1, messages
    with pytest.raises(HnceError) as exc:
        setup.backend().login("kefu", PASSWORD)
    assert "次数过多" in exc.value.message
