"""Cuts (`formcheck.shots`) on drawn frames, and reps counted within shots (`segment_reps`)."""

from __future__ import annotations

import numpy as np
import pytest
from scripted import ScriptedRep, script_hip_angle, track_from_angles

from formcheck.config import RepConfig
from formcheck.reps import segment_reps
from formcheck.shots import (
    MIN_CHANGED_SHARE,
    MOVE_MIN_S,
    MOVE_SHARE,
    ShotDetector,
    cuts_of,
    find_cuts,
    find_moves,
    moves_of,
    split_shots,
    view_breaks,
)
from formcheck.video.frames import Frame

FPS = 30.0
RNG = np.random.default_rng(7)


def _scene(seed: int, h: int = 360, w: int = 640) -> np.ndarray:
    """A picture with structure: blocks of random colours, smoothed."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 255, (9, 16, 3), dtype=np.uint8)
    return np.kron(blocks, np.ones((h // 9, w // 16, 1), np.uint8))


def _person(image: np.ndarray, x: float) -> np.ndarray:
    """A figure lying across the picture, its middle at `x` pixels."""
    out = image.copy()
    h = out.shape[0]
    x0 = int(x)
    out[h // 2 - 25 : h // 2 + 25, max(0, x0 - 120) : x0 + 120] = (30, 200, 240)
    return out


def _measured(frames: list[np.ndarray]) -> dict[str, object]:
    detector = ShotDetector()
    for i, image in enumerate(frames):
        detector.observe(Frame(image, i / FPS, i))
    return detector.meta()


def _cuts(frames: list[np.ndarray]) -> list[float]:
    return cuts_of(_measured(frames))


def test_a_change_of_shot_is_a_cut_and_movement_is_not() -> None:
    a, b = _scene(1), _scene(2)
    # A figure moving 6 px a frame in scene a, then scene b with the figure.
    frames = [_person(a, 150 + 6 * i) for i in range(45)]
    frames += [_person(b, 300 + 6 * i) for i in range(45)]
    assert _cuts(frames) == [pytest.approx(45 / FPS, abs=1e-3)]


def test_a_jump_cut_between_takes_from_one_camera_is_a_cut() -> None:
    # The same room; between two takes the lifter is somewhere else: only they change.
    room = _scene(3)
    frames = [_person(room, 200) for _ in range(40)] + [_person(room, 420) for _ in range(40)]
    noise = [
        np.clip(f.astype(np.int16) + RNG.integers(-4, 5, f.shape), 0, 255).astype(np.uint8)
        for f in frames
    ]
    assert _cuts(noise) == [pytest.approx(40 / FPS, abs=1e-3)]


def test_a_small_picture_wide_jump_is_no_cut() -> None:
    # A compression keyframe or an exposure step: every pixel moves a few grey levels.
    room = _person(_scene(4), 300)
    brighter = np.clip(room.astype(np.int16) + 12, 0, 255).astype(np.uint8)
    assert _cuts([room] * 30 + [brighter] * 30) == []


def test_an_end_card_after_the_set_is_a_cut() -> None:
    room = _scene(5)
    card = np.full_like(room, 30)
    frames = [_person(room, 200 + 3 * i) for i in range(60)] + [card] * 30
    assert _cuts(frames) == [pytest.approx(60 / FPS, abs=1e-3)]


def test_find_cuts_needs_a_spike_above_its_neighbours() -> None:
    t = np.arange(20) / FPS
    steady = np.full(20, 0.04)  # fast movement: many pixels change in every frame
    assert find_cuts(t, steady) == []
    spike = steady.copy()
    spike[10] = 0.5
    assert find_cuts(t, spike) == [pytest.approx(t[10])]
    small = np.zeros(20)
    small[10] = MIN_CHANGED_SHARE * 0.9  # a still picture with one small change
    assert find_cuts(t, small) == []
    # A blended frame after the cut is the same transition, not a second cut.
    blended = spike.copy()
    blended[11] = 0.3
    assert find_cuts(t, blended) == [pytest.approx(t[10])]


def test_landmarks_saved_without_shots_have_no_cuts() -> None:
    assert cuts_of(None) == [] and cuts_of({}) == []
    assert cuts_of({"version": 0, "t_s": [0.0], "change": [1.0]}) == []
    assert moves_of(None) == [] and view_breaks(cuts_of(None), moves_of(None)) == []


def test_a_camera_swung_away_and_back_moves_twice_and_cuts_never() -> None:
    """A phone turned off the lifter onto the wall beside them and back: the view slides
    (12 frames each way), rests on the wall, slides back."""
    room = np.hstack([_scene(6), _scene(7)])  # the lifter's side of the room, then the wall
    w = room.shape[1] // 2
    shifts = [0] * 30 + [w * k // 12 for k in range(1, 13)] + [w] * 20
    shifts += [w - w * k // 12 for k in range(1, 13)] + [0] * 30
    frames = [_person(room, 250 + 2 * i)[:, s : s + w] for i, s in enumerate(shifts)]
    measured = _measured(frames)
    assert cuts_of(measured) == []
    away, back = moves_of(measured)
    assert away == pytest.approx((29 / FPS, 42 / FPS), abs=1.5 / FPS)
    assert back == pytest.approx((61 / FPS, 74 / FPS), abs=1.5 / FPS)
    assert view_breaks(cuts_of(measured), moves_of(measured)) == sorted([*away, *back])


def test_a_lifter_moving_before_a_steady_camera_is_no_move() -> None:
    room = _scene(8)
    frames = [_person(room, 150 + 8 * i) for i in range(60)]  # fast, for 2 s
    assert moves_of(_measured(frames)) == []


def test_find_moves_needs_a_sustained_picture_wide_change() -> None:
    t = np.arange(40) / FPS
    change = np.full(40, 0.03)
    long_enough = round(MOVE_MIN_S * FPS) + 1
    change[10 : 10 + long_enough] = MOVE_SHARE + 0.1
    assert find_moves(t, change) == [pytest.approx((t[9], t[9 + long_enough]))]
    brief = np.full(40, 0.03)
    brief[10 : 10 + long_enough - 3] = 0.9  # a whip of the phone too short to be a move
    assert find_moves(t, brief) == []


def test_split_shots() -> None:
    shots = split_shots([5.7, 20.0], 0.0, 13.0)
    assert [(s.index, s.start_s, s.end_s) for s in shots] == [(1, 0.0, 5.7), (2, 5.7, 13.0)]
    assert split_shots([], 0.0, 3.0)[0].duration_s == 3.0


def test_no_rep_is_counted_across_a_cut() -> None:
    """A lift in one take and a lowering in the next are two halves of different reps."""
    script = script_hip_angle([ScriptedRep(), ScriptedRep()], fps=FPS)
    track = track_from_angles(script.t_s, script.hip_deg)
    first, second = script.reps
    cfg = RepConfig()
    assert len(segment_reps(track, cfg)) == 2
    mid_hold = (first.top_start_s + first.top_end_s) / 2
    reps = segment_reps(track, cfg, cuts=[mid_hold])
    assert len(reps) == 1
    assert reps[0].index == 1
    assert reps[0].start_s == pytest.approx(second.start_s, abs=0.05)
    # A cut at the bottom between the reps keeps both.
    between = (first.end_s + second.start_s) / 2
    assert len(segment_reps(track, cfg, cuts=[between])) == 2
    # The camera turned away during the first rep's hold and back during its lowering: that
    # rep is seen in neither steady view whole.
    away = (mid_hold, (first.top_end_s + first.end_s) / 2)
    assert [r.index for r in segment_reps(track, cfg, cuts=away)] == [1]
