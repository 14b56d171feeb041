"""`formcheck serve`, `formcheck worker` and `formcheck db`: the upload service's commands.

The library is imported inside the commands so that `formcheck --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli_flag import FlagHelpTyper, flag
from formcheck.cli_shared import ConfigOpt, exit_codes_help, fail, out
from formcheck.config import load_config
from formcheck.errors import FormcheckError

DEFAULT_DATA = Path("formcheck-data")
DataOpt = Annotated[
    Path,
    typer.Option(
        help="Data folder: the SQLite database and the clips by default, the session secret"
        " of a server before 0.2.",
        file_okay=False,
    ),
]
DbUrlOpt = Annotated[
    str | None,
    typer.Option(
        envvar="FORMCHECK_DB_URL",
        help="SQLAlchemy database URL, e.g. postgresql+psycopg://user:pw@host/formcheck (or"
        " the FORMCHECK_DB_URL variable, which keeps the password off the command line)."
        " Default: SQLite in DATA.",
        show_default=False,
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        envvar="FORMCHECK_STORE",
        help="Where the clips and results go: a folder (a mount every machine shares) or"
        " s3://bucket/prefix (credentials and AWS_ENDPOINT_URL from the environment)."
        " Default: DATA/uploads.",
        show_default=False,
    ),
]

LogJsonOpt = Annotated[
    bool,
    flag("--log-json", help="Log one JSON object per line (a job's lines carry its ids)."),
]

db_app = FlagHelpTyper(
    help="The service's database: bring its schema up to date, or say where it stands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 opens it to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    data: DataOpt = DEFAULT_DATA,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            max=64,
            help="Scoring worker processes of this server (each loads the model once). 0: a"
            " pure web front; `formcheck worker` processes score the clips.",
        ),
    ] = 1,
    db_url: DbUrlOpt = None,
    store: StoreOpt = None,
    ray: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Score on a Ray cluster instead: --workers N become N Ray actors there"
            " (auto: the cluster this machine is in; host:6379; local: a Ray instance here)."
            " Needs `pip install formcheck[ray]`, and --db-url and --store every node reaches.",
            show_default=False,
        ),
    ] = None,
    log_json: LogJsonOpt = False,
    max_upload_mb: Annotated[int, typer.Option(min=1, help="Largest upload (MB).")] = 300,
    uploads_per_hour: Annotated[int, typer.Option(min=1, help="Uploads per user per hour.")] = 30,
    max_clip_minutes: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="Longest clip scored (minutes of video); clips over 4K or 240 fps are "
            "refused too.",
        ),
    ] = 10.0,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The address users reach the service at through an HTTPS proxy (e.g. "
            "https://coach.example): forms posted from it are accepted whatever Host the proxy "
            "sends, and the session cookie is Secure.",
            show_default=False,
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxy addresses whose X-Forwarded-For/-Proto headers are trusted (e.g. "
            "127.0.0.1); by default none.",
            show_default=False,
        ),
    ] = None,
    max_live: Annotated[
        int,
        typer.Option(
            min=0,
            max=16,
            help="Live sets coached at once from phones' browsers (the Live page; each"
            " takes a core); more are told the coach is busy. 0: no Live page.",
        ),
    ] = 2,
    certfile: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Serve HTTPS with this certificate (PEM): a phone's browser opens its camera"
            " only on HTTPS pages. With --keyfile.",
            show_default=False,
        ),
    ] = None,
    keyfile: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The certificate's private key (PEM).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    create_token: Annotated[
        str | None,
        typer.Option(
            "--create-token",
            metavar="NAME",
            help="Print a new API token for user NAME (made "
            "if new) and exit; the token is shown only this once.",
            show_default=False,
        ),
    ] = None,
    coach: Annotated[
        bool, flag("--coach", help="With --create-token: NAME is a coach and sees every upload.")
    ] = False,
    revoke_token: Annotated[
        str | None,
        typer.Option(
            "--revoke-token",
            metavar="NAME",
            help="Remove every token of user NAME, and the "
            "browser sessions opened with them, and exit.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the upload service: clients upload clips in the browser or over the API, or are
    coached live through their phone's browser (the Live page: HTTPS needed, see --certfile).

    One machine: the defaults (SQLite and the clips in DATA, scoring workers of this server).
    Several: every front and `formcheck worker` given the same --db-url (PostgreSQL) and
    --store; health at /healthz and /readyz, Prometheus metrics at /metrics."""
    from formcheck.server import ServerSettings
    from formcheck.server.app import make_token
    from formcheck.server.app import revoke_token as revoke
    from formcheck.server.app import serve as run_server

    try:
        settings = ServerSettings(
            data_dir=data,
            db_url=db_url,
            store=store,
            workers=workers,
            ray=ray,
            log_json=log_json,
            config_path=config,
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            uploads_per_window=uploads_per_hour,
            rate_window_s=3600.0,
            max_clip_s=max_clip_minutes * 60.0,
            public_url=public_url,
            forwarded_allow_ips=forwarded_allow_ips,
            max_live=max_live,
            certfile=certfile,
            keyfile=keyfile,
        )
        load_config(config)  # a bad config fails here, not in every worker
        if create_token is not None:
            token = make_token(settings, create_token, coach)
            out.print(
                f"token for {create_token} ({'coach' if coach else 'client'}); it is "
                "shown only now:",
                highlight=False,
            )
            sys.stdout.write(token + "\n")
            return
        if revoke_token is not None:
            n = revoke(settings, revoke_token)
            out.print(
                f"revoked {n} token(s) of {revoke_token.strip()}; their sessions ended",
                highlight=False,
            )
            return
        run_server(settings, host, port)
    except FormcheckError as exc:
        raise fail(exc) from None


