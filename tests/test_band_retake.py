"""The band retake (formcheck.band.retake): where the band is painted out, which frames are
measured again, and how the records change a rep. The whole path through the real model is
in test_band_e2e.py; the accuracy gain is measured by `formcheck eval`."""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.band.colors import BAND_COLOR_NAMES, color_classes
from formcheck.band.retake import (
    RETAKE_VERSION,
    apply_retakes,
    band_mask,
    paint_out,
    retake_frames,
)
from formcheck.reps import Rep

H, W = 240, 320
# shoulder, hip, knee, ankle of a figure seen from the side at the top of a thrust
JOINTS = np.array([[40.0, 100.0], [130.0, 100.0], [220.0, 100.0], [225.0, 190.0]])
SKIN = (120, 160, 210)
GREY_BG = (200, 200, 200)
YELLOW = (0, 220, 240)


def _figure(leg_color: tuple[int, int, int] = SKIN) -> np.ndarray:
    img = np.full((H, W, 3), GREY_BG, np.uint8)
    for a, b in ((0, 1), (1, 2), (2, 3)):
        cv2.line(img, JOINTS[a].astype(int).tolist(), JOINTS[b].astype(int).tolist(), leg_color, 24)
    return img


def _strand(img: np.ndarray) -> np.ndarray:
    """Draw a yellow strand from the hip crease to the front of the foot; its pixels."""
    drawn = np.zeros((H, W), np.uint8)
    cv2.line(drawn, (135, 95), (240, 195), 255, 5)
    img[drawn > 0] = YELLOW
    return drawn > 0


def _yellow(img: np.ndarray) -> int:
    return int(color_classes(img)[BAND_COLOR_NAMES.index("yellow")].sum())


# The detector's outline: the strand's rough place (a little off, as a median over a rep is).
OUTLINE = (np.array([[140.0, 106.0], [246.0, 206.0], [254.0, 198.0], [148.0, 98.0]]),)


def test_the_band_is_found_by_its_colour_and_painted_out() -> None:
    img = _figure()
    strand = _strand(img)
    mask = band_mask(img, JOINTS, OUTLINE, ["yellow"]) > 0
    assert mask[strand].mean() > 0.97  # all of the strand, though the outline is off
    leg = (np.abs(img.astype(int) - SKIN).sum(axis=2) < 10) & ~strand
    assert mask[leg].mean() < 0.15  # and not the leg it crosses
    assert _yellow(img) > 300
    assert _yellow(paint_out(img, mask.astype(np.uint8) * 255)) == 0


def test_clothing_of_the_band_colour_is_left_as_it_is() -> None:
    img = _figure(leg_color=YELLOW)  # yellow leggings under a yellow band
    strand = _strand(img)
    mask = band_mask(img, JOINTS, OUTLINE, ["yellow"]) > 0
    leg = np.zeros((H, W), np.uint8)
    cv2.line(leg, (40, 100), (120, 100), 255, 20)  # the thigh, away from the strand
    assert not mask[leg > 0].any()  # the leggings are not painted out
    legs = np.abs(img.astype(int) - YELLOW).sum(axis=2) < 10
    cv2.line(leg, JOINTS[2].astype(int).tolist(), JOINTS[3].astype(int).tolist(), 255, 24)
    in_the_open = strand & ~(cv2.dilate(_figure_mask(), np.ones((5, 5), np.uint8)) > 0)
    assert legs.any() and in_the_open.sum() > 50
    assert mask[in_the_open].mean() > 0.9  # the strand where it crosses open space is


def _figure_mask() -> np.ndarray:
    """The figure's own pixels (before a strand is drawn)."""
    img = _figure()
    return (np.abs(img.astype(int) - GREY_BG).sum(axis=2) > 0).astype(np.uint8)


def _rep(index: int, top_start: float, top_end: float, knee: float = 120.0) -> Rep:
    return Rep(index, top_start - 1.0, top_start, top_end, top_end + 1.5, 170.0, knee, 60.0, 0.9)


def test_retake_frames_spread_over_the_top() -> None:
    t = np.arange(0, 10, 1 / 15)
    picks = retake_frames(t, _rep(1, 2.0, 3.0), 5)
    assert len(picks) == 5
    assert t[picks[0]] >= 2.0 - 1e-9
    assert t[picks[-1]] <= 3.0 + 1e-9
    assert t[picks[-1]] - t[picks[0]] > 0.9
    assert picks == sorted(set(picks))
    # a top shorter than a frame: the frame nearest its middle
    assert retake_frames(t, _rep(1, 4.01, 4.02), 5) == [int(np.argmin(np.abs(t - 4.015)))]
    # fewer frames in the top than asked for: all of them
    assert len(retake_frames(t, _rep(1, 5.0, 5.2), 5)) == 4


def test_records_replace_the_top_angles_of_their_own_reps_only() -> None:
    reps = [_rep(1, 2.0, 3.0), _rep(2, 7.0, 8.0), _rep(3, 12.0, 13.0)]
    record = {
        "version": RETAKE_VERSION,
        "per_rep": 5,
        "reps": [
            {
                "rep": 1,
                "top_start_s": 2.0,
                "top_end_s": 3.0,
                "t_s": [2.0],
                "hip_deg": 181.0,
                "knee_deg": 92.0,
                "shin_deg": 2.0,
            },
            # rep 2's window moved (other settings in a replay): the record does not apply
            {
                "rep": 2,
                "top_start_s": 7.3,
                "top_end_s": 8.0,
                "t_s": [7.5],
                "hip_deg": 150.0,
                "knee_deg": 80.0,
                "shin_deg": -10.0,
            },
        ],
    }
    out = apply_retakes(reps, record)
    assert (out[0].hip_angle_top_deg, out[0].knee_angle_top_deg, out[0].shin_tilt_top_deg) == (
        181.0,
        92.0,
        2.0,
    )
    assert out[0].start_s == reps[0].start_s and out[0].range_deg == reps[0].range_deg
    assert out[1:] == reps[1:]
    assert apply_retakes(reps, {**record, "version": RETAKE_VERSION + 1}) == reps
    assert apply_retakes(reps, None) == reps
