"""Kinematics of the synthetic hip thrust: IK, signed angles, poses over a clip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import ArrayLike

from formcheck.synth.kinematics import (
    UnreachableError,
    knee_angle_deg,
    plan_motion,
    rep_timings,
    segments_of,
    signed_hip_angle_deg,
    solve_ankle,
    solve_leg,
    two_link_ik,
)
from formcheck.synth.spec import Body, ClipSpec, RepSpec

ANGLE_TOL_DEG = 0.1


def _dist(a: ArrayLike, b: ArrayLike) -> float:
    return float(np.hypot(*(np.asarray(a) - np.asarray(b))))


# -- two-link IK ----------------------------------------------------------------------


@pytest.mark.parametrize("target", [(1.0, 0.2), (0.3, -0.6), (-0.5, 0.5), (0.05, 0.9)])
@pytest.mark.parametrize("bend", [1, -1])
def test_ik_reaches_target_with_exact_link_lengths(target: tuple[float, float], bend: int) -> None:
    res = two_link_ik((0.0, 0.0), target, 0.6, 0.5, bend=bend)
    assert res.reached
    assert _dist(res.mid, (0.0, 0.0)) == pytest.approx(0.6, abs=1e-9)
    assert _dist(res.mid, target) == pytest.approx(0.5, abs=1e-9)
    assert np.allclose(res.end, target)
    # The middle joint lies on the requested side of root -> target.
    cross = target[0] * res.mid[1] - target[1] * res.mid[0]
    assert np.sign(cross) == bend


def test_ik_too_far_clamps_to_a_straight_chain() -> None:
    res = two_link_ik((0.0, 0.0), (3.0, 0.0), 1.0, 0.5)
    assert not res.reached
    assert np.allclose(res.mid, (1.0, 0.0))
    assert np.allclose(res.end, (1.5, 0.0))


def test_ik_too_near_clamps_to_a_folded_chain() -> None:
    res = two_link_ik((0.0, 0.0), (0.1, 0.0), 1.0, 0.5)
    assert not res.reached
    assert _dist(res.mid, (0.0, 0.0)) == pytest.approx(1.0)
    assert np.allclose(res.end, (0.5, 0.0))
    assert _dist(res.mid, res.end) == pytest.approx(0.5)


def test_ik_strict_raises_on_unreachable_targets() -> None:
    with pytest.raises(UnreachableError):
        two_link_ik((0.0, 0.0), (3.0, 0.0), 1.0, 0.5, strict=True)
    with pytest.raises(UnreachableError):
        two_link_ik((0.0, 0.0), (0.1, 0.0), 1.0, 0.5, strict=True)


def test_ik_at_exactly_full_reach_is_reached() -> None:
    res = two_link_ik((0.0, 0.0), (1.5, 0.0), 1.0, 0.5, strict=True)
    assert res.reached
    assert np.allclose(res.mid, (1.0, 0.0))


@pytest.mark.parametrize(("l1", "l2", "bend"), [(0.0, 1.0, 1), (1.0, -1.0, 1), (1.0, 1.0, 0)])
def test_ik_rejects_bad_arguments(l1: float, l2: float, bend: int) -> None:
    with pytest.raises(ValueError):
        two_link_ik((0.0, 0.0), (1.0, 0.0), l1, l2, bend=bend)


# -- angle conventions ----------------------------------------------------------------


def test_signed_hip_angle_convention() -> None:
    shoulder, knee = (0.0, 0.5), (1.0, 0.5)
    assert signed_hip_angle_deg(shoulder, (0.5, 0.5), knee) == pytest.approx(180.0)
    sag = signed_hip_angle_deg(shoulder, (0.5, 0.4), knee)
    arch = signed_hip_angle_deg(shoulder, (0.5, 0.6), knee)
    assert sag < 180.0 < arch
    assert sag == pytest.approx(360.0 - arch)
    assert knee_angle_deg((0.0, 0.5), (0.5, 0.5), (0.5, 0.0)) == pytest.approx(90.0)


def test_signed_hip_angle_matches_the_pixel_geometry_of_the_pipeline() -> None:
    """The body frame has y up, images have y down: after flipping y (and mirroring x
    for the other facing) formcheck.geometry must read the same signed angle."""
    geometry = pytest.importorskip("formcheck.geometry")
    pts = [np.array(p) for p in ((0.0, 0.55), (0.5, 0.42), (0.92, 0.5))]
    expected = signed_hip_angle_deg(*pts)
    for mirror in (1.0, -1.0):
        px = [np.array([mirror * p[0] * 400 + 300, 400 - p[1] * 400]) for p in pts]
        assert float(geometry.hip_angle_deg(*px)) == pytest.approx(expected, abs=1e-6)


# -- solving the top position ---------------------------------------------------------

TOP_CASES = [
    (hip, knee)
    for hip in (145.0, 160.0, 172.0, 180.0, 188.0, 200.0, 212.0)
    for knee in (60.0, 75.0, 90.0, 105.0, 120.0)
]


@pytest.mark.parametrize(("hip_deg", "knee_deg"), TOP_CASES)
@pytest.mark.parametrize(
    "body",
    [
        Body(),
        Body(height_m=1.55, leg_scale=1.08, girth=1.3),
        Body(height_m=1.95, torso_scale=1.1, leg_scale=0.9),
    ],
)
def test_solved_top_has_the_requested_angles(hip_deg: float, knee_deg: float, body: Body) -> None:
    seg = segments_of(body)
    shoulder = np.array([0.0, 0.42 + seg.back_depth])
    ankle = solve_ankle(shoulder, seg, hip_deg, knee_deg)
    assert ankle[1] == pytest.approx(seg.ankle_height)
    assert ankle[0] > 0.0  # in front of the bench
    hip, knee = solve_leg(shoulder, ankle, seg, hip_deg)
    assert signed_hip_angle_deg(shoulder, hip, knee) == pytest.approx(hip_deg, abs=ANGLE_TOL_DEG)
    assert knee_angle_deg(hip, knee, ankle) == pytest.approx(knee_deg, abs=ANGLE_TOL_DEG)
    assert _dist(shoulder, hip) == pytest.approx(seg.torso)
    assert _dist(hip, knee) == pytest.approx(seg.thigh)
    assert _dist(knee, ankle) == pytest.approx(seg.shin)
    # The knee bends upwards: above the hip-ankle line.
    d, k = ankle - hip, knee - hip
    assert d[0] * k[1] - d[1] * k[0] > 0


def test_solve_leg_unreachable_ankle_raises_or_clamps() -> None:
    seg = segments_of(Body())
    shoulder = np.array([0.0, 0.52])
    far_ankle = np.array([3.0, seg.ankle_height])
    with pytest.raises(UnreachableError):
        solve_leg(shoulder, far_ankle, seg, 180.0, strict=True)
    hip, knee = solve_leg(shoulder, far_ankle, seg, 180.0, strict=False)
    assert np.all(np.isfinite(hip)) and np.all(np.isfinite(knee))
    assert _dist(shoulder, hip) == pytest.approx(seg.torso)


def test_solve_ankle_raises_when_feet_cannot_reach_the_floor() -> None:
    seg = segments_of(Body())
    with pytest.raises(UnreachableError):
        solve_ankle((0.0, 5.0), seg, 180.0, 90.0)


# -- a whole clip ---------------------------------------------------------------------


def _spec(**kw: object) -> ClipSpec:
    """Three reps that need three different feet placements (the feet move between)."""
    kw.setdefault(
        "reps",
        (
            RepSpec(180.0, 90.0, 1.0, 1.2, 1.5, 0.8),
            RepSpec(155.0, 88.0, 0.8, 0.4, 0.6, 1.0),
            RepSpec(203.0, 95.0, 1.2, 2.0, 2.0, 0.7),
        ),
    )
    return ClipSpec(**kw)  # type: ignore[arg-type]


def _sample_times(spec: ClipSpec, step: float = 0.01) -> np.ndarray:
    return np.arange(0.0, spec.duration_s, step)


def test_shoulder_stays_fixed_and_segment_lengths_hold() -> None:
    spec = _spec()
    plan = plan_motion(spec)
    seg = plan.seg
    for t in _sample_times(spec, 0.05):
        pose = plan.pose_at(float(t))
        for side in ("left", "right"):
            s, h = pose.xy(f"{side}_shoulder"), pose.xy(f"{side}_hip")
            k, a = pose.xy(f"{side}_knee"), pose.xy(f"{side}_ankle")
            assert np.allclose(s, plan.shoulder)
            assert _dist(s, h) == pytest.approx(seg.torso)
            assert _dist(h, k) == pytest.approx(seg.thigh)
            assert _dist(k, a) == pytest.approx(seg.shin)
        assert pose.joints["right_ankle"][1] == pytest.approx(seg.ankle_height)


def test_ankle_is_planted_during_each_rep() -> None:
    spec = _spec()
    plan = plan_motion(spec)
    for i, tm in enumerate(plan.timings):
        for t in np.linspace(tm.start_s, tm.end_s - 1e-6, 40):
            assert np.allclose(plan.pose_at(float(t)).xy("right_ankle"), plan.ankles[i])


def test_top_hold_has_exact_angles_and_no_motion() -> None:
    spec = _spec()
    plan = plan_motion(spec)
    for rep, tm in zip(spec.reps, plan.timings, strict=True):
        first = plan.pose_at(tm.top_start_s)
        for t in np.linspace(tm.top_start_s, tm.top_end_s - 1e-6, 12):
            pose = plan.pose_at(float(t))
            assert pose.phase == "top"
            assert pose.hip_angle_deg == pytest.approx(rep.hip_angle_top_deg, abs=ANGLE_TOL_DEG)
            assert pose.knee_angle_deg == pytest.approx(rep.knee_angle_top_deg, abs=ANGLE_TOL_DEG)
            for name, xyz in pose.joints.items():
                assert np.array_equal(xyz, first.joints[name]), name


def test_hip_angle_rises_then_falls_smoothly_between_bottom_and_top() -> None:
    spec = _spec()
    plan = plan_motion(spec)
    for rep, tm in zip(spec.reps, plan.timings, strict=True):
        up = [
            plan.pose_at(float(t)).hip_angle_deg
            for t in np.linspace(tm.start_s, tm.top_start_s - 1e-6, 30)
        ]
        down = [
            plan.pose_at(float(t)).hip_angle_deg
            for t in np.linspace(tm.top_end_s, tm.end_s - 1e-6, 30)
        ]
        assert np.all(np.diff(up) >= -1e-9)
        assert np.all(np.diff(down) <= 1e-9)
        assert up[0] == pytest.approx(spec.bottom_hip_angle_deg, abs=ANGLE_TOL_DEG)
        assert down[0] == pytest.approx(rep.hip_angle_top_deg, abs=ANGLE_TOL_DEG)
        # Cosine easing: per-step change never jumps (no more than the mean speed x pi/2).
        mean_step = abs(rep.hip_angle_top_deg - spec.bottom_hip_angle_deg) / 29
        assert np.max(np.abs(np.diff(up))) <= mean_step * math.pi / 2 + 1e-6


def test_rests_sit_at_the_bottom_angle() -> None:
    spec = _spec()
    plan = plan_motion(spec)
    for t in (0.0, spec.reps[0].rest_s * 0.5, spec.duration_s - 0.01):
        assert plan.pose_at(t).hip_angle_deg == pytest.approx(
            spec.bottom_hip_angle_deg, abs=ANGLE_TOL_DEG
        )


def test_rep_timings_add_up() -> None:
    spec = _spec()
    t = 0.0
    for rep, tm in zip(spec.reps, rep_timings(spec), strict=True):
        assert tm.start_s == pytest.approx(t + rep.rest_s)
        assert tm.top_start_s - tm.start_s == pytest.approx(rep.concentric_s)
        assert tm.top_end_s - tm.top_start_s == pytest.approx(rep.pause_s)
        assert tm.end_s - tm.top_end_s == pytest.approx(rep.eccentric_s)
        t = tm.end_s
    assert spec.duration_s == pytest.approx(t + spec.tail_s)


def test_unreachable_bottom_is_reported() -> None:
    spec = _spec(bottom_hip_angle_deg=92.0, reps=(RepSpec(180.0, 125.0, 1.0, 1.2, 1.5, 0.8),))
    with pytest.raises(UnreachableError):
        plan_motion(spec)
