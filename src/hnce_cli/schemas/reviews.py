"""What awaits a decider, across the review workflows (hnce inbox)."""

from __future__ import annotations

from datetime import datetime

from hnce_cli.schemas._base import BaseModel


class InboxItem(BaseModel):
    """One item awaiting a decision: its key (ID number or number), who, which unit, since when."""

    key: str
    name: str | None = None
    unit_name: str | None = None
    waiting_since: datetime | None = None


class InboxQueue(BaseModel):
    """One workflow's queue for the decider: how many wait, since when, the oldest few."""

    workflow: str
    label: str
    step: str
    step_label: str
    total: int
    oldest: datetime | None = None
    command: str
    items: list[InboxItem]


class Inbox(BaseModel):
    """Everything awaiting the caller's decision, workflow by workflow (hnce inbox)."""

    queues: list[InboxQueue]
    total: int
