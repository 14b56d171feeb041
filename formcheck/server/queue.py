"""The job queue, kept in the database's `jobs` table.

States: queued -> running -> done | error. A worker claims the oldest queued job with one
conditional UPDATE (`... WHERE id = <oldest queued> AND state = 'queued' RETURNING`), so two
workers can never both win it. On PostgreSQL the oldest is picked `FOR UPDATE SKIP LOCKED`:
workers on many machines claiming at once each take a different job instead of queueing
behind one row lock (SQLite has one writer at a time and no row locks: the clause is left
out there). Each claim gets a fresh
`claim` id; progress, heartbeats and the final result are written only while that claim is
still the job's, so a worker that lost its job (the server restarted and the job was handed
out again) cannot write a second result.

A restart loses nothing: jobs left `running` by a dead server go back to `queued` when the
next server starts (`requeue_running`), and a job whose worker went silent for longer than
the lease goes back too (`requeue_stale`). A job that keeps killing its worker is given up
after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update

from formcheck.server.db import jobs, now

MAX_ATTEMPTS = 3
STATES = ("queued", "running", "done", "error")


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: which upload to score, and the claim that proves it holds it."""

    job_id: int
    upload_id: str
    claim: str
    attempts: int
    worker: str


def _add_job(conn: Connection, upload_id: str, state: str, **fields: Any) -> None:
    """The job row of an upload: `state`, no attempt yet, and `fields`."""
    conn.execute(
        insert(jobs).values(upload_id=upload_id, state=state, stage="", attempts=0, **fields)
    )


def enqueue(conn: Connection, upload_id: str) -> None:
    """Queue scoring of an upload (inside the caller's transaction, with the upload row)."""
    _add_job(conn, upload_id, "queued", progress=0.0, created_at=now())


def add_done(conn: Connection, upload_id: str, rep_count: int, score: int | None) -> None:
    """Record as done the job of an upload scored as it was made (a live set, coached frame by
    frame): it is listed and shown like a scored upload, and no worker claims it."""
    t = now()
    _add_job(
        conn,
        upload_id,
        "done",
        progress=1.0,
        created_at=t,
        started_at=t,
        finished_at=t,
        rep_count=rep_count,
        score=score,
    )


def claim_next(engine: Engine, worker: str) -> Claim | None:
    """Atomically take the oldest queued job, or None when the queue is empty."""
    oldest = (
        select(jobs.c.id)
        .where(jobs.c.state == "queued")
        .order_by(jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    token = uuid.uuid4().hex
    t = now()
    with engine.begin() as conn:
        row = conn.execute(
            update(jobs)
            .where(and_(jobs.c.id == oldest, jobs.c.state == "queued"))
            .values(
                state="running",
                claim=token,
                worker=worker,
                attempts=jobs.c.attempts + 1,
                started_at=t,
                heartbeat_at=t,
                progress=0.0,
                stage="analysing",
                error=None,
            )
            .returning(jobs.c.id, jobs.c.upload_id, jobs.c.attempts)
        ).first()
    return None if row is None else Claim(row.id, row.upload_id, token, row.attempts, worker)


def _held(claim: Claim) -> object:
    return and_(jobs.c.id == claim.job_id, jobs.c.claim == claim.claim, jobs.c.state == "running")


def report_progress(engine: Engine, claim: Claim, progress: float, stage: str) -> bool:
    """Write progress (0..1) and a heartbeat; False when the job is no longer this claim's."""
    with engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(_held(claim))  # type: ignore[arg-type]
            .values(progress=min(max(progress, 0.0), 1.0), stage=stage, heartbeat_at=now())
        ).rowcount
    return n == 1


def finish(
    engine: Engine,
    claim: Claim,
    *,
    rep_count: int | None = None,
    score: int | None = None,
    error: str | None = None,
) -> bool:
    """Mark the job done (or error, with a message); False when the claim was lost.

    Safe to try again after an error whose answer was lost: a commit that reached the
    database before it went away left the job finished by this claim (`finished_by`), and
    the second try says so instead of taking the job for lost.
    """
    values: dict[str, object] = {"finished_at": now(), "heartbeat_at": now(), "claim": None}
    if error is None:
        values.update(state="done", progress=1.0, stage="", rep_count=rep_count, score=score)
    else:
        values.update(state="error", stage="", error=error[:2000])
    with engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(_held(claim))  # type: ignore[arg-type]
            .values(**values)
        ).rowcount
    return n == 1 or finished_by(engine, claim)


def hand_back(engine: Engine, claim: Claim, counted: bool = True) -> bool:
    """Put a job the worker holds back in the queue: its worker is stopping (`counted`
    False) or could not reach the store (the attempt counts); False if it was not held."""
    return _requeue(engine, _held(claim), counted) == 1


def finished_by(engine: Engine, claim: Claim) -> bool:
    """Did this claim finish its job: is it done or failed, by this claim's worker, on this
    claim's attempt? (A job handed out again has another worker or attempt.)"""
    with engine.connect() as conn:
        row = conn.execute(
            select(jobs.c.state, jobs.c.worker, jobs.c.attempts).where(jobs.c.id == claim.job_id)
        ).first()
    return (
        row is not None
        and row.state in ("done", "error")
        and row.worker == claim.worker
        and row.attempts == claim.attempts
    )


def requeue_running(engine: Engine) -> int:
    """Every running job goes back to the queue, at startup: jobs a dead server left
    running. The attempt counts, and a job is given up after MAX_ATTEMPTS. Only safe while
    no worker of this database is alive."""
    return _requeue(engine, jobs.c.state == "running", counted=True)


def requeue_worker(engine: Engine, worker: str, counted: bool = True) -> int:
    """Hand back at once the job of a worker that died (its attempt counts), or of one that
    was asked to stop (`counted` False: stopping it says nothing about the clip)."""
    return _requeue(engine, and_(jobs.c.state == "running", jobs.c.worker == worker), counted)


def requeue_stale(engine: Engine, lease_s: float) -> int:
    """Hand back running jobs whose worker has been silent for more than `lease_s` seconds."""
    return _requeue(engine, and_(jobs.c.state == "running", jobs.c.heartbeat_at < now() - lease_s))


def _requeue(engine: Engine, where: object, counted: bool = True) -> int:
    """Put the jobs `where` selects back in the queue. A `counted` attempt (the job may be
    what killed its worker) gives a job up after MAX_ATTEMPTS; an uncounted one (the server
    cut it short) is taken back."""
    back_to_queue: dict[str, object] = {
        "state": "queued",
        "claim": None,
        "worker": None,
        "progress": 0.0,
        "stage": "",
    }
    gave_up = 0
    with engine.begin() as conn:
        if counted:
            gave_up = conn.execute(
                update(jobs)
                .where(and_(where, jobs.c.attempts >= MAX_ATTEMPTS))  # type: ignore[arg-type]
                .values(
                    state="error",
                    claim=None,
                    finished_at=now(),
                    error=f"gave up after {MAX_ATTEMPTS} attempts (the worker kept dying)",
                )
            ).rowcount
        else:
            back_to_queue["attempts"] = jobs.c.attempts - 1
        back = conn.execute(
            update(jobs)
            .where(where)  # type: ignore[arg-type]
            .values(**back_to_queue)
        ).rowcount
    return int(back + gave_up)
