"""Rep segmentation: a small state machine with hysteresis on the signed hip angle.

A rep is bottom -> concentric -> top -> eccentric -> bottom. Thresholds are relative to
each rep's own range, never to image heights or to the set's best rep: a lift starts when
the hip angle has risen `min_range_deg` above the lowest point since the last rep, and the
rep is complete when the angle is back within `bottom_return` of that rise above the
bottom. The two thresholds are far apart (hysteresis), so landmark jitter never counts, a
sagging rep that falls short of the others still counts (the very fault `top_alignment`
looks for), and a minimum duration rejects twitches. The same `RepStateMachine` runs frame
by frame in live mode; offline, `segment_reps` runs it over the whole track, finds first
boundaries with the angular speed, and then places them by fitting a model of the rep
(rest, eased rise, hold, eased fall, rest) to the angle (`_fit_rep` says why).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

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

    @property
    def valley_deg(self) -> float:
        """The lowest angle since the last rep (inf before any sample); live mode's phase."""
        return self._valley

    @property
    def peak_deg(self) -> float:
        """The highest angle since the lift (-inf while not lifted); live mode's phase."""
        return self._peak

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


def top_frames(t: NDArray[np.float64], top_start_s: float, top_end_s: float
               ) -> NDArray[np.intp]:
    """Indices into `t` (frame times, s) of the frames in the top hold; with no hold, or one
    shorter than a frame, the frame nearest its middle."""
    held = np.flatnonzero((t >= top_start_s - 1e-9) & (t <= top_end_s + 1e-9))
    if len(held) == 0:
        return np.array([int(np.argmin(np.abs(t - 0.5 * (top_start_s + top_end_s))))])
    return held


@dataclass(frozen=True)
class Rep:
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


# First guess of the rep boundaries (refined by `_fit_rep`, and kept when the fit fails):
# the hips count as stopped below this share of the rep's peak speed.
BOUNDARY_SPEED_SHARE = 0.15
# Moving for less than this (s) inside a hold is jitter, not the end of the pause.
HOLD_GAP_S = 0.25
# The rep model (`_fit_rep`) is fitted over the rep and up to this much rest (s) either
# side: enough to pin the resting level, not so much that a fidget far from the rep counts.
FIT_MARGIN_S = 0.6
# Shortest rise or fall the fit may return (s): faster is no lift a person makes.
MIN_PHASE_S = 0.1
# Landmark noise on the hip angle (deg): residuals beyond it are treated as outliers.
FIT_NOISE_DEG = 2.0
# A fit that moves the start or the end further than this (s) from the speed-threshold
# guess has locked onto something else: the guess is kept.
MAX_FIT_SHIFT_S = 1.0


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


def _ease(u: np.ndarray) -> np.ndarray:
    """Half-cosine ease on [0, 1]: zero speed at both ends (clipped outside)."""
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0)), dtype=np.float64)


