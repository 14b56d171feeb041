"""Rendering: determinism, frame timing, landmark truth and the scene effects."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from formcheck.synth.render import ClipRenderer, RenderedFrame, iter_frames
from formcheck.synth.spec import ClipSpec, Lighting, RepSpec, random_clip_spec

SHORT_REPS = (RepSpec(180.0, 90.0, 0.6, 0.4, 0.6, 0.3),)


def _short(**kw: object) -> ClipSpec:
    kw.setdefault("reps", SHORT_REPS)
    kw.setdefault("tail_s", 0.2)
    kw.setdefault("width", 320)
    kw.setdefault("height", 180)
    return ClipSpec(**kw)  # type: ignore[arg-type]


def _digests(frames: list[RenderedFrame]) -> list[str]:
    return [hashlib.sha256(f.image_bgr.tobytes()).hexdigest() for f in frames]


EVERYTHING = dict(
    background="cluttered",
    noise=5.0,
    blur=1.0,
    shake=3.0,
    occlusion=True,
    second_person=True,
    band="both",
    lighting=Lighting(brightness=12.0, contrast=1.1, gamma=1.1, cast_rgb=(1.1, 1.0, 0.9)),
)


def test_same_spec_gives_identical_frames() -> None:
    spec = _short(seed=4, **EVERYTHING)
    assert _digests(list(iter_frames(spec))) == _digests(list(iter_frames(spec)))


def test_frames_are_independent_of_rendering_order() -> None:
    spec = _short(seed=4, **EVERYTHING)
    renderer = ClipRenderer(spec)
    forward = _digests([renderer.render(i) for i in range(0, spec.frame_count, 7)])
    backward = _digests([renderer.render(i) for i in reversed(range(0, spec.frame_count, 7))])
    assert forward == backward[::-1]


def test_different_seeds_give_different_frames() -> None:
    a = ClipRenderer(_short(seed=1, **EVERYTHING)).render(5)
    b = ClipRenderer(_short(seed=2, **EVERYTHING)).render(5)
    assert not np.array_equal(a.image_bgr, b.image_bgr)
    # ... while the lifter is where the spec puts them: the seed only changes the scene
    # (and the shake path, a few pixels).
    for name, (x, y) in a.truth_px.items():
        assert abs(x - b.truth_px[name][0]) < 8 and abs(y - b.truth_px[name][1]) < 8


def test_frames_have_the_spec_size_count_and_times() -> None:
    spec = _short(fps=24.0)
    frames = list(iter_frames(spec))
    assert len(frames) == spec.frame_count
    for i, f in enumerate(frames):
        assert f.index == i
        assert f.t_s == pytest.approx(i / 24.0)
        assert f.image_bgr.shape == (180, 320, 3) and f.image_bgr.dtype == np.uint8


def test_truth_lies_inside_the_frame_and_on_the_near_side() -> None:
    for facing, near in (("left", "right"), ("right", "left")):
        spec = _short(facing=facing)
        for f in iter_frames(spec):
            assert f.near_side == near
            for name in ("shoulder", "hip", "knee", "ankle"):
                x, y = f.truth_px[name]
                assert 0 <= x < spec.width and 0 <= y < spec.height, (name, x, y)
            head_x = f.truth_px["ear"][0]
            feet_x = f.truth_px["ankle"][0]
            assert (head_x < feet_x) == (facing == "left")


def test_truth_angles_follow_the_reps() -> None:
    spec = _short()
    frames = list(iter_frames(spec))
    top = [f for f in frames if f.phase == "top"]
    assert top, "no frame in the top hold"
    for f in top:
        assert f.hip_angle_deg == pytest.approx(180.0, abs=0.1)
        assert f.knee_angle_deg == pytest.approx(90.0, abs=0.1)


def test_the_pixel_hip_angle_equals_the_true_one_in_a_side_view() -> None:
    """A level camera looking straight at the body's plane preserves angles exactly."""
    from formcheck.synth.spec import Camera

    spec = _short(camera=Camera(pitch_deg=0.0), facing="right")
    for f in list(iter_frames(spec))[::5]:
        s, h, k = (np.array(f.truth_px[n]) for n in ("shoulder", "hip", "knee"))
        u, w = s - h, k - h
        angle = math.degrees(math.acos(float(u @ w) / (np.linalg.norm(u) * np.linalg.norm(w))))
        expected = min(f.hip_angle_deg, 360.0 - f.hip_angle_deg)
        assert angle == pytest.approx(expected, abs=0.05)


def test_top_hold_is_still_apart_from_noise() -> None:
    spec = _short(noise=0.0, reps=(RepSpec(180.0, 90.0, 0.5, 1.0, 0.5, 0.2),))
    top = [f for f in iter_frames(spec) if f.phase == "top"]
    assert len(top) > 10
    assert all(np.array_equal(f.image_bgr, top[0].image_bgr) for f in top)


def test_occluder_and_passer_by_are_reported() -> None:
    spec = random_clip_spec(3, occlusion=True, second_person=True, width=320, height=180, fps=24.0)
    renderer = ClipRenderer(spec)
    assert renderer.occluder is not None and renderer.walker is not None
    occ_t = (renderer.occluder.start_s + renderer.occluder.end_s) / 2
    walk_t = (renderer.walker.start_s + renderer.walker.end_s) / 2
    clear = renderer.render(0)
    mid_occ = renderer.render(round(occ_t * spec.fps))
    assert not np.array_equal(clear.image_bgr, mid_occ.image_bgr)
    assert renderer.render(round(walk_t * spec.fps)).people_visible == 2
    occlusions, passers = renderer.events()
    assert occlusions[0]["start_s"] < occlusions[0]["end_s"] <= spec.duration_s
    assert passers[0]["start_s"] < passers[0]["end_s"]


def test_portrait_frames_are_tall() -> None:
    spec = _short(width=180, height=320, portrait=True)
    f = next(iter_frames(spec))
    assert f.image_bgr.shape == (320, 180, 3)


def test_lighting_changes_the_tones() -> None:
    plain = ClipRenderer(_short(noise=0.0)).render(0).image_bgr
    dark = ClipRenderer(_short(noise=0.0, lighting=Lighting(brightness=-40.0))).render(0)
    assert float(dark.image_bgr.mean()) < float(plain.mean()) - 20
