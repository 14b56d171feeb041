"""Rep segmentation: a small state machine with hysteresis on the signed hip angle.

A rep is bottom -> concentric -> top -> eccentric -> bottom. Thresholds are relative to
each rep's own range, never to image heights or to the set's best rep: a lift starts when
the hip angle has risen `min_range_deg` above the lowest point since the last rep, and the
rep is complete when the angle is back within `bottom_return` of that rise above the
bottom. The two thresholds are far apart (hysteresis), so landmark jitter never counts, a
sagging rep that falls short of the others still counts (the very fault `top_alignment`
looks for), and a minimum duration rejects twitches. The same `RepStateMachine` runs frame
by frame in live mode; offline, `segment_reps` runs it over the whole track and then refines
each rep's boundaries with the angular speed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from formcheck.config import RepConfig
from formcheck.track import PoseTrack


class Phase(str, Enum):
    """Where the lifter is in the rep cycle."""

    BOTTOM = "bottom"
    CONCENTRIC = "concentric"
    TOP = "top"
    ECCENTRIC = "eccentric"


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
# Moving for less than this (s) inside a hold is jitter, not the end of the pause.
HOLD_GAP_S = 0.25


def _hold(t: np.ndarray, a: np.ndarray, v: np.ndarray, lo: int, hi: int, floor_deg: float,
          still: float) -> tuple[int, int]:
    """First and last frame of the top hold within frames [lo, hi].

    The hold is the run of frames where the hips are still (|speed| < `still` deg/s) and
    high (angle >= `floor_deg`) that contains the highest still frame. Moving stretches
    shorter than `HOLD_GAP_S` inside it are landmark jitter and do not split it. The highest
    frame overall is not used as the seed: at a low frame rate it may still carry the lift's
    speed. With no still frame, the hold is the single highest frame (no pause).
    """
    window = np.arange(lo, hi + 1)
    high = a[window] >= floor_deg
    held = (np.abs(v[window]) < still) & high
    if not held.any():
        peak = lo + int(np.nanargmax(a[lo:hi + 1]))
        return peak, peak
    # Close short gaps between still stretches (while the hips stay high).
    idx = np.flatnonzero(held)
    for p, q in itertools.pairwise(idx):
        if q - p > 1 and t[lo + q] - t[lo + p] <= HOLD_GAP_S and high[p:q].all():
            held[p:q] = True
    candidates = window[held]
    k = int(candidates[np.nanargmax(a[candidates])]) - lo
    first = last = k
    while first - 1 >= 0 and held[first - 1]:
        first -= 1
    while last + 1 < len(window) and held[last + 1]:
        last += 1
    return lo + first, lo + last


def _still_threshold(cfg: RepConfig, rise_deg_s: float, fall_deg_s: float) -> float:
    """Speed (deg/s) below which this rep's hips count as held still.

    A share of the rep's own peak speed, so that the slow start of a slow lowering is not
    counted as pause; capped by `still_speed_deg_s` and floored above landmark jitter.
    """
    own = cfg.still_speed_share * min(rise_deg_s, fall_deg_s)
    return float(np.clip(own, cfg.still_speed_floor_deg_s, cfg.still_speed_deg_s))


def segment_reps(track: PoseTrack, cfg: RepConfig) -> list[Rep]:
    """All complete reps in an offline track, boundaries refined with the angular speed."""
    a = track.hip_angle_deg
    t = track.t_s
    v = track.hip_speed_deg_s
    machine = RepStateMachine(cfg)
    cycles = [c for i in range(len(t)) if (c := machine.update(i, float(t[i]), float(a[i])))]
    reps: list[Rep] = []
    prev_end = 0
    for k, c in enumerate(cycles):
        next_valley = cycles[k + 1].valley if k + 1 < len(cycles) else len(t) - 1
        rise = float(np.nanmax(v[c.valley:c.peak + 1], initial=0.0))
        fall = float(-np.nanmin(v[c.peak:c.bottom + 1], initial=0.0))
        # A boundary is where the hips stop moving: speed below a floor that scales with the
        # rep's own peak speed, so a slow settle after touch-down does not stretch the rep.
        start_floor = max(cfg.still_speed_floor_deg_s, BOUNDARY_SPEED_SHARE * rise)
        end_floor = max(cfg.still_speed_floor_deg_s, BOUNDARY_SPEED_SHARE * fall)
        start = c.lift
        while start - 1 > max(prev_end, c.valley - 1) and v[start - 1] > start_floor:
            start -= 1
        end = c.bottom
        while end + 1 < next_valley and v[end + 1] < -end_floor:
            end += 1
        valley_deg = float(a[c.valley])
        floor = valley_deg + cfg.top_share * (float(a[c.peak]) - valley_deg)
        h0, h1 = _hold(t, a, v, c.lift, c.bottom, floor, _still_threshold(cfg, rise, fall))
        held = slice(h0, h1 + 1)
        hip_top = float(np.nanmedian(a[held]))
        rep_bottom = float(np.nanmin([a[start], a[end]]))
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
