"""The band detector (issue 4) without the pose model: colour classes, per-frame evidence on
hand-drawn stick figures, the evidence records, the per-rep judgement, the rule mapping, the
outline, and the analysis wiring.

The stick figure is the scripted side view of `tests/scripted.py` (1280x720, head on the
left, thigh 240 px) drawn with thick lines: what a band looks like around it is drawn the
way a band sits on a body, and each test says which shape it expects to be found.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import cv2
import numpy as np
import pytest

from formcheck.analyze import analyze_sequence
from formcheck.band import (
    BAND_COLOR_NAMES,
    BandDetector,
    BandJudgement,
    ColorEvidence,
    FrameEvidence,
    band_outline_px,
    evidence_of,
    judge_rep,
    judge_reps,
    measure_frame,
)
from formcheck.band.colors import color_classes
from formcheck.band.evidence import RIM_DELTA_E, STRAND_EXCLUDE, body_frame, knee_rims
from formcheck.band.judge import ColorScores
from formcheck.config import BandConfig, Config, RulesConfig
from formcheck.errors import ConfigError
from formcheck.judge import Analysis
from formcheck.overlay import Overlay, annotate
from formcheck.pose.landmarks import N_LANDMARKS, Landmark, PoseFrame
from formcheck.pose.sequence import PoseSequence
from formcheck.reps import Rep
from formcheck.rules import RepContext, Status, check_rep
from formcheck.rules.band_placement import BandPlacement
from formcheck.video.frames import Frame
from tests.scripted import (
    RESOLUTION_WH,
    ScriptedRep,
    script_hip_angle,
    side_view_sequence,
    side_view_xy,
)

BGR = tuple[int, int, int]
# Typical band colours as a camera sees them (BGR), not any renderer's exact values.
BAND_BGR: dict[str, BGR] = {
    "red": (40, 30, 200),
    "green": (60, 150, 40),
    "blue": (190, 90, 30),
    "yellow": (40, 200, 235),
    "black": (25, 25, 25),
    "purple": (160, 50, 120),
    "orange": (20, 120, 240),
}
WALL: BGR = (215, 220, 222)
FLOOR: BGR = (110, 120, 130)
SKIN: BGR = (120, 150, 200)
SHIRT: BGR = (150, 140, 120)
SHOES: BGR = (235, 235, 235)
GREY_LEGS: BGR = (95, 95, 100)
L_PX = 240.0  # the scripted thigh length


# --- colour classes ------------------------------------------------------------------------


def _classes_of(bgr: BGR) -> set[str]:
    masks = color_classes(np.full((4, 4, 3), bgr, np.uint8))
    return {name for name, m in zip(BAND_COLOR_NAMES, masks, strict=True) if m.all()}


@pytest.mark.parametrize("name", BAND_COLOR_NAMES)
def test_each_band_colour_is_its_own_class(name: str) -> None:
    assert name in _classes_of(BAND_BGR[name])


@pytest.mark.parametrize(
    "bgr",
    [
        (189, 210, 243),
        (150, 183, 232),
        (120, 158, 213),
        (97, 132, 192),
        (74, 105, 160),
        (53, 79, 125),
        (39, 58, 92),  # skin, light to dark
        (200, 200, 200),
        (128, 128, 128),
        (240, 240, 240),  # greys and white
    ],
)
def test_skin_and_greys_are_no_band_colour(bgr: BGR) -> None:
    assert _classes_of(bgr) == set()


def test_a_washed_out_black_is_still_black() -> None:
    assert "black" in _classes_of((75, 75, 78))  # lifted blacks: low contrast, bright room


# --- per-frame evidence on a drawn stick figure ----------------------------------------------


def _pose(hip_deg: float = 180.0, mirror: bool = False) -> PoseFrame:
    """The scripted side view at `hip_deg` as a PoseFrame (left side facing the camera);
    `mirror`: flipped left-right (head on the right)."""
    w = RESOLUTION_WH[0]
    xy = np.full((N_LANDMARKS, 2), np.nan, np.float32)
    vis = np.zeros(N_LANDMARKS, np.float32)
    for lm, pts in side_view_xy(np.array([hip_deg])).items():
        p = pts[0].copy()
        if mirror:
            p[0] = w - 1 - p[0]
        xy[lm] = p
        vis[lm] = 0.95
    return PoseFrame(
        t_s=0.0, index=0, resolution_wh=RESOLUTION_WH, xy_px=xy, visibility=vis, presence=vis.copy()
    )


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def _shade(bgr: BGR, f: float) -> BGR:
    return (round(bgr[0] * f), round(bgr[1] * f), round(bgr[2] * f))


def _lines_across_thigh(
    img: np.ndarray, pose: PoseFrame, s_l: tuple[float, ...], color: BGR, width_px: int
) -> np.ndarray:
    """`img` with lines `width_px` wide across the thigh at `s_l` (thigh lengths)."""
    bf = body_frame(pose)
    assert bf is not None
    for s in s_l:
        cv2.line(img, _pt(bf.at(s, -0.17)), _pt(bf.at(s, 0.17)), color, width_px)
    return img


def _draw(
    pose: PoseFrame,
    *,
    strand: str | None = None,
    knee_loop: str | None = None,
    legs: BGR = GREY_LEGS,
    shin: BGR | None = None,
) -> np.ndarray:
    """A drawn person in `pose`: wall and floor, torso, thigh and shin (in `legs`; the shin
    in `shin` when given), shoe; a band strand from the front of the hip crease to the
    mid-foot, and/or a loop round the thigh just above the knee, in the named colours."""
    w, h = RESOLUTION_WH
    img = np.empty((h, w, 3), np.uint8)
    img[:] = WALL
    img[670:] = FLOOR
    xy = pose.xy_px.astype(np.float64)
    sh, hip, knee, ankle = (
        xy[Landmark.LEFT_SHOULDER],
        xy[Landmark.LEFT_HIP],
        xy[Landmark.LEFT_KNEE],
        xy[Landmark.LEFT_ANKLE],
    )
    heel, toe = xy[Landmark.LEFT_HEEL], xy[Landmark.LEFT_FOOT_INDEX]
    cv2.line(img, _pt(sh), _pt(hip), SHIRT, 80)
    cv2.line(img, _pt(knee), _pt(ankle), shin or legs, 44)
    cv2.line(img, _pt(hip), _pt(knee), legs, 64)
    cv2.line(img, _pt(heel), _pt(toe), SHOES, 26)
    bf = body_frame(pose)
    assert bf is not None
    if knee_loop is not None:
        _lines_across_thigh(img, pose, (0.8,), BAND_BGR[knee_loop], 26)
    if strand is not None:
        top = bf.at(0.05, 0.3)
        cv2.line(img, _pt(top), _pt(bf.foot), BAND_BGR[strand], 14)
        cv2.line(img, _pt(bf.at(-0.05, 0.3)), _pt(bf.at(0.15, 0.3)), BAND_BGR[strand], 30)
    return img


def _evidence(img: np.ndarray, pose: PoseFrame) -> FrameEvidence:
    ev = measure_frame(img, pose)
    assert ev is not None
    return ev


def _strand(ev: FrameEvidence, color: str) -> float:
    value = ev.colors[color].strand
    assert value is not None
    return value


def _knee(ev: FrameEvidence, color: str) -> float:
    value = ev.colors[color].knee
    assert value is not None
    return value


CFG = BandConfig()


@pytest.mark.parametrize("color", ["red", "blue", "yellow", "purple"])
def test_a_strand_from_the_hips_to_the_feet_is_found(color: str) -> None:
    pose = _pose()
    ev = _evidence(_draw(pose, strand=color), pose)
    assert _strand(ev, color) >= CFG.min_strand
    assert _knee(ev, color) < CFG.min_knee_loop


@pytest.mark.parametrize("color", ["green", "orange", "black", "yellow"])
def test_a_loop_above_the_knees_is_found(color: str) -> None:
    pose = _pose()
    ev = _evidence(_draw(pose, knee_loop=color, shin=SKIN), pose)
    assert _knee(ev, color) >= CFG.min_knee_loop
    assert 0.7 <= (ev.colors[color].knee_pos or 0.0) <= 0.9
    assert _strand(ev, color) < CFG.min_strand


def test_both_a_strand_and_a_loop_are_found() -> None:
    pose = _pose()
    ev = _evidence(_draw(pose, strand="red", knee_loop="red"), pose)
    assert _strand(ev, "red") >= CFG.min_strand
    assert _knee(ev, "red") >= CFG.min_knee_loop


def test_no_band_scores_low_in_every_colour() -> None:
    pose = _pose()
    ev = _evidence(_draw(pose), pose)
    for name, c in ev.colors.items():
        assert (c.strand or 0.0) < CFG.min_strand, name
        assert (c.knee or 0.0) < CFG.min_knee_loop, name


@pytest.mark.parametrize("color", ["red", "blue", "black"])
def test_clothing_of_the_band_colour_is_not_a_band(color: str) -> None:
    """Leggings of a band colour: broad, not thin (no strand), the same all along the thigh
    (no loop); the person's clothing records the colour."""
    pose = _pose()
    ev = _evidence(_draw(pose, legs=BAND_BGR[color]), pose)
    assert (ev.colors[color].strand or 0.0) < CFG.min_strand
    assert (ev.colors[color].knee or 0.0) < CFG.min_knee_loop
    assert ev.colors[color].clothing >= 0.5


