"""Signal filters: gap filling, the zero-phase low-pass, the derivative, the One-Euro filter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from formcheck.config import TrackConfig
from formcheck.filters import (
    OneEuroFilter,
    derivative,
    despike,
    facing_back,
    far_from,
    fill_gaps,
    lowpass,
    off_scale,
)

FPS = 30.0
CUTOFF_HZ = TrackConfig().cutoff_hz


def _t(n: int, fps: float = FPS) -> np.ndarray:
    return np.arange(n) / fps


# --- fill_gaps -------------------------------------------------------------------------


def _gap_signal(gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Valid samples at 0, 1 s and 1 s + gap_s (+ more), NaN samples inside the gap."""
    inner = np.linspace(1.0, 1.0 + gap_s, 6)[1:-1]
    t = np.concatenate([[0.0, 1.0], inner, [1.0 + gap_s, 1.0 + gap_s + 0.5]])
    x = np.concatenate([[5.0, 10.0], np.full(len(inner), np.nan), [20.0, 21.0]])
    return t, x


@pytest.mark.parametrize("delta_s", [-1e-3, 0.0])
def test_fill_gaps_fills_gaps_up_to_the_limit(delta_s: float) -> None:
    max_gap_s = TrackConfig().max_gap_s
    t, x = _gap_signal(max_gap_s + delta_s)
    out = fill_gaps(t, x, max_gap_s)
    # Linear between the valid neighbours (10 at t=1 s, 20 at the far side of the gap).
    expected = 10.0 + 10.0 * (t[2:-2] - 1.0) / (t[-2] - 1.0)
    np.testing.assert_allclose(out[2:-2], expected)
    np.testing.assert_array_equal(out[[0, 1, -2, -1]], x[[0, 1, -2, -1]])


def test_fill_gaps_leaves_a_gap_just_over_the_limit() -> None:
    max_gap_s = TrackConfig().max_gap_s
    t, x = _gap_signal(max_gap_s + 1e-3)
    out = fill_gaps(t, x, max_gap_s)
    assert np.isnan(out[2:-2]).all()
    np.testing.assert_array_equal(out[[0, 1, -2, -1]], x[[0, 1, -2, -1]])


def test_fill_gaps_measures_on_uniform_frames() -> None:
    """At 30 fps, 11 missing frames span 12 intervals = 0.4 s: filled; 12 missing: not."""
    t = _t(60)
    for missing, filled in ((11, True), (12, False)):
        x = np.arange(60, dtype=np.float64)
        x[20 : 20 + missing] = np.nan
        out = fill_gaps(t, x, 0.4)
        if filled:
            np.testing.assert_allclose(out, np.arange(60))
        else:
            assert np.isnan(out[20 : 20 + missing]).all()


def test_fill_gaps_never_fills_the_ends() -> None:
    t = _t(20)
    x = np.arange(20, dtype=np.float64)
    x[:3] = np.nan
    x[-2:] = np.nan
    out = fill_gaps(t, x, max_gap_s=10.0)
    assert np.isnan(out[:3]).all()
    assert np.isnan(out[-2:]).all()
    np.testing.assert_array_equal(out[3:-2], x[3:-2])


def test_fill_gaps_all_nan_none_nan_and_no_mutation() -> None:
    t = _t(5)
    all_nan = np.full(5, np.nan)
    assert np.isnan(fill_gaps(t, all_nan, 1.0)).all()
    clean = np.arange(5, dtype=np.float64)
    np.testing.assert_array_equal(fill_gaps(t, clean, 1.0), clean)
    holed = np.array([0.0, np.nan, 2.0, np.nan, 4.0])
    out = fill_gaps(t, holed, 1.0)
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0, 3.0, 4.0])
    assert np.isnan(holed[[1, 3]]).all(), "the input must not be modified"


# --- lowpass ---------------------------------------------------------------------------


def _interior(n: int) -> slice:
    """Skip a second at each end, where any filter has edge effects."""
    return slice(int(FPS), n - int(FPS))


def test_lowpass_keeps_a_slow_sine() -> None:
    t = _t(300)
    slow = 20.0 * np.sin(2 * np.pi * 0.5 * t)  # a hip thrust cycle is slower than 1 Hz
    out = lowpass(t, slow, CUTOFF_HZ)
    inner = _interior(len(t))
    np.testing.assert_allclose(out[inner], slow[inner], atol=0.2)


def test_lowpass_removes_high_frequency_noise() -> None:
    t = _t(300)
    slow = 20.0 * np.sin(2 * np.pi * 0.5 * t)
    jitter = 2.0 * np.sin(2 * np.pi * 10.0 * t) + np.random.default_rng(0).normal(0, 1.0, len(t))
    out = lowpass(t, slow + jitter, CUTOFF_HZ)
    inner = _interior(len(t))
    residual = out[inner] - slow[inner]
    assert np.std(residual) < 0.25 * np.std(jitter[inner])


