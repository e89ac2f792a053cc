"""Reference data shipped with the package: Henan's divisions, the 省直 / 市直
regions for units, and one temporary management unit (the area's finance bureau)
per county-level area for people without an employer."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from hnce_cli import clock

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

PROVINCE_CODE = "410000"
DIRECT_SUFFIX = "-ZS"  # 省直 is 410000-ZS, 郑州市市直 is 410100-ZS


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None


@cache
def regions() -> tuple[RegionRow, ...]:
    """All regions: the divisions file plus the synthetic 省直 and 市直 regions."""
    text = resources.files("hnce_cli.data").joinpath("henan-divisions.csv").read_text("utf-8")
    rows = [
        RegionRow(r["code"], r["name"], r["level"], r["parent_code"] or None)
        for r in csv.DictReader(text.splitlines())
    ]
    direct = [RegionRow(PROVINCE_CODE + DIRECT_SUFFIX, "省直", "provincial_direct", PROVINCE_CODE)]
    for row in rows:
        # 省直辖县级行政区划 (419000) is a grouping, not a city with a 市直 level.
        if row.level == "city" and row.code != "419000":
            direct.append(
                RegionRow(row.code + DIRECT_SUFFIX, f"{row.name}市直", "city_direct", row.code)
            )
    return tuple(rows + direct)


def temporary_unit_name(county: RegionRow) -> str:
    return f"{county.name}财政局"


def seed_reference_data(engine: Engine) -> None:
    """Insert whatever regions and temporary units are missing (idempotent). Part of
    `hnce db upgrade`, on the migration's SQLAlchemy engine."""
    from sqlalchemy import insert, select

    from hnce_cli.models import Region, Unit

    rows = regions()
    with engine.begin() as conn:
        have = set(conn.execute(select(Region.code)).scalars())
        missing = [r for r in rows if r.code not in have]
        if missing:
            conn.execute(insert(Region), [r.__dict__ for r in missing])
        have_temp = set(
            conn.execute(select(Unit.region_code).where(Unit.kind == "temporary")).scalars()
        )
        now = clock.now()
        units = [
            {
                "name": temporary_unit_name(r),
                "uscc": None,
                "region_code": r.code,
                "kind": "temporary",
                "created_at": now,
            }
            for r in rows
            if r.level == "county" and r.code not in have_temp
        ]
        if units:
            conn.execute(insert(Unit), units)


def region_prefix(code: str) -> str:
    """The prefix every unit region code under `code` starts with (GB/T 2260: 410000 → 41,
    410100 → 4101, a county as is; 省直 / 市直 are -ZS codes, as is). Scope checks and
    region filters of completion and certificates use it, so both draw the same line."""
    if "-" in code or len(code) != 6:
        return code
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code