def test_a_strand_over_leggings_of_its_colour_is_still_found() -> None:
    """Where it crosses the open space between the hips and the feet, a strand is thin
    whatever the person wears."""
    pose = _pose()
    ev = _evidence(_draw(pose, strand="blue", legs=BAND_BGR["blue"]), pose)
    assert _strand(ev, "blue") >= CFG.min_strand


def _rims(img: np.ndarray, pose: PoseFrame) -> np.ndarray:
    bf = body_frame(pose)
    assert bf is not None
    return knee_rims(img, bf, [])


@pytest.mark.parametrize("color", ["yellow", "red", "blue", "purple"])
def test_a_loop_on_leggings_of_its_colour_is_found_by_its_rims(color: str) -> None:
    """Of the leggings' own colour, a loop shows only by its edges: two thin darker lines
    across the thigh a band's width (here 0.11 L) apart, the same cloth between them. (The
    lines lie between the cross-sections the colour test samples, which would read a dark
    line lying on one as a narrow loop: this way it is the rims that find the loop.)"""
    pose = _pose()
    legs = BAND_BGR[color]
    img = _lines_across_thigh(_draw(pose, legs=legs), pose, (0.72, 0.83), _shade(legs, 0.7), 5)
    for scale in (1.0, 0.5, 2.0):  # a thigh of 240, 120 and 480 pixels
        scaled = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        scaled_pose = dataclasses.replace(
            pose, xy_px=pose.xy_px * scale, resolution_wh=(scaled.shape[1], scaled.shape[0])
        )
        ev = _evidence(scaled, scaled_pose)
        assert _knee(ev, color) >= CFG.min_knee_loop, scale
        assert 0.7 <= (ev.colors[color].knee_pos or 0.0) <= 0.9, scale
        assert np.nanmax(_rims(scaled, scaled_pose)) >= CFG.min_knee_loop * RIM_DELTA_E, scale
    # The same leggings without the rims: no loop.
    assert _knee(_evidence(_draw(pose, legs=legs), pose), color) < CFG.min_knee_loop


