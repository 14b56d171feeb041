"""The service's settings: one frozen dataclass, filled by `formcheck serve`'s options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from formcheck.errors import ConfigError

# A phone clip of one set (1080p, a minute) is 50-150 MB; 300 MB leaves room, no more.
DEFAULT_MAX_UPLOAD_MB = 300
# Uploads each user may start within the sliding window below (a set or two a day is normal).
DEFAULT_UPLOADS_PER_WINDOW = 30
DEFAULT_RATE_WINDOW_S = 3600.0
# A running job whose worker has not reported for this long (s) is handed to another worker.
DEFAULT_LEASE_S = 120.0
# What one clip may cost a worker: a set lasts a few minutes; scoring takes about a second
# per second of video, so ten minutes hold a worker for ten.
DEFAULT_MAX_CLIP_MINUTES = 10.0
# Phones film up to 4K (3840x2160, 8.3 MP); each decoded frame of an 8K clip is 100 MB.
DEFAULT_MAX_PIXELS = 3840 * 2160
# Slow-motion phone clips run at 240 fps; more is not a clip of a set.
DEFAULT_MAX_FPS = 240.0
# Live sets coached at once: each runs a pose model on a core at 10-15 frames a second.
DEFAULT_MAX_LIVE = 2


@dataclass(frozen=True)
class ServerSettings:
    """Where the service keeps its data and how much it accepts.

    Attributes:
        data_dir: folder for the database (SQLite by default), the uploaded files (by
            default) and the session secret.
        db_url: SQLAlchemy URL; None means `sqlite:///<data_dir>/formcheck.db` (WAL mode).
            PostgreSQL (`postgresql+psycopg://...`) for fronts and workers on several machines.
        store: where uploads' files go: a folder, or `s3://bucket/prefix` (`stores`); None
            means `<data_dir>/uploads`.
        workers: scoring worker processes started with the app (0: a pure web front, the
            scoring done by `formcheck worker` processes, or none in API-only tests).
        config_path: formcheck TOML configuration for the analysis (None: the defaults).
        max_upload_bytes: the largest upload accepted (bytes); larger ones get 413.
        uploads_per_window: uploads one user may start per `rate_window_s` (else 429).
        rate_window_s: the sliding rate-limit window (s).
        lease_s: a running job silent for this long (s) goes back to the queue.
        poll_s: how often an idle worker looks for a job (s).
        max_clip_s: the longest clip accepted (s of video); longer ones get 413.
        max_pixels: the most pixels per frame accepted (width x height); more get 413.
        max_fps: the highest frame rate accepted; higher gets 422.
        public_url: the address users reach the service at through a reverse proxy (e.g.
            "https://coach.example"): forms posted from it are same-origin whatever Host
            the proxy sends, and with https the session cookie is Secure. None: the
            request's own Host and scheme.
        forwarded_allow_ips: proxy addresses whose X-Forwarded-For/-Proto headers are
            trusted (uvicorn's setting, e.g. "127.0.0.1"); None trusts none.
        max_live: live sets coached at once from phones' browsers (the Live page); more
            get a "busy" answer. 0 turns the Live page off.
        certfile, keyfile: serve HTTPS with this certificate and key (PEM): phones allow
            the camera only on HTTPS pages (or localhost).
        log_json: log one JSON object per line (`logs`), each job's lines with its ids.
        ray: score on this Ray cluster instead of worker processes of the server ("auto",
            "host:6379", "ray://host:10001", or "local"): `workers` actors (`ray_pool`).
    """

    data_dir: Path
    db_url: str | None = None
    store: str | None = None
    workers: int = 1
    config_path: Path | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    uploads_per_window: int = DEFAULT_UPLOADS_PER_WINDOW
    rate_window_s: float = DEFAULT_RATE_WINDOW_S
    lease_s: float = DEFAULT_LEASE_S
    poll_s: float = 0.5
    max_clip_s: float = DEFAULT_MAX_CLIP_MINUTES * 60.0
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_fps: float = DEFAULT_MAX_FPS
    public_url: str | None = None
    forwarded_allow_ips: str | None = None
    max_live: int = DEFAULT_MAX_LIVE
    certfile: Path | None = None
    keyfile: Path | None = None
    ray: str | None = None
    log_json: bool = False

    def __post_init__(self) -> None:
        if (self.certfile is None) != (self.keyfile is None):
            raise ConfigError("--certfile and --keyfile go together: give both, or neither")
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"--public-url {self.public_url!r}: give the scheme too, as in"
                " https://coach.example"
            )

    @property
    def database_url(self) -> str:
        """The effective database URL."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'formcheck.db').resolve()}"

    @property
    def safe_db_url(self) -> str:
        """The database URL without its password, for logs and messages."""
        from formcheck.server.db import safe_url

        return safe_url(self.database_url)

    @property
    def uploads_dir(self) -> Path:
        """The default store: each upload in its own `<uuid>/` folder."""
        return self.data_dir / "uploads"

    @property
    def store_spec(self) -> str:
        """The effective store: a folder path or an `s3://` URL."""
        return self.store or str(self.uploads_dir)

    @property
    def embedded(self) -> bool:
        """One machine: the SQLite database in the data folder, whose lock the server holds.
        Only then may a starting server hand back every running job and sweep orphaned
        files: with PostgreSQL, other fronts and workers may be mid-upload or mid-job."""
        return self.database_url.startswith("sqlite")
