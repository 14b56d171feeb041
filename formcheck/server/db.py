"""The service's database: users, their tokens and browser sessions, uploads, the job queue,
the scoring workers.

SQLAlchemy Core, so the same tables run on the default embedded SQLite file (one machine)
and on PostgreSQL (`--db-url postgresql+psycopg://...`: fronts and workers on several
machines). The schema is built and changed by the Alembic revisions in `migrations/`, which
`upgrade` applies; the tables below are what the code reads and writes, and a test checks they
match what the revisions build. Times are stored as POSIX seconds (float): portable across
both, and all the queue needs is comparisons and differences.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    make_url,
    text,
)
from sqlalchemy.exc import ArgumentError, OperationalError

from formcheck.errors import DatabaseError

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
    Column("worker", String(120), nullable=True),  # the claiming worker's name
    Column("heartbeat_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("rep_count", Integer, nullable=True),
    Column("score", Integer, nullable=True),
    Column("error", Text, nullable=True),
)

workers = Table(
    "workers",
    metadata,
    # "<host>/<pid>/<name>": unique among the workers alive on any machine.
    Column("name", String(120), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("state", String(10), nullable=False),  # idle | scoring | stopped
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
    Column("jobs_done", Integer, nullable=False),  # jobs this worker finished (done or error)
    Column("scoring_s", Float, nullable=False),  # seconds it spent on them
)

service_secrets = Table(
    "secrets",
    metadata,
    Column("name", String(40), primary_key=True),  # "csrf"
    Column("value", LargeBinary, nullable=False),
)

#: Where the Alembic revisions are (a package resource).
SCRIPT_LOCATION = "formcheck.server:migrations"
#: PostgreSQL advisory lock key held while migrating: fronts and workers starting together
#: migrate one after the other (the later ones find nothing to do).
_MIGRATION_LOCK = 0x666F726D  # "form"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets the web process read while a worker writes; wait for locks, do not fail."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no commit
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str, migrate: bool = True) -> Engine:
    """An engine for `url`, its schema brought up to date (`upgrade`) unless `migrate` is
    False; SQLite files get WAL mode on connect.

    Raises:
        DatabaseError: the database cannot be reached, or its schema is newer than this code.
    """
    is_sqlite = url.startswith("sqlite")
    try:
        engine = create_engine(
            url,
            connect_args={"timeout": 15} if is_sqlite else {"connect_timeout": 10},
            pool_pre_ping=not is_sqlite,  # a restarted PostgreSQL: reconnect, do not fail
        )
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"--db-url {safe_url(url)}: {exc}") from None
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:":  # SQLite makes the file, not its folder
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade(engine)
    return engine


def safe_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def alembic_config(conn: Connection | None = None) -> AlembicConfig:
    """Alembic's configuration for the revisions in `migrations/`, on `conn` (None: the
    scripts only)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


@functools.cache
def head() -> str:
    """The revision this code expects: the newest in `migrations/versions/`."""
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None, "no migrations found"
    return found


def revision(engine: Engine) -> str | None:
    """The database's Alembic revision (None: empty, or made before migrations).

    Raises:
        DatabaseError: the database cannot be reached.
    """
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to `head()`; returns (revision before, revision after).

    A database made before migrations (the tables, no `alembic_version`) is stamped 0001,
    the schema it holds, then upgraded. On PostgreSQL an advisory lock makes processes that
    start together migrate one at a time.

    Raises:
        DatabaseError: the database cannot be reached, or it is at a revision this code
            does not know (made by a newer formcheck).
    """
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            before = MigrationContext.configure(conn).get_current_revision()
            cfg = alembic_config(conn)
            if before is None and inspect(conn).has_table("jobs"):
                command.stamp(cfg, "0001")  # made by create_all before Alembic
            try:
                command.upgrade(cfg, "head")
            except CommandError as exc:
                raise DatabaseError(
                    f"the database is at revision {before}, which this formcheck does not"
                    f" know ({exc}): upgrade formcheck"
                ) from None
            after = MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None
    return before, after or head()


def _unreachable(engine: Engine, exc: OperationalError) -> DatabaseError:
    return DatabaseError(
        f"cannot reach the database {safe_url(str(engine.url))}: {first_line(exc)}"
    )


def first_line(exc: BaseException) -> str:
    """One line on a database error (the driver's own message), for logs and messages."""
    text_ = str(getattr(exc, "orig", exc)).strip()
    return text_.splitlines()[0] if text_ else exc.__class__.__name__


def now() -> float:
    """The time stored in the database: POSIX seconds."""
    return time.time()
