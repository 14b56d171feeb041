"""Rep counting: the state machine on scripted per-frame angles, then `segment_reps`.

The state machine is fed the signed hip angle in degrees. Every scripted value below is
derived from `RepConfig()` (min_range_deg, bottom_return), so the tests follow the
defaults if they change.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scripted import HipScript, ScriptedRep, script_hip_angle, track_from_angles

from formcheck.config import RepConfig
from formcheck.reps import Cycle, Phase, Rep, RepStateMachine, segment_reps
from formcheck.track import PoseTrack

CFG = RepConfig()
FPS = 30.0
DT = 1.0 / FPS
R = CFG.min_range_deg
BOTTOM = 110.0
TOP = BOTTOM + 2.5 * R  # a full rep: far above the lift threshold
# Back at the bottom once within bottom_return of the rise above the valley.
RETURN = BOTTOM + CFG.bottom_return * (TOP - BOTTOM)
# Frames per phase so that one scripted rep spans more than min_rep_s.
HOLD = math.ceil(CFG.min_rep_s * FPS / 3) + 3


def _rep(top: float = TOP, hold: int = HOLD) -> list[float]:
    """Rise, hold at the top, lower, rest at the bottom (one value per frame)."""
    mid = (BOTTOM + top) / 2
    return [mid] * hold + [top] * hold + [mid] * hold + [BOTTOM] * hold


def _feed(values: list[float], cfg: RepConfig = CFG, dt: float = DT) -> list[Cycle]:
    """Feed one angle per frame (`dt` seconds apart); the cycles completed."""
    machine = RepStateMachine(cfg)
    return [c for i, x in enumerate(values) if (c := machine.update(i, i * dt, x))]


# --- the state machine -----------------------------------------------------------------


def test_clean_reps_count_with_their_frames() -> None:
    values = [BOTTOM] * HOLD + _rep() * 3
    cycles = _feed(values)
    assert len(cycles) == 3
    first = cycles[0]
    # The valley is the last frame at the lowest angle; the lift the first frame 25 deg up;
    # the peak the first top frame; the bottom the first frame back below RETURN.
    assert first == Cycle(valley=HOLD - 1, lift=HOLD, peak=2 * HOLD, bottom=4 * HOLD)
    step = 4 * HOLD
    for k, c in enumerate(cycles[1:], start=1):
        assert (c.lift, c.peak, c.bottom) == (
            first.lift + k * step,
            first.peak + k * step,
            first.bottom + k * step,
        )
        assert c.valley == first.bottom + (k - 1) * step + HOLD - 1, "the last bottom frame"


def test_a_sagging_rep_among_full_ones_still_counts() -> None:
    """Thresholds follow each rep's own range, not the set's best rep."""
    sag = BOTTOM + 1.2 * R
    cycles = _feed([BOTTOM] * HOLD + _rep() + _rep(top=sag) + _rep())
    assert len(cycles) == 3


@pytest.mark.parametrize(
    ("name", "values"),
    [
        (
            "jitter just under the lift threshold",
            [BOTTOM] * 5 + [BOTTOM + R - 0.5, BOTTOM + 1.0] * 40,
        ),
        (
            "a lift, then jitter above the return level",
            [BOTTOM] * 5 + [TOP] * 5 + [RETURN + 0.5, TOP] * 40,
        ),
        ("slow drift at the bottom", [BOTTOM + 0.1 * k for k in range(200)][: int(R * 9)]),
    ],
)
def test_jitter_never_counts(name: str, values: list[float]) -> None:
    assert _feed(values) == [], name


def test_a_lift_just_under_min_range_never_counts() -> None:
    small = BOTTOM + R - 0.1
    assert _feed([BOTTOM] * HOLD + _rep(top=small) * 3) == []
    enough = BOTTOM + R + 0.1
    assert len(_feed([BOTTOM] * HOLD + _rep(top=enough) * 3)) == 3


@pytest.mark.parametrize(("offset", "completes"), [(+0.1, False), (-0.1, True)])
def test_the_return_threshold_just_above_and_just_below(offset: float, completes: bool) -> None:
    values = [BOTTOM] * HOLD + [TOP] * 3 * HOLD + [RETURN + offset] * HOLD
    assert len(_feed(values)) == (1 if completes else 0)


@pytest.mark.parametrize(
    ("duration_s", "counts"),
    [
        (0.5 * CFG.min_rep_s, False),
        (CFG.min_rep_s - 1e-3, False),
        (CFG.min_rep_s + 1e-3, True),
    ],
)
def test_min_rep_s_just_under_and_just_over(duration_s: float, counts: bool) -> None:
    """A rep is timed from its valley (frame 0) to the first frame back at the bottom
    (frame 4 * HOLD). Scale the frame interval so that this lasts `duration_s`."""
    cycles = _feed([BOTTOM] + [BOTTOM] * 0 + _rep()[: 3 * HOLD + 1], dt=duration_s / (3 * HOLD + 1))
    assert len(cycles) == (1 if counts else 0)


def test_a_clip_starting_in_the_top_hold_skips_the_first_descent() -> None:
    values = [TOP] * HOLD + [(TOP + BOTTOM) / 2] * HOLD + [BOTTOM] * HOLD + _rep()
    cycles = _feed(values)
    assert len(cycles) == 1
    assert cycles[0].lift == 3 * HOLD


def test_a_clip_ending_half_way_down_does_not_count() -> None:
    values = [BOTTOM] * HOLD + [TOP] * HOLD + [(TOP + BOTTOM) / 2] * HOLD
    assert _feed(values) == []


def test_pushing_back_up_from_the_eccentric_stays_one_rep() -> None:
    mid = (BOTTOM + TOP) / 2
    values = [BOTTOM] * HOLD + [mid] * HOLD + [TOP] * HOLD + [mid] * 5 + [TOP] * HOLD
    values += [mid] * HOLD + [BOTTOM] * HOLD
    cycles = _feed(values)
    assert len(cycles) == 1
    assert cycles[0].peak == 2 * HOLD, "the first frame at the highest angle"


def test_nan_frames_leave_the_state_unchanged() -> None:
    machine = RepStateMachine(CFG)
    for i, x in enumerate([BOTTOM, TOP]):
        machine.update(i, i * DT, x)
    assert machine.lifted
    for i in range(2, 22):
        assert machine.update(i, i * DT, math.nan) is None
        assert machine.lifted


def test_nan_frames_inside_a_rep_do_not_break_it() -> None:
    rep = _rep()
    for i in range(0, len(rep), 3):
        rep[i] = math.nan
    assert len(_feed([BOTTOM] * HOLD + rep)) == 1


def test_reset_forgets_the_lift() -> None:
    machine = RepStateMachine(CFG)
    machine.update(0, 0.0, BOTTOM)
    machine.update(1, DT, TOP)
    assert machine.lifted
    machine.reset()
    assert not machine.lifted


# --- the Rep type ----------------------------------------------------------------------


def test_rep_durations_and_phase_at() -> None:
    rep = Rep(1, 1.0, 2.0, 3.5, 5.5, 180.0, 90.0, 70.0, 0.9)
    assert (rep.concentric_s, rep.pause_s, rep.eccentric_s) == (1.0, 1.5, 2.0)
    assert rep.phase_at(0.5) is None
    assert rep.phase_at(1.5) is Phase.CONCENTRIC
    assert rep.phase_at(3.0) is Phase.TOP
    assert rep.phase_at(4.0) is Phase.ECCENTRIC
    assert rep.phase_at(6.0) is None


def test_rep_times_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="out of order"):
        Rep(1, 2.0, 1.0, 3.0, 4.0, 180.0, 90.0, 70.0, 0.9)


# --- segment_reps on scripted tracks ---------------------------------------------------

# The script's ramps are eased with a half cosine, the shape the rep fit models, and carry
# no landmark noise: the fitted boundaries land within 0.005 s of the knots. A boundary found
# where the speed crosses a threshold (what the fit replaced) fires ~0.1 s inside each ramp
# and makes the lowering ~0.25 s short; the tolerance, under a frame at 30 fps, lets none of
# that bias through.
FRAME_TOL_S = 0.02
# A duration is the difference of two boundaries.
DURATION_TOL_S = 2 * FRAME_TOL_S
# A top with no hold, or a bottom with no rest, is a sharp turn: its level is the median of
# the frames within `reps.LEVEL_SHARE` of the turn, a little inside it, and the boundaries
# either side move out by up to 0.07 s on the script's 1 s ramps.
TURN_TOL_S = 0.08


def test_segment_reps_counts_and_places_scripted_reps() -> None:
    script = script_hip_angle([ScriptedRep()] * 3, fps=FPS)
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg), CFG)
    assert len(reps) == 3
    for rep, want in zip(reps, script.reps, strict=True):
        assert rep.start_s == pytest.approx(want.start_s, abs=FRAME_TOL_S)
        assert rep.top_start_s == pytest.approx(want.top_start_s, abs=FRAME_TOL_S)
        assert rep.top_end_s == pytest.approx(want.top_end_s, abs=FRAME_TOL_S)
        assert rep.end_s == pytest.approx(want.end_s, abs=FRAME_TOL_S)
    assert [r.index for r in reps] == [1, 2, 3]


@pytest.mark.parametrize(
    "scripted",
    [
        ScriptedRep(concentric_s=1.0, pause_s=1.0, eccentric_s=1.5),
        ScriptedRep(concentric_s=1.0, pause_s=2.0, eccentric_s=2.0),
        ScriptedRep(concentric_s=1.5, pause_s=1.0, eccentric_s=2.5),
        ScriptedRep(concentric_s=1.0, pause_s=0.0, eccentric_s=1.0),
    ],
    ids=["pause1-ecc1.5", "pause2-ecc2", "slow", "no-pause"],
)
def test_segment_reps_measures_pause_and_eccentric(scripted: ScriptedRep) -> None:
    script = script_hip_angle([scripted] * 2, fps=FPS)
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg), CFG)
    assert len(reps) == 2
    for rep, want in zip(reps, script.reps, strict=True):
        # The eased ramps give their slow ends to the phases around them: the pause is the
        # hold plus a share of each ramp, the lift and the lowering a little shorter.
        assert want.pause_s > scripted.pause_s and want.eccentric_s < scripted.eccentric_s
        turn = scripted.pause_s == 0.0  # no hold: a sharp turn at the top
        for got, expected in (
            (rep.pause_s, want.pause_s),
            (rep.eccentric_s, want.eccentric_s),
            (rep.concentric_s, want.concentric_s),
        ):
            assert got == pytest.approx(expected, abs=TURN_TOL_S if turn else DURATION_TOL_S)


@pytest.mark.parametrize("top_deg", [170.0, 180.0, 190.0])
def test_segment_reps_reports_the_top_angle_and_range(top_deg: float) -> None:
    bottom = 110.0
    script = script_hip_angle([ScriptedRep(top_deg=top_deg)] * 2, bottom_deg=bottom)
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg, knee_deg=88.0), CFG)
    assert len(reps) == 2
    for rep in reps:
        assert rep.hip_angle_top_deg == pytest.approx(top_deg, abs=0.5)
        assert rep.range_deg == pytest.approx(top_deg - bottom, abs=1.0)
        assert rep.knee_angle_top_deg == pytest.approx(88.0)
        assert rep.confidence == pytest.approx(0.95)


def test_segment_reps_rejects_wiggles_below_min_range() -> None:
    bottom = 150.0
    small = ScriptedRep(top_deg=bottom + 0.8 * CFG.min_range_deg)
    script = script_hip_angle([small] * 3, bottom_deg=bottom)
    assert segment_reps(track_from_angles(script.t_s, script.hip_deg), CFG) == []
    # The same movement with a range just over the floor counts.
    enough = ScriptedRep(top_deg=bottom + 1.2 * CFG.min_range_deg)
    script = script_hip_angle([enough] * 3, bottom_deg=bottom)
    assert len(segment_reps(track_from_angles(script.t_s, script.hip_deg), CFG)) == 3


def test_segment_reps_drops_a_small_wiggle_among_big_reps() -> None:
    """A wiggle whose own excursion is below min_range_deg is not a rep; the others are
    kept and renumbered."""
    bottom = 150.0
    reps_in = [
        ScriptedRep(top_deg=bottom + 2 * R),
        ScriptedRep(top_deg=bottom + 0.8 * R),
        ScriptedRep(top_deg=bottom + 2 * R),
        ScriptedRep(top_deg=bottom + 2 * R),
    ]
    script = script_hip_angle(reps_in, bottom_deg=bottom)
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg), CFG)
    kept = [script.reps[k] for k in (0, 2, 3)]
    assert len(reps) == 3
    for rep, want in zip(reps, kept, strict=True):
        assert rep.start_s == pytest.approx(want.start_s, abs=FRAME_TOL_S)
    assert [r.index for r in reps] == [1, 2, 3]


def test_segment_reps_on_a_track_without_angles() -> None:
    t = np.arange(90) / FPS
    assert segment_reps(track_from_angles(t, np.full(90, np.nan), smooth=False), CFG) == []


@pytest.mark.parametrize(("margin_s", "counts"), [(-0.3, True), (0.3, False)])
def test_segment_reps_respects_a_custom_min_rep_s(margin_s: float, counts: bool) -> None:
    rep = ScriptedRep(concentric_s=1.0, pause_s=0.5, eccentric_s=1.0)
    script = script_hip_angle([rep] * 3)
    # The state machine times a rep from its valley (the bottom, the rep's start) to the
    # frame where the angle is back within bottom_return of the rise: most of the lowering.
    first = script.reps[0]
    machine_s = _cycles_of(script)[0]
    assert machine_s > first.top_end_s - first.start_s, "valley to mid-lowering at least"
    cfg = CFG.model_copy(update={"min_rep_s": machine_s + margin_s})
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg), cfg)
    assert len(reps) == (3 if counts else 0)


def _cycles_of(script: HipScript) -> list[float]:
    """Durations (s) of the state machine's cycles on a scripted, smoothed track."""
    t = script.t_s
    track = track_from_angles(t, script.hip_deg)
    machine = RepStateMachine(CFG)
    out = []
    for i in range(len(t)):
        c = machine.update(i, float(t[i]), float(track.hip_angle_deg[i]))
        if c is not None:
            out.append(float(t[c.bottom] - t[c.valley]))
    return out


