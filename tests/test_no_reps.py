"""What a clip without a complete rep is said to show (`formcheck.no_reps`), on scripted
tracks whose every moment is known: a clip that opens at the top, one that ends halfway
down or still rising, hips that never rise, a lifter out of view most of the time."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scripted import SHARE_FRACTION, ScriptedRep, script_hip_angle, track_from_angles

from formcheck.config import RepConfig
from formcheck.no_reps import HOW_TO, NO_REPS, explain_no_reps
from formcheck.reps import segment_reps
from formcheck.track import PoseTrack

CFG = RepConfig()
FPS = 30.0
REP = ScriptedRep(concentric_s=1.0, pause_s=1.5, eccentric_s=2.0, rest_s=1.0, top_deg=182.0)
BOTTOM = 110.0
#: Tolerance on a time the message quotes (it prints tenths of a second).
TIME_TOL_S = 0.12


def _window(start_s: float, end_s: float) -> PoseTrack:
    """Two scripted reps (lead 1 s: rep 1 lifts 1.0-2.0 s, holds to 3.5 s, is down at
    5.5 s; rep 2 lifts 6.5-7.5 s, holds to 9.0 s, is down at 11.0 s), cut to the window and
    re-timed from 0 as a clip would be."""
    script = script_hip_angle([REP, REP], fps=FPS, bottom_deg=BOTTOM)
    keep = (script.t_s >= start_s - 1e-9) & (script.t_s <= end_s + 1e-9)
    return track_from_angles(script.t_s[keep] - start_s, script.hip_deg[keep])


def _explain(track: PoseTrack) -> str:
    assert segment_reps(track, CFG) == []  # the premise: no complete rep in the window
    text = explain_no_reps(track, CFG)
    assert text.startswith(NO_REPS + ": ") and text.endswith(HOW_TO)
    return text


def _numbers(pattern: str, text: str) -> tuple[float, ...]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return tuple(float(g) for g in found.groups())


def test_a_clip_that_opens_at_the_top_and_ends_halfway_down() -> None:
    # From the middle of rep 1's hold to halfway down rep 2's lowering (its eased ramp is at
    # half its drop at its middle, 10.0 s).
    text = _explain(_window(2.5, 10.0))
    top, down = _numbers(r"opens with the hips up \(up to (\d+)°.*down by ([\d.]+) s", text)
    assert top == pytest.approx(182, abs=1)
    # Down as a rep ends: within boundary_share of the drop of the bottom.
    assert down == pytest.approx(3.5 + 2.0 * (1 - SHARE_FRACTION) - 2.5, abs=TIME_TOL_S)
    lift, peak, by, share = _numbers(
        r"a lift from ([\d.]+) s reaches (\d+)° by ([\d.]+) s, but the clip ends with the "
        r"hips only (\d+)% of the way back down",
        text,
    )
    # Where the hips are within boundary_share of the rise of the bottom and of the top.
    assert lift == pytest.approx(6.5 + SHARE_FRACTION * 1.0 - 2.5, abs=TIME_TOL_S)
    assert peak == pytest.approx(182, abs=1)
    assert by == pytest.approx(7.5 - SHARE_FRACTION * 1.0 - 2.5, abs=TIME_TOL_S)
    assert share == pytest.approx(50, abs=5)


def test_a_clip_that_ends_while_the_hips_are_still_up() -> None:
    # From the bottom before rep 2 into its hold: one lift, never lowered.
    text = _explain(_window(5.8, 8.5))
    assert "opens with the hips up" not in text
    assert re.search(
        r"a lift from [\d.]+ s reaches 18\d° by [\d.]+ s, but the clip ends "
        r"before the hips come down",
        text,
    ), text


@pytest.mark.parametrize(
    ("hip_deg", "said"),
    [
        (150.0, "the hips never rose: the hip angle stayed at 150°"),
        (None, "the hips never rose: the hip angle stayed between 110° and 125°"),
    ],
)
def test_hips_that_never_rise_far_enough(hip_deg: float | None, said: str) -> None:
    t = np.arange(int(6 * FPS)) / FPS
    if hip_deg is None:  # a lift 15 degrees high: under min_range_deg (25), not a lift
        hips = BOTTOM + 7.5 * (1 - np.cos(2 * np.pi * t / 3.0))
    else:
        hips = np.full(len(t), hip_deg)
    text = _explain(track_from_angles(t, hips, smooth=False))
    assert said in text
    assert f"a lift rises at least {CFG.min_range_deg:.0f}°" in text


def test_a_lifter_out_of_view_most_of_the_clip() -> None:
    t = np.arange(int(10 * FPS)) / FPS
    hips = np.where((t >= 2.0) & (t < 5.0), 120.0, np.nan)
    text = _explain(track_from_angles(t, hips, smooth=False))
    share, first, last = _numbers(
        r"in view for only (\d+)% of the clip \(between ([\d.]+) s "
        r"and ([\d.]+) s\)",
        text,
    )
    assert share == pytest.approx(30, abs=1)
    assert (first, last) == pytest.approx((2.0, 5.0), abs=0.05)


def test_nobody_seen_at_all() -> None:
    t = np.arange(int(3 * FPS)) / FPS
    track = track_from_angles(t, np.full(len(t), np.nan), smooth=False)
    assert explain_no_reps(track, CFG) == f"{NO_REPS}: no lifter's hips were seen in any frame"
