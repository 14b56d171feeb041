"""Bands drawn on real bodies (`formcheck band-overlay`): where the band goes on a picture,
and that the detector finds it on a clip made by the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from edits import cut_window
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.config import Config
from formcheck.evaluate import evaluate_dir
from formcheck.synth.band_overlay import draw_band

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
# A lifter at the top, side view, head on the left: shoulder, hip, knee, ankle (px).
JOINTS = np.array([[100.0, 220.0], [300.0, 200.0], [480.0, 160.0], [500.0, 330.0]])
RED = (43, 38, 208)


def _painted(placement: str, joints: np.ndarray = JOINTS) -> np.ndarray:
    """Where the band changed a grey picture (a boolean mask)."""
    grey = np.full((360, 640, 3), 128, np.uint8)
    out = draw_band(grey, joints, placement, RED, twist=0.3)  # type: ignore[arg-type]
    return np.asarray(np.abs(out.astype(int) - grey).max(axis=2) > 40)


def test_a_knee_band_crosses_the_thigh_above_the_knee() -> None:
    mask = _painted("knees")
    ys, xs = np.nonzero(mask)
    above_knee = JOINTS[1] + 0.8 * (JOINTS[2] - JOINTS[1])
    assert np.hypot(xs.mean() - above_knee[0], ys.mean() - above_knee[1]) < 10
    assert not mask[:, :350].any()  # nothing near the hips


def test_a_hip_band_runs_from_the_foot_to_the_hip_crease() -> None:
    mask = _painted("hips")
    assert mask[300:345, 470:530].any()  # at the foot
    assert mask[150:210, 300:360].any()  # over the front of the hips
    both = _painted("both")
    assert (both & ~mask).any() and (both | mask).sum() >= mask.sum()


def test_no_band_where_the_leg_is_not_seen() -> None:
    lost = JOINTS.copy()
    lost[3] = np.nan
    assert not _painted("hips", lost).any()


def test_the_command_draws_bands_the_detector_finds(
    tmp_path: Path, estimator: PoseEstimator
) -> None:
    """One rep of the band-less sample, banded at the hips and at both by the command, then
    judged as a user's clip would be."""
    real = tmp_path / "real"
    real.mkdir()
    label = json.loads((SAMPLES / "no_band_right.json").read_text())
    first = label["reps"][0]
    cut_window(SAMPLES / "no_band_right.mp4", real / "lifter.mp4", 0.0, first["end_s"] + 0.8)
    (real / "lifter.json").write_text(json.dumps({**label, "reps": [first], "rep_count": 1}))
    banded = tmp_path / "banded"
    run = CliRunner().invoke(
        app, ["band-overlay", str(real), str(banded), "--placement", "hips", "--placement", "both"]
    )
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in banded.glob("*.mp4")) == [
        "lifter__band_both.mp4",
        "lifter__band_hips.mp4",
    ]
    result = evaluate_dir(banded, Config(), estimator=estimator)
    for clip in result.clips:
        want = json.loads(Path(clip.label_path).read_text())["band"]
        assert [p.band for p in clip.predicted] == [want], clip.name


def test_a_none_copy_leaves_the_picture_as_it_was() -> None:
    assert not _painted("none").any()
