"""API tokens, roles, the browser session cookie and CSRF tokens.

A token is `secrets.token_urlsafe(32)`, shown once by `formcheck serve --create-token`; the
database keeps only its sha256, so a leaked database gives no working token. The API takes
it as `Authorization: Bearer <token>`. The web pages take it once in a login form and keep it
in an HttpOnly, SameSite=Strict cookie; every form post also carries a CSRF token derived
from the session (HMAC with a per-data-dir secret), checked before anything changes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, select

from formcheck.errors import ConfigError
from formcheck.server.db import now, tokens, users

ROLES = ("client", "coach")
COOKIE_NAME = "formcheck_session"


@dataclass(frozen=True)
class User:
    """Who a request acts for."""

    id: int
    name: str
    role: str
    token_hash: str  # the session's key for its CSRF token

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
                insert(users).values(name=name, role=role, created_at=now())
                .returning(users.c.id)
            ).scalar_one()
        elif row.role != role:
            raise ConfigError(f"user {name!r} exists as a {row.role}; a token keeps that role")
        else:
            user_id = row.id
        conn.execute(insert(tokens).values(user_id=user_id, token_hash=hash_token(token),
                                           created_at=now()))
    return token


def user_for_token(engine: Engine, token: str | None) -> User | None:
    """The user a token belongs to, or None for a missing or unknown token."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.name, users.c.role)
            .join(tokens, tokens.c.user_id == users.c.id)
            .where(tokens.c.token_hash == digest)
        ).first()
    return None if row is None else User(row.id, row.name, row.role, digest)


def load_secret(data_dir: Path) -> bytes:
    """The data dir's HMAC secret for CSRF tokens (made once, readable by the owner only)."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


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
        self._events: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: int) -> float:
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

    def refund(self, key: int) -> None:
        """Take back `key`'s latest event: an upload the service refused (not a video, too
        large) does not count against the user's quota."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()
