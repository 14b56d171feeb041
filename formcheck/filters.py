"""Signal filters for landmark and angle tracks: gap filling, zero-phase low-pass, One-Euro.

Missing samples are NaN throughout. Offline analysis uses `fill_gaps` then `lowpass`
(zero-phase, so peaks and turning points keep their timing); live coaching uses the causal
`OneEuroFilter` (Casiez et al., CHI 2012).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter
from scipy.signal import butter, sosfiltfilt

Float = NDArray[np.float64]


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, stop) index ranges where `mask` is True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def fill_gaps(t_s: Float, x: Float, max_gap_s: float) -> Float:
    """Linearly interpolate NaN runs of `x` that last at most `max_gap_s` seconds.

    A gap is measured between the valid samples on either side. Gaps at the ends and longer
    gaps stay NaN: the track says "missing" rather than invent data.
    """
    x = np.array(x, dtype=np.float64)
    nan = np.isnan(x)
    if not nan.any() or nan.all():
        return x
    for start, stop in _runs(nan):
        if start == 0 or stop == len(x):
            continue
        if t_s[stop] - t_s[start - 1] <= max_gap_s + 1e-9:
            x[start:stop] = np.interp(
                t_s[start:stop], [t_s[start - 1], t_s[stop]], [x[start - 1], x[stop]]
            )
    return x


def lowpass(t_s: Float, x: Float, cutoff_hz: float, order: int = 2) -> Float:
    """Zero-phase Butterworth low-pass of `x`, applied to each NaN-free run separately.

    The sampling rate is the median rate of `t_s` (frames per second); runs too short to
    filter are returned unchanged.
    """
    out = np.array(x, dtype=np.float64)
    x = out.copy()
    if len(t_s) < 2:
        return out
    dt = float(np.median(np.diff(t_s)))
    if dt <= 0:
        return out
    fs = 1.0 / dt
    if cutoff_hz >= fs / 2:
        return out
    sos = butter(order, cutoff_hz, btype="low", fs=fs, output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    for start, stop in _runs(~np.isnan(x)):
        if stop - start > padlen:
            out[start:stop] = np.asarray(sosfiltfilt(sos, x[start:stop]))
    return out


def despike(t_s: Float, x: Float, window_s: float) -> Float:
    """Running median over `window_s` seconds, on each NaN-free run separately.

    Removes landmark glitches shorter than half the window (a hip that jumps for a few
    frames) while keeping ramps and plateaus, and so the timing of real movements. At the
    ends of a run the window reaches past them onto the straight line that best fits the
    run's first (last) two windows of samples, robustly (`_robust_line`): a ramp keeps its end
    values, and a tracker's wrong first frames (a pose found in the wrong place before it
    locks on) are removed like any other glitch. Repeating the end sample instead would
    keep such a glitch.
    """
    out = np.array(x, dtype=np.float64)
    if len(t_s) < 3:
        return out
    dt = float(np.median(np.diff(t_s)))
    size = round(window_s / dt) if dt > 0 else 1
    size += 1 - size % 2  # odd, centred
    if size < 3:
        return out
    half = size // 2
    for start, stop in _runs(~np.isnan(out)):
        if stop - start >= size:
            run = out[start:stop]
            fit = min(len(run), 2 * size)  # two windows: a few wild samples are a minority
            ahead = _robust_line(run[:fit], np.arange(-half, 0))
            behind = _robust_line(run[-fit:], np.arange(fit, fit + half))
            padded = np.concatenate([ahead, run, behind])
            out[start:stop] = median_filter(padded, size=size, mode="nearest")[half:-half]
    return out


def _robust_line(y: Float, at: NDArray[np.int_]) -> Float:
    """The Theil-Sen line through `y` (samples 0, 1, ... n-1), evaluated at sample positions
    `at`: the median of the pairwise slopes and the median intercept, so a few wild samples
    among them do not move it."""
    i, j = np.triu_indices(len(y), k=1)
    slope = float(np.median((y[j] - y[i]) / (j - i)))
    intercept = float(np.median(y - slope * np.arange(len(y))))
    return intercept + slope * at.astype(np.float64)


def off_scale(t_s: Float, size: Float, window_s: float, max_ratio: float) -> NDArray[np.bool_]:
    """Samples whose `size` (a body segment's length) is over `max_ratio` times, or under
    1/`max_ratio` of, the median of the valid samples within `window_s` / 2 seconds around.

    A person's torso keeps its length in pixels from one second to the next (a zoom or a
    step towards the camera changes it slowly); a pose of a tenth or a third of that size is
    not that person but the model's guess at something else (a passer-by's limbs, a shape
    in the background before it locks on again). NaN samples are never off scale.
    """
    size = np.asarray(size, dtype=np.float64)
    out = np.zeros(len(size), dtype=bool)
    valid = np.flatnonzero(np.isfinite(size) & (size > 0))
    if len(valid) < 3:
        return out
    t = np.asarray(t_s, dtype=np.float64)[valid]
    v = size[valid]
    lo = np.searchsorted(t, t - window_s / 2, side="left")
    hi = np.searchsorted(t, t + window_s / 2, side="right")
    typical = np.array([np.median(v[a:b]) for a, b in zip(lo, hi, strict=True)])
    ratio = v / typical
    out[valid] = (ratio > max_ratio) | (ratio < 1.0 / max_ratio)
    return out


def facing_back(lean: Float, min_lean: float, min_share: float) -> NDArray[np.bool_]:
    """Samples that lean the other way from most of the samples that lean clearly.

    `lean` is a segment's horizontal extent over its length (shoulder x minus hip x, over
    the torso's length: -1 to 1, 0 upright). A sample leans clearly when |lean| is at least
    `min_lean`. When `min_share` or more of those lean one way, the ones that lean clearly
    the other way are flagged: a lifter seen side-on keeps their head on one side of their
    hips for a whole shot, so a torso pointing the other way is the model reading something
    else as the body (the thighs as a mirrored torso, before it finds the lifter). With no
    clear majority (a front view, two sets facing each way) nothing is flagged. NaN samples
    are never flagged.
    """
    lean = np.asarray(lean, dtype=np.float64)
    clear = np.isfinite(lean) & (np.abs(lean) >= min_lean)
    ahead = int(np.count_nonzero(clear & (lean > 0)))
    total = int(np.count_nonzero(clear))
    if total == 0:
        return np.zeros(len(lean), dtype=bool)
    if ahead >= min_share * total:
        return clear & (lean < 0)
    if total - ahead >= min_share * total:
        return clear & (lean > 0)
    return np.zeros(len(lean), dtype=bool)


def far_from(size: Float, reference: NDArray[np.bool_], max_ratio: float) -> NDArray[np.bool_]:
    """Samples whose `size` is over `max_ratio` times, or under 1/`max_ratio` of, the median
    size of the `reference` samples (all valid samples when no reference sample is valid).

    `off_scale` compares a sample with the seconds around it, so a wrong pose that lasts
    longer than half its window passes it; this compares with the shot's lifter (the
    reference: the samples that face the shot's way), so a guess of half the lifter's size
    is caught however long it lasts. A zoom within the shot changes the size by less than
    `max_ratio`. NaN samples are never flagged.
    """
    size = np.asarray(size, dtype=np.float64)
    valid = np.isfinite(size) & (size > 0)
    pool = size[valid & reference] if (valid & reference).any() else size[valid]
    out = np.zeros(len(size), dtype=bool)
    if len(pool) == 0:
        return out
    ratio = size[valid] / float(np.median(pool))
    out[valid] = (ratio > max_ratio) | (ratio < 1.0 / max_ratio)
    return out


#: Jumps are measured per this long a step (s): the analysis grid's (about 15 frames a second).
JUMP_STEP_S = 1.0 / 15.0


def jump_share(t_s: Float, xy_px: Float, scale_px: float, max_jump: float) -> float:
    """The share of steps between consecutive seen samples in which a point (`xy_px`,
    (T, 2) pixels, NaN where not seen) moves more than `max_jump` times `scale_px`, the
    move taken per `JUMP_STEP_S` (a step twice as long may move twice as far). 0.0 with
    fewer than two seen samples in a row.

    A point that should barely move (the knee of a lifter whose feet are planted) and
    jumps is a pose model that has lost it, whatever the smoothing makes of it later.
    """
    t = np.asarray(t_s, dtype=np.float64)
    xy = np.asarray(xy_px, dtype=np.float64)
    seen = np.asarray(np.isfinite(xy).all(axis=1), dtype=bool)
    steps = seen[1:] & seen[:-1]
    if not steps.any() or not scale_px > 0:
        return 0.0
    move = np.linalg.norm(np.diff(xy, axis=0), axis=1)[steps]
    dt = np.maximum(np.diff(t)[steps], 1e-3)
    return float(np.mean(move / scale_px * (JUMP_STEP_S / dt) > max_jump))


def derivative(t_s: Float, x: Float) -> Float:
    """dx/dt by central differences on the (possibly non-uniform) time grid; NaN stays NaN."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return np.full_like(x, np.nan)
    return np.asarray(np.gradient(x, t_s), dtype=np.float64)


class OneEuroFilter:
    """Causal One-Euro filter for one scalar signal (Casiez, Roussel, Vogel 2012).

    Args:
        min_cutoff_hz: cutoff at rest; lower removes more jitter but adds lag.
        beta: how fast the cutoff rises with speed; higher cuts lag during fast moves.
        d_cutoff_hz: cutoff of the speed estimate.
    NaN input returns NaN and leaves the state untouched (the next valid sample resumes).
    """

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float = 1.0) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._t: float | None = None
        self._x = 0.0
        self._dx = 0.0

    @staticmethod
    def _alpha(cutoff_hz: float, dt: float) -> float:
        tau = 1.0 / (2.0 * math.pi * cutoff_hz)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, t_s: float, x: float) -> float:
        if math.isnan(x):
            return math.nan
        if self._t is None or t_s <= self._t:
            self._t, self._x, self._dx = t_s, x, 0.0
            return x
        dt = t_s - self._t
        dx = (x - self._x) / dt
        self._dx += self._alpha(self.d_cutoff_hz, dt) * (dx - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * abs(self._dx)
        self._x += self._alpha(cutoff, dt) * (x - self._x)
        self._t = t_s
        return self._x

    def reset(self) -> None:
        self._t = None
