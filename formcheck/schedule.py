"""Where the pose models look: the clip's grid cut into contiguous parts, one model each.

The frames the model sees are the clip's *grid*: one decoded frame in `FileSource.stride`
(about 15 a second, `pose.max_fps`, the rate reps are timed at). A VIDEO-mode pose model
runs on one core at a time, so with two models (`pose.models`) the grid is cut in two and
both parts are measured at once, each by its own model on its own thread from its own
decoder; the second decoder seeks to the key frame before its part (`FileSource.frames`).

- Why contiguous parts, not alternate frames: a tracker fed frames two grid steps apart lags
  a moving body (tried: the top's start timed 0.04 s later, the boundaries 0.013 s worse).
- Why a warm-up: a fresh tracker needs a few frames to settle (where it looks, how it
  smooths). The second part starts `WARM_UP` grid frames before the first one ends; the
  first model's poses are kept there, the second model's dropped.
- Where the cut goes: where both parts cost the same. The second part pays for decoding,
  without converting, the frames from the key frame before it to its start (a clip with one
  key frame is decoded twice up to the cut), so its cut lies past the middle, or on a key
  frame near it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

#: Grid frames both models measure where the second part starts (the second one's dropped).
WARM_UP = 8
#: No part is shorter than this many grid frames (a short clip is not worth a second model).
MIN_PART = 30
#: Two parts only when the slower one costs at most this share of the whole clip on one model.
MIN_GAIN = 0.8
#: Relative costs for placing the cut: the model's time per grid frame (s), and decoding
#: without converting, per decoded frame and megapixel (s; 4.6 ms for a 1080p frame, measured
#: on the real clips on a 2-core machine).
MODEL_S = 0.022
DECODE_S_PER_MPX = 0.0022


@dataclass(frozen=True)
class Part:
    """A contiguous part of the grid, in decoded-frame indices: decoded from `start` up to
    `stop` (exclusive; None: the clip's end). Poses of frames before `keep_from` only warm
    the model's tracker up (another part measures those frames) and are dropped."""

    start: int
    stop: int | None
    keep_from: int


def plan_parts(
    frame_count: int, stride: int, key_frames: Sequence[int], megapixels: float, models: int
) -> list[Part]:
    """The parts of a clip of `frame_count` decoded frames, each `stride`-th on the grid,
    with key frames at `key_frames` (decoded indices) and `megapixels` per frame: one part,
    or, with two `models` and a clip long enough (`MIN_PART` grid frames a part), two cut
    where their costs (model frames, and the second one's decoding from its key frame) are
    equal, when the slower one costs at most `MIN_GAIN` of the whole."""
    whole = [Part(0, None, 0)]
    grid = frame_count // stride
    if models < 2 or not key_frames or grid < 2 * MIN_PART + WARM_UP:
        return whole
    decode_s = DECODE_S_PER_MPX * megapixels

    def cost(cut: int) -> float:
        """The slower part's cost with the second part's kept frames from grid frame `cut`."""
        first = cut * MODEL_S
        start = (cut - WARM_UP) * stride
        key = key_frames[max(0, bisect_right(key_frames, start) - 1)]
        second = (grid - cut + WARM_UP) * MODEL_S + (start - key) * decode_s
        return max(first, second)

    cut = min(range(MIN_PART + WARM_UP, grid - MIN_PART + 1), key=cost)
    if cost(cut) > MIN_GAIN * grid * MODEL_S:  # decoding the clip twice eats the gain
        return whole
    return [Part(0, cut * stride, 0), Part((cut - WARM_UP) * stride, None, cut * stride)]
