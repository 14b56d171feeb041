"""The code stays as the team wants it: `ruff check`, `ruff format --check` and mypy (strict)
clean, so that a contributor's change that breaks one fails the suite, not a later review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("formcheck", "tests", "benchmarks")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", *PATHS), ("ruff", "format", "--check", *PATHS)],
    ids=["ruff check", "ruff format"],
)
def test_ruff_is_clean(command: tuple[str, ...]) -> None:
    run = _run(*command)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]


def test_mypy_is_clean(mypy_output: tuple[int, str]) -> None:
    code, output = mypy_output  # the packages and options in pyproject.toml (strict)
    assert code == 0, output[-3000:]
