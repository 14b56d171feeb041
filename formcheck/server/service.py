"""What the API and the pages both do: accept, list, show and delete uploads for a user.

Visibility lives here and nowhere else: a client sees only their own uploads, a coach sees
all. An upload another client owns answers 404, exactly like one that does not exist, so
upload ids cannot be probed.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from formcheck.config import Config
from formcheck.errors import StoreError
from formcheck.server import queue
from formcheck.server.auth import LOGIN_ATTEMPTS, LOGIN_WINDOW_S, RateLimiter, User
from formcheck.server.db import jobs, now, uploads, users
from formcheck.server.settings import ServerSettings
from formcheck.server.storage import (
    HTML_NAME,
    INPUT_NAME,
    REPORT_NAME,
    VIDEO_NAME,
    UploadRefusedError,
    check_cost,
    check_video,
    receive_multipart,
)
from formcheck.server.stores import Store
from formcheck.server.stores.base import Served, is_upload_id, new_upload_id

log = logging.getLogger(__name__)


@dataclass
class Service:
    """The app's shared state: settings, database, clip store, CSRF secret, upload rate
    limiter (per user), wrong-login limiter (per client address), and the analysis
    configuration (its rule thresholds draw the result page's plot)."""

    settings: ServerSettings
    engine: Engine
    store: Store
    secret: bytes
    limiter: RateLimiter
    config: Config
    logins: RateLimiter = field(default_factory=lambda: RateLimiter(LOGIN_ATTEMPTS, LOGIN_WINDOW_S))


class UploadInfo(BaseModel):
    """An upload and its scoring job, as the API returns it."""

    id: str
    filename: str
    owner: str
    size_bytes: int
    duration_s: float
    created_at: str  # ISO 8601, UTC
    state: str  # queued | running | done | error
    progress: float  # 0..1
    stage: str  # analysing | rendering while running, else ""
    attempts: int
    rep_count: int | None = None
    score: int | None = None
    error: str | None = None
    report_url: str
    video_url: str
    page_url: str


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="seconds")


_COLUMNS = (
    uploads.c.id,
    uploads.c.filename,
    users.c.name.label("owner"),
    uploads.c.size_bytes,
    uploads.c.duration_s,
    uploads.c.created_at,
    jobs.c.state,
    jobs.c.progress,
    jobs.c.stage,
    jobs.c.attempts,
    jobs.c.rep_count,
    jobs.c.score,
    jobs.c.error,
)


def _info(row: Any) -> UploadInfo:
    return UploadInfo(
        id=row.id,
        filename=row.filename,
        owner=row.owner,
        size_bytes=row.size_bytes,
        duration_s=row.duration_s,
        created_at=_iso(row.created_at),
        state=row.state,
        progress=round(float(row.progress), 3),
        stage=row.stage,
        attempts=row.attempts,
        rep_count=row.rep_count,
        score=row.score,
        error=row.error,
        report_url=f"/api/uploads/{row.id}/report",
        video_url=f"/api/uploads/{row.id}/video",
        page_url=f"/clips/{row.id}",
    )


def _visible(user: User) -> Any:
    base = (
        select(*_COLUMNS)
        .select_from(uploads.join(users).join(jobs))
        .order_by(uploads.c.created_at.desc())
    )
    return base if user.is_coach else base.where(uploads.c.user_id == user.id)


def list_uploads(svc: Service, user: User) -> list[UploadInfo]:
    """The user's uploads, newest first (a coach: everyone's)."""
    with svc.engine.connect() as conn:
        return [_info(r) for r in conn.execute(_visible(user))]


def get_upload(svc: Service, user: User, upload_id: str) -> UploadInfo:
    """One upload the user may see, else HTTP 404."""
    if not is_upload_id(upload_id):
        raise HTTPException(404, "no such upload")
    with svc.engine.connect() as conn:
        row = conn.execute(_visible(user).where(uploads.c.id == upload_id)).first()
    if row is None:
        raise HTTPException(404, "no such upload")
    return _info(row)


def scored(svc: Service, user: User, upload_id: str) -> UploadInfo:
    """An upload the user may see that is scored, else HTTP 404 (not visible) or 409 (not
    scored yet, or failed)."""
    info = get_upload(svc, user, upload_id)
    if info.state != "done":
        detail = f"not scored: {info.state}" + (f" ({info.error})" if info.error else "")
        raise HTTPException(409, detail)
    return info