def test_hold_is_found_when_the_peak_is_the_first_frame_of_the_hold() -> None:
    """pose.stride = 5 on a 30 fps clip gives 6 Hz samples; the 3 Hz low-pass cannot run
    (cutoff >= Nyquist) and the track keeps its sharp corners. The hips settle 0.2 deg in
    the 1.5 s hold, so the highest frame is the first of the hold, where the central
    difference still sees the lift (35 deg/s): the hold must not collapse to zero."""
    fps = 6.0
    script = script_hip_angle([ScriptedRep(pause_s=1.5)] * 2, fps=fps)
    hip = script.hip_deg.copy()
    for r in script.reps:
        hold = (script.t_s >= r.top_start_s - 1e-9) & (script.t_s <= r.top_end_s + 1e-9)
        hip[hold] -= 0.2 * (script.t_s[hold] - r.top_start_s) / 1.5
    reps = segment_reps(track_from_angles(script.t_s, hip), CFG)
    assert len(reps) == 2
    for rep, want in zip(reps, script.reps, strict=True):
        assert rep.pause_s == pytest.approx(want.pause_s, abs=2 / fps)


# --- boundaries on noisy and unusual reps ------------------------------------------------


def test_boundaries_are_unbiased_on_noisy_eased_reps() -> None:
    """At 15 analysed frames per second with 1 deg of landmark noise, every boundary lies
    within 0.06 s of the script on average (a frame is 0.067 s), none further than 0.15."""
    fps = 15.0
    reps_in = [
        ScriptedRep(concentric_s=0.9, pause_s=1.4, eccentric_s=1.6),
        ScriptedRep(concentric_s=1.2, pause_s=0.4, eccentric_s=0.6),
        ScriptedRep(concentric_s=0.8, pause_s=2.0, eccentric_s=2.2),
    ]
    script = script_hip_angle(reps_in, fps=fps)
    noisy = script.hip_deg + np.random.default_rng(3).normal(0.0, 1.0, len(script.t_s))
    reps = segment_reps(track_from_angles(script.t_s, noisy), CFG)
    assert len(reps) == 3
    errors = np.array(
        [
            [
                rep.start_s - want.start_s,
                rep.top_start_s - want.top_start_s,
                rep.top_end_s - want.top_end_s,
                rep.end_s - want.end_s,
            ]
            for rep, want in zip(reps, script.reps, strict=True)
        ]
    )
    assert np.abs(errors.mean(axis=0)).max() < 0.06
    assert np.abs(errors).max() < 0.15
    for rep, want in zip(reps, script.reps, strict=True):
        assert rep.pause_s == pytest.approx(want.pause_s, abs=0.15)
        assert rep.eccentric_s == pytest.approx(want.eccentric_s, abs=0.15)


