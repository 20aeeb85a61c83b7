"""Tables. One class per concept; schema changes go through Alembic migrations (``migrations/``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class RegistryVersion(Base):
    """One import of the unit registry: a full snapshot. Codes merged or retired are simply
    absent from later versions; earlier versions stay retrievable."""

    __tablename__ = "registry_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    # the active units of this version as one Arrow IPC stream (unit_code order): read whole in
    # milliseconds instead of a row per unit; None for versions written before it existed
    frame: Mapped[bytes | None] = mapped_column(LargeBinary)


class Unit(Base):
    """One unit of a registry version. No foreign key to its version: every row is written in
    the transaction that writes the version (never deleted), and PostgreSQL checked the key
    row by row (half of the country's import)."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("registry_version_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    registry_version_id: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(50))
    parent_code: Mapped[str] = mapped_column(String(32), default="")
    merged_into: Mapped[str] = mapped_column(String(32), default="")


class Upload(Base):
    """Every upload attempt, accepted or rejected, with the hash of the bytes sent."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    author: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(Text, default="")  # every month of the file, comma-joined
    status: Mapped[str] = mapped_column(String(16))  # imported | rejected
    rows: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[list | None] = mapped_column(JSON)  # the uploader's scope roots; None = all
    registry_version_id: Mapped[int | None] = mapped_column(ForeignKey("registry_versions.id"))
    # the rule-set source whose export this upload's values were derived from; "" for a table
    source: Mapped[str] = mapped_column(String(64), default="", server_default="")


class UploadPart(Base):
    """Every version of every unit-month: an upload's rows of one month in unit-code order, cut
    into parts of a few thousand rows, each one Arrow IPC stream (unit_code, period, one
    float64 column per id the file carried, an empty cell null) with its first and last code.
    Written once, never updated: every version stays retrievable, and the current values are
    the month's uploads folded in order (``upload_parts.fold``)."""

    __tablename__ = "upload_parts"
    __table_args__ = (Index("ix_upload_parts_upload", "upload_id"),)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_code: Mapped[str] = mapped_column(String(32))
    last_code: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer)
    frame: Mapped[bytes] = mapped_column(LargeBinary)


class MonthFrame(Base):
    """A month of current values as one Arrow IPC stream (unit_code, period, one float64
    column per id, in unit_code order) once it took more than one upload: read in one blob
    instead of folded from its uploads' parts. A cache, valid while ``upload_id`` is the
    newest imported upload for the month; folded again when it is not."""

    __tablename__ = "month_frames"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    upload_id: Mapped[int] = mapped_column(Integer)
    frame: Mapped[bytes] = mapped_column(LargeBinary)


class GradedMonth(Base):
    """A month graded as the map shows it, kept for one state of the store (``state``: its
    data, registry, rule sets and their publication, and the code that graded them): every
    graded unit's row and the roll-up of the units above them, each one Arrow IPC stream
    (NULL where that month's was not built), and the fingerprint of the data graded up to it
    (NULL where none was taken). A cache: a server that starts with the store in that state
    reads these instead of grading every unit again; rows of another state are never read."""

    __tablename__ = "graded_months"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    state: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    units: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    parents: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # the stabilities computed for the map's first pages (the units listed red and orange)
    stabilities: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class EventFrame(Base):
    """The events of another system's export behind an upload of derived values (one Arrow
    IPC stream: event_id, unit_code and the source's declared columns, nothing else of the
    file), kept so each derived value can show the events it counts."""

    __tablename__ = "event_frames"
    __table_args__ = (Index("ix_event_frames_source_period", "source", "period"),)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    rows: Mapped[int] = mapped_column(Integer)
    frame: Mapped[bytes] = mapped_column(LargeBinary)


class RuleSetVersion(Base):
    __tablename__ = "rule_set_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    rules_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    published: Mapped[bool] = mapped_column(Boolean, default=False)


class AssessmentRun(Base):
    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_version_id: Mapped[int] = mapped_column(ForeignKey("rule_set_versions.id"))
    period: Mapped[str] = mapped_column(String(7), index=True)
    status: Mapped[str] = mapped_column(String(16))  # draft | published
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(100))
    data_sha256: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(32))
    # The newest upload when the graded data were read (None before migration 0007).
    upload_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Every unit's result as one Arrow IPC stream (unit_code order): unit_code, score, grade,
    # grade_label, score_grade, reasons, vetoes and one ``score.<dimension>`` column each.
    results: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # read on demand


class FollowUpTask(Base):
    __tablename__ = "followup_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(7))
    source: Mapped[str] = mapped_column(String(100))  # the rule that suggested it
    action: Mapped[str] = mapped_column(Text)
    owner_role: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[str] = mapped_column(String(100))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))


class TaskEvent(Base):
    __tablename__ = "task_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("followup_tasks.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    who: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")


class TaskFile(Base):
    """Evidence (整改材料) attached to a task: the bytes as sent, never opened by the server."""

    __tablename__ = "task_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("followup_tasks.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    who: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, index=True)
    who: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class User(Base):
    """An account. ``scope`` holds the root unit codes of the subtrees it may see (None: every
    unit); the password is stored only as an argon2 hash (None: single sign-on only)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[list | None] = mapped_column(JSON)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    last_sign_in: Mapped[dt.datetime | None] = mapped_column(DateTime)
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class SignInSession(Base):
    """A signed-in browser. The cookie holds a random id; only its sha256 is stored here."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    idle_expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # absolute: a session's last minute
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str] = mapped_column(String(64), default="")


class SignInFailure(Base):
    """One failed sign-in: back-off is counted per client address and per account name."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_address", "client_address", "at"),
        Index("ix_sign_in_failures_user", "user_name", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    client_address: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(64))


class Message(Base):
    """The in-app inbox (消息): every reminder lands here, whatever else is configured."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_user_name", "user_name", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SentLog(Base):
    """One reminder event sent (or tried) to one recipient on one channel: a rerun sends
    nothing twice, and a failed channel is retried on the next run."""

    __tablename__ = "sent_log"
    __table_args__ = (UniqueConstraint("event", "recipient", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    error: Mapped[str] = mapped_column(Text, default="")


class FormEntry(Base):
    """A unit's month entered online: the values as typed, and where the entry stands
    (draft → submitted → returned or approved). Only an approved entry reaches the values, as
    an upload of its own."""

    __tablename__ = "form_entries"
    __table_args__ = (UniqueConstraint("unit_code", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(16))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str] = mapped_column(String(64), default="")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    upload_id: Mapped[int | None] = mapped_column(Integer)


class ApiToken(Base):
    """A token another system calls the HTTP API with: it acts as ``user_name`` (that account's
    role and scope, checked on every call). Only the sha256 of the token is kept (a token is
    32 random bytes, so a hash is as good as a password hash and costs nothing per call); it
    is shown once, when made."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    user_name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to recognise it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
