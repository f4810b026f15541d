"""Database schema (SQLAlchemy 2 models), engines and start-up migrations.

One schema serves a single server on a SQLite file and several servers
sharing one PostgreSQL queue. No case state lives in process memory:
the queue order, the audit trail and sessions are all database queries,
so any server can answer any teller.

The schema itself is created by Alembic (server/migrations); these models
are what the code reads and writes, and a test checks the two agree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant will do; it only has to be the same for every Front Desk server
# sharing one PostgreSQL database, so they migrate one at a time.
_PG_MIGRATION_LOCK = 0x46444553  # "FDES"

ROLES = ("teller", "supervisor", "product", "admin")
#: ``interrupted``: the server stopped mid-call; the case holds every finished turn.
CASE_STATUSES = ("open", "accepted", "rejected", "escalated", "interrupted")
CORRECTION_STATUSES = ("pending", "accepted", "rejected")
RISK_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}


def utcnow() -> dt.datetime:
    """Naive UTC now: SQLite has no time zones, so every timestamp is stored as UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of the server's tables."""


class User(Base):
    """A member of staff who logs in: teller, product or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: Languages the member of staff serves callers in (mandarin, shanghainese ...).
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)


class AuthSession(Base):
    """A login session. Only a hash of the token is stored, never the token."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    #: Sessions unused for ``server.session_idle_minutes`` end.
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ServiceKey(Base):
    """A credential of one of the bank's systems; only its SHA-256 is stored."""

    __tablename__ = "service_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class CaseRow(Base):
    """A case in the teller queue: sortable columns plus the full Case JSON."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_queue", "status", "risk_rank", "risk_score", "created_at"),)

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    customer_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    scenario: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    risk_level: Mapped[str] = mapped_column(String(16))
    risk_rank: Mapped[int] = mapped_column(Integer)
    risk_score: Mapped[float] = mapped_column(Float)
    intent: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    disconnected: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class AuditEntry(Base):
    """One change, append-only: the database itself refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_action_at", "actor", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Correction(Base):
    """A teller's correction of a case, waiting for product staff to review it."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    normalized_text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(64))
    slots: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class LiveCallRow(Base):
    """A call in progress, written ahead after every finished turn (issue 10).

    ``data`` is the case the call would become if its server died now
    (status ``interrupted``, handoff_reason ``system_interrupted``). The row
    goes when the real case is stored; rows left by a dead server become
    cases at the next start-up (or, on another server, once stale).
    """

    __tablename__ = "live_calls"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    scenario: Mapped[str | None] = mapped_column(String(64), nullable=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    turns: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class RecordingRow(Base):
    """One turn's audio of a case (OGG/Opus); deleted after the retention days, never the case."""

    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("case_id", "turn", name="uq_recordings_case_turn"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class CatalogVersionRow(Base):
    """One version of the intent catalog (issue 10): who made it, when and why.

    Versions count up from 1 (seeded from the YAML files) and are never
    changed or deleted; the highest is the catalog every server uses. Two
    servers committing at once both try to insert the same next version: the
    primary key lets one win, the other re-checks and retries (no lock held).
    """

    __tablename__ = "catalog_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    #: sha256 of the whole catalog's documents (file name and text), for export checks.
    content_hash: Mapped[str] = mapped_column(String(64))


class CatalogDocumentRow(Base):
    """One intent's YAML document as of the version that last changed it.

    Only the intents a version changes get a row, so an intent's revision is
    the version of its newest row; ``document`` None removes the intent (an
    import without it). The catalog of version N is each code's newest row at
    or below N.
    """

    __tablename__ = "catalog_documents"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_versions.version"), primary_key=True
    )
    file_name: Mapped[str] = mapped_column(String(128))
    document: Mapped[str | None] = mapped_column(Text, nullable=True)


class IntentModelRow(Base):
    """A trained intent model's metadata (meta.json), shared by every server.

    The weights stay in ``intent_model_dir`` (a volume all servers mount); the
    row says what they are, and the one most recently made current is the
    model every server loads.
    """

    __tablename__ = "intent_models"

    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    backend: Mapped[str] = mapped_column(String(32))
    catalog_hash: Mapped[str] = mapped_column(String(64))
    n_examples: Mapped[int] = mapped_column(Integer)
    n_corrections: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(40))
    checkpoint: Mapped[str] = mapped_column(String(512))
    made_current_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the SSE poller read while a request writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create the engine for ``url`` (SQLite file or postgresql+psycopg).

    SQLite's parent directory is created, connections may cross threads
    (FastAPI runs sync routes in a thread pool) and writers wait for locks
    instead of failing at once.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, future=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A database that went away must fail a write in seconds, not hang a call.
    return create_engine(url, pool_pre_ping=True, future=True, connect_args={"connect_timeout": 5})


def make_sessionmaker(engine: Engine) -> sessionmaker[Any]:
    """Sessions that keep loaded values after commit (routes read them afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Runs at every start-up. On PostgreSQL an advisory lock serialises
    servers that start together against one database.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
