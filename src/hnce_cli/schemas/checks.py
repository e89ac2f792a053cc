"""What `hnce db check` reports: stored rows that break the text policy (hnce_cli.text)."""

from __future__ import annotations

from pydantic import Field

from hnce_cli.schemas._base import BaseModel


class TextFinding(BaseModel):
    table: str = Field(description="professional | unit | account | declaration | certificate | attachment")
    table_label: str
    id: int
    field: str
    field_label: str
    problem: str
    value: str = Field(description="the stored value, control and invisible characters escaped (\\x1b, \\u202e)")


class TextCheck(BaseModel):
    checked: int = Field(description="values read")
    found: int = Field(description="values that break the policy (all of them, listed or not)")
    findings: list[TextFinding]
    truncated: bool = Field(default=False, description="more rows break the policy than are listed (limit)")
