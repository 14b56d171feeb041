"""What every command-line module shares: the consoles, the one-line failure, the `--help`
epilog of exit codes, the `--config` option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from formcheck.errors import EXIT_CODES, FormcheckError

out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML configuration file (see `formcheck config`).", dir_okay=False
    ),
]


def exit_codes_help(*codes: int, done: str = "done") -> str:
    """The `--help` epilog: the exit codes this command can end with (0, 1, 2 and 130 are
    every command's), each with its meaning; `done` says what 0 means for it."""
    meaning = {**EXIT_CODES, 0: done}
    return "Exit codes: " + "; ".join(
        f"{code} {meaning[code]}" for code in sorted({0, 1, 2, 130, *codes})
    )


def fail(exc: FormcheckError) -> typer.Exit:
    """Say `exc` in one line on stderr; the exit with its code."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)
