"""The upload service on several machines, tested for real: a PostgreSQL server and an
S3-compatible object store of the run's own (services.py), web fronts in this process,
and `formcheck worker` processes, each a separate process as on another machine.

What it shows: three workers score thirty queued uploads, each exactly once; a worker
killed with SIGKILL mid-job has its job scored by another once the lease runs out; the
database restarted mid-run loses nothing; the S3 store keeps and serves what the folder
store does; the schema the migrations build is the one the code uses, on both databases.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from services import Postgres, S3Server
from short_clips import short_sample
from sqlalchemy import Engine, func, select
from test_server_api import bearer, login, upload, wait_done

from formcheck.pose.bundle import default_model_path
from formcheck.server import ServerSettings
from formcheck.server.app import create_app, make_token
from formcheck.server.db import jobs, make_engine, metadata, workers
from formcheck.server.storage import REPORT_NAME, VIDEO_NAME
from formcheck.server.stores import open_store

with warnings.catch_warnings():  # starlette now prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

needs_model = pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
#: The cheapest clip that is a whole rep (4.5 s of 640x360): thirty of them are scored.
CLIP = short_sample("short_pause_left", reps=1)
#: One pose model per worker, every other frame: three workers share two cores here, and
#: the queue is under test, not the accuracy.
WORKER_CONFIG = "[pose]\nmodels = 1\nstride = 2\n"


@contextmanager
def front(
    tmp: Path, db_url: str, store: str, name: str = "front"
) -> Iterator[tuple[TestClient, str]]:
    """A pure web front (no workers of its own) on `db_url` and `store`, its client and a
    coach's token."""
    settings = ServerSettings(data_dir=tmp / name, db_url=db_url, store=store, workers=0)
    token = make_token(settings, "coach", coach=True)
    with TestClient(create_app(settings)) as client:
        yield client, token


def start_worker(
    tmp: Path,
    db_url: str,
    store: str,
    label: str,
    lease_s: float,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`formcheck worker` in a process of its own, as on another machine."""
    config = tmp / "worker.toml"
    config.write_text(WORKER_CONFIG)
    log = (tmp / f"{label}.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "formcheck",
            "worker",
            "--data",
            str(tmp / label),
            "--db-url",
            db_url,
            "--store",
            store,
            "--config",
            str(config),
            "--name",
            label,
            "--lease-s",
            str(lease_s),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )


def upload_clips(client: TestClient, token: str, n: int = 1, clip: Path = CLIP) -> list[str]:
    """`n` uploads of `clip` (set-0.mp4, ...), each accepted; their ids."""
    data = clip.read_bytes()
    ids = []
    for k in range(n):
        code, body = upload(client, token, data, f"set-{k}.mp4")
        assert code == 201, body
        ids.append(str(body["id"]))
    return ids


def wait_all_finished(
    engine: Engine, n: int, timeout_s: float, procs: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            finished = conn.execute(
                select(func.count()).where(jobs.c.state.in_(("done", "error")))
            ).scalar()
        if finished == n:
            return
        assert all(p.poll() is None for p in procs), "a worker exited"
        time.sleep(0.3)
    raise AssertionError(f"{finished} of {n} jobs finished in {timeout_s} s")


def wait_registered(engine: Engine, n: int, procs: list[subprocess.Popen[bytes]]) -> None:
    """Until `n` workers have loaded their model and registered."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(workers)).scalar() == n:
                return
        assert all(p.poll() is None for p in procs), "a worker exited"
        time.sleep(0.2)
    raise AssertionError(f"{n} workers did not start")


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> list[int]:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(30))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes


def job_rows(engine: Engine) -> list[tuple[str, str, int, str | None]]:
    with engine.connect() as conn:
        return [
            (r.upload_id, r.state, r.attempts, r.worker)
            for r in conn.execute(select(jobs).order_by(jobs.c.id))
        ]


