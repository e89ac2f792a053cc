"""Database tables (SQLModel). Schema changes go through Alembic migrations.

Times are stored as naive UTC. States are stored as short English codes; the
platform's Chinese labels live in `hnce_cli.terms`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Region(SQLModel, table=True):
    """A GB/T 2260 division, or the synthetic 省直 / 市直 regions units can belong to."""

    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)
    # province | city | county | provincial_direct (省直) | city_direct (市直)
    level: str = Field(max_length=20)
    parent_code: str | None = Field(default=None, max_length=16, index=True)


class Unit(SQLModel, table=True):
    """An employer (用人单位), or a region's temporary management unit (临时管理单位)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    uscc: str | None = Field(default=None, max_length=18, unique=True)
    region_code: str = Field(foreign_key="region.code", max_length=16, index=True)
    kind: str = Field(default="ordinary", max_length=12)  # ordinary | temporary
    created_at: datetime


class Account(SQLModel, table=True):
    """Anyone who logs in. Professionals log in with their ID number."""

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=200)
    # professional | unit_admin | hr | support | institution | system_admin
    role: str = Field(max_length=20, index=True)
    name: str = Field(max_length=64)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = None
    created_at: datetime
    created_by: int | None = Field(default=None, foreign_key="account.id")
    last_login_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """Wrong passwords in a row for one login from one address: the login throttle
    (services/throttle.py). It slows the address down and never locks the account.
    (account.failed_logins and account.locked_until, the lock of earlier releases, are no
    longer read; they go a release later, once no older worker runs.)"""

    __tablename__ = "login_failure"
    __table_args__ = (UniqueConstraint("login", "client", name="uq_login_failure_login_client"),)
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64)  # as typed, upper-cased: the same key whether or not the account exists
    client: str = Field(max_length=64)  # the caller's address as `hnce serve` saw it, or "local"
    failures: int
    last_at: datetime = Field(index=True)  # what nobody tried for a day is deleted
    locked_until: datetime | None = None  # the address waits until then


class AdminScope(SQLModel, table=True):
    """What an admin may act on: units for unit admins, a region for HR reviewers."""

    __tablename__ = "admin_scope"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    region_code: str | None = Field(default=None, foreign_key="region.code", max_length=16)


class Professional(SQLModel, table=True):
    """An accounting professional's profile and registration state."""

    __table_args__ = (
        Index("ix_professional_unit_status", "unit_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True)
    id_number: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=64, index=True)
    gender: str = Field(max_length=2)
    birth_date: date
    mobile: str = Field(max_length=20, index=True)
    email: str = Field(max_length=254)
    unit_id: int = Field(foreign_key="unit.id")
    department: str | None = Field(default=None, max_length=100)
    ethnicity: str | None = Field(default=None, max_length=20)
    native_place: str | None = Field(default=None, max_length=100)
    school: str | None = Field(default=None, max_length=100)
    major: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=50)
    # pending 待审核 | approved 审核通过 | rejected 审核不通过 | cancelled 已注销
    status: str = Field(default="pending", max_length=12)
    registered_at: datetime = Field(index=True)
    decided_at: datetime | None = None
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    reject_reason: str | None = Field(default=None, max_length=500)


class AuthSession(SQLModel, table=True):
    """A login session; only the SHA-256 of the token is stored, so a leak of the
    table does not leak usable tokens."""

    __tablename__ = "auth_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Who did what to whom, when, with the state before and after (JSON text)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime  # not indexed: rows are appended in time order, and read by subject
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    action: str = Field(max_length=40)
    subject_type: str = Field(max_length=30)
    subject_id: str = Field(max_length=64)
    before: str | None = Field(default=None, sa_column=Column(Text))
    after: str | None = Field(default=None, sa_column=Column(Text))


