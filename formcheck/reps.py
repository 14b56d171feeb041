"""Rep segmentation: a small state machine with hysteresis on the signed hip angle.

The angle is normalised to the person's own range (0 = their bottom, 1 = their top), so
thresholds never depend on image size, camera distance or how deep this person goes.
A rep is bottom -> concentric -> top -> eccentric -> bottom. Separate enter/exit thresholds
(hysteresis) stop jitter from counting, and a minimum duration and range reject twitches.
The same `RepStateMachine` runs frame by frame in live mode; offline, `segment_reps` runs it
over the whole track and then refines each rep's boundaries with the angular speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from formcheck.config import RepConfig
from formcheck.track import PoseTrack


class Phase(str, Enum):
    """Where the lifter is in the rep cycle."""

    UNKNOWN = "unknown"  # not yet seen at the bottom (e.g. the clip starts mid-rep)
    BOTTOM = "bottom"
    CONCENTRIC = "concentric"
    TOP = "top"
    ECCENTRIC = "eccentric"


@dataclass(frozen=True)
class Cycle:
    """Frame indices where the normalised angle crossed the state machine's thresholds."""

    lift: int  # crossed bottom_exit going up
    top_enter: int  # crossed top_enter
    top_exit: int  # crossed top_exit going down
    bottom: int  # crossed bottom_enter going down: the rep is complete


class RepStateMachine:
    """Feeds on one normalised hip-angle value per frame (0 bottom, 1 top; NaN missing).

    `update` returns a `Cycle` on the frame that completes a rep, else None. Missing frames
    leave the state unchanged. A lift that falls back to the bottom without reaching the
    top is dropped (a partial rep), and so is a cycle shorter than `min_rep_s`.
    """

    def __init__(self, cfg: RepConfig) -> None:
        self.cfg = cfg
        self.phase = Phase.UNKNOWN
        self._lift = -1
        self._lift_t = 0.0
        self._top_enter = -1
        self._top_exit = -1

    def reset(self) -> None:
        self.phase = Phase.UNKNOWN

    def update(self, i: int, t_s: float, x: float) -> Cycle | None:
        cfg = self.cfg
        if math.isnan(x):
            return None
        p = self.phase
        if p is Phase.UNKNOWN:
            if x < cfg.bottom_exit:
                self.phase = Phase.BOTTOM
        elif p is Phase.BOTTOM:
            if x > cfg.bottom_exit:
                self.phase, self._lift, self._lift_t = Phase.CONCENTRIC, i, t_s
        elif p is Phase.CONCENTRIC:
            if x > cfg.top_enter:
                self.phase, self._top_enter = Phase.TOP, i
            elif x < cfg.bottom_enter:
                self.phase = Phase.BOTTOM  # partial rep: never reached the top
        elif p is Phase.TOP:
            if x < cfg.top_exit:
                self.phase, self._top_exit = Phase.ECCENTRIC, i
        elif p is Phase.ECCENTRIC:
            if x > cfg.top_enter:
                self.phase = Phase.TOP  # pushed back up: still the same top
            elif x < cfg.bottom_enter:
                self.phase = Phase.BOTTOM
                if t_s - self._lift_t >= cfg.min_rep_s:
                    return Cycle(self._lift, self._top_enter, self._top_exit, i)
        return None


@dataclass(frozen=True)
class Rep:
    """One complete rep, times in seconds from the start of the clip.

    `start_s`: hips leave the bottom; `top_start_s`..`top_end_s`: the hips held still at
    the top (equal when there is no hold); `end_s`: hips back at the bottom.
    Angles in degrees measured over the hold (signed hip angle: 180 straight).
    `confidence` is the median landmark confidence over the top, in [0, 1].
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

    def __post_init__(self) -> None:
        if not self.start_s <= self.top_start_s <= self.top_end_s <= self.end_s:
            raise ValueError(f"rep {self.index}: times out of order")

    @property
    def concentric_s(self) -> float:
        return self.top_start_s - self.start_s

    @property
    def pause_s(self) -> float:
        return self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float:
        return self.end_s - self.top_end_s

    def phase_at(self, t_s: float) -> Phase | None:
        """The phase of this rep at time `t_s`, or None outside the rep."""
        if t_s < self.start_s or t_s > self.end_s:
            return None
        if t_s < self.top_start_s:
            return Phase.CONCENTRIC
        if t_s <= self.top_end_s:
            return Phase.TOP
        return Phase.ECCENTRIC


# Rep boundaries: the hips count as stopped below this share of the rep's peak speed.
BOUNDARY_SPEED_SHARE = 0.15


def own_range_deg(angle_deg: np.ndarray) -> tuple[float, float]:
    """The person's bottom and top hip angle: robust 5th and 95th percentiles (degrees)."""
    valid = angle_deg[~np.isnan(angle_deg)]
    if len(valid) == 0:
        return math.nan, math.nan
    return float(np.percentile(valid, 5)), float(np.percentile(valid, 95))


