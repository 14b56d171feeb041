"""On/off options shown in `--help` without a value name: `flag` for our own, and the
command classes `FlagHelpTyper` gives every command so that `--help` itself is shown so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType


def flag(*decls: str, **kwargs: Any) -> Any:
    """`typer.Option` for a boolean flag: Typer would show `<bool>` after it in `--help`, as
    if it took a value."""
    return typer.Option(*decls, metavar="", **kwargs)


def _bare(option: Any) -> Any:
    if option is not None:
        option.metavar = ""  # `--help`, not `--help <bool>`
    return option


class FlagHelpCommand(TyperCommand):
    """A command whose `--help` is listed as the flag it is."""

    def get_help_option(self, ctx: Any) -> Any:  # (Typer's own click Context)
        return _bare(super().get_help_option(ctx))


class FlagHelpGroup(TyperGroup):
    """The top-level command (`formcheck --help`), likewise."""

    def get_help_option(self, ctx: Any) -> Any:  # (Typer's own click Context)
        return _bare(super().get_help_option(ctx))


class FlagHelpTyper(typer.Typer):
    """`typer.Typer` whose commands are `FlagHelpCommand`s unless told otherwise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=FlagHelpGroup, **kwargs)

    def command(
        self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(*args, cls=cls or FlagHelpCommand, **kwargs)