class Setting(SQLModel, table=True):
    """A system-wide setting the system admin may replace (JSON text), e.g. the learning forms."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime
    updated_by: int | None = Field(default=None, foreign_key="account.id")


class Declaration(SQLModel, table=True):
    """A credit declaration 学时(分)申报 and its state in the two-level review.

    unit_id is the person's unit when they submitted: the unit reviewer's scope,
    and (through the unit's region) the HR reviewer's.
    """

    # A review rewrites no index entry but its item's place in a queue: the two review
    # queues are partial indexes holding only their own status (migration 0005), and
    # no other index has `status` in its key.
    __table_args__ = (
        Index("ix_declaration_professional_id", "professional_id"),
        Index("ix_declaration_unit_id", "unit_id"),
        *(Index(f"ix_declaration_awaiting_{level}", "unit_id", "status", "submitted_at",
                sqlite_where=text(f"status = '{status}'"), postgresql_where=text(f"status = '{status}'"))
          for level, status in (("unit", "pending_unit"), ("hr", "pending_hr"))),
        # A declaration already made: the same person, form, year and answers (migration 0009).
        Index("ix_declaration_fingerprint", "fingerprint"),
        # An import row is written once: a re-run, or two imports of one file at once, find it here.
        Index("uq_declaration_import_key", "import_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    professional_id: int = Field(foreign_key="professional.id")
    unit_id: int = Field(foreign_key="unit.id")
    form_code: str = Field(max_length=40)
    subject: str = Field(default="public", max_length=12)  # always 公需科目 here
    year: int
    credits: float
    fields: str = Field(sa_column=Column(Text, nullable=False))  # the form's answers, JSON
    # draft 待提交 | pending_unit / pending_hr 待审核 | approved 审核通过 | rejected 审核不通过
    status: str = Field(default="draft", max_length=12)
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = Field(default=None, max_length=500)
    rejected_level: str | None = Field(default=None, max_length=8)  # unit | hr
    # SHA-256 of the person's ID number, the form, the year and the answers (sorted JSON):
    # what makes two declarations the same (services/declarations.py, `fingerprint`). Null
    # only for a row written by a worker of an older release during a roll-out.
    fingerprint: str | None = Field(default=None, max_length=64)
    # The import row it came from: "ref:<unit id>:<申报编号>" when the unit's file numbers its
    # rows, else "fp:<fingerprint>"; null for declarations made one by one and for rows
    # imported before migration 0009. Unique: the same row is never imported twice.
    import_key: str | None = Field(default=None, max_length=100)


class Blob(SQLModel, table=True):
    """Attachment content, stored once per SHA-256 (content-addressed)."""

    sha256: str = Field(primary_key=True, max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    media_type: str = Field(max_length=40)


class Attachment(SQLModel, table=True):
    """A proof 附件 of a declaration: its file name and the blob holding the bytes."""

    id: int | None = Field(default=None, primary_key=True)
    declaration_id: int = Field(foreign_key="declaration.id", index=True)
    sha256: str = Field(foreign_key="blob.sha256", max_length=64)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=40)
    size: int


class CreditRecord(SQLModel, table=True):
    """Every credit that counts, with where it came from.

    (source, source_ref) is unique, so importing or approving the same thing twice
    cannot count it twice. id_number is kept for national-platform reconciliation.
    """

    __tablename__ = "credit_record"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_credit_record_source"),
        Index("ix_credit_record_completion", "year", "professional_id", "subject", "credits"),
    )
    id: int | None = Field(default=None, primary_key=True)
    professional_id: int = Field(foreign_key="professional.id", index=True)
    id_number: str = Field(max_length=18)
    year: int
    subject: str = Field(max_length=12)  # public | professional
    credits: float
    source: str = Field(max_length=12)  # online | declaration | base | national
    source_ref: str = Field(max_length=64)
    created_at: datetime


class Certificate(SQLModel, table=True):
    """An issued certificate of one person's passed year (one per person and year).

    `number` is stable: re-issuing the same person and year keeps it. `content` is the
    canonical, signed content (JSON) so verification needs no recomputation; `code`
    is the verification code printed on the PDF, `key_id` names the key that signed it
    (docs/deploy.md). A revoked certificate keeps its row.
    """

    __table_args__ = (UniqueConstraint("professional_id", "year", name="uq_certificate_person_year"),)
    id: int | None = Field(default=None, primary_key=True)
    professional_id: int = Field(foreign_key="professional.id")
    year: int = Field(index=True)
    number: str = Field(max_length=32, unique=True)
    code: str = Field(max_length=128, unique=True)
    content: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime
    issued_by: int | None = Field(default=None, foreign_key="account.id")
    revoked_at: datetime | None = None
    revoked_by: int | None = Field(default=None, foreign_key="account.id")
    revoke_reason: str | None = Field(default=None, max_length=500)
    # The id of the key that signed `code` (signing.key_id); None: recorded before key ids were.
    key_id: str | None = Field(default=None, max_length=16)
