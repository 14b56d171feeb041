"""`formcheck batch` against kills and bad output folders (issue 20, items 10 and 11): real
processes and signals, and a tmpfs for a read-only or full disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from server_proc import alive, children_of
from short_clips import short_sample
from test_batch import FAKE_REPORT, FakeBackend, _factory, _touch, batch_config
from tmpfs import mounted_tmpfs
from typer.testing import CliRunner

from formcheck.batch.outputs import SUMMARY_JSON, ClipPaths
from formcheck.batch.runner import SCRATCH_PREFIX, BatchOptions, run_batch
from formcheck.cli import app
from formcheck.errors import OutputError, Terminated
from formcheck.pose.bundle import default_model_path

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        kids = children_of(todo.pop())
        found |= kids
        todo.extend(kids)
    return found


def _scratch_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}{pid}-*"))


def _start(inputs: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "formcheck",
            "batch",
            str(inputs),
            "-o",
            str(out),
            "--jobs",
            "1",
            "--no-html",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_workers(proc: subprocess.Popen[bytes]) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        procs = _descendants(proc.pid)
        if len(procs) >= 2 and _scratch_of(proc.pid):  # the forkserver and a worker
            return procs
        time.sleep(0.2)
    raise AssertionError("the batch started no worker")


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_and_sigterm_leave_no_worker_and_sigterm_keeps_the_work(tmp_path: Path) -> None:
    """kill -9 of the batch left its forkserver and workers running (about 1 GB) and a temp
    folder; SIGTERM wrote no summary."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("short_pause_left.mp4", "good_form_portrait_left.mp4"):
        (inputs / name).symlink_to(SAMPLES / name)
    out = tmp_path / "out"

    killed = _start(inputs, out)
    workers = _wait_for_workers(killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in workers if alive(p)], "a worker outlived the killed batch"
    assert _scratch_of(killed.pid)  # a killed process cannot clean up: the next run does

    stopped = _start(inputs, out)
    _wait_for_workers(stopped)
    assert not _scratch_of(killed.pid)  # swept: its batch is gone
    deadline = time.monotonic() + 120
    while not list((out / "reports").rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)  # one clip done, the other in flight
    helpers = _descendants(stopped.pid)  # its forkserver, resource tracker and worker
    stopped.send_signal(signal.SIGTERM)
    _, stderr = stopped.communicate(timeout=60)
    assert stopped.returncode == Terminated.exit_code, stderr
    assert b"stopped (SIGTERM): finished clips kept" in stderr
    summary = json.loads((out / SUMMARY_JSON).read_text())
    assert summary["interrupted"] is True and summary["ok"] >= 1
    assert not _scratch_of(stopped.pid)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert helpers and not [p for p in helpers if alive(p)], "a helper outlived the batch"


def test_a_read_only_output_folder_is_refused_before_any_clip(tmp_path: Path) -> None:
    """It used to be an 'internal error' (exit 1) after the analysis had run."""
    clip = _touch(tmp_path / "in" / "a.mp4")
    with mounted_tmpfs(tmp_path / "ro", read_only=True) as ro:
        run = CliRunner().invoke(app, ["batch", str(clip), "-o", str(ro / "out")])
    assert run.exit_code == OutputError.exit_code, run.output
    assert "the output folder cannot be written" in run.output
    assert "internal error" not in run.output


def test_a_full_output_disk_stops_the_batch_keeping_what_was_written(tmp_path: Path) -> None:
    """A full disk mid-run: exit 11 with the reason; the clips written before stay, the
    summary says the run was interrupted, and a rerun after freeing space goes on."""
    for name in ("a", "b", "c"):
        _touch(tmp_path / "in" / f"{name}.mp4", name)
    big = dict(FAKE_REPORT, padding="x" * 150_000)  # each report takes 150 kB
    with mounted_tmpfs(tmp_path / "disk", size="1m") as disk:
        out = disk / "out"
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (1024 * 1024 - 400 * 1024))  # room for two reports
        with pytest.raises(OutputError, match="cannot write the outputs"):
            run_batch(
                [str(tmp_path / "in")],
                batch_config(),
                BatchOptions(out, want_html=False),
                None,
                _factory(FakeBackend(big)),
            )
        summary = json.loads((out / SUMMARY_JSON).read_text())
        assert summary["interrupted"] is True
        kept = [r["key"] for r in summary["rows"]]
        assert kept and all(ClipPaths.of(out, k).report.is_file() for k in kept)
        filler.unlink()
        rest = FakeBackend(FAKE_REPORT)
        run_batch(
            [str(tmp_path / "in")],
            batch_config(),
            BatchOptions(out, want_html=False),
            None,
            _factory(rest),
        )
        assert sorted(t.key for t in rest.tasks) == sorted({"in/a", "in/b", "in/c"} - set(kept))


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
def test_a_clip_that_hangs_its_worker_is_stopped_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO hung the batch for ever: nothing limited a clip's time. (Inputs now refuse
    FIFOs; here one is handed to the workers directly, as a stalled mount would hang.)"""
    from formcheck.batch import runner
    from formcheck.batch.worker import ClipTask

    monkeypatch.setattr(runner, "CLIP_BUDGET_BASE_S", 4.0)
    fifo = tmp_path / "stalled.mp4"
    os.mkfifo(fifo)
    tasks = [
        ClipTask(0, "stalled", str(fifo)),
        ClipTask(1, "good", str(short_sample("good_form_portrait_left"))),
    ]
    backend = runner.LocalBackend(batch_config(), 1)
    try:
        t0 = time.monotonic()
        products = {p.index: p for p in backend.results(tasks)}
    finally:
        backend.close()
    assert "took longer than 4 s and was stopped" in (products[0].error or "")
    assert products[1].report is not None  # the clip behind it was scored
    assert time.monotonic() - t0 < 90