@pytest.mark.parametrize("lines", [(0.8,), (0.6, 0.95)], ids=["one seam", "too far apart"])
def test_seams_across_leggings_are_no_rims_of_a_loop(lines: tuple[float, ...]) -> None:
    """One line across the thigh (a seam, a crease), or two lines further apart than a
    band is wide, is not a loop's pair of rims. (Only the rims are asserted: a dark seam
    lying exactly on a cross-section the colour test samples reads as a narrow loop of
    its own colour, a known weakness of that test.)"""
    pose = _pose()
    legs = BAND_BGR["blue"]
    img = _lines_across_thigh(_draw(pose, legs=legs), pose, lines, _shade(legs, 0.7), 5)
    assert np.nanmax(_rims(img, pose)) < CFG.min_knee_loop * RIM_DELTA_E
    pair = _lines_across_thigh(_draw(pose, legs=legs), pose, (0.72, 0.83), _shade(legs, 0.7), 5)
    assert np.nanmax(_rims(pair, pose)) >= CFG.min_knee_loop * RIM_DELTA_E


def test_a_dark_stripe_across_leggings_is_no_loop_of_their_colour() -> None:
    """A dark stripe a band's width wide (a strand of another colour crossing the thigh)
    has edges a band's width apart, but its middle is not the leggings' cloth."""
    pose = _pose()
    img = _lines_across_thigh(_draw(pose, legs=BAND_BGR["red"]), pose, (0.8,), (60, 60, 60), 24)
    assert np.nanmax(_rims(img, pose)) < CFG.min_knee_loop * RIM_DELTA_E
    assert _knee(_evidence(img, pose), "red") < CFG.min_knee_loop