def test_lowpass_is_zero_phase() -> None:
    """The peak keeps its time (within a frame); a causal filter of the same order would not."""
    t = _t(180)
    bump = 60.0 * np.exp(-0.5 * ((t - 3.0) / 0.4) ** 2)
    out = lowpass(t, bump, CUTOFF_HZ)
    assert abs(int(np.argmax(out)) - int(np.argmax(bump))) <= 1
    # The check above can fail: a causal Butterworth delays the same peak by frames.
    causal = sosfilt(butter(2, CUTOFF_HZ, fs=FPS, output="sos"), bump)
    assert int(np.argmax(causal)) - int(np.argmax(bump)) >= 2


def test_lowpass_filters_each_nan_run_on_its_own() -> None:
    t = _t(200)
    x = 10.0 * np.sin(2 * np.pi * 0.5 * t)
    x[90:110] = np.nan  # a long gap in the middle
    x[195:] = np.nan
    x[2:5] = 100.0  # a spike in the first run must not leak into the second
    out = lowpass(t, x, CUTOFF_HZ)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
    clean = 10.0 * np.sin(2 * np.pi * 0.5 * t)
    np.testing.assert_allclose(out[140:180], clean[140:180], atol=0.2)


def test_lowpass_leaves_runs_too_short_to_filter() -> None:
    t = _t(40)
    x = np.full(40, np.nan)
    x[10:15] = [1.0, 5.0, 1.0, 5.0, 1.0]
    out = lowpass(t, x, CUTOFF_HZ)
    np.testing.assert_array_equal(out[10:15], x[10:15])
    assert np.isnan(out[:10]).all() and np.isnan(out[15:]).all()


# --- derivative ------------------------------------------------------------------------


def test_derivative_of_a_line_and_a_parabola_on_an_uneven_grid() -> None:
    t = np.cumsum(np.r_[0.0, np.random.default_rng(1).uniform(0.02, 0.05, 50)])
    np.testing.assert_allclose(derivative(t, 3.0 * t + 1.0), 3.0)
    # Second-order central differences are exact for a parabola inside the grid.
    np.testing.assert_allclose(derivative(t, t**2)[1:-1], 2.0 * t[1:-1])


def test_derivative_keeps_missing_samples_missing() -> None:
    t = _t(10)
    x = np.arange(10, dtype=np.float64)
    x[5] = np.nan
    out = derivative(t, x)
    assert np.isnan(out[5])
    finite = [0, 1, 2, 3, 7, 8, 9]  # not next to the gap
    np.testing.assert_allclose(out[finite], FPS)


def test_derivative_of_a_single_sample_is_missing() -> None:
    assert np.isnan(derivative(np.array([0.0]), np.array([1.0]))).all()


# --- OneEuroFilter ---------------------------------------------------------------------


