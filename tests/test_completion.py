"""Annual completion 年度完成情况 on every storage: the pass/fail boundaries, credits
only in their own year, the person view with details, admin views with role scoping,
and the CSV/XLSX exports read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from conftest import World
from sqlmodel import Session

from hnce_cli import db
from hnce_cli.schemas import DecisionRequest
from hnce_cli.services import completion

YEAR = 2025


@dataclass
class Person:
    id: int
    id_number: str
    name: str
    token: str


def approved_person(world: World, unit=None, name: str = "王测试") -> Person:  # noqa: ANN001
    """Register someone in `unit` (default A), have their unit admin approve them, log in."""
    unit = unit or world.unit_a
    admin = world.a_admin1 if unit.id == world.unit_a.id else world.b_admin
    person = world.register(unit, name=name)
    world.setup.backend(admin.token).decide(DecisionRequest(decision="approve",
                                                            id_numbers=[person.id_number]))
    return Person(person.id, person.id_number, name, world.setup.login(person.id_number))


_refs = iter(range(1, 10**9))


def give(world: World, person: Person, year: int, subject: str, credits: float,
         source: str = "national") -> None:
    """A credit record as an import or an approval would leave it."""
    world.setup.execute(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source,"
        " source_ref, created_at) VALUES (:p, :i, :y, :s, :c, :src, :ref, :at)",
        p=person.id, i=person.id_number, y=year, s=subject, c=credits, src=source,
        ref=f"T-{next(_refs)}", at=datetime(2025, 6, 1))


# --- the bulk query (used by admin views and certificate batches) -----------------


def test_year_rows_one_row_per_approved_person_with_zeros_and_filters(world: World) -> None:
    passed = approved_person(world, name="通过者")
    give(world, passed, YEAR, "public", 30)
    give(world, passed, YEAR, "professional", 60)
    give(world, passed, YEAR - 1, "professional", 100)  # another year: not counted
    nothing = approved_person(world, world.unit_b, name="无学时")
    pending = world.register(world.unit_a)  # not approved: not listed
    engine = db.ensure_schema(db.normalise_url(world.setup.db_url))
    with Session(engine) as session:
        rows = {r.professional_id: r for r in completion.year_rows(session, YEAR)}
        assert pending.id not in rows
        assert rows[passed.id].result == completion.PASSED
        assert (rows[passed.id].public, rows[passed.id].professional, rows[passed.id].total) == (30, 60, 90)
        assert rows[nothing.id][6:] == (0, 0, 0, completion.NOT_PASSED)
        assert rows[nothing.id].unit_name == world.unit_b.name
        only_a = list(completion.year_rows(session, YEAR, unit_ids=[world.unit_a.id]))
        assert {r.unit_id for r in only_a} == {world.unit_a.id} and passed.id in {r.professional_id for r in only_a}
        luoyang = list(completion.year_rows(session, YEAR, region_prefix="4103"))
        assert [r.professional_id for r in luoyang] == [nothing.id]
        failed = list(completion.year_rows(session, YEAR, result=completion.NOT_PASSED))
        assert passed.id not in {r.professional_id for r in failed}
        assert nothing.id in {r.professional_id for r in failed}
        some = list(completion.year_rows(session, YEAR, professional_ids=[passed.id]))
        assert [r.professional_id for r in some] == [passed.id]
