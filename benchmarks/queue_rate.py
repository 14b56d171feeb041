"""How many jobs a second the job queue itself hands out and closes, with no scoring: the
database's share of the upload service's load.

    .venv/bin/python benchmarks/queue_rate.py postgresql+psycopg://.../DB --claimers 8

It queues `--jobs` uploads' jobs in an empty database, then `--claimers` threads each claim
a job, write one progress report and finish it, until the queue is empty, and checks that
every job was finished exactly once. A scoring worker asks for one claim per clip and a
progress write every 0.5 s.
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, insert, select

from formcheck.server import queue
from formcheck.server.db import jobs, make_engine, now, uploads, users


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db_url", help="an empty database (its schema is made)")
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--claimers", type=int, default=8)
    args = ap.parse_args(argv)
    engine = make_engine(args.db_url)
    with engine.begin() as conn:
        conn.execute(
            insert(users).values(
                name=f"load-{uuid.uuid4().hex[:8]}", role="client", created_at=now()
            )
        )
        user_id = conn.execute(select(func.max(users.c.id))).scalar()
        for _ in range(args.jobs):
            upload_id = uuid.uuid4().hex
            conn.execute(
                insert(uploads).values(
                    id=upload_id,
                    user_id=user_id,
                    filename="x",
                    size_bytes=1,
                    duration_s=1.0,
                    created_at=now(),
                )
            )
            queue.enqueue(conn, upload_id)

    def claimer(k: int) -> int:
        done = 0
        while (claim := queue.claim_next(engine, f"claimer-{k}")) is not None:
            queue.report_progress(engine, claim, 0.5, "analysing")
            done += queue.finish(engine, claim, rep_count=1, score=90)
        return done

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.claimers) as pool:
        counts = list(pool.map(claimer, range(args.claimers)))
    wall_s = time.perf_counter() - t0
    with engine.connect() as conn:
        finished = conn.execute(
            select(func.count()).where(jobs.c.state == "done", jobs.c.attempts == 1)
        ).scalar()
    ok = sum(counts) == finished == args.jobs
    print(
        f"{sum(counts)} jobs by {args.claimers} claimers in {wall_s:.2f} s: "
        f"{sum(counts) / wall_s:.0f} jobs/s (claim, progress, finish); "
        + ("each finished once" if ok else "FAILED: not every job was finished exactly once")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
