"""API tokens, roles, browser sessions, CSRF tokens and login throttling.

A token is `secrets.token_urlsafe(32)`, shown once by `formcheck serve --create-token`; the
database keeps only its sha256, so a leaked database gives no working token. The API takes
it as `Authorization: Bearer <token>`; `formcheck serve --revoke-token NAME` removes a
user's tokens. The web pages take it once in a login form and open a *session* of their
own: a fresh random value in an HttpOnly, SameSite=Strict cookie (never the token itself),
stored hashed, that expires (`SESSION_MAX_AGE_S`), ends at logout and with the token it was
opened with. Every form post also carries a CSRF token derived from the session (HMAC with
a per-data-dir secret), checked before anything changes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from formcheck.errors import ConfigError
from formcheck.server.db import now, service_secrets, sessions, tokens, users

ROLES = ("client", "coach")
COOKIE_NAME = "formcheck_session"
#: A browser session lasts this long (s); logging in again opens a new one.
SESSION_MAX_AGE_S = 7 * 24 * 3600
#: Wrong logins allowed per client address within `LOGIN_WINDOW_S` (then 429).
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_S = 300.0


@dataclass(frozen=True)
class User:
    """Who a request acts for."""

    id: int
    name: str
    role: str
    token_hash: str  # the request's key: the API token's hash, or the session's (CSRF)

    @property
    def is_coach(self) -> bool:
        return self.role == "coach"


def hash_token(token: str) -> str:
    """The stored form of a token: sha256 hex (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, name: str, coach: bool = False) -> str:
    """A new token for user `name` (created when new); returns the token, shown only once.

    Raises:
        ConfigError: an empty name, or `name` exists with the other role.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise ConfigError("--create-token needs a name of 1 to 100 characters")
    role = "coach" if coach else "client"
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        row = conn.execute(select(users.c.id, users.c.role).where(users.c.name == name)).first()
        if row is None:
            user_id = conn.execute(
                insert(users).values(name=name, role=role, created_at=now()).returning(users.c.id)
            ).scalar_one()
        elif row.role != role:
            raise ConfigError(f"user {name!r} exists as a {row.role}; a token keeps that role")
        else:
            user_id = row.id
        conn.execute(
            insert(tokens).values(user_id=user_id, token_hash=hash_token(token), created_at=now())
        )
    return token


#: Longer "tokens" and cookies are not ours: refused before hashing.
MAX_SECRET_CHARS = 200
_USER_COLUMNS = (users.c.id, users.c.name, users.c.role)


def _user(engine: Engine, query: Any, digest: str) -> User | None:
    """The user `query` (over `_USER_COLUMNS`) finds, keyed by `digest`, or None."""
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else User(row.id, row.name, row.role, digest)


def user_for_token(engine: Engine, token: str | None) -> User | None:
    """The user a token belongs to, or None for a missing or unknown token."""
    if not token or len(token) > MAX_SECRET_CHARS:
        return None
    digest = hash_token(token)
    return _user(
        engine,
        select(*_USER_COLUMNS)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == digest),
        digest,
    )


def revoke_tokens(engine: Engine, name: str) -> int:
    """Remove every token of user `name`, and so every session opened with them; returns
    how many tokens there were.

    Raises:
        ConfigError: no such user.
    """
    with engine.begin() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.name == name.strip())).scalar()
        if user_id is None:
            raise ConfigError(f"no user named {name.strip()!r}")
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        return int(conn.execute(delete(tokens).where(tokens.c.user_id == user_id)).rowcount)


def open_session(engine: Engine, token: str) -> str | None:
    """A new browser session for the holder of API `token`: the cookie's value, or None for
    an unknown token. Expired sessions are swept on the way."""
    if not token or len(token) > MAX_SECRET_CHARS:
        return None
    t = now()
    with engine.begin() as conn:
        row = conn.execute(
            select(tokens.c.id, tokens.c.user_id).where(tokens.c.token_hash == hash_token(token))
        ).first()
        if row is None:
            return None
        conn.execute(delete(sessions).where(sessions.c.expires_at <= t))
        value = secrets.token_urlsafe(32)
        conn.execute(
            insert(sessions).values(
                session_hash=hash_token(value),
                user_id=row.user_id,
                token_id=row.id,
                created_at=t,
                expires_at=t + SESSION_MAX_AGE_S,
            )
        )
    return value


def user_for_session(engine: Engine, value: str | None) -> User | None:
    """The user of a live session cookie, or None (missing, unknown, expired, ended)."""
    if not value or len(value) > MAX_SECRET_CHARS:
        return None
    digest = hash_token(value)
    return _user(
        engine,
        select(*_USER_COLUMNS)
        .join(sessions, sessions.c.user_id == users.c.id)
        .join(tokens, tokens.c.id == sessions.c.token_id)
        .where(sessions.c.session_hash == digest, sessions.c.expires_at > now()),
        digest,
    )


def close_session(engine: Engine, value: str | None) -> None:
    """End a session (logout): its cookie no longer works, wherever it was copied to."""
    if value and len(value) <= MAX_SECRET_CHARS:
        with engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.session_hash == hash_token(value)))


def load_secret(engine: Engine, data_dir: Path) -> bytes:
    """The service's HMAC secret for CSRF tokens, kept in the database so that every front
    of it signs alike: made once (by the first front to start), or taken over from the
    `secret.key` file a server before the database kept it made in `data_dir`."""
    with engine.connect() as conn:
        value = conn.execute(
            select(service_secrets.c.value).where(service_secrets.c.name == "csrf")
        ).scalar()
    if value is not None:
        return bytes(value)
    old = data_dir / "secret.key"
    fresh = old.read_bytes() if old.is_file() else secrets.token_bytes(32)
    try:
        with engine.begin() as conn:
            conn.execute(insert(service_secrets).values(name="csrf", value=fresh))
    except IntegrityError:  # another front made it first: use theirs
        return load_secret(engine, data_dir)
    return fresh


def csrf_token(secret: bytes, user: User) -> str:
    """The CSRF token of a session: stable for the session, unguessable without the secret."""
    return hmac.new(secret, user.token_hash.encode(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(secret: bytes, user: User, given: str | None) -> bool:
    """Does `given` match the session's CSRF token (constant-time compare)?"""
    return bool(given) and hmac.compare_digest(csrf_token(secret, user), given or "")


class RateLimiter:
    """A sliding-window limit per key: at most `max_events` within `window_s` seconds.

    In memory: the service runs as one web process, and a restart forgetting a window only
    ever lets a user upload a little sooner.
    """

    def __init__(self, max_events: int, window_s: float) -> None:
        self.max_events = max_events
        self.window_s = window_s
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> float:
        """Record an event for `key`; 0 when allowed, else the seconds until one is allowed."""
        t = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and t - events[0] >= self.window_s:
                events.popleft()
            if len(events) >= self.max_events:
                return max(self.window_s - (t - events[0]), 0.001)
            events.append(t)
            return 0.0

    def refund(self, key: Hashable) -> None:
        """Take back `key`'s latest event: an upload the service refused (not a video, too
        large) does not count against the user's quota."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()