def test_a_wobble_in_the_hold_does_not_cut_the_pause() -> None:
    """Pose models drift a few degrees while the body is still (a knee landmark sliding
    along the thigh): a 5 deg bump in the middle of a 1.5 s hold moves faster than the
    'still' speed, yet the hips never leave the top. The pause stays one hold."""
    script = script_hip_angle([ScriptedRep(pause_s=1.5)] * 2, fps=FPS)
    hip = script.hip_deg.copy()
    for r in script.reps:
        mid = 0.5 * (r.top_start_s + r.top_end_s)
        hip += 5.0 * np.exp(-0.5 * ((script.t_s - mid) / 0.12) ** 2)
    reps = segment_reps(track_from_angles(script.t_s, hip), CFG)
    assert len(reps) == 2
    for rep, want in zip(reps, script.reps, strict=True):
        assert rep.pause_s == pytest.approx(want.pause_s, abs=DURATION_TOL_S)


def test_back_to_back_reps_never_overlap() -> None:
    """No rest between reps: each rep ends before the next starts. The bottom between them
    is a sharp turn, not a rest: its level is the median of the frames near it, a little
    above the lowest (see `TURN_TOL_S`)."""
    script = script_hip_angle([ScriptedRep(rest_s=0.0, pause_s=0.5)] * 3, fps=FPS)
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg), CFG)
    assert len(reps) == 3
    for before, after in itertools.pairwise(reps):
        assert before.end_s <= after.start_s
    for k, (rep, want) in enumerate(zip(reps, script.reps, strict=True)):
        assert rep.start_s == pytest.approx(want.start_s, abs=FRAME_TOL_S if k == 0 else TURN_TOL_S)
        assert rep.end_s == pytest.approx(want.end_s, abs=TURN_TOL_S)


