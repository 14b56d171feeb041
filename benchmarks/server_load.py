"""Load test of the upload service: N concurrent uploads of a small clip, every one scored.

    .venv/bin/python benchmarks/server_load.py                     # own server, 20 uploads
    .venv/bin/python benchmarks/server_load.py --workers 2 --n 20 --json load.json
    .venv/bin/python benchmarks/server_load.py --url http://host:8000 --token TOKEN
    .venv/bin/python benchmarks/server_load.py --db-url postgresql+psycopg://... \
        --worker-processes 3

Without --url it starts `formcheck serve` on a free port with a fresh data folder, makes one
client token per simulated client, and stops the server at the end. With
--worker-processes N the server is a pure web front (`--workers 0`) and N `formcheck worker`
processes score the clips, as on other machines, through --db-url (an empty PostgreSQL
database, say) and the front's clip folder. Each client uploads at
the same moment and polls its upload until it is done; the figure is the time from the
start of the upload to the finished result (s), per upload: p50, p95, max. It then checks
that none was lost or duplicated: every upload listed once, done, with a report.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = ROOT / "sample_videos" / "good_form_portrait_left.mp4"
FORMCHECK = [sys.executable, "-m", "formcheck"]
# Each client asks for its status this often (s), like the result page (1.5 s) or a bit more.
POLL_S = 1.0


@dataclass
class Outcome:
    """One simulated client's upload: status codes, final state and times (s)."""

    client: int
    upload_status: int
    upload_id: str | None
    state: str
    upload_s: float  # request start to the 201 answer
    result_s: float  # request start to state done/error (NaN if never)
    attempts: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the finite values; NaN when there are none."""
    data = sorted(v for v in values if math.isfinite(v))
    if not data:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(data)))
    return data[rank - 1]


def one_client(k: int, url: str, token: str, clip: Path, timeout_s: float) -> Outcome:
    auth = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, headers=auth, timeout=120) as http:
        with clip.open("rb") as f:
            r = http.post("/api/uploads", files={"file": (f"client{k}.mp4", f, "video/mp4")})
        t_up = time.perf_counter() - t0
        if r.status_code != 201:
            return Outcome(k, r.status_code, None, "refused", t_up, math.nan, 0)
        upload_id = str(r.json()["id"])
        deadline = time.monotonic() + timeout_s
        info: dict[str, object] = {"state": "queued", "attempts": 0}
        while time.monotonic() < deadline:
            got = http.get(f"/api/uploads/{upload_id}")
            if got.status_code != 200:
                return Outcome(k, 201, upload_id, f"lost ({got.status_code})", t_up, math.nan, 0)
            info = got.json()
            if info["state"] in ("done", "error"):
                break
            time.sleep(POLL_S)
        done_s = time.perf_counter() - t0 if info["state"] in ("done", "error") else math.nan
        return Outcome(
            k, 201, upload_id, str(info["state"]), t_up, done_s, int(str(info["attempts"]))
        )


def start_server(
    data: Path, workers: int, config: Path | None, options: list[str] | None = None
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`formcheck serve` on a free port over `data`, with `options` added; once healthy."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data / "server.log"
    extra = (["--config", str(config)] if config else []) + (options or [])
    proc = subprocess.Popen(
        [
            *FORMCHECK,
            "serve",
            "--data",
            str(data / "data"),
            "--port",
            str(port),
            "--workers",
            str(workers),
            *extra,
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited:\n" + log.read_text())
        try:
            if httpx.get(f"{url}/healthz", timeout=1).json()["workers"] >= workers:
                return proc, url, log
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start:\n" + log.read_text())


def make_tokens(data: Path, n: int, db_url: str | None) -> list[str]:
    """One client token per simulated client (what `formcheck serve --create-token` does)."""
    from formcheck.server import ServerSettings
    from formcheck.server.app import make_token

    settings = ServerSettings(data_dir=data / "data", db_url=db_url)
    return [make_token(settings, f"client{k}", False) for k in range(n)]


def start_workers(
    data: Path, n: int, db_url: str, config: Path | None
) -> list[subprocess.Popen[bytes]]:
    """`n` `formcheck worker` processes on `db_url` and the front's clip folder, once each
    has loaded its model and registered."""
    from sqlalchemy import func, select

    from formcheck.server.db import make_engine, workers

    extra = ["--config", str(config)] if config else []
    procs = [
        subprocess.Popen(
            [
                *FORMCHECK,
                "worker",
                "--data",
                str(data / f"worker{k}"),
                "--db-url",
                db_url,
                "--store",
                str(data / "data" / "uploads"),
                "--name",
                f"load{k}",
                *extra,
            ],
            stdout=(data / f"worker{k}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for k in range(n)
    ]
    engine = make_engine(db_url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(workers)).scalar() >= n:
                engine.dispose()
                return procs
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a worker exited: see its log in " + str(data))
        time.sleep(0.3)
    raise SystemExit("the workers did not start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="concurrent uploads (default 20)")
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="the clip to upload")
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the own server")
    ap.add_argument("--db-url", help="the own server's database (default: SQLite in its folder)")
    ap.add_argument(
        "--worker-processes",
        type=int,
        default=0,
        help="score with this many `formcheck worker` processes (the server a pure front)",
    )
    ap.add_argument("--config", type=Path, help="formcheck TOML config for the own server")
    ap.add_argument("--url", help="use this running server instead of starting one")
    ap.add_argument("--token", help="with --url: the token every client uses")
    ap.add_argument("--timeout", type=float, default=900.0, help="per upload (s)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)

    tmp: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    worker_procs: list[subprocess.Popen[bytes]] = []
    if args.worker_processes and not args.db_url:
        ap.error("--worker-processes needs --db-url")
    try:
        if args.url:
            if not args.token:
                ap.error("--url needs --token")
            url, tokens = args.url.rstrip("/"), [args.token] * args.n
        else:
            tmp = Path(tempfile.mkdtemp(prefix="formcheck-load-"))
            tokens = make_tokens(tmp, args.n, args.db_url)
            db = ["--db-url", args.db_url] if args.db_url else []
            own = 0 if args.worker_processes else args.workers
            proc, url, _log = start_server(tmp, own, args.config, db)
            if args.worker_processes:
                worker_procs = start_workers(tmp, args.worker_processes, args.db_url, args.config)
        print(f"{args.n} concurrent uploads of {args.clip.name} to {url} ...", flush=True)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.n) as pool:
            outcomes = list(
                pool.map(
                    lambda k: one_client(k, url, tokens[k], args.clip, args.timeout), range(args.n)
                )
            )
        wall_s = time.perf_counter() - t0
        ids = [o.upload_id for o in outcomes if o.upload_id]
        listed: list[str] = []
        reports = 0
        for token in dict.fromkeys(tokens):
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as http:
                listed += [u["id"] for u in http.get("/api/uploads").json() if u["id"] in ids]
                for uid in ids:
                    r = http.get(f"/api/uploads/{uid}/report")
                    reports += r.status_code == 200 and "reps" in r.json()
    finally:
        for w in worker_procs:
            w.send_signal(signal.SIGTERM)
        for w in worker_procs:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    results = [o.result_s for o in outcomes]
    figures = {
        "uploads": args.n,
        "accepted": sum(o.upload_status == 201 for o in outcomes),
        "done": sum(o.state == "done" for o in outcomes),
        "error": sum(o.state == "error" for o in outcomes),
        "lost": args.n - sum(o.state in ("done", "error") for o in outcomes),
        "listed_once": len(listed) == len(set(listed)) == len(ids),
        "reports": reports,
        "retried": sum(o.attempts > 1 for o in outcomes),
        "workers": None if args.url else (args.worker_processes or args.workers),
        "worker_kind": "formcheck worker" if args.worker_processes else "serve --workers",
        "database": "postgresql" if (args.db_url or "").startswith("postgresql") else "sqlite",
        "upload_p95_s": round(percentile([o.upload_s for o in outcomes], 95), 2),
        "result_p50_s": round(percentile(results, 50), 2),
        "result_p95_s": round(percentile(results, 95), 2),
        "result_max_s": round(percentile(results, 100), 2),
        "wall_s": round(wall_s, 2),
        "clips_per_min": round(60 * args.n / wall_s, 2),
    }
    for key, value in figures.items():
        print(f"{key:>14}: {value}")
    if args.json:
        args.json.write_text(
            json.dumps({"figures": figures, "outcomes": [asdict(o) for o in outcomes]}, indent=2)
        )
    ok = (
        figures["done"] == args.n
        and figures["lost"] == 0
        and figures["listed_once"]
        and figures["reports"] == args.n
    )
    print("all scored, none lost" if ok else "FAILED: not every upload was scored once")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
