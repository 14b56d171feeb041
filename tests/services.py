"""Real servers the multi-machine tests run against, started by the tests on private ports
and folders, and stopped with the run: PostgreSQL (Debian's `postgresql` package, which
`.ci/run` installs) and an S3-compatible object store (moto's standalone server, a dev
dependency). Tests that need one skip cleanly when it cannot be started here."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import httpx
from server_proc import free_port


class Stoppable(Protocol):
    def stop(self) -> None: ...


#: A server these helpers start.
S = TypeVar("S", bound=Stoppable)


def _pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else Debian's versioned folder (newest)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return versions[-1] if versions else None


@dataclass
class Postgres:
    """A PostgreSQL server of the test run's own: a data folder in /tmp, a free port on
    127.0.0.1, trust authentication for the `formcheck` role. As root, it runs as the
    `postgres` user (PostgreSQL refuses to run as root)."""

    data: Path
    port: int
    user: str | None  # the OS user it runs as (None: this process's)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://formcheck@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        cmd = list(args)
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, timeout=120, check=False)

    def _ctl(self, *args: str) -> None:
        pg_ctl = _pg_bin("pg_ctl")
        assert pg_ctl is not None
        r = self._run(pg_ctl, "-D", str(self.data / "db"), "-w", "-t", "60", *args)
        if r.returncode != 0:
            log = (self.data / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl {args[0]} failed: {r.stderr.decode()[-500:]} {log}")

    def start(self) -> None:
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._ctl("-o", opts, "-l", str(self.data / "server.log"), "start")

    def stop_server(self) -> None:
        """Stop it fast (every connection cut, as a crash or a failover does); `start` again."""
        self._ctl("-m", "fast", "stop")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.data, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh empty database's URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=formcheck dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def start_postgres() -> Postgres | str:
    """A running PostgreSQL, or why there is none here."""
    initdb = _pg_bin("initdb")
    if initdb is None:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql)"
    user: str | None = None
    data = Path(tempfile.mkdtemp(prefix="formcheck-pg-"))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
        user = "postgres"
        os.chown(data, pw.pw_uid, pw.pw_gid)
        data.chmod(0o700)
    pg = Postgres(data, free_port(), user)
    r = pg._run(
        initdb, "-D", str(data / "db"), "-U", "formcheck", "--auth=trust", "-E", "UTF8", "--no-sync"
    )
    if r.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        return f"initdb failed: {r.stderr.decode(errors='replace')[-300:]}"
    try:
        pg.start()
    except RuntimeError as exc:
        shutil.rmtree(data, ignore_errors=True)
        return str(exc)
    return pg


@dataclass
class S3Server:
    """moto's standalone S3-compatible server on a free port, with the environment a
    boto3 client needs to reach it."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": "formcheck-test",
            "AWS_SECRET_ACCESS_KEY": "formcheck-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_s3() -> S3Server | str:
    """A running moto server, or why there is none here."""
    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        return "moto's server is not installed (pip install 'moto[server]')"
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return S3Server(proc, port)
        except httpx.HTTPError:
            if proc.poll() is not None:
                return f"moto_server exited {proc.returncode}"
            time.sleep(0.2)
    proc.kill()
    return "moto_server did not answer within 30 s"