def _sliver_in_a_box(pose: PoseFrame, box: BGR) -> np.ndarray:
    """A thin blue line from the hip crease to the foot, broad strips of colour `box` along
    it on both sides, a gap of wall between: two blue boxes side by side (or one cut by a
    seam) leave such a sliver between them."""
    img = _draw(pose)
    bf = body_frame(pose)
    assert bf is not None
    a, b = bf.at(0.05, 0.3), bf.foot
    d = (b - a) / np.hypot(*(b - a))
    off = 64.0 * np.array([-d[1], d[0]])  # 4 px sliver half-width + 20 px gap + 40 px
    for sign in (-1.0, 1.0):
        cv2.line(img, _pt(a + sign * off), _pt(b + sign * off), box, 80)
    cv2.line(img, _pt(a), _pt(b), BAND_BGR["blue"], 8)
    return img


def test_a_sliver_beside_a_broad_region_of_its_colour_is_no_strand() -> None:
    """A thin line of a colour with that colour right beside it is a bit of a larger
    region, not a band; between other colours it is a strand."""
    pose = _pose()
    ev = _evidence(_sliver_in_a_box(pose, BAND_BGR["blue"]), pose)
    assert (ev.colors["blue"].strand or 0.0) < CFG.min_strand
    ev = _evidence(_sliver_in_a_box(pose, BAND_BGR["red"]), pose)
    assert _strand(ev, "blue") >= CFG.min_strand


def test_the_evidence_does_not_depend_on_the_facing_direction() -> None:
    pose, flipped = _pose(), _pose(mirror=True)
    img = _draw(pose, strand="red", knee_loop="yellow", shin=SKIN)
    a, b = _evidence(img, pose), _evidence(np.ascontiguousarray(img[:, ::-1]), flipped)
    assert _strand(b, "red") == pytest.approx(_strand(a, "red"), abs=0.15)
    assert _knee(b, "yellow") == pytest.approx(_knee(a, "yellow"), abs=0.15)


def test_the_evidence_does_not_depend_on_the_resolution() -> None:
    pose = _pose()
    img = _draw(pose, strand="red", knee_loop="yellow", shin=SKIN)
    half = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small_pose = dataclasses.replace(pose, xy_px=pose.xy_px * 0.5, resolution_wh=(640, 360))
    a, b = _evidence(img, pose), _evidence(half, small_pose)
    assert _strand(b, "red") >= CFG.min_strand and _strand(a, "red") >= CFG.min_strand
    assert _knee(b, "yellow") >= CFG.min_knee_loop and _knee(a, "yellow") >= CFG.min_knee_loop


