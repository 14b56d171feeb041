"""What operations asks of a front: is it alive (`/healthz`), can it serve (`/readyz`), and
how is the queue doing (`/metrics`, Prometheus' text format through prometheus-client).

The metrics are read from the database at each scrape, so any front answers for the whole
service, whichever machines its workers run on:

- `formcheck_queue_depth`, `formcheck_queue_oldest_seconds`: queued jobs, and how long the
  oldest has waited;
- `formcheck_jobs{state}`: jobs by state (queued, running, done, error);
- `formcheck_worker_heartbeat_age_seconds{worker,state}`: seconds since each worker's last
  heartbeat (a killed worker's only grows);
- `formcheck_worker_jobs_total{worker}`, `formcheck_worker_scoring_seconds_total{worker}`:
  what each worker has finished and the seconds it spent (their rates' ratio is the mean
  scoring time);
- `formcheck_front_workers{}` and `formcheck_live_sets{}`: this front's own worker
  processes alive, and live sets in progress.

`/metrics` shows worker names (host and pid): it needs a coach's API token, which a
Prometheus scrape job sends as `authorization: {credentials: TOKEN}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from formcheck.errors import DatabaseError, StoreError
from formcheck.server.api import api_user, get_service
from formcheck.server.auth import User
from formcheck.server.db import first_line, head, jobs, now, revision
from formcheck.server.queue import STATES
from formcheck.server.registry import roster
from formcheck.server.service import Service

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(request: Request) -> dict[str, object]:
    """The process answers (a liveness probe: restart the front when this fails)."""
    pool = getattr(request.app.state, "pool", None)
    return {"ok": True, "workers": pool.alive() if pool else 0}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """Ready to serve: the database answers at the schema this code expects, and the store
    answers; 503 with what is not (a readiness probe: send no traffic here until 200)."""
    svc = get_service(request)
    problems: list[str] = []
    try:
        rev = revision(svc.engine)  # reading it proves the database answers
        if rev != head():
            problems.append(f"database at revision {rev}, expected {head()}")
    except (SQLAlchemyError, DatabaseError) as exc:
        problems.append(f"database: {first_line(exc)}")
    try:
        svc.store.check()
    except StoreError as exc:
        problems.append(str(exc))
    body = {"ready": not problems, "problems": problems, "store": svc.store.location}
    return JSONResponse(body, status_code=200 if not problems else 503)


class _QueueCollector(Collector):
    """The service's metrics, read from the database at each scrape."""

    def __init__(self, svc: Service, request: Request) -> None:
        self.svc = svc
        self.state = request.app.state

    def collect(self) -> Iterator[Any]:
        with self.svc.engine.connect() as conn:
            by_state: dict[str, int] = dict(
                conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)).all()
            )
            oldest = conn.execute(
                select(func.min(jobs.c.created_at)).where(jobs.c.state == "queued")
            ).scalar()
        depth = GaugeMetricFamily("formcheck_queue_depth", "Jobs waiting for a worker.")
        depth.add_metric([], by_state.get("queued", 0))
        yield depth
        age = GaugeMetricFamily(
            "formcheck_queue_oldest_seconds", "How long the oldest queued job has waited (s)."
        )
        age.add_metric([], max(now() - oldest, 0.0) if oldest is not None else 0.0)
        yield age
        states = GaugeMetricFamily("formcheck_jobs", "Jobs by state.", labels=["state"])
        for state in STATES:
            states.add_metric([state], by_state.get(state, 0))
        yield states
        workers = roster(self.svc.engine)
        beat = GaugeMetricFamily(
            "formcheck_worker_heartbeat_age_seconds",
            "Seconds since each worker's last heartbeat.",
            labels=["worker", "state"],
        )
        done = CounterMetricFamily(
            "formcheck_worker_jobs", "Jobs each worker finished.", labels=["worker"]
        )
        busy = CounterMetricFamily(
            "formcheck_worker_scoring_seconds",
            "Seconds each worker spent scoring.",
            labels=["worker"],
        )
        for w in workers:
            beat.add_metric([w.name, w.state], w.heartbeat_age_s)
            done.add_metric([w.name], w.jobs_done)
            busy.add_metric([w.name], w.scoring_s)
        yield from (beat, done, busy)
        pool = getattr(self.state, "pool", None)
        front = GaugeMetricFamily("formcheck_front_workers", "This front's worker processes alive.")
        front.add_metric([], pool.alive() if pool else 0)
        yield front
        slots = getattr(self.state, "live", None)
        live = GaugeMetricFamily("formcheck_live_sets", "Live sets coached now by this front.")
        live.add_metric([], slots.in_use if slots else 0)
        yield live


@router.get("/metrics")
async def metrics(request: Request, user: Annotated[User, Depends(api_user)]) -> Response:
    """Prometheus' text format; a coach's token only."""
    if not user.is_coach:
        raise HTTPException(403, "the metrics are for coaches' tokens")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_QueueCollector(get_service(request), request))
    try:
        body = await run_in_threadpool(generate_latest, registry)
    except SQLAlchemyError:
        raise HTTPException(503, "the database cannot be reached") from None
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