def _run(f: OneEuroFilter, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.array([f(float(ti), float(xi)) for ti, xi in zip(t, x, strict=True)])


def test_one_euro_converges_to_a_constant() -> None:
    cfg = TrackConfig()
    f = OneEuroFilter(cfg.one_euro_min_cutoff_hz, cfg.one_euro_beta)
    t = _t(150)
    x = np.where(t < 1.0, 0.0, 10.0)  # a step, then a long constant
    out = _run(f, t, x)
    assert out[0] == 0.0
    assert 0.0 < out[int(FPS)] < 10.0, "a step is smoothed, not copied"
    assert out[-1] == pytest.approx(10.0, abs=1e-3)


def test_one_euro_lags_less_with_higher_beta() -> None:
    t = _t(90)
    ramp = 100.0 * t  # deg/s: a fast hip movement
    lag = {
        beta: float(ramp[-1] - _run(OneEuroFilter(1.0, beta), t, ramp)[-1])
        for beta in (0.0, 0.05, 1.0)
    }
    assert lag[0.0] > lag[0.05] > lag[1.0] > 0.0


def test_one_euro_passes_nan_through_and_keeps_its_state() -> None:
    t = _t(6)
    x = np.array([0.0, 4.0, 8.0, 12.0, 16.0, 20.0])
    with_gap = x.copy()
    with_gap[2] = np.nan
    out_gap = _run(OneEuroFilter(1.0, 0.1), t, with_gap)
    assert math.isnan(out_gap[2])
    # The NaN frame is as if it had never been fed.
    skip = _run(OneEuroFilter(1.0, 0.1), np.delete(t, 2), np.delete(x, 2))
    np.testing.assert_allclose(np.delete(out_gap, 2), skip)


def test_one_euro_reset_starts_over() -> None:
    f = OneEuroFilter(1.0, 0.0)
    _run(f, _t(30), np.zeros(30))
    f.reset()
    assert f(5.0, 42.0) == 42.0


# --- despike ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["start", "middle", "end"])
@pytest.mark.parametrize("frames", [1, 2])
def test_despike_removes_a_short_glitch_even_at_the_ends(where: str, frames: int) -> None:
    """A tracker's first frames can hold a pose found in the wrong place (a hip angle of 2-25
    degrees before it locks on, seen on drawn clips): repeating the end sample to fill the
    window would keep it."""
    t = _t(60, fps=15.0)
    x = 110.0 + 10.0 * np.sin(t)  # a slow real movement
    at = {
        "start": slice(0, frames),
        "middle": slice(30, 30 + frames),
        "end": slice(60 - frames, 60),
    }[where]
    glitched = x.copy()
    glitched[at] = 5.0
    out = despike(t, glitched, TrackConfig().despike_s)
    # Each glitched frame takes a value off its own by no more than the movement over the
    # glitch's length and a frame (a median with k wild samples in its window moves by up
    # to k samples); the others keep theirs.
    step = float(np.max(np.abs(np.diff(x))))
    for i in range(60)[at]:
        assert abs(out[i] - x[i]) <= (frames + 1) * step
    np.testing.assert_allclose(np.delete(out, range(60)[at]), np.delete(x, range(60)[at]), atol=1.0)


def test_despike_keeps_a_ramp_to_the_end() -> None:
    """A clip that ends mid-lowering keeps the angle it ends on (how far down the hips got
    is said from it)."""
    t = _t(30, fps=15.0)
    x = 180.0 - 40.0 * t  # lowering at 40 deg/s to the clip's last frame
    np.testing.assert_allclose(despike(t, x, TrackConfig().despike_s), x, atol=1e-6)


def test_off_scale_flags_a_pose_of_another_size_and_follows_a_slow_zoom() -> None:
    t = np.arange(0, 12, 1 / 15)
    torso = np.linspace(100.0, 160.0, len(t))  # a slow zoom: 1.6x over 12 s
    torso[(t > 5.0) & (t < 5.7)] *= 0.3  # a tenth-of-a-second-long guess, a third the size
    torso[(t > 8.0) & (t < 8.3)] *= 1.8
    torso[t > 11.5] = np.nan
    flagged = off_scale(t, torso, window_s=4.0, max_ratio=1.6)
    expected = ((t > 5.0) & (t < 5.7)) | ((t > 8.0) & (t < 8.3))
    np.testing.assert_array_equal(flagged, expected)
    assert not off_scale(t, np.full(len(t), np.nan), 4.0, 1.6).any()


def test_facing_back_flags_the_few_that_lean_the_other_way() -> None:
    lean = np.array([0.8, 0.7, 0.9, 0.1, -0.05, 0.6, -0.7, 0.75, np.nan, 0.8])
    np.testing.assert_array_equal(np.flatnonzero(facing_back(lean, 0.3, 0.75)), [6])
    # No clear majority (two sets, one facing each way; a front view): nothing is flagged.
    assert not facing_back(np.array([0.8, 0.7, -0.8, -0.6]), 0.3, 0.75).any()
    assert not facing_back(np.array([0.1, -0.2, 0.05, np.nan]), 0.3, 0.75).any()


def test_far_from_compares_with_the_reference_samples() -> None:
    size = np.array([100.0, 110.0, 40.0, 45.0, 95.0, 260.0, np.nan, 105.0])
    reference = np.array([True, True, False, False, True, False, False, True])
    np.testing.assert_array_equal(np.flatnonzero(far_from(size, reference, 2.0)), [2, 3, 5])
    # Without a valid reference sample, every valid sample is the reference.
    assert not far_from(np.array([100.0, 120.0, 90.0]), np.zeros(3, bool), 2.0).any()


def test_jump_share_counts_the_steps_a_point_jumps_per_fifteenth_of_a_second() -> None:
    from formcheck.filters import jump_share

    t = np.arange(0.0, 2.0, 1 / 30)
    still = np.tile([100.0, 200.0], (len(t), 1))
    assert jump_share(t, still, 50.0, 0.3) == 0.0
    # A step of 0.2 thigh lengths in 1/30 s is 0.4 in 1/15 s: a jump; in 1/15 s, not one.
    moved = still.copy()
    moved[10:] += [10.0, 0.0]
    assert jump_share(t, moved, 50.0, 0.3) == pytest.approx(1 / (len(t) - 1))
    assert jump_share(t[::2], moved[::2], 50.0, 0.3) == 0.0
    # Steps into or out of an unseen sample are not steps; nothing seen is no jump.
    moved[10] = np.nan
    assert jump_share(t, moved, 50.0, 0.3) == 0.0
    assert jump_share(t, np.full_like(still, np.nan), 50.0, 0.3) == 0.0