def test_regions_outside_the_frame_are_not_judged() -> None:
    """The legs cut off by the bottom edge (the landmarks placed beyond it, as the model
    does): no strand or loop score (None), not a zero."""
    pose = _pose()
    img = np.ascontiguousarray(_draw(pose, strand="red", knee_loop="yellow", shin=SKIN)[:400])
    ev = _evidence(img, dataclasses.replace(pose, resolution_wh=(1280, 400)))
    assert ev.colors["red"].strand is None
    assert ev.colors["yellow"].knee is None


def test_no_evidence_without_a_lower_body() -> None:
    pose = _pose()
    vis = pose.visibility.copy()
    vis[Landmark.LEFT_KNEE] = vis[Landmark.RIGHT_KNEE] = 0.1
    hidden = dataclasses.replace(pose, visibility=vis)
    assert measure_frame(_draw(pose), hidden) is None
    assert measure_frame(_draw(pose), PoseFrame.missing(0.0, 0, RESOLUTION_WH)) is None


# --- records --------------------------------------------------------------------------------


def test_evidence_records_round_trip_through_json() -> None:
    pose = _pose()
    ev = _evidence(_draw(pose, strand="red", knee_loop="red"), pose)
    back = FrameEvidence.from_dict(json.loads(json.dumps(ev.to_dict())))
    assert back.t_s == pytest.approx(ev.t_s) and back.side == ev.side
    for name, c in ev.colors.items():
        d = back.colors[name]
        for field in ("strand", "knee", "crease", "knee_pos"):
            x, y = getattr(c, field), getattr(d, field)
            assert (x is None and y is None) or x == pytest.approx(y, abs=1e-3)
        assert (c.line is None) == (d.line is None)


def test_the_detector_samples_sparsely_and_stores_json_able_records() -> None:
    pose = _pose()
    img = _draw(pose, strand="red")
    det = BandDetector(sample_every_s=0.1)
    for i in range(30):  # one second at 30 fps
        t = i / 30.0
        det.observe(Frame(img, t, i), dataclasses.replace(pose, t_s=t, index=i))
    det.observe(Frame(img, 1.0, 30), PoseFrame.missing(1.0, 30, RESOLUTION_WH))
    assert 9 <= len(det.frames) <= 11
    meta = json.loads(json.dumps({"band": det.meta()}))
    frames = evidence_of(meta["band"])
    assert frames is not None and len(frames) == len(det.frames)
    assert evidence_of(None) is None  # an old landmarks file: no evidence
    assert evidence_of({**meta["band"], "version": 999}) is None
    assert evidence_of({"version": 1, "frames": [{"t": 1}]}) is None


# --- judging a rep from records ------------------------------------------------------------


REP = Rep(
    1,
    start_s=1.0,
    top_start_s=2.0,
    top_end_s=3.0,
    end_s=4.5,
    hip_angle_top_deg=180.0,
    knee_angle_top_deg=90.0,
    range_deg=70.0,
    confidence=0.9,
)


def _record(
    t: float,
    strand: dict[str, float] | None = None,
    knee: dict[str, float] | None = None,
    measured: bool = True,
) -> FrameEvidence:
    """A record with the given strand and knee scores per colour (0 for the others);
    `measured=False`: the strand could not be measured (feet out of frame)."""
    strand, knee = strand or {}, knee or {}
    colors = {
        name: ColorEvidence(
            strand=strand.get(name, 0.0) if measured else None,
            knee=knee.get(name, 0.0),
            crease=0.0,
            clothing=0.0,
            background=0.0,
            knee_pos=0.8 if name in knee else None,
            line=(0.05, 0.3, 0.1, 0.0) if name in strand else None,
        )
        for name in BAND_COLOR_NAMES
    }
    return FrameEvidence(t, "left", 200.0, colors)


def _records(
    strand: dict[str, float] | None = None,
    knee: dict[str, float] | None = None,
    measured: bool = True,
) -> list[FrameEvidence]:
    return [_record(t, strand, knee, measured) for t in np.arange(0.0, 5.5, 0.1)]


