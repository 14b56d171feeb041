"""Soak test of the upload service: uploads for minutes while workers and the server are
killed at random moments; every accepted upload must end scored exactly once.

    .venv/bin/python benchmarks/soak.py                      # 10 minutes, 2 workers
    .venv/bin/python benchmarks/soak.py --minutes 3 --seed 7 --json soak.json

It starts `formcheck serve` on a fresh data folder (loopback only), then, until the time is
up: clients upload a small sample clip every few seconds; at random moments a worker gets
kill -9, or the server gets kill -9 or SIGTERM and is started again on the same data folder
(at most `--max-kills` of each). Uploads that find the server down are not accepted (a
client would send them again) and are counted apart. Then it stops uploading, waits for the
queue to drain, stops the server and checks:

- every accepted upload is listed once, done, with a report, and has one job row;
- no upload folder without its upload (no orphan), no formcheck process left;
- SQLite's `PRAGMA integrity_check` says ok.

Exit 0 when all hold, 1 otherwise; the figures are printed (and written with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from server_load import DEFAULT_CLIP, FORMCHECK, free_port, make_tokens

CLIENTS = 5
UPLOAD_EVERY_S = (3.0, 8.0)  # a new upload after this many seconds (uniform)
KILL_EVERY_S = (20.0, 60.0)  # a kill after this many seconds (uniform)
DRAIN_TIMEOUT_S = 900.0


class Service:
    """The server under test: started, killed and started again on one data folder."""

    def __init__(self, root: Path, workers: int) -> None:
        self.root = root
        self.data = root / "data"
        self.workers = workers
        self.log = (root / "server.log").open("ab")
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [
                *FORMCHECK,
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(port),
                "--workers",
                str(self.workers),
                "--uploads-per-hour",
                "1000",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited {self.proc.returncode} at start")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).json()["workers"] >= 1:
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.3)
        raise SystemExit("the server did not start in 90 s")

    def worker_pids(self) -> list[int]:
        """The scoring workers: the server's children started by multiprocessing's spawn
        (from any of its threads), not its resource tracker."""
        if self.proc is None:
            return []
        pids: set[int] = set()
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                pids.update(int(p) for p in (task / "children").read_text().split())
            except OSError:
                continue
        return [
            p
            for p in pids
            if b"spawn_main" in _cmdline(p) and b"resource_tracker" not in _cmdline(p)
        ]

    def stop(self, how: signal.Signals = signal.SIGINT, timeout_s: float = 60.0) -> float:
        """Send `how` and wait for the exit; the seconds it took."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(how)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise SystemExit(
                f"the server did not stop within {timeout_s:.0f} s of {how.name}"
            ) from None
        return time.monotonic() - t0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _running(pids: set[int]) -> list[int]:
    """Those of `pids` still running (not gone, not a zombie)."""
    left = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            left.append(pid)
    return left


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="how long to upload and kill")
    ap.add_argument("--workers", type=int, default=2, help="scoring workers of the server")
    ap.add_argument(
        "--max-kills",
        type=int,
        default=6,
        help="at most this many kills of workers, and as many of the server",
    )
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="the clip to upload")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)

    root = Path(tempfile.mkdtemp(prefix="formcheck-soak-"))
    tokens = make_tokens(root, CLIENTS)
    service = Service(root, args.workers)
    service.start()
    seen: set[int] = set()  # every server and worker process started: none may be left
    accepted: dict[str, str] = {}  # upload id -> token
    refused: dict[str, int] = {}
    events: list[str] = []
    worker_kills = server_kills = 0
    t_end = time.monotonic() + args.minutes * 60
    next_upload = time.monotonic()
    next_kill = time.monotonic() + rng.uniform(*KILL_EVERY_S)
    print(
        f"soak: {args.minutes:g} min, {args.workers} workers, seed {seed}, data {root}", flush=True
    )
    try:
        while time.monotonic() < t_end:
            now = time.monotonic()
            if service.proc is not None:
                seen.update([service.proc.pid, *service.worker_pids()])
            if now >= next_upload:
                token = rng.choice(tokens)
                try:
                    with args.clip.open("rb") as f:
                        r = httpx.post(
                            f"{service.url}/api/uploads",
                            timeout=60,
                            headers={"Authorization": f"Bearer {token}"},
                            files={"file": ("set.mp4", f, "video/mp4")},
                        )
                    if r.status_code == 201:
                        accepted[str(r.json()["id"])] = token
                    else:
                        refused[str(r.status_code)] = refused.get(str(r.status_code), 0) + 1
                except httpx.TransportError:
                    refused["server down"] = refused.get("server down", 0) + 1
                next_upload = now + rng.uniform(*UPLOAD_EVERY_S)
            if now >= next_kill and (worker_kills + server_kills) < 2 * args.max_kills:
                before = len(events)
                workers = service.worker_pids()
                kill_worker = (
                    workers
                    and worker_kills < args.max_kills
                    and (server_kills >= args.max_kills or rng.random() < 0.5)
                )
                if kill_worker:
                    os.kill(rng.choice(workers), signal.SIGKILL)
                    worker_kills += 1
                    events.append(f"{now - t_end + args.minutes * 60:.0f}s: worker kill -9")
                elif server_kills < args.max_kills:
                    how = rng.choice([signal.SIGKILL, signal.SIGTERM])
                    took = service.stop(how)
                    server_kills += 1
                    events.append(
                        f"{now - t_end + args.minutes * 60:.0f}s: server {how.name}"
                        f" (stopped in {took:.1f} s)"
                    )
                    service.start()
                if len(events) > before:
                    print(events[-1], flush=True)
                next_kill = now + rng.uniform(*KILL_EVERY_S)
            time.sleep(0.2)

        # Drain: every accepted upload ends done (or error), within the timeout.
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        states: dict[str, dict[str, object]] = {}
        while time.monotonic() < deadline:
            states = {}
            for uid, token in accepted.items():
                got = httpx.get(
                    f"{service.url}/api/uploads/{uid}",
                    timeout=30,
                    headers={"Authorization": f"Bearer {token}"},
                )
                states[uid] = got.json() if got.status_code == 200 else {"state": "lost"}
            if all(s["state"] in ("done", "error", "lost") for s in states.values()):
                break
            time.sleep(2.0)
        listed: list[str] = []
        reports = 0
        for token in tokens:
            auth = {"Authorization": f"Bearer {token}"}
            listed += [
                u["id"]
                for u in httpx.get(f"{service.url}/api/uploads", headers=auth, timeout=30).json()
            ]
            for uid in (u for u, t in accepted.items() if t == token):
                r = httpx.get(f"{service.url}/api/uploads/{uid}/report", headers=auth, timeout=30)
                reports += r.status_code == 200 and "reps" in r.json()
    finally:
        service.stop(signal.SIGINT)
    time.sleep(2.0)

    db = root / "data" / "formcheck.db"
    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        jobs_per_upload = dict(
            conn.execute("SELECT upload_id, COUNT(*) FROM jobs GROUP BY upload_id").fetchall()
        )
    folders = {p.name for p in (root / "data" / "uploads").iterdir()}
    left = _running(seen)
    done = [u for u, s in states.items() if s["state"] == "done"]
    figures = {
        "seed": seed,
        "minutes": args.minutes,
        "workers": args.workers,
        "uploads_accepted": len(accepted),
        "uploads_not_accepted": refused,
        "worker_kills": worker_kills,
        "server_kills": server_kills,
        "done": len(done),
        "error": sum(s["state"] == "error" for s in states.values()),
        "lost": sum(s["state"] in ("lost", "queued", "running") for s in states.values()),
        "retried": sum(int(str(s.get("attempts", 0))) > 1 for s in states.values()),
        "listed_once": sorted(listed) == sorted(accepted),
        "reports": reports,
        "one_job_each": all(jobs_per_upload.get(u) == 1 for u in accepted),
        "orphan_folders": len(folders - set(accepted)),
        "processes_left": len(left),
        "integrity_check": integrity,
        "events": events,
    }
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = (
        len(done) == len(accepted)
        and figures["listed_once"]
        and reports == len(accepted)
        and figures["one_job_each"]
        and not figures["orphan_folders"]
        and not left
        and integrity == "ok"
    )
    print("every accepted upload scored exactly once; nothing left behind" if ok else "FAILED")
    if ok:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
