"""The real pose model sees the synthetic lifter where the renderer says it is.

For each spec, one full rep (lead-in, lift, hold, lowering) is rendered and run through
MediaPipe via formcheck's adapter. The near side's shoulder, hip and knee must lie within
`TOLERANCE_TORSO` x the torso length (shoulder-hip distance in pixels, from the truth)
of the rendered truth on at least `MIN_SHARE` of the frames. That tolerance is about
7 cm on the body; a real lifter's landmarks wobble by about as much.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from formcheck.pose.landmarks import Landmark
from formcheck.synth.render import ClipRenderer
from formcheck.synth.samples import SAMPLE_SPECS
from formcheck.synth.spec import Body, ClipSpec, Look, random_clip_spec

from .conftest import DetectClip

TOLERANCE_TORSO = 0.15
MIN_SHARE = 0.95
KEYS = ("shoulder", "hip", "knee")
STRIDE = 2

SPECS: dict[str, ClipSpec] = {
    "left_hands_on_hips": ClipSpec(seed=11, facing="left", arm_pose="hips"),
    "right_arms_on_bench_knee_band": ClipSpec(
        seed=12,
        facing="right",
        arm_pose="bench",
        band="knees",
        band_color="green",
        body=Body(height_m=1.62, girth=1.25, leg_scale=1.05),
        look=Look(
            skin="#7d4f35",
            hair="#1b1410",
            hair_style="long",
            shirt="#b9bcc4",
            sleeves="long",
            legwear="leggings",
            legwear_color="#1f3a68",
            shoes="#222226",
        ),
        background="cluttered",
    ),
    "portrait_sample": SAMPLE_SPECS["good_form_portrait_left.mp4"],
    # Two random specs (cluttered room, arms on the bench; portrait, red leggings and a red
    # band).
    # Harder random specs exist: dark legs on a dark floor, tiny portrait figures; see
    # the survey in the renderer's report. These two are typical, not the hardest.
    "random_cluttered": random_clip_spec(22),
    "random_portrait_band_colour_legs": random_clip_spec(39),
}


@dataclass(frozen=True)
class Accuracy:
    frames: int
    missing: int
    within: dict[str, float]  # share of frames within tolerance, per landmark
    median_px: dict[str, float]
    median_torso: dict[str, float]  # median error as a fraction of the torso length


def measure(spec: ClipSpec, detect_clip: DetectClip) -> Accuracy:
    renderer = ClipRenderer(spec)
    first = renderer.plan.timings[0]
    stop = min(spec.frame_count, round((first.end_s + 0.3) * spec.fps))
    frames = (renderer.render(i) for i in range(0, stop, STRIDE))
    errors: dict[str, list[float]] = {k: [] for k in KEYS}
    torso_errors: dict[str, list[float]] = {k: [] for k in KEYS}
    results = detect_clip(frames)
    missing = 0
    for rf, pf in results:
        truth = {k: np.array(v) for k, v in rf.truth_px.items()}
        torso = float(np.linalg.norm(truth["shoulder"] - truth["hip"]))
        for k in KEYS:
            if pf.is_missing or k in rf.occluded:
                err = float("inf")
            else:
                idx = Landmark[f"{rf.near_side.upper()}_{k.upper()}"]
                err = float(np.linalg.norm(pf.xy_px[idx] - truth[k]))
            errors[k].append(err)
            torso_errors[k].append(err / torso)
        missing += pf.is_missing
    return Accuracy(
        frames=len(results),
        missing=missing,
        within={k: float(np.mean(np.array(v) < TOLERANCE_TORSO)) for k, v in torso_errors.items()},
        median_px={k: float(np.median(v)) for k, v in errors.items()},
        median_torso={k: float(np.median(v)) for k, v in torso_errors.items()},
    )


@pytest.mark.parametrize("name", list(SPECS))
def test_pose_model_finds_the_near_side_joints(name: str, detect_clip: DetectClip) -> None:
    acc = measure(SPECS[name], detect_clip)
    summary = ", ".join(
        f"{k} {100 * acc.within[k]:.0f}% (median {acc.median_px[k]:.1f} px"
        f" = {acc.median_torso[k]:.3f} torso)"
        for k in KEYS
    )
    print(f"\n{name}: {acc.frames} frames, {acc.missing} missing; {summary}")
    assert acc.frames >= 50
    for k in KEYS:
        assert acc.within[k] >= MIN_SHARE, (
            f"{name}: {k} within tolerance on {100 * acc.within[k]:.0f}% of frames ({summary})"
        )


def test_the_model_prefers_the_near_side(detect_clip: DetectClip) -> None:
    """MediaPipe's LEFT_*/RIGHT_* naming agrees with `RenderedFrame.near_side`: the
    side with the higher visibility is the side nearer the camera."""
    for facing in ("left", "right"):
        renderer = ClipRenderer(ClipSpec(seed=5, facing=facing))
        frames = (renderer.render(i) for i in range(0, 120, 3))
        agree = []
        for rf, pf in detect_clip(frames):
            if pf.is_missing:
                continue
            vis = {
                side: np.mean([pf.visibility[Landmark[f"{side}_{k.upper()}"]] for k in KEYS])
                for side in ("LEFT", "RIGHT")
            }
            agree.append(max(vis, key=lambda s: vis[s]) == rf.near_side.upper())
        assert np.mean(agree) >= MIN_SHARE
