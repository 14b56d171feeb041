"""The speed benchmark runs every stage on one clip and reports consistent figures.

No speed is asserted here (machines are noisy): targets live in BENCHMARKS.md and are
measured by `formcheck bench`. These tests check that the figures mean what they say.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from short_clips import short_sample
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.schedule import WARM_UP
from formcheck.video import FileSource

pytestmark = pytest.mark.e2e
# 30 fps: the default pipeline analyses every 2nd frame. One rep: the bench runs the model
# over the clip four times.
CLIP = short_sample("good_form_right", reps=1)


def test_bench_times_every_stage_on_the_same_frames(tmp_path: Path) -> None:
    """One run of the command (real model): the table, and JSON figures that add up."""
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", str(CLIP), "--repeat", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("model alone", "pipeline", "annotated video", "peak memory", "x real time"):
        assert text in result.stdout
    r = json.loads(out.read_text())
    info = FileSource(CLIP).info
    n = info.frame_count
    for name in ("decode", "model_alone", "pipeline", "pipeline_every_frame", "annotated_video"):
        fig = r[name]
        assert fig["frames"] == n, name
        assert fig["wall_s"] > 0, name
        assert fig["fps"] == pytest.approx(n / fig["wall_s"]), name
        assert fig["realtime_x"] == pytest.approx(info.duration_s / fig["wall_s"]), name
    assert r["analysed_every"] == 2
    assert r["pipeline_vs_model_pct"] == pytest.approx(
        100 * (r["pipeline"]["wall_s"] / r["model_alone"]["wall_s"] - 1)
    )
    for stages in (r["pipeline_stages_s"], r["every_frame_stages_s"]):
        assert {"decode", "pose", "band", "track", "reps", "rules"} <= set(stages)
        # The model runs inside the pipeline's wall time: it cannot take longer than it.
        assert stages["pose"] <= stages["decode_and_pose"]
    assert r["pipeline_stages_s"]["rendering"] == r["annotated_video"]["wall_s"]
    assert r["model_load_s"] > 0
    assert r["peak_rss_mb"] > 100  # the model alone is bigger than that
    assert r["cold_ratio"] == pytest.approx(
        (r["model_load_s"] + r["pipeline"]["wall_s"]) / r["model_alone"]["wall_s"]
    )
    # The default pipeline's models see the analysed frames (every 2nd), no more, but the
    # second model's warm-up frames (measured by both).
    assert 0 < r["model_frames"] <= (n + 1) // 2 + WARM_UP
    agree = r["agreement"]
    assert agree["reps"] == agree["reps_every_frame"] == 1
    assert agree["top_angle_deg"] < 3.0 and agree["pause_s"] < 0.15
    assert "the models measured" in result.stdout


def test_bench_missing_clip_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", str(tmp_path / "nope.mp4")])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