@pytest.mark.parametrize(
    ("strand", "knee", "expected"),
    [
        ({"red": 0.9}, None, "hips"),
        (None, {"yellow": 0.9}, "knees"),
        ({"blue": 0.8}, {"blue": 0.8}, "both"),
        ({"green": 0.8}, {"orange": 0.9}, "both"),  # a hip band and a mini-band of another colour
        (None, None, "none"),
    ],
)
def test_a_rep_is_judged_from_the_records_within_it(
    strand: dict[str, float] | None,
    knee: dict[str, float] | None,
    expected: str,
) -> None:
    j = judge_rep(_records(strand, knee), REP, CFG)
    assert j.placement == expected
    assert 0.5 <= j.confidence <= 1.0


def test_just_below_and_just_above_the_thresholds() -> None:
    eps = 0.01
    assert judge_rep(_records({"red": CFG.min_strand - eps}), REP, CFG).placement == "none"
    assert judge_rep(_records({"red": CFG.min_strand + eps}), REP, CFG).placement == "hips"
    assert judge_rep(_records(None, {"red": CFG.min_knee_loop - eps}), REP, CFG).placement == "none"
    assert (
        judge_rep(_records(None, {"red": CFG.min_knee_loop + eps}), REP, CFG).placement == "knees"
    )


def test_a_black_strand_needs_stronger_evidence() -> None:
    between = 0.5 * (CFG.min_strand + CFG.min_strand_black)
    assert judge_rep(_records({"black": between}), REP, CFG).placement == "none"
    assert judge_rep(_records({"red": between}), REP, CFG).placement == "hips"


def test_a_named_colour_restricts_the_search() -> None:
    records = _records({"red": 0.9})
    assert judge_rep(records, REP, CFG.model_copy(update={"color": "red"})).placement == "hips"
    assert judge_rep(records, REP, CFG.model_copy(update={"color": "blue"})).placement == "none"


def test_the_strand_is_judged_at_the_top_or_the_bottom() -> None:
    """One odd frame does not decide: the median of each phase does; either phase may show
    the strand (at the other it may be hidden by the legs)."""
    records = _records()
    for i, r in enumerate(records):
        if REP.top_start_s <= r.t_s <= REP.top_end_s:
            records[i] = _record(r.t_s, {"red": 0.9})
    assert judge_rep(records, REP, CFG).placement == "hips"
    records[12] = _record(records[12].t_s, {"red": 1.0})  # one frame at the bottom only
    assert judge_rep(records, dataclasses.replace(REP), CFG).placement == "hips"
    lone = _records()
    lone[25] = _record(lone[25].t_s, {"red": 1.0})  # a single frame during the top
    assert judge_rep(lone, REP, CFG).placement == "none"


def _top_and_bottom(top: FrameEvidence, bottom: FrameEvidence) -> list[FrameEvidence]:
    """Records like `top` during REP's top hold, like `bottom` elsewhere."""

    def at(t: float) -> FrameEvidence:
        r = top if REP.top_start_s - 0.25 <= t <= REP.top_end_s + 0.25 else bottom
        return dataclasses.replace(r, t_s=float(t))

    return [at(t) for t in np.arange(0.0, 5.5, 0.1)]


def test_a_loop_read_as_a_strand_where_it_hides_itself_is_no_hip_band() -> None:
    """At the top a strand of the loop's colour and no loop; at the bottom the loop and no
    strand: the "strand" is the loop (the loop is measured clear of strands), so knees."""
    records = _top_and_bottom(
        _record(0.0, {"purple": 0.5}, {"purple": 0.0}),
        _record(0.0, {"purple": 0.0}, {"purple": 1.0}),
    )
    j = judge_rep(records, REP, CFG)
    assert (j.placement, j.knee_score, j.hip_score) == ("knees", 1.0, 0.0)
    # A strand of the loop's colour where the loop is seen too is a hip band as well.
    records = _top_and_bottom(
        _record(0.0, {"purple": 0.9}, {"purple": 0.9}),
        _record(0.0, {"purple": 0.0}, {"purple": 1.0}),
    )
    assert judge_rep(records, REP, CFG).placement == "both"
    # A strand of another colour than the loop is not confounded with it.
    records = _top_and_bottom(
        _record(0.0, {"red": 0.9}, {"purple": 0.0}), _record(0.0, {"red": 0.0}, {"purple": 1.0})
    )
    assert judge_rep(records, REP, CFG).placement == "both"
    # A strand in both phases is a hip band, whatever hides the loop at the top.
    records = _top_and_bottom(
        _record(0.0, {"purple": 0.9}, {"purple": 0.0}),
        _record(0.0, {"purple": 0.9}, {"purple": 1.0}),
    )
    assert judge_rep(records, REP, CFG).placement == "both"


