"""Rows a list streams by the million: plain tuples, not models (no pydantic to import or
validate; `CompletionRowOut` is their shape over HTTP)."""

from __future__ import annotations

from typing import NamedTuple


class CompletionRow(NamedTuple):
    """One approved professional's year: what the admin views, CSV and batches iterate.

    A tuple (not a model) so a province of 1,000,000 rows streams without per-row
    object cost; `result` is `result_of(public, professional, rules)`.
    """

    professional_id: int
    id_number: str
    name: str
    unit_id: int
    unit_name: str
    region_code: str
    public: float
    professional: float
    total: float
    result: str