def _truncated(script: HipScript, end_s: float) -> PoseTrack:
    keep = script.t_s <= end_s + 1e-9
    return track_from_angles(script.t_s[keep], script.hip_deg[keep])


@pytest.mark.parametrize(
    ("lowered", "counted"),
    [
        (0.5, 2),  # the clip ends halfway down the third lowering: a partial rep, not a rep
        (0.7, 2),  # most of the way down (past bottom_return), hips still falling fast: partial
        (0.95, 3),  # touching down: within a fifth of the rise of the bottom
        (1.0, 3),  # back at the bottom
    ],
)
def test_a_rep_the_clip_cuts_off_mid_lowering_is_not_counted(lowered: float, counted: int) -> None:
    script = script_hip_angle([ScriptedRep()] * 3, fps=FPS)
    last = script.reps[-1]
    # The eased lowering covers this share of its drop at u = acos(1 - 2 share) / pi.
    u = float(np.arccos(1.0 - 2.0 * lowered) / np.pi)
    end_s = last.top_end_s + u * (last.end_s - last.top_end_s)
    reps = segment_reps(_truncated(script, end_s), CFG)
    assert len(reps) == counted


@pytest.mark.parametrize(
    ("settle_deg_s", "counted"),
    [
        (12.0, 3),  # the hips slow into the bottom (a real lowering's settle): the rep is done
        (None, 2),  # the same height, still at full lowering speed: cut off, a partial rep
    ],
)
def test_a_clip_ending_as_the_hips_slow_into_the_bottom_counts(
    settle_deg_s: float | None, counted: int
) -> None:
    """Real lowerings slow down well before the hip angle settles: a clip that ends there,
    a quarter of the rise up and at a fraction of the lowering's speed, ends a whole rep."""
    script = script_hip_angle([ScriptedRep()] * 3, fps=FPS)
    last = script.reps[-1]
    top = float(np.max(script.hip_deg))
    bottom = float(np.min(script.hip_deg))
    reached = bottom + 0.27 * (top - bottom)  # between BOTTOM_SEEN_SHARE and a third
    t, hip = script.t_s.copy(), script.hip_deg.copy()
    lowering = np.flatnonzero((t > last.top_end_s) & (hip <= reached))[0]
    end = lowering + int(0.4 * FPS)
    if settle_deg_s is not None:  # from `reached` on, the hips creep down slowly
        hip[lowering:end] = reached - settle_deg_s * (t[lowering:end] - t[lowering])
    else:  # the clip ends as the hips pass `reached` at full speed
        end = lowering + 1
    reps = segment_reps(track_from_angles(t[:end], hip[:end]), CFG)
    assert len(reps) == counted


def test_a_level_crossing_lies_between_the_frames_walked() -> None:
    """A generated clip (seed 920190373) crashed `analyze` with "rep 1: times out of order":
    the state machine's peak lay under the top level set by a higher frame, the walk's first
    frame was already off its side, and the line through two frames met the level outside
    them, so the top ended before it began."""
    from formcheck.reps import _crossing

    t = np.array([0.0, 0.1, 0.2, 0.3])
    a = np.array([170.0, 168.0, 160.0, 150.0])
    # Walking right from frame 0 while above 172 deg: frame 0 is already under it.
    assert _crossing(t, a, 0, +1, 3, 172.0, True) == pytest.approx(0.0)
    # Walking left from frame 2 of a rise while above 170 deg: frame 2 (165) is under it,
    # and the line through frames 1 and 2 meets 170 deg at 0.3 s, after the walk's start.
    rise = np.array([150.0, 160.0, 165.0])
    assert _crossing(t[:3], rise, 2, -1, 0, 170.0, True) == pytest.approx(0.2)
