"""Geometry on hand-made landmarks: the signed hip angle and the knee angle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from formcheck.geometry import (
    angle_deg,
    hip_angle_deg,
    knee_angle_deg,
    segment_length_px,
    shin_tilt_deg,
    upright_turn_deg,
)


def _bridge(hip_offset_px: float, facing_left: bool = True) -> tuple[list[float], ...]:
    """Shoulder and knee on a horizontal line; the hip `hip_offset_px` above it (y down)."""
    shoulder, knee = [100.0, 300.0], [500.0, 300.0]
    if not facing_left:
        shoulder, knee = knee, shoulder
    hip = [300.0, 300.0 - hip_offset_px]
    return shoulder, hip, knee


@pytest.mark.parametrize("facing_left", [True, False])
def test_straight_line_is_180(facing_left: bool) -> None:
    assert hip_angle_deg(*_bridge(0.0, facing_left)) == pytest.approx(180.0)


@pytest.mark.parametrize("facing_left", [True, False])
def test_sagging_hips_are_below_180_and_arched_hips_above(facing_left: bool) -> None:
    sag = float(hip_angle_deg(*_bridge(-50.0, facing_left)))
    arch = float(hip_angle_deg(*_bridge(50.0, facing_left)))
    expected = 180.0 - 2 * math.degrees(math.atan2(50.0, 200.0))
    assert sag == pytest.approx(expected)
    assert arch == pytest.approx(360.0 - expected)


def test_signed_angle_is_vectorised_and_propagates_nan() -> None:
    s = np.array([[100.0, 300.0], [np.nan, np.nan]])
    h = np.array([[300.0, 350.0], [300.0, 350.0]])
    k = np.array([[500.0, 300.0], [500.0, 300.0]])
    out = hip_angle_deg(s, h, k)
    assert out.shape == (2,)
    assert out[0] < 180.0
    assert np.isnan(out[1])


def test_knee_angle_right_angle_and_straight() -> None:
    assert knee_angle_deg([0, 0], [0, 100], [100, 100]) == pytest.approx(90.0)
    assert knee_angle_deg([0, 0], [0, 100], [0, 200]) == pytest.approx(180.0)


def test_unsigned_angle_and_length() -> None:
    assert angle_deg([1, 0], [0, 0], [0, 1]) == pytest.approx(90.0)
    assert segment_length_px([0, 0], [3, 4]) == pytest.approx(5.0)


# Shin tilt: hip at the left of the knee (head on the left), image y down.
@pytest.mark.parametrize(
    ("ankle", "tilt"),
    [
        ((300.0, 300.0), 0.0),  # straight below the knee: shins vertical
        ((300.0 + 100.0, 300.0), 45.0),  # ahead of the knee, away from the hips: feet too far
        ((300.0 - 100.0, 300.0), -45.0),  # back towards the hips: feet too close
    ],
)
def test_shin_tilt_is_signed_away_from_the_hips(ankle: tuple[float, float], tilt: float) -> None:
    hip, knee = (100.0, 220.0), (300.0, 200.0)
    assert shin_tilt_deg(hip, knee, ankle) == pytest.approx(tilt)
    # Mirrored (head on the right): the same tilt.
    mirror = [(1000.0 - x, y) for x, y in (hip, knee, ankle)]
    assert shin_tilt_deg(*mirror) == pytest.approx(tilt)


def test_shin_tilt_does_not_depend_on_the_thighs_slope() -> None:
    """Vertical shins read 0 whether the thigh is level (a bench: knee angle 90) or slopes
    up to the knee (a floor bridge: knee angle 55)."""
    knee, ankle = np.array([300.0, 200.0]), np.array([300.0, 350.0])
    level = np.array([100.0, 200.0])
    sloped = knee + 200.0 * np.array([-np.cos(np.radians(35.0)), np.sin(np.radians(35.0))])
    assert knee_angle_deg(level, knee, ankle) == pytest.approx(90.0)
    assert knee_angle_deg(sloped, knee, ankle) == pytest.approx(55.0)
    assert shin_tilt_deg(level, knee, ankle) == pytest.approx(0.0, abs=1e-9)
    assert shin_tilt_deg(sloped, knee, ankle) == pytest.approx(0.0, abs=1e-9)


def test_shin_tilt_of_missing_points_is_nan() -> None:
    assert np.isnan(shin_tilt_deg([np.nan, 0.0], [1.0, 0.0], [1.0, 2.0]))
    assert np.isnan(shin_tilt_deg([0.0, 0.0], [1.0, 0.0], [np.nan, 2.0]))


def _turned(xy: np.ndarray, quarters: int, wh: tuple[int, int] = (640, 360)) -> np.ndarray:
    """Pixel points of a `wh` picture after turning it `quarters` quarter turns
    counter-clockwise (np.rot90's way)."""
    out = xy.copy()
    w = wh[0]
    for _ in range(quarters % 4):
        out = np.stack([out[..., 1], (w - 1) - out[..., 0]], axis=-1)
        w = wh[1] if w == wh[0] else wh[0]
    return out


def test_upright_turn_reads_the_shins_and_the_body() -> None:
    n = 20
    # A bridge, head on the left: shoulder on the floor, knee up, ankle on the floor.
    shoulder = np.tile([100.0, 300.0], (n, 1))
    knee = np.tile([400.0, 180.0], (n, 1))
    ankle = np.tile([470.0, 300.0], (n, 1))  # a shin leaning 30 deg
    assert upright_turn_deg(shoulder, knee, ankle) == 0
    for quarters, turn in ((2, 180), (1, 270), (3, 90)):
        # The picture turned `quarters` counter-clockwise is set right by `turn` more.
        assert (quarters * 90 + turn) % 360 == 0
        got = upright_turn_deg(*(_turned(p, quarters) for p in (shoulder, knee, ankle)))
        assert got == turn, quarters
    # Feet far out (a shin leaning 65 deg) is still upright; so is a lifter standing up.
    far = np.tile([400.0 + 120 * np.tan(np.radians(65)), 300.0], (n, 1))
    assert upright_turn_deg(shoulder, knee, far) == 0
    standing = [np.tile(p, (n, 1)) for p in ([300.0, 80.0], [300.0, 220.0], [305.0, 330.0])]
    assert upright_turn_deg(*standing) == 0
    # Too few frames, or no clear majority: nothing is turned.
    assert upright_turn_deg(*(_turned(p[:5], 2) for p in (shoulder, knee, ankle))) == 0
    mixed = [np.concatenate([p[:10], _turned(p[:10], 2)]) for p in (shoulder, knee, ankle)]
    assert upright_turn_deg(*mixed) == 0
