"""The README's accuracy promises, gated on this run's fresh generated set (real model).

The README's `formcheck eval` commands are read from the README itself and run on the set
(`generated_eval` in conftest.py: a fresh set of clips from seeds that change with every run,
printed in the run's header), so a gate in the README is a gate in the suite and the two
cannot drift; a second test pins that the README keeps promising every figure.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from eval_sets import CLIPS, Evaluated, choose_seeds
from typer.testing import CliRunner

from formcheck.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
#: The figures the README's eval commands must gate, as the options that gate them.
PROMISED_GATES = (
    "--min-count-exact",
    "--max-boundary-mae",
    "--max-angle-mae",
    "--max-pause-mae",
    "--max-eccentric-mae",
    "--min-band-accuracy",
    "--min-fault-precision",
    "--min-fault-recall",
    "--pooled",
)
#: Every fault whose precision and recall the README promises.
PROMISED_FAULTS = (
    "under_extension",
    "over_extension",
    "short_pause",
    "fast_lowering",
    "feet_too_close",
    "feet_too_far",
    "band_at_knees",
)
#: Options of the README's commands that say where, not how well.
PLACE_OPTIONS = {"--cache": 1, "--json": 1}

pytestmark = pytest.mark.e2e


def readme_eval_gates() -> list[list[str]]:
    """The gate options of each `formcheck eval evalset/ ...` command in the README."""
    text = README.read_text(encoding="utf-8").replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("formcheck eval evalset/"):
            continue
        words = shlex.split(line.split("  #", 1)[0])[3:]
        gates: list[str] = []
        i = 0
        while i < len(words):
            skip = PLACE_OPTIONS.get(words[i])
            if skip is not None:
                i += 1 + skip
                continue
            gates.append(words[i])
            i += 1
        commands.append(gates)
    return commands


def test_the_readme_promises_every_figure() -> None:
    commands = readme_eval_gates()
    assert commands, "no `formcheck eval evalset/ ...` command in the README"
    options = {w for c in commands for w in c if w.startswith("--")}
    assert set(PROMISED_GATES) <= options, set(PROMISED_GATES) - options
    faults = {c[i + 1] for c in commands for i, w in enumerate(c) if w == "--fault"}
    assert set(PROMISED_FAULTS) <= faults, set(PROMISED_FAULTS) - faults


def test_the_generated_set_is_fresh_and_whole(generated_eval: Evaluated) -> None:
    result = generated_eval.result
    assert len(result.clips) == CLIPS >= 30
    assert result.overall.clips == CLIPS, result.excluded
    failed = [(c.name, c.error) for c in result.clips if c.error]
    assert not failed, f"{failed} {generated_eval.replay()}"
    # Measured in this run (by the background measurer, into a fresh cache), from these seeds.
    assert all(c.landmarks == "cache" for c in result.clips)
    assert sorted(c.name for c in result.clips) == sorted(
        f"synth_{seed:05d}.mp4" for seed in choose_seeds(generated_eval.seed or 0)
    )


@pytest.mark.parametrize("gates", readme_eval_gates(), ids=lambda g: " ".join(g[:2]))
def test_the_readme_eval_command_holds_on_a_fresh_generated_set(
    gates: list[str],
    generated_eval: Evaluated,
) -> None:
    """The README's command, as written, on this run's set (poses from the session's cache)."""
    args = [
        "eval",
        str(generated_eval.folder),
        "--cache",
        str(generated_eval.cache),
        "--quiet",
        *gates,
    ]
    run = CliRunner().invoke(app, args)
    missed = re.findall(r"gate missed: .*", run.output)
    assert run.exit_code == 0, f"{missed or run.output[-2000:]} {generated_eval.replay()}"
    assert "Traceback" not in run.output
