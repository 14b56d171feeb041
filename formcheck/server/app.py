"""The FastAPI app (`create_app`) and `serve`, which runs it under uvicorn with its workers."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import Engine, select
from starlette.requests import Request

from formcheck import __version__
from formcheck.config import load_config
from formcheck.errors import DataBusyError
from formcheck.pose.bundle import check_bundle
from formcheck.server import api, live, ops, pages, queue
from formcheck.server.auth import RateLimiter, create_token, load_secret, revoke_tokens
from formcheck.server.db import make_engine, uploads
from formcheck.server.live import LiveSlots
from formcheck.server.logs import setup_logging
from formcheck.server.ray_pool import RayPool
from formcheck.server.service import Service
from formcheck.server.settings import ServerSettings
from formcheck.server.storage import remove_orphans
from formcheck.server.stores import Store, open_store
from formcheck.server.worker import WorkerPool

log = logging.getLogger(__name__)

#: Same-origin everything; inline scripts and styles are the templates' own (autoescaped).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class DataLock:
    """An exclusive lock on the data folder (`DATA/serve.lock`, flock) for as long as a
    server runs on it: a second server would hand out the first one's running jobs again
    and take its uploads in progress for orphans. The kernel drops it when the process
    dies, however it dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "serve.lock"
        self._file: TextIO | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DataBusyError at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise DataBusyError(
                f"{self.path.parent}: another formcheck serve already uses this data folder"
                " (stop it, or give --data another folder)"
            ) from None
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file drops the lock
            self._file = None


def create_app(settings: ServerSettings) -> FastAPI:
    """The upload service: API (/api, schema at /openapi.json), pages, operations endpoints
    (`ops`), and `settings.workers` scoring processes started and stopped with the app's
    lifespan. The database's schema is brought up to date first.

    On the embedded database (`settings.embedded`: SQLite, one machine), jobs a previous
    server left running go back to the queue before any worker starts, so a crash or kill
    loses nothing and no job runs twice at once. On PostgreSQL, where other fronts and
    `formcheck worker` processes share the queue, a job goes back when its lease runs out.

    Raises:
        DatabaseError, StoreError, ModelError, ConfigError: what cannot be opened.
    """
    config = load_config(settings.config_path)
    if settings.workers:
        check_bundle(config.pose.model)  # a missing model fails here, not in every worker
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store_spec)
    store.check()
    engine = make_engine(settings.database_url)
    svc = Service(
        settings,
        engine,
        store,
        load_secret(engine, settings.data_dir),
        RateLimiter(settings.uploads_per_window, settings.rate_window_s),
        config,
    )

    lock = DataLock(settings.data_dir) if settings.embedded else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if lock is not None:
            lock.acquire()
            _recover(engine, store)
        pool: WorkerPool | RayPool = (
            WorkerPool(settings, engine) if settings.ray is None else RayPool(settings)
        )
        app.state.pool = pool
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            engine.dispose()
            if lock is not None:
                lock.release()

    app = FastAPI(
        title="formcheck upload service",
        version=__version__,
        description="Upload a clip of a band hip-thrust set; get per-rep feedback, the "
        "annotated video and the cues. Authenticate with `Authorization: Bearer <token>` "
        "(tokens come from `formcheck serve --create-token NAME`).",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN, on the pages' own origin: the
        # schema is served (/openapi.json), the third-party viewers are not.
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = svc
    app.state.live = LiveSlots(settings.max_live)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(live.router)

    @app.exception_handler(pages.LoginRequiredError)
    async def _to_login(request: Request, exc: pages.LoginRequiredError) -> Response:
        return pages.login_redirect(request)

    @app.middleware("http")
    async def _security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        # No framing (clickjacking), no MIME sniffing of uploads, no URLs leaked to others.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Nothing from other origins (the pages' few inline scripts and styles are theirs).
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Every page and answer is a user's own data: no shared or browser cache keeps it.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.include_router(ops.router)
    return app


def _recover(engine: Engine, store: Store) -> None:
    """One machine's restart: jobs the last server left running go back to the queue, and
    the files of uploads it was receiving when it died (never recorded) are removed."""
    n = queue.requeue_running(engine)
    if n:
        log.warning("%d job(s) left running by the last server: back in the queue", n)
    with engine.connect() as conn:
        known = set(conn.execute(select(uploads.c.id)).scalars())
    orphans = remove_orphans(store, known)
    if orphans:
        log.warning("removed %d upload folder(s) a stopped server left half-written", len(orphans))


def make_token(settings: ServerSettings, name: str, coach: bool) -> str:
    """`formcheck serve --create-token`: a new token for `name`, to print once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        return create_token(engine, name, coach)
    finally:
        engine.dispose()


def revoke_token(settings: ServerSettings, name: str) -> int:
    """`formcheck serve --revoke-token`: remove `name`'s tokens (and sessions); how many."""
    engine = make_engine(settings.database_url)
    try:
        return revoke_tokens(engine, name)
    finally:
        engine.dispose()


def serve(settings: ServerSettings, host: str, port: int) -> None:
    """Run the service under uvicorn until Ctrl-C (workers are stopped and their jobs
    requeued on the way out)."""
    import uvicorn

    if settings.embedded:  # the lock create_app takes: a busy folder said in one line, now
        lock = DataLock(settings.data_dir)
        lock.acquire()
        lock.release()
    setup_logging(settings.log_json)
    proxied = settings.forwarded_allow_ips is not None
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=proxied,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile,
    )
