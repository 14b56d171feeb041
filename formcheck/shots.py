"""Shots: where a clip's picture changes all at once (a jump cut, a change of shot, an end
card), or moves as a whole (a handheld phone swung away and back).

People send edited clips: two takes joined, a coach's tutorial, a set followed by a title
card; and handheld ones, where the phone is turned away for a moment. A rep counted across
a cut, or across the moment the camera looked elsewhere, joins two different lifts, so reps
are counted within one continuous, steady view (`analyze`), and the report says where the
cuts and the camera's moves are.

How a cut is found. Each analysed frame is shrunk to `THUMB_PX` on its long side, in grey;
its *change* is the share of pixels that differ from the previous analysed frame by more than
`CHANGED_LEVEL` grey levels. Movement changes a few percent of the pixels, and about as many
in the frames around it; a cut changes many of them in one frame only. So a cut is a frame
whose change is at least `MIN_CHANGED_SHARE` and `MIN_RATIO` times the median of its
`NEIGHBOURS` frames on either side. Counting *large* changes (not the mean change) keeps
the small, frame-wide jump of a compression keyframe, or sensor noise, from looking like a
cut, and still catches a jump cut between two takes from the same fixed camera, where only
the lifter changes.

How a camera move is found. When the camera pans or swings, the whole picture slides: most
pixels change in every frame for as long as it moves (`MOVE_SHARE` for at least
`MOVE_MIN_S`), where a lifter, a passer-by or a shaky hand change a few percent. A swing
over a plain wall changes few pixels and is not found; the lifter's absence is still
reported. (PySceneDetect does this job, but it requires the `opencv-python` build,
which would overwrite mediapipe's `opencv-contrib-python`.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from formcheck.video.frames import Frame

#: Version of the change measure stored with the landmarks (`meta["shots"]`).
SHOTS_VERSION = 1
#: Long side of the grey thumbnail compared frame to frame, pixels.
THUMB_PX = 96
#: A pixel has changed when it differs by more than this many grey levels (0-255).
CHANGED_LEVEL = 30.0
#: A cut changes at least this share of the pixels...
MIN_CHANGED_SHARE = 0.02
#: ...and this many times the median change of the frames around it.
MIN_RATIO = 6.0
#: Frames on either side whose median change is the baseline.
NEIGHBOURS = 4
#: The baseline's floor (share of pixels): a still picture's noise is not a baseline.
BASELINE_FLOOR = 0.005
#: Two cuts closer than this (s) are one transition (a blended frame, a flash).
MERGE_S = 0.3
#: The camera is moving while at least this share of the pixels changes in every frame...
MOVE_SHARE = 0.15
#: ...for at least this long (s). On the team's 68 real, drawn and banded clips (handheld
#: shake, fast lifts, passers-by) the change held for 0.3 s is at most 0.024.
MOVE_MIN_S = 0.3


def _thumb(image_bgr: np.ndarray) -> np.ndarray:
    h, w = image_bgr.shape[:2]
    scale = THUMB_PX / max(h, w)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    grey = cv2.cvtColor(
        cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
    )
    return grey.astype(np.int16)


class ShotDetector:
    """Measures each analysed frame's change from the one before (see the module docstring).

    Fed the frames in order (`observe`); its `meta()` is kept with the landmarks, so a replay
    from saved landmarks finds the same cuts.
    """

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None
        self.t_s: list[float] = []
        self.change: list[float] = []

    def observe(self, frame: Frame) -> None:
        thumb = _thumb(frame.image_bgr)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            change = 0.0
        else:
            change = float(np.mean(np.abs(thumb - previous) > CHANGED_LEVEL))
        self.t_s.append(frame.t_s)
        self.change.append(change)

    def extend(self, later: ShotDetector) -> None:
        """Add what `later` measured on a later part of the clip (`schedule.Part`), from
        after this one's last frame: the frames both saw are this one's."""
        last = self.t_s[-1] if self.t_s else -math.inf
        for t, change in zip(later.t_s, later.change, strict=True):
            if t > last:
                self.t_s.append(t)
                self.change.append(change)

    def meta(self) -> dict[str, Any]:
        return {
            "version": SHOTS_VERSION,
            "t_s": [round(t, 4) for t in self.t_s],
            "change": [round(c, 5) for c in self.change],
        }


def find_cuts(t_s: np.ndarray, change: np.ndarray) -> list[float]:
    """The times (s) of the frames that start a new shot: `change` (share of pixels changed
    from the previous frame, one per frame at `t_s`) is a cut's (module docstring)."""
    n = len(change)
    cuts: list[float] = []
    for i in range(1, n):
        if change[i] < MIN_CHANGED_SHARE:
            continue
        around = np.r_[change[max(1, i - NEIGHBOURS) : i], change[i + 1 : i + 1 + NEIGHBOURS]]
        baseline = max(float(np.median(around)) if len(around) else 0.0, BASELINE_FLOOR)
        if change[i] >= MIN_RATIO * baseline:
            if cuts and t_s[i] - cuts[-1] < MERGE_S:
                continue
            cuts.append(float(t_s[i]))
    return cuts


