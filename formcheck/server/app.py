"""The FastAPI app (`create_app`) and `serve`, which runs it under uvicorn with its workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.requests import Request

from formcheck import __version__
from formcheck.config import load_config
from formcheck.pose.bundle import check_bundle
from formcheck.server import api, pages, queue
from formcheck.server.auth import RateLimiter, create_token, load_secret
from formcheck.server.db import make_engine
from formcheck.server.service import Service
from formcheck.server.settings import ServerSettings
from formcheck.server.worker import WorkerPool

log = logging.getLogger(__name__)


def create_app(settings: ServerSettings) -> FastAPI:
    """The upload service on `settings.data_dir`: API (/api, documented at /docs), pages,
    and `settings.workers` scoring processes started and stopped with the app's lifespan.

    On start, jobs a previous server left running go back to the queue before any worker
    starts, so a crash or kill loses nothing and no job runs twice at once.
    """
    config = load_config(settings.config_path)
    if settings.workers:
        check_bundle(config.pose.model)  # a missing model fails here, not in every worker
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    svc = Service(settings, engine, load_secret(settings.data_dir),
                  RateLimiter(settings.uploads_per_window, settings.rate_window_s), config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        n = queue.requeue_running(engine)
        if n:
            log.warning("%d job(s) left running by the last server: back in the queue", n)
        pool = WorkerPool(settings, engine)
        app.state.pool = pool
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            engine.dispose()

    app = FastAPI(
        title="formcheck upload service",
        version=__version__,
        description="Upload a clip of a band hip-thrust set; get per-rep feedback, the "
        "annotated video and the cues. Authenticate with `Authorization: Bearer <token>` "
        "(tokens come from `formcheck serve --create-token NAME`).",
        lifespan=lifespan,
    )
    app.state.service = svc
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.exception_handler(pages.LoginRequiredError)
    async def _to_login(request: Request, exc: pages.LoginRequiredError) -> Response:
        return pages.login_redirect(request)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[
            Response]]) -> Response:
        response = await call_next(request)
        # No framing (clickjacking), no MIME sniffing of uploads, no URLs leaked to others.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, object]:
        pool: WorkerPool | None = getattr(app.state, "pool", None)
        return {"ok": True, "workers": pool.alive() if pool else 0}

    return app


def make_token(settings: ServerSettings, name: str, coach: bool) -> str:
    """`formcheck serve --create-token`: a new token for `name`, to print once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        return create_token(engine, name, coach)
    finally:
        engine.dispose()


def serve(settings: ServerSettings, host: str, port: int) -> None:
    """Run the service under uvicorn until Ctrl-C (workers are stopped and their jobs
    requeued on the way out)."""
    import uvicorn

    logging.getLogger("formcheck").setLevel(logging.INFO)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                proxy_headers=False, server_header=False)