@pytest.mark.parametrize(
    ("strand", "knee", "other_knee", "confounded"),
    [
        (STRAND_EXCLUDE, CFG.min_knee_loop - 0.01, CFG.min_knee_loop, True),
        (STRAND_EXCLUDE - 0.01, CFG.min_knee_loop - 0.01, CFG.min_knee_loop, False),
        (STRAND_EXCLUDE, CFG.min_knee_loop, CFG.min_knee_loop, False),
        (STRAND_EXCLUDE, CFG.min_knee_loop - 0.01, CFG.min_knee_loop - 0.01, False),
        (STRAND_EXCLUDE, CFG.min_knee_loop - 0.01, None, False),  # no loop seen: nothing to hide
    ],
)
def test_a_phase_is_confounded_just_at_the_thresholds(
    strand: float,
    knee: float,
    other_knee: float | None,
    confounded: bool,
) -> None:
    scores = ColorScores(strand, 0.0, knee, other_knee, 0.0).unconfounded(CFG.min_knee_loop)
    assert (scores.strand_top is None) is confounded
    assert (scores.knee_top is None) is confounded
    assert scores.strand_bottom == 0.0 and scores.knee_bottom == other_knee


def test_no_records_or_no_view_of_the_strand_is_unknown() -> None:
    assert judge_reps(None, [REP], CFG) == [BandJudgement.unknown()]
    assert judge_rep([], REP, CFG).placement == "unknown"
    far_away = [_record(t, {"red": 1.0}) for t in (10.0, 10.1, 10.2)]
    assert judge_rep(far_away, REP, CFG).placement == "unknown"
    # Neither the strand's path (feet out of frame) nor a loop seen: nothing is ruled out.
    assert judge_rep(_records(None, {"red": 0.1}, measured=False), REP, CFG).placement == "unknown"


def test_a_loop_seen_where_the_strand_s_path_is_not_is_a_knee_band() -> None:
    """The band's region is in view (a loop above the knees, plain to see) though the
    strand's path is not (feet out of frame, the hips never high enough in the picture):
    the band is at the knees, as a lifter would say, not "unknown"."""
    j = judge_rep(_records(None, {"red": 0.9}, measured=False), REP, CFG)
    assert (j.placement, j.knee_color, j.hip_color) == ("knees", "red", None)
    assert 0.5 <= j.confidence <= 1.0


# --- the rule and the wiring ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("placement", "status", "fault"),
    [
        ("hips", Status.OK, None),
        ("both", Status.OK, None),
        ("knees", Status.FAULT, "band_at_knees"),
        ("none", Status.FAULT, "no_band"),
        ("unknown", Status.NOT_JUDGED, None),
    ],
)
def test_the_rule_maps_each_placement(placement: str, status: Status, fault: str | None) -> None:
    ctx = RepContext(REP, band=placement, band_confidence=0.8)
    finding = BandPlacement().check(ctx, RulesConfig())
    assert (finding.status, finding.fault, finding.value) == (status, fault, placement)


def test_no_band_is_fine_for_a_bodyweight_set() -> None:
    rules = RulesConfig().model_copy(update={"band": BandConfig(expected=False)})
    finding = BandPlacement().check(RepContext(REP, band="none", band_confidence=0.8), rules)
    assert finding.status is Status.OK