def worker_command(
    data: DataOpt = DEFAULT_DATA,
    db_url: DbUrlOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
    name: Annotated[
        str,
        typer.Option(help="A label for this worker in logs and metrics (host and pid are added)."),
    ] = "worker",
    lease_s: Annotated[
        float,
        typer.Option(
            min=5.0,
            help="A job whose worker is silent this long (s) goes back to the queue; the"
            " same on every worker.",
        ),
    ] = 120.0,
    max_clip_minutes: Annotated[
        float, typer.Option(min=0.1, help="Longest clip scored (minutes), as the fronts'.")
    ] = 10.0,
    log_json: LogJsonOpt = False,
) -> None:
    """Score uploaded clips: take jobs off the service's queue until stopped. Run one per
    core on any machine that reaches the database (--db-url) and the store (--store).
    SIGTERM or Ctrl-C hands the job in hand back to the queue; a killed worker's job goes
    back after the lease."""
    from formcheck.server import ServerSettings
    from formcheck.server.logs import setup_logging
    from formcheck.server.worker import run_worker

    try:
        settings = ServerSettings(
            data_dir=data,
            db_url=db_url,
            store=store,
            workers=1,
            log_json=log_json,
            config_path=config,
            lease_s=lease_s,
            max_clip_s=max_clip_minutes * 60.0,
        )
        load_config(config)
        setup_logging(log_json, name)
        run_worker(settings, name)
    except FormcheckError as exc:
        raise fail(exc) from None


@db_app.command("upgrade", epilog=exit_codes_help(12))
def db_upgrade(
    data: DataOpt = DEFAULT_DATA,
    db_url: DbUrlOpt = None,
) -> None:
    """Bring the database's schema up to the revision this formcheck needs (Alembic
    migrations; `formcheck serve` does it too when it starts). Safe to run at any time."""
    from formcheck.server import ServerSettings
    from formcheck.server.db import make_engine, upgrade

    try:
        settings = ServerSettings(data_dir=data, db_url=db_url)
        engine = make_engine(settings.database_url, migrate=False)
        before, after = upgrade(engine)
        engine.dispose()
    except FormcheckError as exc:
        raise fail(exc) from None
    what = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    out.print(f"{settings.safe_db_url}: {what} revision {after}", highlight=False)


@db_app.command("current", epilog=exit_codes_help(12))
def db_current(
    data: DataOpt = DEFAULT_DATA,
    db_url: DbUrlOpt = None,
) -> None:
    """Print the database's schema revision and the one this formcheck needs."""
    from formcheck.server import ServerSettings
    from formcheck.server.db import head, make_engine, revision

    try:
        settings = ServerSettings(data_dir=data, db_url=db_url)
        engine = make_engine(settings.database_url, migrate=False)
        try:
            current = revision(engine)
        finally:
            engine.dispose()
    except FormcheckError as exc:
        raise fail(exc) from None
    out.print(
        f"{settings.safe_db_url}: revision {current or 'none'} (this formcheck needs {head()})",
        highlight=False,
    )
