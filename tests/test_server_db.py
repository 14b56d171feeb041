"""The database's migrations on the embedded SQLite: a file made before migrations is
upgraded in place with its rows kept; one made by a newer formcheck is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, insert, inspect, select, text

from formcheck.errors import DatabaseError
from formcheck.server.db import alembic_config, head, jobs, make_engine, revision, uploads, users


def _user_and_upload(conn: Connection, upload_id: str) -> None:
    """Alice and one upload of hers (no job)."""
    conn.execute(insert(users).values(id=1, name="alice", role="client", created_at=1.0))
    conn.execute(
        insert(uploads).values(
            id=upload_id,
            user_id=1,
            filename="set.mp4",
            size_bytes=10,
            duration_s=1.0,
            created_at=1.0,
        )
    )


def _legacy_file(path: Path) -> str:
    """A SQLite file as `formcheck serve` made it before migrations (the tables, no
    `alembic_version`), holding one user, one upload and its queued job."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        _user_and_upload(conn, "a" * 32)
        conn.execute(
            insert(jobs).values(
                upload_id="a" * 32,
                state="queued",
                progress=0.0,
                stage="",
                attempts=0,
                created_at=1.0,
            )
        )
    engine.dispose()
    return url


def test_a_file_made_before_migrations_is_upgraded_with_its_rows(tmp_path: Path) -> None:
    url = _legacy_file(tmp_path / "old.db")
    engine = make_engine(url)
    assert revision(engine) == head() == "0002"
    assert {"workers", "secrets"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(select(uploads.c.filename)).scalar() == "set.mp4"
        assert conn.execute(select(jobs.c.state)).scalar() == "queued"
    engine.dispose()


def test_a_database_of_a_newer_formcheck_is_refused_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    make_engine(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="revision 9999, which this formcheck does not know"):
        make_engine(url)


def test_a_finish_whose_answer_was_lost_still_counts_as_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database restarted just after a worker's finish committed: the worker got an error,
    tried again, found its claim gone and took the job for lost (a restart test counted 5
    jobs scored of 6 done)."""
    from sqlalchemy.exc import OperationalError

    from formcheck.server import queue
    from formcheck.server.worker import finish_job

    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as conn:
        _user_and_upload(conn, "b" * 32)
        queue.enqueue(conn, "b" * 32)
    claim = queue.claim_next(engine, "host/1/w")
    assert claim is not None
    real_finish = queue.finish
    calls = []

    def commit_then_lose_the_answer(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        done = real_finish(*args, **kwargs)  # type: ignore[arg-type]
        if len(calls) == 1:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        return done

    monkeypatch.setattr(queue, "finish", commit_then_lose_the_answer)
    assert finish_job(engine, claim, 5.0, rep_count=2, score=90) is True
    assert len(calls) == 2  # the second try found the job finished by this claim
    with engine.connect() as conn:
        assert conn.execute(select(jobs.c.state, jobs.c.rep_count)).one() == ("done", 2)
    # Another worker's claim on the same job (after a hand-back) is not this one.
    other = queue.Claim(claim.job_id, claim.upload_id, "x", claim.attempts, "host/2/w")
    assert not queue.finished_by(engine, other)
    engine.dispose()
