"""`flag`: a command-line on/off option, shown in `--help` without a value name."""

from __future__ import annotations

from typing import Any

import typer


def flag(*decls: str, **kwargs: Any) -> Any:
    """`typer.Option` for a boolean flag: Typer would show `<bool>` after it in `--help`, as
    if it took a value."""
    return typer.Option(*decls, metavar="", **kwargs)
