"""Fuzz the whole HTTP API from its own OpenAPI schema (schemathesis, every check), on SQLite
and on PostgreSQL, and count the server errors: there must be none.

    python bench/fuzz_api.py                       # 10,000 cases on SQLite, then on PostgreSQL
    python bench/fuzz_api.py --cases 2000 --db sqlite
    HNCE_TEST_PG_URL=postgresql://hnce:hnce@127.0.0.1:5432/postgres python bench/fuzz_api.py --db postgres

Each database is a fresh one, seeded with what a province starts with (a system admin, two
units and their admins, an HR reviewer, support 客服, approved people with a draft and a
pending declaration carrying an attachment). Every operation of docs/openapi.json is driven
in-process (ASGI, the app `hnce serve` runs, with its guard and boundary) with schema-valid
and schema-breaking input (schemathesis' positive and negative generation), as each of
four roles — the system admin, a unit admin, a professional and support — so the services'
role and scope paths are walked, not only the parameter checks. Every response is put
through every schemathesis check; a 5xx is a bug (exit 1, with the request that caused it).
The other checks' findings are counted and named by kind: most are the platform's rules
refusing input the schema allows (a USCC with a bad check character is a string of 18
characters to the schema, 422 to the service), which positive_data_acceptance counts.

Passwords are hashed at argon2's smallest cost (as in the tests): this measures errors, not
speed. tests/test_fuzz_api.py runs a short version of this in the test suite.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import secrets
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

PASSWORD = "Passw0rd!x"
ROLES = ("admin", "a-admin", "person", "kefu")
# A PNG header is enough for the attachment check (its type is read from its bytes).
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()


def _check_char(first17: str, weights: list[int], alphabet: str, modulus: int) -> str:
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights, strict=True))
    return alphabet[(modulus - total % modulus) % modulus]


def id_number(seq: int, area: str = "410105") -> str:
    """A valid 18-digit resident ID number (GB 11643 check digit)."""
    first17 = f"{area}19900101{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def uscc(seq: int) -> str:
    """A valid unified social credit code (GB 32100 check character)."""
    from hnce_cli.validation import uscc_check_char

    first17 = f"91410105MA44{seq:05d}"
    return first17 + uscc_check_char(first17)


def cheap_passwords() -> None:
    """argon2id at its smallest cost for every hash this process makes (seeding, logins)."""
    from argon2 import PasswordHasher

    from hnce_cli.services import security

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._hasher = lambda: cheap  # type: ignore[assignment]


def seed(url: str) -> dict[str, str]:
    """A fresh database at `url` with people in every role; their session tokens by role."""
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import (
        AccountInput,
        AttachmentIn,
        DecisionRequest,
        DeclarationInput,
        RegistrationInput,
        UnitInput,
    )

    b = LocalBackend(url)
    b.db_upgrade()
    b.db_init("admin", "系统管理员", PASSWORD)
    b.token = b.login("admin", PASSWORD).token
    unit_a = b.add_unit(UnitInput(name="甲单位", uscc=uscc(1), region="410105"))
    unit_b = b.add_unit(UnitInput(name="乙单位", uscc=uscc(2), region="410302"))
    for login, role, units, region in [("a-admin", "unit_admin", [str(unit_a.id)], None),
                                       ("b-admin", "unit_admin", [str(unit_b.id)], None),
                                       ("hr", "hr", [], "410100"), ("kefu", "support", [], None)]:
        b.create_account(AccountInput(login=login, name=login, role=role, password=PASSWORD, units=units,
                                      region=region))
    people = [id_number(i) for i in range(1, 5)]
    for number in people:
        b.register(RegistrationInput(id_number=number, password=PASSWORD, mobile="13800138000",
                                     email="p@example.cn", name="张三", unit=str(unit_a.id)))
    tokens = {who: b.login(who, PASSWORD).token for who in ("admin", "a-admin", "kefu")}
    b.token = tokens["a-admin"]
    b.decide(DecisionRequest(decision="approve", id_numbers=people[:2]))
    tokens["person"] = b.login(people[0], PASSWORD).token
    b.token = tokens["person"]
    fields = {"meeting_name": "年会", "organizer": "会计学会", "start_date": date.today().isoformat(), "days": 1}
    proof = [AttachmentIn(filename="会议通知.png", content_base64=PNG)]
    b.create_declaration(DeclarationInput(form="conference", fields=fields, attachments=proof))
    b.create_declaration(DeclarationInput(form="conference", fields={**fields, "meeting_name": "年会（二）"},
                                          attachments=proof, submit=True))
    return tokens


@dataclass
class Report:
    """What one fuzzing run found."""

    database: str
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)  # non-5xx check failures by kind
    errors: list[str] = field(default_factory=list)  # each 5xx: the request and what came back
    skipped: set[str] = field(default_factory=set)  # operations with no input of that kind
    examples: dict[str, str] = field(default_factory=dict)  # a check's kind: the first request it failed

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(self.statuses.items()))
        lines = [f"{self.database}: {self.cases:,} cases in {self.seconds:.0f} s, {self.server_errors} 5xx",
                 f"  statuses: {statuses}"]
        lines += [f"  check {kind}: {n:,}" for kind, n in self.findings.most_common()]
        lines += [f"  e.g. {kind}: {example}" for kind, example in self.examples.items()]
        lines += [f"  no {what} input" for what in sorted(self.skipped)]
        lines += [f"  5xx: {e}" for e in self.errors[:20]]
        return "\n".join(lines)


@contextmanager
def database(kind: str, pg_url: str | None) -> Iterator[str]:
    """A fresh, empty database of `kind`, dropped (or deleted) afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hnce-fuzz-") as folder:
            yield f"sqlite:///{Path(folder) / 'fuzz.db'}"
        return
    if not pg_url:
        sys.exit("PostgreSQL: give --pg-url or HNCE_TEST_PG_URL (a role that may create databases)")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"hnce_fuzz_{secrets.token_hex(6)}"
    admin = make_url(pg_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        from hnce_cli import store

        store.close(admin.set(database=name).render_as_string(hide_password=False))
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fuzz(url: str, cases: int, *, name: str = "", seed_value: int = 0) -> Report:
    """About `cases` requests over every operation, each role and both kinds of input, against
    the app over the database at `url` (seeded here); what came back, counted."""
    import schemathesis
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    from hnce_cli.server.app import create_app

    os.environ["HNCE_DATABASE_URL"] = url
    tokens = seed(url)
    app = create_app()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # A streamed import's body (lines of JSON) is sent as the bytes Hypothesis makes for it.
    schemathesis.serializer.alias("application/x-ndjson", "application/octet-stream")
    operations = [result.ok() for result in schema.get_all_operations()]
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    per_run = max(1, math.ceil(cases / (len(operations) * len(ROLES) * len(modes))))
    report = Report(name or url.split(":")[0])
    started = time.perf_counter()

    rounds = 0
    while report.cases < cases:  # a round makes fewer when an operation has few inputs: another, new ones
        for index, operation in enumerate(operations):
            for mode in modes:
                for role_index, role in enumerate(ROLES):
                    run = _runner(operation, mode, role, per_run, tokens, url, report,
                                  seed_value * 10_000_000 + rounds * 100_000 + index * 100 + role_index * 10
                                  + (mode is modes[1]))
                    try:
                        run()
                    except Unsatisfiable:  # nothing of it can be made invalid (no parameters, no body)
                        report.skipped.add(f"{operation.label} ({mode.value})")
        rounds += 1
        per_run = max(1, math.ceil((cases - report.cases) / (len(operations) * len(ROLES) * len(modes))))
    report.seconds = time.perf_counter() - started
    return report


def _runner(operation: Any, mode: Any, role: str, examples: int, tokens: dict[str, str], url: str,
            report: Report, seed_value: int) -> Any:
    """One Hypothesis run: `examples` cases of `operation` in `mode`, sent as `role`."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    every_check = CHECKS.get_all()  # all of schemathesis' checks, not only those on by default

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed_value)
    def run(case: Any) -> None:
        token = tokens[role]
        if operation.label == "POST /api/v1/auth/logout":  # a session of its own to end
            from hnce_cli.backend.local import LocalBackend

            token = LocalBackend(url).login({"a-admin": "a-admin", "kefu": "kefu"}.get(
                role, "admin"), PASSWORD).token
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.headers = headers
        report.cases += 1
        try:
            response = case.call()
        except Exception as exc:  # the app raised instead of answering: a 5xx
            report.statuses[599] += 1
            report.errors.append(f"{case.method} {case.formatted_path} as {role}: raised "
                                 f"{''.join(traceback.format_exception_only(exc)).strip()}")
            return
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.errors.append(f"{case.method} {case.formatted_path} as {role} "
                                 f"query={case.query!r} body={str(case.body)[:300]!r}: "
                                 f"{response.status_code} {response.text[:300]}")
        try:
            case.validate_response(response, checks=every_check, headers=headers)
        except BaseException as exc:  # a FailureGroup: each check that failed, by kind
            if isinstance(exc, KeyboardInterrupt):
                raise
            for failure in getattr(exc, "exceptions", [exc]):
                kind = type(failure).__name__
                report.findings[f"{kind} ({operation.label})"] += 1
                if kind not in report.examples:  # the first of each kind, to show what it is
                    report.examples[kind] = (f"{case.method} {case.formatted_path} as {role} body="
                                             f"{str(case.body)[:200]!r}: {response.status_code} {response.text[:300]}")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="about this many requests per database")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("HNCE_TEST_PG_URL"),
                        help="PostgreSQL server URL of a role that may create databases (default: HNCE_TEST_PG_URL)")
    parser.add_argument("--seed", type=int, default=0, help="another seed, other cases")
    args = parser.parse_args()
    import logging

    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # a 5xx is counted here, with its request
    cheap_passwords()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    failed = False
    for kind in kinds:
        with database(kind, args.pg_url) as url:
            report = fuzz(url, args.cases, name=kind, seed_value=args.seed)
        print(report.summary(), flush=True)
        failed = failed or report.server_errors > 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
