"""`formcheck batch --ray`: a local Ray instance (2 CPUs, the run's `local_ray`) scores clips
through Ray actors.

The outputs and the resume rules are the local pool's: the same rows, reports, videos and
landmarks, and a rerun that does no work. Skipped when Ray is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formcheck.batch.outputs import SUMMARY_JSON
from formcheck.batch.runner import Backend, BatchOptions, run_batch
from formcheck.config import Config
from formcheck.pose.bundle import default_model_path
from formcheck.report import validate_report
from tests.batch_clips import batch_config, make_batch_dir

ray = pytest.importorskip("ray")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found"),
]


def _no_backend(cfg: Config, opts: BatchOptions, n: int) -> Backend:
    raise AssertionError("a rerun with nothing changed must not start any worker")


def test_ray_batch_scores_clips_like_local_processes(local_ray: None, tmp_path: Path) -> None:
    clips = make_batch_dir(tmp_path, good=("good_form_right", "short_pause_left"))
    items = [str(clips / "good"), str(clips / "not_a_video.mp4")]
    cfg = batch_config()
    out_ray, out_local = tmp_path / "out_ray", tmp_path / "out_local"
    result = run_batch(
        items, cfg, BatchOptions(out_ray, jobs=2, ray="auto", want_video=True, want_landmarks=True)
    )
    assert result.backend == "ray" and result.workers == 2
    assert [r.result for r in result.rows] == ["ok", "ok", "error"]
    assert "not a readable video" in result.rows[2].error
    assert str(clips / "not_a_video.mp4") in result.rows[2].error  # not the worker's temp copy
    for row in result.rows[:2]:
        report = json.loads((out_ray / row.report).read_text())
        validate_report(report)
        assert report["source"]["path"] == row.path
        assert (out_ray / "videos" / f"{row.key}.mp4").stat().st_size > 10_000
        assert (out_ray / "landmarks" / f"{row.key}.npz").is_file()

    # The same clips through local processes give the same rows.
    local = run_batch(items, cfg, BatchOptions(out_local, jobs=2))
    for r, lo in zip(result.rows, local.rows, strict=True):
        assert (r.key, r.result, r.rep_count, r.score, r.faults) == (
            lo.key,
            lo.result,
            lo.rep_count,
            lo.score,
            lo.faults,
        )

    # Same resume rules: nothing to do on a rerun through Ray either.
    again = run_batch(
        items,
        cfg,
        BatchOptions(out_ray, jobs=2, ray="auto", want_video=True, want_landmarks=True),
        None,
        _no_backend,
    )
    assert [r.status for r in again.rows] == ["skipped"] * 3
    assert json.loads((out_ray / SUMMARY_JSON).read_text())["skipped"] == 3
