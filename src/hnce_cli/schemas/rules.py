"""The rules of a year 学时要求, as `hnce rules` shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from hnce_cli.schemas._base import BaseModel

# --- year rules, annual completion 年度完成情况, national-platform sync ----------------------

class YearRulesOut(BaseModel):
    """One year's 学时要求: minimum total / professional / public credits and the deadline."""

    year: int
    min_total: float
    min_professional: float
    min_public: float
    deadline: date
    source: str | None = None
    origin: Literal["package", "database"] = Field(
        description="package: the shipped default; database: loaded by the system admin")


class RulesOut(BaseModel):
    years: list[YearRulesOut]
    updated_at: datetime | None = Field(default=None, description="when rules were last loaded")
    updated_by: str | None = None
    loaded: list[int] = Field(default_factory=list, description="rules load: the years this load added or replaced")
