"""A restart loses nothing: kill -9 the real `formcheck serve` while a job runs, start it
again on the same data folder, and the job finishes once, with exactly one report."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from server_proc import Server, alive, children_of, create_token
from short_clips import short_sample
from sqlalchemy import select

from formcheck.pose.bundle import default_model_path
from formcheck.report import validate_report
from formcheck.server.db import jobs, make_engine

CLIP = short_sample("short_pause_left", reps=2)  # two reps: 8.5 s to score


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_during_a_job_then_restart_finishes_it_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = tmp_path / "server.log"
    token = create_token(data, "alice")
    auth = {"Authorization": f"Bearer {token}"}

    server = Server(data, log)
    try:
        with CLIP.open("rb") as f:
            r = httpx.post(
                f"{server.url}/api/uploads",
                headers=auth,
                timeout=60,
                files={"file": ("set.mp4", f, "video/mp4")},
            )
        assert r.status_code == 201, r.text
        upload_id = r.json()["id"]
        # Wait until a worker is well into the job, then kill the server without warning.
        deadline = time.monotonic() + 120
        info: dict[str, object] = {}
        while time.monotonic() < deadline:
            info = httpx.get(f"{server.url}/api/uploads/{upload_id}", headers=auth).json()
            if info["state"] == "running" and float(str(info["progress"])) > 0.05:
                break
            time.sleep(0.2)
        assert info["state"] == "running", info
        workers = children_of(server.proc.pid)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
    finally:
        server.stop()
    # The workers die with the server: none goes on to finish the job behind our back.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "a worker outlived the killed server"

    engine = make_engine(f"sqlite:///{data / 'formcheck.db'}")
    with engine.connect() as conn:
        row = conn.execute(select(jobs.c.state, jobs.c.attempts)).one()
    assert (row.state, row.attempts) == ("running", 1)  # as the dead server left it

    server = Server(data, log)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            info = httpx.get(f"{server.url}/api/uploads/{upload_id}", headers=auth).json()
            if info["state"] in ("done", "error"):
                break
            time.sleep(0.3)
        assert info["state"] == "done", info
        assert info["attempts"] == 2  # run once more from the start, not twice in parallel
        listed = httpx.get(f"{server.url}/api/uploads", headers=auth).json()
        assert [u["id"] for u in listed] == [upload_id]
        report = httpx.get(f"{server.url}/api/uploads/{upload_id}/report", headers=auth).json()
        validate_report(report)
        video = httpx.get(f"{server.url}/api/uploads/{upload_id}/video", headers=auth)
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    finally:
        server.stop()

    with engine.connect() as conn:
        rows = conn.execute(select(jobs.c.upload_id, jobs.c.state)).all()
    engine.dispose()
    assert [(r.upload_id, r.state) for r in rows] == [(upload_id, "done")]
    # Exactly one upload folder, holding one of each result and no half-written leftovers.
    folders = list((data / "uploads").iterdir())
    assert [f.name for f in folders] == [upload_id]
    assert sorted(p.name for p in folders[0].iterdir()) == [
        "annotated.mp4",
        "input.video",
        "report.html",
        "report.json",
        "trace.json",
    ]
    assert json.loads((folders[0] / "report.json").read_text()) == report
    assert "Traceback" not in log.read_text()
    assert os.path.getsize(folders[0] / "annotated.mp4") > 10_000


def _worker_pids(server_pid: int) -> list[int]:
    """The scoring workers among the server's children (not multiprocessing's helpers)."""
    pids = []
    for pid in children_of(server_pid):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            pids.append(pid)
    return pids


def _wait_for(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout_s} s")


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_idle_worker_does_not_hang_the_server_s_stop(tmp_path: Path) -> None:
    """kill -9 of an idle worker, then SIGTERM: the server once hung for ever in its stop."""
    log = tmp_path / "server.log"
    server = Server(tmp_path / "data", log)
    try:
        _wait_for(lambda: "ready (model loaded)" in log.read_text(), 60, "a worker ready")
        (worker,) = _worker_pids(server.proc.pid)
        time.sleep(0.5)  # idle, polling the queue
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.5)
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(30)
        except Exception:
            raise AssertionError("the server did not stop within 30 s of SIGTERM") from None
    finally:
        server.stop()


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_dead_worker_s_job_goes_back_at_once_and_a_stop_costs_no_attempt(tmp_path: Path) -> None:
    """A worker killed mid-job: its job is handed to the replacement within seconds, not
    after the 120 s lease; a graceful stop then hands it back without counting an attempt
    (three restarts once gave a good clip up)."""
    data = tmp_path / "data"
    token = create_token(data, "alice")
    auth = {"Authorization": f"Bearer {token}"}
    server = Server(data, tmp_path / "server.log")
    try:
        with CLIP.open("rb") as f:
            r = httpx.post(
                f"{server.url}/api/uploads",
                headers=auth,
                timeout=60,
                files={"file": ("set.mp4", f, "video/mp4")},
            )
        assert r.status_code == 201, r.text
        url = f"{server.url}/api/uploads/{r.json()['id']}"

        def info() -> dict[str, object]:
            return dict(httpx.get(url, headers=auth).json())

        _wait_for(
            lambda: info()["state"] == "running" and float(str(info()["progress"])) > 0,
            120,
            "the job running",
        )
        (worker,) = _worker_pids(server.proc.pid)
        os.kill(worker, signal.SIGKILL)
        _wait_for(lambda: info()["attempts"] == 2, 20, "the job handed to the new worker")
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(30)
    finally:
        server.stop()
    engine = make_engine(f"sqlite:///{data / 'formcheck.db'}")
    with engine.connect() as conn:
        row = conn.execute(select(jobs.c.state, jobs.c.attempts)).one()
    engine.dispose()
    assert (row.state, row.attempts) == ("queued", 1)  # the stop's interruption not counted