def scored_by_workers(engine: Engine) -> int:
    """Jobs the workers say they finished (each worker counts its own)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(workers.c.jobs_done), 0))).scalar())


@pytest.mark.parametrize("which", ["sqlite", "postgresql"])
def test_the_migrations_build_the_schema_the_code_uses(
    which: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'm.db'}" if which == "sqlite" else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


@needs_model
def test_three_workers_score_thirty_uploads_each_exactly_once(tmp_path: Path, pg_url: str) -> None:
    store = str(tmp_path / "store")
    with front(tmp_path, pg_url, store) as (client, token):
        engine = make_engine(pg_url)
        procs = [start_worker(tmp_path, pg_url, store, f"w{k}", lease_s=60) for k in range(3)]
        try:
            ids = upload_clips(client, token, 30)  # while the workers load their models
            wait_all_finished(engine, 30, 300, procs)
            metrics = client.get("/metrics", headers=bearer(token)).text
            ready = client.get("/readyz")
        finally:
            codes = stop_workers(procs)
    rows = job_rows(engine)
    assert [r[1] for r in rows] == ["done"] * 30, rows
    assert {r[2] for r in rows} == {1}  # no job claimed twice
    assert scored_by_workers(engine) == 30  # and none scored twice
    assert len({r[3] for r in rows}) >= 2  # the work was shared
    assert codes == [0, 0, 0]  # SIGTERM: a clean stop
    disk = open_store(store)
    assert all(disk.exists(i, REPORT_NAME) and disk.exists(i, VIDEO_NAME) for i in ids)
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert 'formcheck_jobs{state="done"} 30.0' in metrics
    assert "formcheck_queue_depth 0.0" in metrics
    per_worker = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("formcheck_worker_jobs_total{")
    ]
    assert len(per_worker) == 3 and sum(per_worker) == 30
    with engine.connect() as conn:
        assert set(conn.execute(select(workers.c.state)).scalars()) == {"stopped"}
    # A second front on the same database and store serves the same clips, and a page of one
    # front posts to the other: the session and the CSRF secret live in the database.
    with (
        front(tmp_path, pg_url, store) as (one, token),
        front(tmp_path, pg_url, store, "two") as (
            two,
            _,
        ),
    ):
        cookie = login(one, token)
        two.cookies.set("formcheck_session", cookie)
        page = two.get(f"/clips/{ids[0]}")
        assert page.status_code == 200 and "set-0.mp4" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        gone = one.post(
            f"/clips/{ids[0]}/delete", data={"csrf": csrf.group(1)}, follow_redirects=False
        )
        assert gone.status_code == 303
        assert two.get(f"/api/uploads/{ids[0]}", headers=bearer(token)).status_code == 404
        assert not disk.exists(ids[0], REPORT_NAME)
    engine.dispose()


@needs_model
def test_a_worker_killed_mid_job_has_its_job_scored_by_another_after_the_lease(
    tmp_path: Path, pg_url: str
) -> None:
    store = str(tmp_path / "store")
    lease_s = 6.0
    long_clip = short_sample("short_pause_left", reps=2)
    with front(tmp_path, pg_url, store) as (client, token):
        engine = make_engine(pg_url)
        procs = {
            p.pid: p
            for p in (start_worker(tmp_path, pg_url, store, f"w{k}", lease_s) for k in range(2))
        }
        wait_registered(engine, 2, list(procs.values()))
        upload_clips(client, token, clip=long_clip)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                job = conn.execute(select(jobs)).one()
            if job.state == "running" and job.progress > 0.05:
                break
            time.sleep(0.2)
        assert job.state == "running", job
        holder = procs.pop(int(job.worker.split("/")[1]))  # "host/pid/label"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed_at = time.monotonic()
        try:
            wait_all_finished(engine, 1, 180, list(procs.values()))
        finally:
            stop_workers(list(procs.values()))
    (row,) = job_rows(engine)
    assert row[1] == "done" and row[2] == 2  # run again from the start, once
    assert row[3] != job.worker  # by the other worker
    assert time.monotonic() - killed_at >= lease_s  # not before the lease ran out
    assert scored_by_workers(engine) == 1
    engine.dispose()


@needs_model
def test_the_database_restarted_mid_run_loses_nothing(
    tmp_path: Path, postgres: Postgres, pg_url: str
) -> None:
    store = str(tmp_path / "store")
    with front(tmp_path, pg_url, store) as (client, token):
        engine = make_engine(pg_url)
        upload_clips(client, token, 4)
        procs = [start_worker(tmp_path, pg_url, store, f"w{k}", lease_s=60) for k in range(2)]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                rows = job_rows(engine)
                if any(r[1] == "done" for r in rows) and any(r[1] == "running" for r in rows):
                    break
                time.sleep(0.2)
            postgres.stop_server()  # every connection cut, mid-job
            down = client.get("/readyz")
            alive = client.get("/healthz")
            time.sleep(2.0)  # down long enough for every worker to try it (they poll at 0.5 s)
            postgres.start()
            upload_clips(client, token, 2)  # the front reconnects
            wait_all_finished(engine, 6, 240, procs)
        finally:
            codes = stop_workers(procs)
    rows = job_rows(engine)
    assert [r[1] for r in rows] == ["done"] * 6, rows
    assert scored_by_workers(engine) == 6
    assert codes == [0, 0]
    assert down.status_code == 503 and "database" in down.json()["problems"][0]
    assert alive.status_code == 200  # alive, not ready: no restart asked for
    logs = "".join((tmp_path / f"w{k}.log").read_text() for k in range(2))
    assert "database unreachable" in logs or "heartbeat missed" in logs  # it did go away
    engine.dispose()


@needs_model
def test_the_s3_store_keeps_and_serves_what_the_folder_store_does(
    tmp_path: Path, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    store = "s3://formcheck-test/clips"
    db_url = f"sqlite:///{tmp_path / 'front' / 'formcheck.db'}"
    with front(tmp_path, db_url, store) as (client, token):
        (upload_id,) = upload_clips(client, token)
        engine = make_engine(db_url)
        procs = [start_worker(tmp_path, db_url, store, "w", lease_s=60, env=s3_server.env)]
        try:
            wait_all_finished(engine, 1, 120, procs)
        finally:
            stop_workers(procs)
        info = client.get(f"/api/uploads/{upload_id}", headers=bearer(token)).json()
        assert info["state"] == "done", info
        report = client.get(f"/api/uploads/{upload_id}/report", headers=bearer(token))
        assert report.status_code == 200 and report.json()["summary"]["rep_count"] == 1
        video = client.get(f"/api/uploads/{upload_id}/video", headers=bearer(token))
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        part = client.get(
            f"/api/uploads/{upload_id}/video", headers={**bearer(token), "Range": "bytes=100-199"}
        )
        assert part.status_code == 206 and part.content == video.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(video.content)}"
        s3 = open_store(store)
        assert s3.ids() == {upload_id}
        assert client.delete(f"/api/uploads/{upload_id}", headers=bearer(token)).status_code == 204
        assert s3.ids() == set()  # every object of the upload removed
    engine.dispose()


@needs_model
def test_scoring_on_ray_loses_nothing_when_an_actor_dies_mid_job(
    tmp_path: Path, local_ray: None
) -> None:
    """`formcheck serve --ray`: the workers are Ray actors on the same queue; one killed
    mid-job (as when its node dies) is started again by Ray, and the job it held is scored
    once after the lease."""
    ray = pytest.importorskip("ray")
    config = tmp_path / "worker.toml"
    config.write_text(WORKER_CONFIG)
    lease_s = 5.0
    settings = ServerSettings(
        data_dir=tmp_path / "data",
        workers=1,
        ray="auto",  # the run's Ray instance (`local` would start one of the server's own)
        lease_s=lease_s,
        poll_s=0.2,
        config_path=config,
    )
    token = make_token(settings, "coach", coach=True)
    clip = short_sample("short_pause_left", reps=2)
    with TestClient(create_app(settings)) as client:
        [upload_id] = upload_clips(client, token, clip=clip)
        deadline = time.monotonic() + 180
        info: dict[str, object] = {}
        while time.monotonic() < deadline:
            info = client.get(f"/api/uploads/{upload_id}", headers=bearer(token)).json()
            if info["state"] == "running" and float(str(info["progress"])) > 0.05:
                break
            time.sleep(0.2)
        assert info["state"] == "running", info
        pool = client.app.state.pool  # type: ignore[attr-defined]
        ray.kill(pool.actors[0], no_restart=False)  # Ray starts it again
        info = wait_done(client, token, upload_id, max(1.0, deadline - time.monotonic()))
        assert pool.alive() == 1
    assert info["state"] == "done", info
    assert info["attempts"] == 2  # run again from the start, once
    engine = make_engine(settings.database_url)
    assert scored_by_workers(engine) == 1
    engine.dispose()
