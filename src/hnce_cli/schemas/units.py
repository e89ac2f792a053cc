"""Regions and units (用人单位)."""

from __future__ import annotations

from pydantic import Field

from hnce_cli.schemas._base import BaseModel
from hnce_cli.terms import (
    UNIT_KINDS,
)


class RegionOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None = None


class UnitOut(BaseModel):
    id: int
    name: str
    uscc: str | None
    region_code: str
    region_name: str
    kind: str
    kind_label: str = ""

    def model_post_init(self, _context: object) -> None:
        self.kind_label = UNIT_KINDS.get(self.kind, self.kind)


class UnitSearchResult(BaseModel):
    query: str
    units: list[UnitOut]
    hint: str | None = None


class UnitInput(BaseModel):
    name: str
    uscc: str
    region: str = Field(description="region code or name, e.g. 410105 / 金水区 / 郑州市市直")


class UnitImportResult(BaseModel):
    created: int
    units: list[UnitOut]
