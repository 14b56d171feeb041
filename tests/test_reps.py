"""Rep counting: the state machine on scripted per-frame values, then `segment_reps`.

The state machine is fed the normalised hip angle (0 = the person's bottom, 1 = their
top). Every scripted value below is derived from `RepConfig()`, so the tests follow the
defaults if they change.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scripted import ScriptedRep, script_hip_angle, track_from_angles

from formcheck.config import RepConfig
from formcheck.reps import Cycle, Phase, Rep, RepStateMachine, own_range_deg, segment_reps

CFG = RepConfig()
FPS = 30.0
DT = 1.0 / FPS
# Levels of the normalised angle, each in a region the thresholds make unambiguous.
LOW = CFG.bottom_enter / 2  # at the bottom
BOTTOM_BAND = (CFG.bottom_enter + CFG.bottom_exit) / 2  # inside the bottom hysteresis band
MID = (CFG.bottom_exit + CFG.top_exit) / 2  # on the way, between the bands
TOP_BAND = (CFG.top_exit + CFG.top_enter) / 2  # inside the top hysteresis band
HIGH = (CFG.top_enter + 1.0) / 2  # at the top
# Frames per phase so that one scripted rep (lift .. back at the bottom) spans more than
# min_rep_s: the lift is the first MID frame, the end the first LOW frame after the top.
HOLD = math.ceil(CFG.min_rep_s * FPS / 3) + 3


def _rep(hold: int = HOLD) -> list[float]:
    return [MID] * hold + [HIGH] * hold + [MID] * hold + [LOW] * hold


def _feed(
    values: list[float], cfg: RepConfig = CFG, dt: float = DT
) -> tuple[list[Cycle], list[Phase]]:
    """Feed one value per frame (`dt` seconds apart); the cycles and the phase after each."""
    machine = RepStateMachine(cfg)
    cycles, phases = [], []
    for i, x in enumerate(values):
        cycle = machine.update(i, i * dt, x)
        if cycle is not None:
            cycles.append(cycle)
        phases.append(machine.phase)
    return cycles, phases


# --- the state machine -----------------------------------------------------------------


def test_clean_reps_count_with_their_crossing_frames() -> None:
    values = [LOW] * HOLD + _rep() * 3
    cycles, phases = _feed(values)
    assert len(cycles) == 3
    first = cycles[0]
    assert first == Cycle(lift=HOLD, top_enter=2 * HOLD, top_exit=3 * HOLD, bottom=4 * HOLD)
    step = 4 * HOLD
    for k, c in enumerate(cycles):
        assert (c.lift, c.top_enter, c.top_exit, c.bottom) == (
            first.lift + k * step, first.top_enter + k * step,
            first.top_exit + k * step, first.bottom + k * step,
        )
    assert phases[HOLD - 1] is Phase.BOTTOM
    assert phases[HOLD] is Phase.CONCENTRIC
    assert phases[2 * HOLD] is Phase.TOP
    assert phases[3 * HOLD] is Phase.ECCENTRIC
    assert phases[-1] is Phase.BOTTOM


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("jitter in the bottom band", [LOW] * 5 + [BOTTOM_BAND, LOW] * 40),
        ("jitter across bottom_exit, never to the top",
         [LOW] * 5 + [CFG.bottom_exit + 0.01, CFG.bottom_exit - 0.01] * 40),
        ("jitter across top_enter after a lift",
         [LOW] * 5 + [MID] * 5 + [CFG.top_enter + 0.01, CFG.top_enter - 0.01] * 40),
        ("jitter in the top band", [LOW] * 5 + [MID] * 5 + [HIGH] + [TOP_BAND, HIGH] * 40),
        ("jitter around the middle", [LOW] * 5 + [MID - 0.02, MID + 0.02] * 40),
    ],
)
def test_jitter_never_counts(name: str, values: list[float]) -> None:
    cycles, _ = _feed(values)
    assert cycles == [], name


def test_jitter_in_the_top_band_keeps_the_top() -> None:
    _, phases = _feed([LOW] * 5 + [MID] * 5 + [HIGH] + [TOP_BAND, HIGH] * 40)
    assert all(p is Phase.TOP for p in phases[10:])


def test_a_partial_rep_does_not_count_and_the_next_full_rep_does() -> None:
    partial = [MID] * HOLD + [TOP_BAND] * HOLD + [MID] * HOLD + [LOW] * HOLD  # never HIGH
    values = [LOW] * HOLD + partial + _rep()
    cycles, phases = _feed(values)
    assert phases[HOLD + 4 * HOLD - 1] is Phase.BOTTOM
    assert len(cycles) == 1
    assert cycles[0].lift == HOLD + 4 * HOLD, "the lift is the full rep's, not the partial's"


@pytest.mark.parametrize(
    ("duration_s", "counts"),
    [
        (0.5 * CFG.min_rep_s, False),
        (CFG.min_rep_s - 1e-3, False),
        (CFG.min_rep_s + 1e-3, True),
    ],
)
def test_min_rep_s_just_under_and_just_over(duration_s: float, counts: bool) -> None:
    """A rep runs from the lift (first MID frame) to the bottom (first LOW frame after the
    top): 3 * HOLD frames. Scale the frame interval so that this lasts `duration_s`."""
    cycles, phases = _feed([LOW] * 5 + _rep() + [LOW] * 5, dt=duration_s / (3 * HOLD))
    assert len(cycles) == (1 if counts else 0)
    assert phases[-1] is Phase.BOTTOM


def test_a_clip_starting_in_the_top_hold_skips_the_first_descent() -> None:
    values = [HIGH] * HOLD + [MID] * HOLD + [LOW] * HOLD + _rep()
    cycles, phases = _feed(values)
    assert phases[2 * HOLD - 1] is Phase.UNKNOWN, "the descent is not a rep's eccentric"
    assert phases[2 * HOLD] is Phase.BOTTOM
    assert len(cycles) == 1
    assert cycles[0].lift == 3 * HOLD


def test_pushing_back_up_from_the_eccentric_stays_one_rep() -> None:
    values = [LOW] * HOLD + [MID] * HOLD + [HIGH] * HOLD + [MID] * 5 + [HIGH] * HOLD
    values += [MID] * HOLD + [LOW] * HOLD
    cycles, _ = _feed(values)
    assert len(cycles) == 1
    c = cycles[0]
    assert c.top_enter == 2 * HOLD, "the top started at the first entry"
    assert c.top_exit == 4 * HOLD + 5, "and ended at the last exit"


@pytest.mark.parametrize(
    "prefix",
    [
        [],  # UNKNOWN
        [LOW],  # BOTTOM
        [LOW, MID],  # CONCENTRIC
        [LOW, MID, HIGH],  # TOP
        [LOW, MID, HIGH, MID],  # ECCENTRIC
    ],
)
def test_nan_frames_leave_the_state_unchanged(prefix: list[float]) -> None:
    machine = RepStateMachine(CFG)
    for i, x in enumerate(prefix):
        machine.update(i, i * DT, x)
    before = machine.phase
    for i in range(len(prefix), len(prefix) + 20):
        assert machine.update(i, i * DT, math.nan) is None
        assert machine.phase is before


def test_nan_frames_inside_a_rep_do_not_break_it() -> None:
    rep = _rep()
    for i in range(0, len(rep), 3):
        rep[i] = math.nan
    cycles, _ = _feed([LOW] * HOLD + rep)
    assert len(cycles) == 1


def test_reset_forgets_the_phase() -> None:
    machine = RepStateMachine(CFG)
    machine.update(0, 0.0, LOW)
    before = machine.phase
    machine.reset()
    assert (before, machine.phase) == (Phase.BOTTOM, Phase.UNKNOWN)


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


def test_own_range_is_robust_and_nan_aware() -> None:
    a = np.r_[np.full(100, 100.0), np.full(100, 180.0), [400.0], [np.nan] * 5]
    bottom, top = own_range_deg(a)
    assert (bottom, top) == (100.0, 180.0), "one outlier frame does not move the range"
    assert all(math.isnan(v) for v in own_range_deg(np.full(4, np.nan)))


# --- segment_reps on scripted tracks ---------------------------------------------------

# Boundaries: within two frames of the script. Durations: within 0.1 s (a duration is the
# difference of two boundaries, and the low-pass rounds the script's sharp corners).
FRAME_TOL_S = 2 / FPS + 1e-9
DURATION_TOL_S = 0.1 + 1e-9


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
    for rep in reps:
        assert rep.pause_s == pytest.approx(scripted.pause_s, abs=DURATION_TOL_S)
        assert rep.eccentric_s == pytest.approx(scripted.eccentric_s, abs=DURATION_TOL_S)
        assert rep.concentric_s == pytest.approx(scripted.concentric_s, abs=DURATION_TOL_S)


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


def test_segment_reps_drops_a_small_rep_among_big_ones() -> None:
    """A rep that crosses the thresholds of the set's range, but whose own excursion is
    below min_range_deg, is dropped; the others are kept and renumbered."""
    bottom = 150.0
    # The set's range just over the floor; the small rep enters the top zone of that range
    # (above top_enter) while its own excursion stays under min_range_deg.
    big = CFG.min_range_deg * (1 + 1 / CFG.top_enter) / 2
    small = (CFG.top_enter * big + CFG.min_range_deg) / 2
    assert CFG.top_enter * big < small < CFG.min_range_deg <= big
    reps_in = [ScriptedRep(top_deg=bottom + big), ScriptedRep(top_deg=bottom + small),
               ScriptedRep(top_deg=bottom + big), ScriptedRep(top_deg=bottom + big)]
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
    # The state machine times a rep from the bottom_exit crossing on the way up to the
    # bottom_enter crossing on the way down.
    cycle_s = ((1 - CFG.bottom_exit) * rep.concentric_s + rep.pause_s
               + (1 - CFG.bottom_enter) * rep.eccentric_s)
    script = script_hip_angle([rep] * 3)
    cfg = CFG.model_copy(update={"min_rep_s": cycle_s + margin_s})
    reps = segment_reps(track_from_angles(script.t_s, script.hip_deg), cfg)
    assert len(reps) == (3 if counts else 0)


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
    for rep in reps:
        assert rep.pause_s == pytest.approx(1.5, abs=2 / fps)
