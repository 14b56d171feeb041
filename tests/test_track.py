"""From landmarks to a track: side choice, view check, masking, gap filling, angles."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scripted import ScriptedRep, script_hip_angle, side_view_sequence

from formcheck.config import TrackConfig
from formcheck.pose.landmarks import Landmark
from formcheck.pose.sequence import PoseSequence
from formcheck.track import SIDE_LANDMARKS, build_track, check_view, choose_side

CFG = TrackConfig()


@pytest.fixture(scope="module")
def seq() -> PoseSequence:
    script = script_hip_angle([ScriptedRep()] * 2, bottom_deg=100.0)
    return side_view_sequence(script.t_s, script.hip_deg, noise_px=0.0)


def _swap_sides(seq: PoseSequence) -> PoseSequence:
    """The same clip with the right side facing the camera."""
    order = np.arange(seq.xy_px.shape[1])
    for left, right in zip(SIDE_LANDMARKS["left"], SIDE_LANDMARKS["right"], strict=True):
        order[[left, right]] = order[[right, left]]
    return replace(
        seq,
        xy_px=seq.xy_px[:, order],
        visibility=seq.visibility[:, order],
        presence=seq.presence[:, order],
    )


def test_the_more_visible_side_is_chosen(seq: PoseSequence) -> None:
    assert choose_side(seq) == "left"
    assert choose_side(_swap_sides(seq)) == "right"


def test_no_pose_means_no_side(seq: PoseSequence) -> None:
    nobody = side_view_sequence(seq.t_s, np.full(len(seq), 150.0), found=np.zeros(len(seq), bool))
    assert choose_side(nobody) is None
    view = check_view(nobody, None, CFG)
    assert not view.ok and "no person found" in view.message


def test_the_track_measures_the_scripted_angle(seq: PoseSequence) -> None:
    script = script_hip_angle([ScriptedRep()] * 2, bottom_deg=100.0)
    track = build_track(seq, CFG)
    assert track.side == "left" and track.view.ok
    assert len(track) == len(seq)
    # The low-pass only rounds the script's corners: compare away from them (holds).
    held = np.abs(np.gradient(script.hip_deg)) == 0
    np.testing.assert_allclose(track.hip_angle_deg[held], script.hip_deg[held], atol=1.0)
    np.testing.assert_allclose(track.confidence, 0.95, atol=1e-6)
    assert track.duration_s == pytest.approx(script.t_s[-1])
    # Mirrored, the right side gives the same angles.
    mirrored = build_track(_swap_sides(seq), CFG)
    assert mirrored.side == "right"
    np.testing.assert_allclose(mirrored.hip_angle_deg, track.hip_angle_deg, atol=1e-6)


@pytest.mark.parametrize(("missing_s", "filled"), [(0.2, True), (1.0, False)])
def test_low_visibility_is_masked_and_short_gaps_filled(
    seq: PoseSequence,
    missing_s: float,
    filled: bool,
) -> None:
    vis = seq.visibility.copy()
    gap = (seq.t_s > 2.0) & (seq.t_s < 2.0 + missing_s)
    vis[np.ix_(np.flatnonzero(gap), np.array(SIDE_LANDMARKS["left"]))] = CFG.min_visibility - 0.1
    track = build_track(replace(seq, visibility=vis), CFG)
    hips = track.joints_xy_px[gap, 1]
    if filled:
        assert np.isfinite(hips).all()
        np.testing.assert_allclose(hips, seq.xy_px[gap, Landmark.LEFT_HIP], atol=2.0)
    else:
        assert np.isnan(hips).all()
        assert np.isnan(track.hip_angle_deg[gap]).all()


def test_a_standing_person_is_not_a_hip_thrust(seq: PoseSequence) -> None:
    """Torso upright: shoulders straight above the hips."""
    xy = seq.xy_px.copy()
    for shoulder, hip in (
        (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP),
        (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP),
    ):
        xy[:, shoulder] = xy[:, hip] + [0.0, -250.0]
    view = check_view(replace(seq, xy_px=xy), "left", CFG)
    assert not view.ok and "upright" in view.message


def test_joints_out_of_frame_are_named(seq: PoseSequence) -> None:
    xy = seq.xy_px.copy()
    xy[:, Landmark.LEFT_ANKLE, 0] = seq.resolution_wh[0] + 50.0  # feet cut off on the right
    view = check_view(replace(seq, xy_px=xy), "left", CFG)
    assert not view.ok and "ankles are often out of frame" in view.message


def test_each_shot_of_an_edited_clip_gets_its_own_side(seq: PoseSequence) -> None:
    """Two takes joined at a cut, the second filmed from the lifter's other side: one side
    for the whole clip loses the second take; a side per shot keeps both."""
    cut = len(seq) // 2
    # The side turned away is hidden behind the body: the model barely sees it.
    hidden = 0.5 * CFG.min_visibility
    first = replace(seq.part(0, cut), visibility=seq.visibility[:cut].copy())
    first.visibility[:, list(SIDE_LANDMARKS["right"])] = hidden
    second = _swap_sides(seq.part(cut, len(seq)))
    second.visibility[:, list(SIDE_LANDMARKS["left"])] = hidden
    joined = replace(
        seq,
        **{
            name: np.concatenate([getattr(first, name), getattr(second, name)])
            for name in ("xy_px", "visibility", "presence")
        },
    )
    t_cut = float(seq.t_s[cut])
    whole = build_track(joined, CFG)
    # The premise: one side for the whole clip loses one take.
    assert (
        max(np.isnan(whole.hip_angle_deg[:cut]).mean(), np.isnan(whole.hip_angle_deg[cut:]).mean())
        > 0.9
    )
    shots = build_track(joined, CFG, cuts=[t_cut])
    assert np.isfinite(shots.hip_angle_deg).all()
    alone = build_track(seq, CFG)
    inner = np.r_[10 : cut - 10, cut + 10 : len(seq) - 10]  # away from the cut's smoothing edges
    assert np.abs(shots.hip_angle_deg[inner] - alone.hip_angle_deg[inner]).max() < 1.0
    assert len(shots) == len(seq) and shots.t_s.tolist() == seq.t_s.tolist()


def test_a_pose_of_another_size_is_masked_not_measured(seq: PoseSequence) -> None:
    """After a passer-by hides the lifter, the model may lock on to a skeleton a third of
    the lifter's size for most of a second (a drawn clip read a 241 deg 'top' there):
    those frames are missing, not a rep."""
    xy = seq.xy_px.copy()
    wrong = (seq.t_s > 3.0) & (seq.t_s < 3.7)
    centre = np.nanmean(xy[wrong], axis=1, keepdims=True)
    shrunk = centre + (xy[wrong] - centre) * 0.3
    shrunk[:, Landmark.LEFT_KNEE, 1] += 40.0  # and folded the wrong way: a high angle
    xy[wrong] = shrunk
    track = build_track(replace(seq, xy_px=xy), CFG)
    assert np.isnan(track.joints_xy_px[wrong]).all()
    assert np.isnan(track.hip_angle_deg[wrong]).all()
    assert np.isfinite(track.hip_angle_deg[~wrong]).mean() > 0.95


def test_a_mirrored_skeleton_before_the_model_finds_the_lifter_is_masked(seq: PoseSequence) -> None:
    """A drawn clip began with 2.7 s of the lifter's thighs read as a torso pointing the
    other way at half the size (its 'top' read 305 deg): longer than the seconds-around
    scale check can see, so the shot's facing and the shot's lifter's size catch it."""
    xy = seq.xy_px.copy()
    wrong = seq.t_s < 2.7
    hip = xy[wrong][:, [Landmark.LEFT_HIP]]
    xy[wrong] = hip - (xy[wrong] - hip) * 0.6  # turned round the hip, at 0.6x the size
    track = build_track(replace(seq, xy_px=xy), CFG)
    assert np.isnan(track.hip_angle_deg[wrong]).all()
    assert np.isfinite(track.hip_angle_deg[~wrong]).mean() > 0.95
    # The premise: the seconds-around check alone keeps most of it.
    alone = build_track(
        replace(seq, xy_px=xy),
        CFG.model_copy(update={"min_facing_share": 1.0, "max_shot_scale_ratio": 100.0}),
    )
    assert np.isfinite(alone.hip_angle_deg[wrong]).mean() > 0.5