def result_bytes(svc: Service, user: User, upload_id: str, name: str) -> bytes:
    """A small result file (the report, the trace) of a scored upload, else HTTP 404/409."""
    scored(svc, user, upload_id)
    data = svc.store.read_bytes(upload_id, name)
    if data is None:
        raise HTTPException(404, "result file missing")
    return data


#: The result files the pages and the API serve, by kind.
RESULT_FILES = {
    "video": Served(VIDEO_NAME, "video/mp4", "{id}.mp4", inline=True),
    "report": Served(REPORT_NAME, "application/json", "formcheck-{id8}.json"),
    # The HTML report has no script and no URL; the sandbox makes sure it never runs any.
    "html": Served(
        HTML_NAME,
        "text/html",
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'"
        },
    ),
}


def result_response(
    svc: Service, user: User, upload_id: str, kind: str, request: Request
) -> Response:
    """A result file (`RESULT_FILES[kind]`) of a scored upload streamed from the store
    (byte ranges answered), else HTTP 404 (not visible, or the file is gone) or 409 (not
    scored yet, or failed)."""
    scored(svc, user, upload_id)
    return svc.store.response(upload_id, RESULT_FILES[kind], request)


def delete_upload(svc: Service, user: User, upload_id: str) -> None:
    """Delete an upload the user may see: its rows (the job goes with it) and its files."""
    get_upload(svc, user, upload_id)
    with svc.engine.begin() as conn:
        conn.execute(delete(jobs).where(jobs.c.upload_id == upload_id))
        conn.execute(delete(uploads).where(uploads.c.id == upload_id))
    svc.store.delete(upload_id)


def _disk_full(exc: OSError | OperationalError) -> UploadRefusedError | None:
    """A 507 for a full disk (the file's write or the database's), else None."""
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(exc, OperationalError) and "full" in str(exc.orig).lower()
    )
    if not full:
        return None
    log.error("upload refused: the disk is full (%s)", exc)
    return UploadRefusedError(507, "the server's disk is full: try again later")


async def accept_upload(
    svc: Service, request: Request, user: User
) -> tuple[UploadInfo, dict[str, str]]:
    """Take a multipart upload: rate limit, stream to disk with the size limit, check it is a
    whole video, record it and queue its job. Returns the upload and the small form fields.

    Raises:
        HTTPException: 429 too many uploads; 413 too large (bytes, minutes or pixels); 415
            not a video; 422 truncated, empty or too high a frame rate; 400 malformed
            request or a path as filename; 507 the server's disk is full (nothing kept).
    """
    wait_s = svc.limiter.allow(user.id)
    if wait_s:
        raise HTTPException(
            429,
            f"too many uploads: try again in {wait_s:.0f} s",
            headers={"Retry-After": str(int(wait_s) + 1)},
        )
    upload_id = new_upload_id()
    folder = svc.store.local(upload_id)
    try:
        received = await receive_multipart(
            request, folder / INPUT_NAME, svc.settings.max_upload_bytes
        )
        info = await run_in_threadpool(check_video, received.path)
        check_cost(info, svc.settings)
        # Stored before it is recorded: a worker that claims the job finds the file.
        await run_in_threadpool(svc.store.keep, upload_id, folder, [INPUT_NAME])

        def record() -> UploadInfo:  # in a thread: a busy database must not stall the loop
            with svc.engine.begin() as conn:
                conn.execute(
                    insert(uploads).values(
                        id=upload_id,
                        user_id=user.id,
                        filename=received.filename,
                        size_bytes=received.size_bytes,
                        duration_s=info.duration_s,
                        created_at=now(),
                    )
                )
                queue.enqueue(conn, upload_id)
            return get_upload(svc, user, upload_id)

        upload = await run_in_threadpool(record)
    except (UploadRefusedError, OSError, OperationalError, StoreError) as exc:
        await run_in_threadpool(svc.store.delete, upload_id)
        svc.limiter.refund(user.id)
        if isinstance(exc, StoreError):
            log.error("upload refused: %s", exc)
            raise HTTPException(503, "the clip store cannot be reached: try again later") from None
        refusal = exc if isinstance(exc, UploadRefusedError) else _disk_full(exc)
        if refusal is None:
            raise
        raise HTTPException(refusal.status, refusal.message) from None
    except BaseException:
        svc.store.delete(upload_id)
        raise
    finally:
        svc.store.release(folder)
    log.info(
        "upload %s by %s: %s, %d bytes",
        upload_id,
        user.name,
        received.filename,
        received.size_bytes,
    )
    return upload, received.fields
