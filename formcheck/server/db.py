"""The service's database: users, their tokens and browser sessions, uploads, the job queue.

SQLAlchemy Core, so the same tables run on the default embedded SQLite file and on
PostgreSQL (`--db-url postgresql+psycopg://...`). Times are stored as POSIX seconds (float):
portable across both, and all the queue needs is comparisons and differences.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(10), nullable=False),  # "client" | "coach"
    Column("created_at", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # sha256 hex of the token: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    # sha256 hex of the cookie's random value: a leaked database opens no session.
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # The API token logged in with: revoking it ends the sessions it opened.
    Column("token_id", Integer, ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),  # uuid4 hex: also the folder name
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("filename", String(255), nullable=False),  # for display only, never a path
    Column("size_bytes", Integer, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    # One job per upload: a retried job is the same row, so a result can never be doubled.
    Column(
        "upload_id",
        String(32),
        ForeignKey("uploads.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("state", String(10), nullable=False, index=True),  # queued|running|done|error
    Column("progress", Float, nullable=False, default=0.0),  # 0..1
    Column("stage", String(20), nullable=False, default=""),  # analysing | rendering
    Column("attempts", Integer, nullable=False, default=0),
    # Set on each claim; a worker may only update the job while its claim is the current one.
    Column("claim", String(32), nullable=True),
    Column("worker", String(40), nullable=True),
    Column("heartbeat_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("rep_count", Integer, nullable=True),
    Column("score", Integer, nullable=True),
    Column("error", Text, nullable=True),
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets the web process read while a worker writes; wait for locks, do not fail."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no commit
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` with the tables created; SQLite files get WAL mode on connect."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(
        url,
        connect_args={"timeout": 15} if is_sqlite else {},
        pool_pre_ping=not is_sqlite,
    )
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


def now() -> float:
    """The time stored in the database: POSIX seconds."""
    return time.time()