def test_band_colour_is_a_validated_choice() -> None:
    assert Config().with_overrides({"rules.band.color": " Red "}).rules.band.color == "red"
    with pytest.raises(ConfigError, match=r"rules\.band\.color"):
        Config().with_overrides({"rules.band.color": "pink"})


def _scripted_sequence(meta_band: dict[str, Any] | None) -> PoseSequence:
    """Two scripted reps (tops at about 2-3.5 s and 7.5-9 s) with `meta["band"]`."""
    script = script_hip_angle([ScriptedRep(), ScriptedRep()])
    seq = side_view_sequence(script.t_s, script.hip_deg)
    meta = dict(seq.meta)
    if meta_band is not None:
        meta["band"] = meta_band
    return dataclasses.replace(seq, meta=meta)


def test_analyze_sequence_judges_the_band_from_the_stored_records() -> None:
    knees = BandDetector().meta()
    knees["frames"] = [r.to_dict() for r in _records(None, {"yellow": 0.9})] + [
        _record(t, None, {"yellow": 0.9}).to_dict() for t in np.arange(5.5, 16.0, 0.1)
    ]
    analysis = analyze_sequence(_scripted_sequence(knees), Config())
    assert len(analysis.reps) == 2
    assert [rr.band for rr in analysis.report.reps] == ["knees", "knees"]
    assert all("band_at_knees" in rr.faults for rr in analysis.report.reps)
    assert [b.placement for b in analysis.bands] == ["knees", "knees"]


def test_an_old_landmarks_file_leaves_the_band_unknown() -> None:
    analysis = analyze_sequence(_scripted_sequence(None), Config())
    assert analysis.reps and all(rr.band == "unknown" for rr in analysis.report.reps)
    band = next(
        f
        for f in check_rep(RepContext(analysis.reps[0]), RulesConfig())
        if f.rule == "band_placement"
    )
    assert band.status is Status.NOT_JUDGED


def test_band_detection_can_be_switched_off() -> None:
    frames = BandDetector().meta()
    frames["frames"] = [_record(t, {"red": 0.9}).to_dict() for t in np.arange(0.0, 16.0, 0.1)]
    cfg = Config().with_overrides({"rules.band.detect": False})
    analysis: Analysis = analyze_sequence(_scripted_sequence(frames), cfg)
    assert all(rr.band == "unknown" for rr in analysis.report.reps)


# --- the outline ---------------------------------------------------------------------------


def test_the_outline_follows_the_body() -> None:
    joints = np.array([[300.0, 430.0], [550.0, 430.0], [790.0, 430.0], [790.0, 650.0]])
    j = BandJudgement("both", 0.9, line_top=(0.05, 0.3, 0.0, 0.0), knee_pos=0.8)
    strand, loop = band_outline_px(j, joints)
    assert strand.shape == (4, 2) and loop.shape == (4, 2)
    centre = loop.mean(axis=0)
    assert centre == pytest.approx([550.0 + 0.8 * 240.0, 430.0])
    assert strand[:, 1].max() == pytest.approx(650.0, abs=0.1 * 240)  # reaches the ankle
    shift = np.array([100.0, -50.0])
    moved = band_outline_px(j, joints + shift)
    assert moved[1].mean(axis=0) == pytest.approx(centre + shift)
    assert band_outline_px(BandJudgement("none"), joints) == ()
    assert band_outline_px(j, np.full((4, 2), math.nan)) == ()


def test_annotate_draws_the_band_outline() -> None:
    img = np.full((360, 640, 3), 128, np.uint8)
    joints = np.full((4, 2), np.nan)
    poly = np.array([[300.0, 100.0], [340.0, 100.0], [340.0, 200.0], [300.0, 200.0]])
    plain = annotate(img, Overlay(joints, math.nan, 0, "bottom", ""))
    outlined = annotate(img, Overlay(joints, math.nan, 0, "bottom", "", band_outline_px=(poly,)))
    changed = np.any(outlined != plain, axis=2)
    assert changed[95:205, 295:345].any() and not changed[250:, :].any()
