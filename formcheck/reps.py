"""Rep segmentation: a small state machine with hysteresis on the signed hip angle.

A rep is bottom -> concentric -> top -> eccentric -> bottom. Thresholds are relative to
each rep's own range, never to image heights or to the set's best rep: a lift starts when
the hip angle has risen `min_range_deg` above the lowest point since the last rep, and the
rep is complete when the angle is back within `bottom_return` of that rise above the
bottom. The two thresholds are far apart (hysteresis), so landmark jitter never counts, a
sagging rep that falls short of the others still counts (the very fault `top_alignment`
looks for), and a minimum duration rejects twitches. The same `RepStateMachine` runs frame
by frame in live mode; offline, `segment_reps` runs it over the whole track and times each
rep's phases by levels relative to the rep's own range (`segment_reps` says how and why).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from formcheck.config import RepConfig
from formcheck.shots import shot_edges
from formcheck.track import PoseTrack


class Phase(str, Enum):
    """Where the lifter is in the rep cycle."""

    BOTTOM = "bottom"
    CONCENTRIC = "concentric"
    TOP = "top"
    ECCENTRIC = "eccentric"

    @property
    def word(self) -> str:
        """The phase in the words of the report, the HTML page and the video: "lifting",
        "top", "lowering", "bottom" (the values are the field's terms)."""
        return _PHASE_WORDS[self]


_PHASE_WORDS = {
    Phase.BOTTOM: "bottom",
    Phase.CONCENTRIC: "lifting",
    Phase.TOP: "top",
    Phase.ECCENTRIC: "lowering",
}


@dataclass(frozen=True)
class Cycle:
    """Frame indices of one rep as the state machine saw it."""

    valley: int  # the lowest frame before the lift (the rep's starting bottom)
    lift: int  # the angle first rose min_range_deg above the valley
    peak: int  # the highest frame of the rep
    bottom: int  # the angle came back within bottom_return of the rise: rep complete


class RepStateMachine:
    """Feeds on one signed hip angle (degrees) per frame; NaN frames change nothing.

    `update` returns a `Cycle` on the frame that completes a rep, else None. `lifted` is
    True between a lift and the rep's completion. A clip that starts at the top never counts
    its first descent: a rep needs a bottom, a lift, and a return to the bottom.
    """

    def __init__(self, cfg: RepConfig) -> None:
        self.cfg = cfg
        self.reset()

    def reset(self) -> None:
        self.lifted = False
        self._valley, self._valley_i, self._valley_t = math.inf, -1, 0.0
        self._peak, self._peak_i, self._lift_i = -math.inf, -1, -1

    @property
    def valley_deg(self) -> float:
        """The lowest angle since the last rep (inf before any sample); live mode's phase."""
        return self._valley

    @property
    def peak_deg(self) -> float:
        """The highest angle since the lift (-inf while not lifted); live mode's phase."""
        return self._peak

    @property
    def lift_under_way(self) -> tuple[int, int] | None:
        """(valley frame, peak frame) of the lift not yet back down; None when not lifted."""
        return (self._valley_i, self._peak_i) if self.lifted else None

    def update(self, i: int, t_s: float, angle_deg: float) -> Cycle | None:
        if math.isnan(angle_deg):
            return None
        cfg = self.cfg
        if not self.lifted:
            if angle_deg <= self._valley:
                self._valley, self._valley_i, self._valley_t = angle_deg, i, t_s
            elif angle_deg >= self._valley + cfg.min_range_deg:
                self.lifted = True
                self._lift_i, self._peak, self._peak_i = i, angle_deg, i
            return None
        if angle_deg > self._peak:
            self._peak, self._peak_i = angle_deg, i
        if angle_deg > self._valley + cfg.bottom_return * (self._peak - self._valley):
            return None
        cycle = Cycle(self._valley_i, self._lift_i, self._peak_i, i)
        long_enough = t_s - self._valley_t >= cfg.min_rep_s
        self.reset()
        self._valley, self._valley_i, self._valley_t = angle_deg, i, t_s
        return cycle if long_enough else None


def top_frames(t: NDArray[np.float64], top_start_s: float, top_end_s: float) -> NDArray[np.intp]:
    """Indices into `t` (frame times, s) of the frames in the top hold; with no hold, or one
    shorter than a frame, the frame nearest its middle."""
    held = np.flatnonzero((t >= top_start_s - 1e-9) & (t <= top_end_s + 1e-9))
    if len(held) == 0:
        return np.array([int(np.argmin(np.abs(t - 0.5 * (top_start_s + top_end_s))))])
    return held


class PhaseDurations:
    """The phases' durations (s) of anything with a rep's four times (s)."""

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float

    @property
    def concentric_s(self) -> float:
        return self.top_start_s - self.start_s

    @property
    def pause_s(self) -> float:
        return self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float:
        return self.end_s - self.top_end_s


@dataclass(frozen=True)
class Rep(PhaseDurations):
    """One complete rep, times in seconds from the start of the clip.

    `start_s`: hips leave the bottom; `top_start_s`..`top_end_s`: the hips held still at
    the top (equal when there is no hold); `end_s`: hips back at the bottom.
    Angles in degrees measured over the hold (signed hip angle: 180 straight; shin tilt
    from vertical: 0 vertical, + ankle beyond the knee, - ankle towards the hips).
    `confidence` is the median landmark confidence over the top, in [0, 1];
    `shin_confidence` the same for the knee and the ankle (what the shin tilt rests on).
    """

    index: int
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    hip_angle_top_deg: float
    knee_angle_top_deg: float
    range_deg: float
    confidence: float
    shin_tilt_top_deg: float = math.nan
    shin_confidence: float = 0.0

    def __post_init__(self) -> None:
        if not self.start_s <= self.top_start_s <= self.top_end_s <= self.end_s:
            raise ValueError(f"rep {self.index}: times out of order")

    def phase_at(self, t_s: float) -> Phase | None:
        """The phase of this rep at time `t_s`, or None outside the rep."""
        if t_s < self.start_s or t_s > self.end_s:
            return None
        if t_s < self.top_start_s:
            return Phase.CONCENTRIC
        if t_s <= self.top_end_s:
            return Phase.TOP
        return Phase.ECCENTRIC


# A wobble of the hips that leaves the boundary level for less than this (s) and stays in
# the upper half of the rise is jitter, not the end of the pause (nor its start).
HOLD_GAP_S = 0.25
# The top and bottom levels are the medians of the frames within this share of the rep's
# range of its highest and lowest frame: one high frame (a wobble, a glitch) does not set
# them, and a hold that creeps up or a dome-shaped top gives the level it mostly sits at.
LEVEL_SHARE = 0.1


@dataclass(frozen=True)
class _Levels:
    """A rep's resting level before it, its top level and its resting level after it
    (degrees), and the frames of its highest point and of the lowest points either side."""

    before: float
    top: float
    after: float
    peak: int


def _level(values: np.ndarray, extreme: float, span: float, high: bool) -> float:
    """The median of `values` within `LEVEL_SHARE` of `span` of `extreme` (above it when
    not `high`, below it when `high`)."""
    reach = LEVEL_SHARE * span
    near = values >= extreme - reach if high else values <= extreme + reach
    return float(np.median(values[near & ~np.isnan(values)]))


def _levels(a: np.ndarray, c: Cycle, left: int, right: int) -> _Levels:
    """Levels of cycle `c` between frames `left` (its valley) and `right` (the next valley,
    or the last frame)."""
    peak = float(a[c.peak])
    low0 = float(np.nanmin(a[left : c.peak + 1]))
    low1 = float(np.nanmin(a[c.peak : right + 1]))
    span = peak - min(low0, low1)
    return _Levels(
        _level(a[left : c.peak + 1], low0, span, high=False),
        _level(a[left : right + 1], peak, span, high=True),
        _level(a[c.peak : right + 1], low1, span, high=False),
        c.peak,
    )


def _crossing(
    t: np.ndarray,
    a: np.ndarray,
    i: int,
    step: int,
    stop: int,
    level: float,
    above: bool,
    floor: float | None = None,
) -> float:
    """Walk from frame `i` by `step` (+1, -1) while the angle stays on its side of `level`
    (above it when `above`, else below it), at most to frame `stop`; the time (s) where it
    crosses `level`, between the last frame on its side and the first off it (linear).

    With `floor` (degrees, beyond `level`), an excursion off the side shorter than
    `HOLD_GAP_S` that does not pass `floor` is jitter and the walk goes on over it.
    """

    def on_side(x: float) -> bool:
        return bool(x >= level) if above else bool(x <= level)

    j = i
    while j != stop:
        nxt = j + step
        if np.isnan(a[nxt]) or on_side(float(a[nxt])):
            j = nxt
            continue
        if floor is not None:  # a short dip that comes back: jitter
            k = nxt
            while (
                k != stop
                and not on_side(float(a[k]))
                and abs(t[k] - t[nxt]) <= HOLD_GAP_S
                and (a[k] >= floor if above else a[k] <= floor)
            ):
                k += step
            if k != stop and on_side(float(a[k])) and abs(t[k] - t[nxt]) <= HOLD_GAP_S:
                j = k
                continue
        y0, y1 = float(a[j]), float(a[nxt])
        f = (level - y0) / (y1 - y0) if y1 != y0 and not np.isnan(y0) else 0.0
        # Within the step, never beyond it: where the walk's first frame is itself off the
        # side (the state machine's peak under a top level set by a higher frame), the line
        # through the two frames meets the level outside them, and a rep's top came out
        # ending before it began.
        f = min(max(f, 0.0), 1.0)
        return float(t[j] + f * (t[nxt] - t[j]))
    return float(t[j])


def _boundaries(
    t: np.ndarray, a: np.ndarray, lv: _Levels, left: int, right: int, share: float
) -> tuple[float, float, float, float]:
    """(start, top_start, top_end, end) in seconds: where the hips come within `share` of
    the rep's range of the level they leave or reach (see `segment_reps`)."""
    up = lv.top - lv.before
    down = lv.top - lv.after
    mid = lv.top - 0.5 * min(up, down)
    top_start = _crossing(t, a, lv.peak, -1, left, lv.top - share * up, True, mid)
    top_end = _crossing(t, a, lv.peak, +1, right, lv.top - share * down, True, mid)
    i0 = min(max(int(np.searchsorted(t, top_start)), left), lv.peak)
    i1 = max(min(int(np.searchsorted(t, top_end)), right), lv.peak)
    start = _crossing(t, a, i0, -1, left, lv.before + share * up, True)
    end = _crossing(t, a, i1, +1, right, lv.after + share * down, True)
    # The walks may meet on a rep without rest: keep the order.
    start = min(start, top_start)
    end = max(end, top_end)
    return start, top_start, top_end, end


# A rep is seen back at the bottom when, after the state machine completes it, the hips come
# within this share of its rise of the starting level, or stop (turn round into the next
# lift, or settle). Only the clip's last rep can fail this: the clip cut it off mid-lowering.
BOTTOM_SEEN_SHARE = 0.2
# ... or when the clip ends as they slow into the bottom: within this share of the rise, at
# under `SLOWING_SHARE` of the lowering's top speed. On the team's real clips a clip that
# ends as the hips touch down leaves them 0.15-0.26 of the rise up at 0.37-0.54 of their top
# speed (the hip angle still settles); one cut off mid-lowering, 0.30-0.34 up at 0.79-0.96.
SLOWING_WITHIN_SHARE = 1 / 3
SLOWING_SHARE = 0.5


def seen_back_down(a: np.ndarray, v: np.ndarray, c: Cycle, cfg: RepConfig) -> bool:
    """True when the frames from cycle `c`'s completion on show the hips back at the bottom
    (see `BOTTOM_SEEN_SHARE`, `SLOWING_SHARE`); False when the clip ends while they are still
    on their way down. `a`: hip angle (deg), `v`: its speed (deg/s), up to the shot's end."""
    valley = float(a[c.valley])
    rise = float(a[c.peak]) - valley
    after_a, after_v = a[c.bottom :], v[c.bottom :]
    with np.errstate(invalid="ignore"):
        if np.any(after_a <= valley + BOTTOM_SEEN_SHARE * rise) or np.any(
            after_v > -cfg.still_speed_floor_deg_s
        ):
            return True
    seen = np.flatnonzero(np.isfinite(after_a) & np.isfinite(after_v))
    if len(seen) == 0:
        return False
    last = c.bottom + int(seen[-1])
    top_speed = float(np.nanmin(v[c.peak : last + 1]))
    return bool(
        a[last] <= valley + SLOWING_WITHIN_SHARE * rise and v[last] >= SLOWING_SHARE * top_speed
    )


def _median_seen(values: np.ndarray) -> float:
    """The median of the values seen (not NaN); NaN, quietly, when none was (a knee or an
    ankle hidden over the whole top: the rule that needs it does not judge the rep)."""
    seen = values[~np.isnan(values)]
    return float(np.median(seen)) if len(seen) else math.nan


def segment_reps(track: PoseTrack, cfg: RepConfig, cuts: Sequence[float] = ()) -> list[Rep]:
    """All complete reps in an offline track, each with its phases timed the way a coach
    times them. With `cuts` (s: where the view breaks, at a cut or a camera move's start and
    end, `Measurement.breaks`), reps are found within each shot, never across
    a break.

    The state machine finds the reps. Each rep's phases are then bounded by where the hips
    come within `RepConfig.boundary_share` of the rep's range of the level they leave or
    reach: the lift starts when the hips have risen that far above their resting level,
    the top (the pause) runs from when they come that close to their top level until they
    have sunk that far below it, and the rep ends when they are back that close to the
    resting level after it. The levels are the medians of the frames near the rep's
    highest and lowest points (`LEVEL_SHARE`), so a top that creeps up or is dome-shaped, a
    slow settle at the bottom and landmark jitter do not move them; a wobble that leaves
    the top for less than `HOLD_GAP_S` does not end the pause.

    Why levels and not the speed. A person timing a rep from video marks the top when the
    hips have (nearly) arrived and the end when they are (nearly) down; on the team's
    hand-labelled real clips those marks sit a median 4-7% of the range from the levels.
    Where the speed falls to nothing comes later or earlier than that on a real body:
    hips still creep up during a hold, and a lowering ends with a slow settle.
    """
    a = track.hip_angle_deg
    t = track.t_s
    v = track.hip_speed_deg_s
    edges = shot_edges(t, cuts)
    found: list[tuple[Cycle, int]] = []  # each rep's cycle and the last frame it may use
    for lo, hi in itertools.pairwise(edges):
        machine = RepStateMachine(cfg)
        cycles = [c for i in range(lo, hi) if (c := machine.update(i, float(t[i]), float(a[i])))]
        if cycles and not seen_back_down(a[:hi], v[:hi], cycles[-1], cfg):
            cycles.pop()  # the shot ends while the hips are still on their way down: partial
        found += [
            (c, cycles[k + 1].valley if k + 1 < len(cycles) else hi - 1)
            for k, c in enumerate(cycles)
        ]
    reps: list[Rep] = []
    for c, right in found:
        lv = _levels(a, c, c.valley, right)
        t_start, t_top0, t_top1, t_end = _boundaries(t, a, lv, c.valley, right, cfg.boundary_share)
        held = top_frames(t, t_top0, t_top1)
        hip_top = float(np.nanmedian(a[held]))
        reps.append(
            Rep(
                index=len(reps) + 1,
                start_s=t_start,
                top_start_s=t_top0,
                top_end_s=t_top1,
                end_s=t_end,
                hip_angle_top_deg=hip_top,
                knee_angle_top_deg=_median_seen(track.knee_angle_deg[held]),
                range_deg=hip_top - min(lv.before, lv.after),
                confidence=float(np.median(track.confidence[held])),
                shin_tilt_top_deg=_median_seen(track.shin_tilt_deg[held]),
                shin_confidence=float(np.median(track.shin_confidence[held])),
            )
        )
    return reps
