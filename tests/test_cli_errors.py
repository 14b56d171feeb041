"""Bad input gets one line and a documented exit code, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.errors import EXIT_CODES, FormcheckError
from formcheck.pose.bundle import default_model_path
from formcheck.pose.landmarker import NATIVE_LOGS_ENV

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_missing_file(tmp_path: Path) -> None:
    code, output = _run("analyze", str(tmp_path / "nope.mp4"))
    assert code == 3
    assert "no such file" in output


def test_not_a_video(tmp_path: Path) -> None:
    f = tmp_path / "notes.mp4"
    f.write_text("this is not a video")
    code, output = _run("analyze", str(f))
    assert code == 3
    assert "not a readable video" in output


def test_bad_model_file(tmp_path: Path) -> None:
    fake = tmp_path / "fake.task"
    fake.write_bytes(b"PK not really")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    code, output = _run("analyze", str(video), "--model", str(fake))
    assert code == 4
    assert "not a PoseLandmarker bundle" in output


def test_bad_config(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[reps]\nmin_rep_s = -1\n")
    code, output = _run("config", "--config", str(cfg))
    assert code == 2
    assert "reps.min_rep_s" in output


def test_every_exit_code_is_documented() -> None:
    """The codes the README's table lists are exactly those the code knows, and every error
    class exits with one of them."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    assert documented == set(EXIT_CODES) == {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 130, 143}
    classes = [FormcheckError]
    for cls in classes:
        classes.extend(cls.__subclasses__())
        assert cls.exit_code in EXIT_CODES, cls


def test_version() -> None:
    code, output = _run("--version")
    assert code == 0
    assert output.startswith("formcheck ")


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
def test_quiet_analyze_prints_one_result_line_and_no_native_log(tmp_path: Path) -> None:
    """MediaPipe's C++ side printed six `INFO: [accelerator_registry.cc:43]
    DestroyAccelerator` lines after every run, even with -q, and -q printed no result."""
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "short_pause_left.mp4"
    env = {k: v for k, v in os.environ.items() if k != NATIVE_LOGS_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "formcheck", "analyze", str(clip), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert re.fullmatch(r"3 reps, score \d+/100, faults: .+\n", done.stdout), done.stdout


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ("analyze", {0, 1, 2, 3, 4, 5, 6, 130}),
        ("synth", {0, 1, 2, 130}),
        ("report", {0, 1, 2, 3, 130}),
        ("batch", {0, 1, 2, 4, 9, 11, 130, 143}),
        ("serve", {0, 1, 2, 4, 10, 12, 13, 130}),
        ("worker", {0, 1, 2, 4, 12, 13, 130}),
    ],
)
def test_each_command_s_help_lists_only_its_own_exit_codes(command: str, codes: set[int]) -> None:
    """Every --help repeated the whole table (`synth --help` listed '0 analysis done')."""
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    epilog = " ".join(result.output.split("Exit codes:", 1)[1].split()).replace("│", "")
    listed = {int(c) for c in re.findall(r"(?:^|; )(\d+) ", " ".join(epilog.split()))}
    assert listed == codes, epilog
    assert ("analysis done" in epilog) == (command == "analyze")


def test_help_shows_flags_without_a_value_name_and_keeps_brackets() -> None:
    """Flags showed `<bool>` as if they took a value; rich markup ate `[ray]` from
    `pip install formcheck[ray]`."""
    commands = [
        c.name or c.callback.__name__.replace("_", "-")
        for c in app.registered_commands
        if c.callback
    ]
    assert {"analyze", "batch", "live", "serve", "eval", "synth"} <= set(commands)
    for args in ([], *([name] for name in commands)):
        result = runner.invoke(app, [*args, "--help"], terminal_width=200)
        text = result.output
        shown = " ".join(text.replace("│", " ").split())
        assert result.exit_code == 0 and "--help Show this message" in shown, args
        assert "<bool>" not in text, (args, [ln for ln in text.splitlines() if "<bool>" in ln])
    batch = runner.invoke(app, ["batch", "--help"], terminal_width=200).output
    assert "pip install formcheck[ray]" in " ".join(batch.replace("│", " ").split())