def _hold(track: PoseTrack, lo: int, hi: int, floor_deg: float, still: float) -> tuple[int, int]:
    """First and last frame of the top hold within frames [lo, hi].

    The hold is the run of frames where the hips are still (|speed| < `still` deg/s) and
    high (angle >= `floor_deg`) that contains the highest still frame. The highest frame
    overall is not used as the seed: at a low frame rate it may still carry the lift's speed.
    With no still frame, the hold is the single highest frame (no pause).
    """
    a, v = track.hip_angle_deg, track.hip_speed_deg_s
    window = np.arange(lo, hi + 1)
    held = (np.abs(v[window]) < still) & (a[window] >= floor_deg)
    if not held.any():
        peak = lo + int(np.nanargmax(a[lo:hi + 1]))
        return peak, peak
    candidates = window[held]
    seed = int(candidates[np.nanargmax(a[candidates])])
    k = seed - lo
    first = last = k
    while first - 1 >= 0 and held[first - 1]:
        first -= 1
    while last + 1 < len(window) and held[last + 1]:
        last += 1
    return lo + first, lo + last


def segment_reps(track: PoseTrack, cfg: RepConfig) -> list[Rep]:
    """All complete reps in an offline track, boundaries refined with the angular speed."""
    a = track.hip_angle_deg
    t = track.t_s
    v = track.hip_speed_deg_s
    bottom, top = own_range_deg(a)
    if math.isnan(bottom) or top - bottom < cfg.min_range_deg:
        return []
    x = (a - bottom) / (top - bottom)
    machine = RepStateMachine(cfg)
    cycles = [c for i in range(len(t)) if (c := machine.update(i, float(t[i]), float(x[i])))]
    reps: list[Rep] = []
    prev_end = 0
    for k, c in enumerate(cycles):
        next_lift = cycles[k + 1].lift if k + 1 < len(cycles) else len(t) - 1
        # A boundary is where the hips stop moving: speed below a floor that scales with the
        # rep's own peak speed, so a slow settle after touch-down does not stretch the rep.
        rise = float(np.nanmax(v[c.lift:c.top_enter + 1], initial=0.0))
        fall = float(-np.nanmin(v[c.top_exit:c.bottom + 1], initial=0.0))
        start_floor = max(0.5 * cfg.still_speed_deg_s, BOUNDARY_SPEED_SHARE * rise)
        end_floor = max(0.5 * cfg.still_speed_deg_s, BOUNDARY_SPEED_SHARE * fall)
        start = c.lift
        while start - 1 > prev_end and v[start - 1] > start_floor:
            start -= 1
        end = c.bottom
        while end + 1 < next_lift and v[end + 1] < -end_floor:
            end += 1
        floor = bottom + cfg.top_exit * (top - bottom)
        h0, h1 = _hold(track, c.lift, c.bottom, floor, cfg.still_speed_deg_s)
        held = slice(h0, h1 + 1)
        rep_bottom = float(np.nanmin([a[start], a[end]]))
        hip_top = float(np.nanmedian(a[held]))
        if hip_top - rep_bottom < cfg.min_range_deg:
            prev_end = end
            continue
        reps.append(
            Rep(
                index=len(reps) + 1,
                start_s=float(t[start]),
                top_start_s=float(t[h0]),
                top_end_s=float(t[h1]),
                end_s=float(t[end]),
                hip_angle_top_deg=hip_top,
                knee_angle_top_deg=float(np.nanmedian(track.knee_angle_deg[held])),
                range_deg=hip_top - rep_bottom,
                confidence=float(np.median(track.confidence[held])),
            )
        )
        prev_end = end
    return reps