def find_moves(t_s: np.ndarray, change: np.ndarray) -> list[tuple[float, float]]:
    """The (start, end) times (s) of the camera's moves: `change` (as in `find_cuts`) at least
    `MOVE_SHARE` for at least `MOVE_MIN_S`, dips shorter than `MERGE_S` bridged. A move starts
    at the frame before its first changed one (the change is from that frame)."""
    moving = np.flatnonzero(change >= MOVE_SHARE)
    spans: list[list[int]] = []
    for i in moving.tolist():
        if spans and t_s[i] - t_s[spans[-1][1]] <= MERGE_S:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    out = []
    for first, last in spans:
        start = float(t_s[max(first - 1, 0)])
        if float(t_s[last]) - start >= MOVE_MIN_S:
            out.append((start, float(t_s[last])))
    return out


def _change(record: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The frame times and changes of a `ShotDetector.meta()` record; None without one (the
    clip was not watched, or its landmarks were saved by an older version) or with one of
    another version."""
    if not isinstance(record, Mapping) or record.get("version") != SHOTS_VERSION:
        return None
    return np.asarray(record["t_s"], np.float64), np.asarray(record["change"], np.float64)


def cuts_of(record: Mapping[str, Any] | None) -> list[float]:
    """The cuts (s) in a clip's shot record (`Measurement.shots`; none without it)."""
    measured = _change(record)
    return find_cuts(*measured) if measured is not None else []


def moves_of(record: Mapping[str, Any] | None) -> list[tuple[float, float]]:
    """The camera's moves (start, end s) in a clip's shot record (none without it)."""
    measured = _change(record)
    return find_moves(*measured) if measured is not None else []


def view_breaks(cuts: Sequence[float], moves: Sequence[tuple[float, float]]) -> list[float]:
    """Where the view is broken (s): the `cuts`, and the start and end of each camera move
    (`cuts_of`, `moves_of`). Reps are counted and the track is built between breaks, never
    across one."""
    return sorted([*cuts, *(t for move in moves for t in move)])


@dataclass(frozen=True)
class Shot:
    """One continuous shot of a clip: [start_s, end_s) in seconds from the clip's start."""

    index: int  # 1-based
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def split_shots(cuts: list[float], start_s: float, end_s: float) -> list[Shot]:
    """The shots between the clip's first and last frame times, split at `cuts`."""
    edges = [start_s, *[c for c in cuts if start_s < c < end_s], end_s]
    return [Shot(k + 1, a, b) for k, (a, b) in enumerate(itertools.pairwise(edges))]


def shot_edges(t_s: np.ndarray, cuts: Sequence[float]) -> list[int]:
    """Frame indices that bound the shots of frames at `t_s` (s): [0, first frame of each
    shot after a cut..., len(t_s)]; shot k is frames edges[k]:edges[k+1]."""
    inside = {int(np.searchsorted(t_s, c)) for c in cuts} - {0, len(t_s)}
    return [0, *sorted(inside), len(t_s)]