def _rep_model(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The angle of one rep: rest at `a0`, eased rise to `top`, hold, eased fall to `a1`.

    `p` = (a0, top, a1, t0, rise_s, hold_s, fall_s): levels in degrees, times in seconds.
    """
    a0, top, a1, t0, rise, hold, fall = p
    t2 = t0 + rise + hold
    up = a0 + (top - a0) * _ease((t - t0) / rise)
    down = top + (a1 - top) * _ease((t - t2) / fall)
    return np.asarray(np.where(t < t2, up, down), dtype=np.float64)


def _fit_rep(t: np.ndarray, a: np.ndarray, lo: int, hi: int,
             guess: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """Rep boundaries (start, top_start, top_end, end; s) from a model fitted to the angle.

    Why a fit. A boundary found where the angular speed crosses a threshold is biased on
    any smooth movement: a body accelerates and decelerates, so the speed is still low for
    a while after the hips truly leave the bottom (the threshold fires late) and already
    low before they truly arrive (it fires early). On the eased movements the landmarks
    give, that made the start ~0.12 s late and the end ~0.11 s early, the lowering ~0.25 s
    short; and a hold whose landmarks wobble (a few deg/s of model jitter) was cut where
    the wobble crossed the threshold, down to no pause at all. Fitting the whole rep as
    rest -> eased rise -> hold -> eased fall -> rest uses the fast, well-measured middle of
    each movement to place its ends, where the speed itself is lost in the noise, and
    spreads a wobble of the hold over the whole hold instead of splitting it.

    The half-cosine ease (zero speed at both ends, speed peaking mid-way) is the simplest
    smooth point-to-point profile. Were a movement minimum-jerk instead (flatter ends),
    the fitted ends would lie ~7% of its duration inside it (0.07 s on a 1 s lift): still
    closer than a speed threshold. A soft-L1 loss keeps a landmark glitch from dragging
    the fit.

    The boundaries are where the movement truly starts and stops (zero speed), as the
    generated clips' exact labels define them. A person labelling a real video marks where
    movement becomes visible, a little inside these: on the hand-labelled real clips the
    labelled onsets are ~0.1 s later than the fitted ones and the stops earlier.

    `lo`..`hi`: the frames to fit (the rep and some rest either side); `guess`: the
    threshold-based boundaries, the starting point. None when the fit fails or moves the
    start or the end by more than `MAX_FIT_SHIFT_S` (a rep that does not look like a rep).
    """
    seg = slice(lo, hi + 1)
    ts, ys = t[seg], a[seg]
    ok = ~np.isnan(ys)
    if ok.sum() < 8:
        return None
    ts, ys = ts[ok], ys[ok]
    s0, s1, s2, s3 = guess
    rise0, fall0 = max(s1 - s0, MIN_PHASE_S), max(s3 - s2, MIN_PHASE_S)
    i1 = int(np.searchsorted(ts, s1))
    i2 = int(np.searchsorted(ts, s2, side="right"))
    top0 = float(np.median(ys[max(0, min(i1, i2 - 1)):max(i1 + 1, i2)]))
    x0 = np.array([float(ys[0]), top0, float(ys[-1]), s0, rise0, max(s2 - s1, 0.0), fall0])
    span = float(np.ptp(ys)) or 1.0
    lower = [-np.inf, -np.inf, -np.inf, ts[0] - 1.0, MIN_PHASE_S, 0.0, MIN_PHASE_S]
    upper = [np.inf, np.inf, np.inf, ts[-1], ts[-1] - ts[0], ts[-1] - ts[0], ts[-1] - ts[0]]
    x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    try:
        fit = least_squares(
            lambda p: (_rep_model(p, ts) - ys) / span, x0, bounds=(lower, upper),
            loss="soft_l1", f_scale=FIT_NOISE_DEG / span,
        )
    except ValueError:
        return None
    if not fit.success:
        return None
    _, _, _, t0, rise, hold, fall = (float(v) for v in fit.x)
    # Within the fitted frames, so that a rep never reaches into its neighbour.
    t_lo, t_hi = float(ts[0]), float(ts[-1])
    out = tuple(float(np.clip(x, t_lo, t_hi))
                for x in (t0, t0 + rise, t0 + rise + hold, t0 + rise + hold + fall))
    # Only the outer boundaries are checked against the guess: a wobble in the hold may
    # have cut the guessed hold short, and correcting that is what the fit is for.
    if max(abs(out[0] - s0), abs(out[3] - s3)) > MAX_FIT_SHIFT_S:
        return None
    return out[0], out[1], out[2], out[3]


# A rep is seen back at the bottom when, after the state machine completes it, the hips come
# within this share of its rise of the starting level, or stop (turn round into the next
# lift, or settle). Only the clip's last rep can fail this: the clip cut it off mid-lowering.
BOTTOM_SEEN_SHARE = 0.2


def _seen_back_down(a: np.ndarray, v: np.ndarray, c: Cycle, cfg: RepConfig) -> bool:
    """True when the frames from cycle `c`'s completion on show the hips back at the bottom
    (see `BOTTOM_SEEN_SHARE`); False when the clip ends while they are still lowering."""
    valley = float(a[c.valley])
    low = valley + BOTTOM_SEEN_SHARE * (float(a[c.peak]) - valley)
    after_a, after_v = a[c.bottom:], v[c.bottom:]
    with np.errstate(invalid="ignore"):
        return bool(np.any(after_a <= low) or np.any(after_v > -cfg.still_speed_floor_deg_s))


def _provisional(t: np.ndarray, a: np.ndarray, v: np.ndarray, cfg: RepConfig,
                 cycles: list[Cycle]) -> list[tuple[int, int, int, int]]:
    """(start, hold first, hold last, end) frames of each cycle from speed thresholds."""
    out = []
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
        out.append((start, h0, h1, end))
        prev_end = end
    return out


def segment_reps(track: PoseTrack, cfg: RepConfig) -> list[Rep]:
    """All complete reps in an offline track.

    The state machine finds the reps; speed thresholds give first boundaries; a model of
    the rep fitted to the angle then places them (see `_fit_rep` for why).
    """
    a = track.hip_angle_deg
    t = track.t_s
    v = track.hip_speed_deg_s
    machine = RepStateMachine(cfg)
    cycles = [c for i in range(len(t)) if (c := machine.update(i, float(t[i]), float(a[i])))]
    if cycles and not _seen_back_down(a, v, cycles[-1], cfg):
        cycles.pop()  # the clip ends while the hips are still on their way down: partial
    frames = _provisional(t, a, v, cfg, cycles)
    reps: list[Rep] = []
    for k, (start, h0, h1, end) in enumerate(frames):
        # Fit over the rep and the rest either side, never into a neighbouring rep.
        lo = frames[k - 1][3] if k > 0 else 0
        hi = frames[k + 1][0] if k + 1 < len(frames) else len(t) - 1
        lo = max(lo, int(np.searchsorted(t, t[start] - FIT_MARGIN_S)))
        hi = min(hi, int(np.searchsorted(t, t[end] + FIT_MARGIN_S)))
        guess = (float(t[start]), float(t[h0]), float(t[h1]), float(t[end]))
        times = _fit_rep(t, a, lo, hi, guess) or guess
        # The fitted times may fall between frames and a little outside the data.
        t_start, t_top0, t_top1, t_end = (float(np.clip(x, t[0], t[-1])) for x in times)
        held = top_frames(t, t_top0, t_top1)
        hip_top = float(np.nanmedian(a[held]))
        i_start = int(np.argmin(np.abs(t - t_start)))
        i_end = int(np.argmin(np.abs(t - t_end)))
        rep_bottom = float(np.nanmin([a[i_start], a[i_end]]))
        reps.append(
            Rep(
                index=len(reps) + 1,
                start_s=t_start,
                top_start_s=t_top0,
                top_end_s=t_top1,
                end_s=t_end,
                hip_angle_top_deg=hip_top,
                knee_angle_top_deg=float(np.nanmedian(track.knee_angle_deg[held])),
                range_deg=hip_top - rep_bottom,
                confidence=float(np.median(track.confidence[held])),
                shin_tilt_top_deg=float(np.nanmedian(track.shin_tilt_deg[held])),
                shin_confidence=float(np.median(track.shin_confidence[held])),
            )
        )
    return reps
