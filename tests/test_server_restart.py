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
from sqlalchemy import select

from formcheck.pose.bundle import default_model_path
from formcheck.report import validate_report
from formcheck.server.db import jobs, make_engine

CLIP = Path(__file__).resolve().parents[1] / "sample_videos" / "short_pause_left.mp4"


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
            r = httpx.post(f"{server.url}/api/uploads", headers=auth, timeout=60,
                           files={"file": ("set.mp4", f, "video/mp4")})
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
        "annotated.mp4", "input.video", "report.html", "report.json", "trace.json"]
    assert json.loads((folders[0] / "report.json").read_text()) == report
    assert "Traceback" not in log.read_text()
    assert os.path.getsize(folders[0] / "annotated.mp4") > 10_000
