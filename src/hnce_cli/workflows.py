"""Review workflows described as data: what is decided, by whom, in what order, and the
words for every outcome. One engine (`services/review.py`) runs them all: a batch by
keys or by filters, `--dry-run`, one conditional UPDATE per batch with its audit rows,
an explanation for each item that did not move, and the queue each decider sees.

Adding a workflow is adding a `Workflow` to `WORKFLOWS` (docs/architecture.md, "How to
add a review workflow"): its decisions then appear in `hnce inbox`, in
`hnce review KIND …` and at `POST /api/v1/<resource>/decisions` with no new command.

Everything here is plain data (no database, no pydantic), so the CLI can read the words
without loading the services. SQL fragments refer to the workflow's table as `t`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hnce_cli.terms import DECLARATION_ACTIONS, DECLARATION_STATUS, REGISTRATION_STATUS


@dataclass(frozen=True)
class Step:
    """One level of review: who decides it, which items await it and where a decision sends them."""

    name: str  # part of the audit action ("unit", "hr"); "" for a workflow of one step
    label: str  # 用人单位审核 …
    deciders: tuple[str, ...]  # roles
    scope: str  # "units": the decider's units; "region": the units in the decider's region
    awaiting: str  # the state of the items awaiting this step (a SQL literal: a partial index)
    approve: str  # the state an approval sends them to
    reject: str = "rejected"


@dataclass(frozen=True)
class Filter:
    """A narrowing a request may ask for: request field → SQL on `t`.

    kind: "unit" (a unit the decider may act on), "day_from" / "day_to" (a Beijing date
    on a time column), "equals", "form" (a learning form by code or name)."""

    field: str
    column: str
    kind: str = "equals"


@dataclass(frozen=True)
class Stamp:
    """A column a decision sets: value "now", "actor", "reason" or "step"; when
    "always", "final" (the item leaves review) or "reject"."""

    column: str
    value: str
    when: str = "always"


@dataclass(frozen=True)
class Effect:
    """SQL run once for the ids a decision moved, e.g. the credit record an approved
    declaration earns. `{ids}` is the FROM item of those ids (column `value`)."""

    step: str
    decision: str
    sql: str


@dataclass(frozen=True)
class Words:
    """Why an item did not move, and the request's mistakes, in the platform's words."""

    noun: str  # 注册 / 申报
    not_found: str
    out_of_scope: str
    outside_filters: str
    malformed: str = ""
    skipped: str = "您已{action}（重复操作，未改变）"
    reject_fix: str = 'give --reason "…"'
    keys_fix: str = "give keys, or --all with filters"


@dataclass(frozen=True)
class Workflow:
    name: str  # "registration": the word in `hnce review KIND` and the API
    label: str  # 注册审核
    resource: str  # the API's collection: /api/v1/<resource>/decisions
    table: str  # the table decided on; also the audit subject type
    key: str  # the column users name items by
    key_type: str  # "TEXT" | "BIGINT"
    key_label: str  # 身份证号 / 编号
    request_keys: str  # the request field holding the keys
    steps: tuple[Step, ...]
    action: str  # the audit action: "registration.{decision}" / "declaration.{step}_{decision}"
    action_labels: dict[str, str]  # "{step}_{decision}" or "{decision}" → words
    status_labels: dict[str, str]
    waiting_since: str  # the column a queue is ordered by (oldest first)
    words: Words
    person_join: str = ""  # SQL joining the person as p, when t is not the person
    person_name: str = "t.name"
    extras: tuple[str, ...] = ()  # more columns of t that items carry (e.g. credits)
    filters: tuple[Filter, ...] = ()
    stamps: tuple[Stamp, ...] = ()
    effects: tuple[Effect, ...] = ()
    open_states: tuple[str, ...] = ()  # states before review (a draft): not "decided"
    reset_action: str | None = None  # an audit action after which an item's history restarts
    key_pattern: str | None = None  # a TEXT key must match (after strip and upper-casing)
    request_class: str = "DecisionRequest"  # in hnce_cli.schemas
    item_class: str = "DecisionItem"  # in hnce_cli.schemas
    item_fields: tuple[str, ...] = ("key", "outcome", "reason", "name", "unit_name")
    result_class: str = "DecisionResult"
    queue_command: str = ""  # what a decider types to see the whole queue

    def step_for(self, role: str) -> Step | None:
        return next((s for s in self.steps if role in s.deciders), None)

    def action_of(self, step: Step, decision: str) -> str:
        return self.action.format(step=step.name, decision=decision)

    def action_label(self, step: Step, decision: str) -> str:
        key = f"{step.name}_{decision}" if step.name else decision
        return self.action_labels.get(key, key)

    def target(self, step: Step, decision: str) -> str:
        return step.approve if decision == "approve" else step.reject

    def is_final(self, state: str) -> bool:
        """A state no step awaits: the item has left review."""
        return all(s.awaiting != state for s in self.steps)


REGISTRATION = Workflow(
    name="registration", label="注册审核", resource="registrations", table="professional",
    key="id_number", key_type="TEXT", key_label="身份证号", request_keys="id_numbers",
    steps=(Step("", "用人单位审核", ("unit_admin",), "units", "pending", "approved"),),
    action="registration.{decision}",
    action_labels={"approve": REGISTRATION_STATUS["approved"], "reject": REGISTRATION_STATUS["rejected"]},
    status_labels=REGISTRATION_STATUS, waiting_since="registered_at",
    words=Words(noun="注册", not_found="未找到该身份证号的注册", out_of_scope="不属于您管理的单位 (not in your units)",
                outside_filters="不符合筛选条件 (outside --unit/--since/--until)", malformed="不是 18 位身份证号",
                skipped="已是{status}（重复操作，未改变）", reject_fix='give --reason "…" (the applicant sees it)',
                keys_fix="give ID numbers, --file, or --all with filters"),
    filters=(Filter("unit", "unit_id", "unit"), Filter("registered_from", "registered_at", "day_from"),
             Filter("registered_to", "registered_at", "day_to")),
    stamps=(Stamp("decided_at", "now"), Stamp("decided_by", "actor"), Stamp("reject_reason", "reason")),
    key_pattern=r"[0-9]{17}[0-9X]",  # ASCII digits: \d would also take full-width ４
    queue_command="hnce approve --list",
)

# HR approval makes the declaration count: its credit record, unique per declaration.
_CREDIT_RECORD = (
    "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
    "created_at) SELECT d.professional_id, p.id_number, d.year, d.subject, d.credits, 'declaration', "
    "'declaration:' || CAST(d.id AS VARCHAR(20)), :now FROM {ids} AS x JOIN declaration d ON d.id = x.value "
    "JOIN professional p ON p.id = d.professional_id")

DECLARATION = Workflow(
    name="declaration", label="学时申报审核", resource="declarations", table="declaration",
    key="id", key_type="BIGINT", key_label="编号", request_keys="ids",
    steps=(Step("unit", "用人单位审核", ("unit_admin",), "units", "pending_unit", "pending_hr"),
           Step("hr", "人社部门审核", ("hr",), "region", "pending_hr", "approved")),
    action="declaration.{step}_{decision}",
    action_labels={k: v for k, v in DECLARATION_ACTIONS.items() if k.startswith(("unit_", "hr_"))},
    status_labels=DECLARATION_STATUS, waiting_since="submitted_at",
    words=Words(noun="申报", not_found="未找到该申报", out_of_scope="不在您的审核范围内 (not in your scope)",
                outside_filters="不符合筛选条件（单位/年度/学习形式）",
                reject_fix='give --reason "…" (the declarant sees it)',
                keys_fix="give declaration ids, or --all with filters"),
    person_join="JOIN professional p ON p.id = t.professional_id", person_name="p.name",
    extras=("credits",),
    filters=(Filter("unit", "unit_id", "unit"), Filter("year", "year"), Filter("form", "form_code", "form")),
    stamps=(Stamp("updated_at", "now"), Stamp("decided_at", "now", "final"),
            Stamp("reject_reason", "reason", "reject"), Stamp("rejected_level", "step", "reject")),
    effects=(Effect("hr", "approve", _CREDIT_RECORD),),
    open_states=("draft",),
    reset_action="declaration.delete",
    request_class="ReviewRequest",
    item_class="ReviewItem",
    item_fields=("key", "outcome", "status", "reason", "name", "unit_name", "credits"),
    result_class="ReviewResult",
    queue_command="hnce review --list",
)

WORKFLOWS: dict[str, Workflow] = {w.name: w for w in (REGISTRATION, DECLARATION)}

# What people type for a workflow in `hnce review KIND`: its name, its noun, and plurals.
KIND_WORDS: dict[str, str] = {
    **{w.name: w.name for w in WORKFLOWS.values()},
    **{w.resource: w.name for w in WORKFLOWS.values()},
    **{w.words.noun: w.name for w in WORKFLOWS.values()},
}


def workflow(name: str) -> Workflow:
    """The workflow a word names (its name, resource or Chinese noun)."""
    from hnce_cli.errors import ValidationFailed

    found = KIND_WORDS.get(name.strip())
    if found is None:
        listed = " | ".join(f"{w.name} {w.words.noun}" for w in WORKFLOWS.values())
        raise ValidationFailed.one("kind", f"没有这种审核：{name}", f"use {listed}")
    return WORKFLOWS[found]
