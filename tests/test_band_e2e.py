"""The band detector end to end, through the real pose model (issue 4).

- Short generated clips, one per placement in a different colour (and a mini-band on
  leggings of its own colour), rendered into `tmp_path` and analysed with `analyze_video`
  (the detector runs by default): each rep's judged placement is the one drawn. The seed
  is the first of a fixed range for every placement; the accuracy over many clips is
  measured by `formcheck eval`, not here. Where a band was found, the tops are measured
  again with it painted out; one clip shows the knee angle that a strand across the leg
  spoils, and how the retake mends it.
- The team's real clips (../shared/real_videos, skipped when absent; never copied into the
  repository; analysed once per run, `real_eval`): the mini-band above the knees is judged
  "knees"; clips without a band are never judged "hips".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from edits import seen_from_above
from eval_sets import REAL_DIR, Evaluated

from formcheck.analyze import analyze_video
from formcheck.annotate import write_annotated_video
from formcheck.config import Config
from formcheck.synth import random_clip_spec, render_clip, with_legs_like_band
from formcheck.synth.spec import ANGLE_MARGIN_DEG
from formcheck.video import FileSource

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

SEED = 7000
# The generator keeps every knee angle at least ANGLE_MARGIN_DEG (6 deg) from a threshold:
# an error under the margin cannot turn a verdict, one at or over it may.
KNEE_TOLERANCE_DEG = ANGLE_MARGIN_DEG
# A clip whose yellow strand pulls the knee landmark 15-20 deg off when it is left in.
STRAND_SEED = 1037

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("band", "color", "legs_of_its_colour"),
    [
        ("hips", "red", False),
        ("knees", "yellow", False),
        ("both", "blue", False),
        ("none", "green", False),
        ("knees", "yellow", True),  # found by its rims: it has the leggings' colour
    ],
)
def test_generated_clips_are_judged_by_where_the_band_is(
    band: str,
    color: str,
    legs_of_its_colour: bool,
    estimator: PoseEstimator,
    tmp_path: Path,
) -> None:
    spec = random_clip_spec(
        SEED, band=band, band_color=color, n_reps=2, width=640, height=360, fps=30.0
    )
    if legs_of_its_colour:
        spec = with_legs_like_band(spec)
    video = tmp_path / f"{band}.mp4"
    label = render_clip(spec, video)
    analysis = analyze_video(video, Config(), estimator=estimator)
    assert len(analysis.reps) == 2
    assert [rr.band for rr in analysis.report.reps] == [band, band]
    # Every verdict, the band's (band_at_knees, no_band) and the rest: a knee misread would
    # add a feet fault. No band in the set is said once, for the set (the label lists it on
    # every rep).
    report = analysis.report
    assert [sorted([*rr.faults, *report.set_faults]) for rr in report.reps] == [
        sorted(r["faults"]) for r in label["reps"]
    ]
    assert report.set_faults == (["no_band"] if band == "none" else [])
    assert not any("no_band" in rr.faults for rr in report.reps)
    # Where a band was found, the tops were measured again with it painted out.
    retaken = (analysis.measurement.retake or {}).get("reps", [])
    assert [r["rep"] for r in retaken] == ([] if band == "none" else [1, 2])
    for rep, truth in zip(analysis.reps, spec.reps, strict=True):
        assert abs(rep.knee_angle_top_deg - truth.knee_angle_top_deg) < KNEE_TOLERANCE_DEG
    if band == "both":  # the annotated video outlines the band: a strand and a loop
        out = tmp_path / "annotated.mp4"
        write_annotated_video(video, analysis, out)
        assert FileSource(out).info.frame_count == FileSource(video).info.frame_count


def test_a_strand_across_the_leg_is_painted_out_before_the_knee_is_judged(
    estimator: PoseEstimator,
    tmp_path: Path,
) -> None:
    spec = random_clip_spec(STRAND_SEED, n_reps=2)
    video = tmp_path / "strand.mp4"
    label = render_clip(spec, video)
    analysis = analyze_video(video, Config(), estimator=estimator)
    for rep, truth in zip(analysis.reps, spec.reps, strict=True):
        assert abs(rep.knee_angle_top_deg - truth.knee_angle_top_deg) < KNEE_TOLERANCE_DEG
    assert [sorted(rr.faults) for rr in analysis.report.reps] == [
        sorted(r["faults"]) for r in label["reps"]
    ]
    without = Config.model_validate({"rules": {"band": {"retake_frames": 0}}})
    left_in = analyze_video(video, without, estimator=estimator)
    errors = [
        abs(r.knee_angle_top_deg - t.knee_angle_top_deg)
        for r, t in zip(left_in.reps, spec.reps, strict=True)
    ]
    assert max(errors) > KNEE_TOLERANCE_DEG  # what the retake is for


@pytest.mark.real
@pytest.mark.skipif(not REAL_DIR.is_dir(), reason=f"{REAL_DIR} not available")
@pytest.mark.parametrize(
    ("clip", "allowed"),
    [
        ("banded_bridge_knees_pexels", {"knees"}),  # yellow mini-band, black clothes, black mat
        ("bridge_outdoor_sun", {"none"}),  # black shorts in hard sunlight, shadows
        ("bridge_studio_woman_towel", {"none"}),  # a blue mat seen edge-on, a blue towel
    ],
)
def test_real_clips(clip: str, allowed: set[str], real_eval: Evaluated) -> None:
    row = next(c for c in real_eval.result.clips if c.name == f"{clip}.mp4")
    bands = [p.band for p in row.predicted]
    assert bands, "no rep found"
    assert set(bands) <= allowed, bands


@pytest.mark.real
@pytest.mark.skipif(not REAL_DIR.is_dir(), reason=f"{REAL_DIR} not available")
def test_the_real_knee_band_filmed_from_above_is_still_at_the_knees(
    estimator: PoseEstimator, tmp_path: Path
) -> None:
    """A phone held above the lifter shortens every height: the hips at the top no longer
    rise half a thigh above the feet in the picture, and the strand's path was never looked
    at ("unknown" on a loop plain to see). Their rise towards the knees is what counts."""
    clip = seen_from_above(REAL_DIR / "banded_bridge_knees_pexels.mp4", tmp_path / "a.mp4", 0.6)
    analysis = analyze_video(clip, Config(), estimator=estimator)
    bands = [rr.band for rr in analysis.report.reps]
    assert bands and set(bands) == {"knees"}, bands
