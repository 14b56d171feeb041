"""Where the pose model looks (the trial `pose.schedule = "sparse"`): a sparse pass over the
whole clip, and every frame where the hips move, on two models at once.

A hip-thrust rep lasts seconds and its phases are slow, but its boundaries (the lift's
start, the top's start and end, the return to the bottom) must be timed to a frame or two.
The clip's frames are taken on a *grid* (about 15 a second, `pose.max_fps`: the rate reps
are timed at), and:

- one model sees every `SPARSE_EVERY`-th grid frame (the sparse pass, about 5 a second);
- a second model, on a thread of its own and so on the other core, sees whole every stretch
  between two sparse frames where the hips move, from the stretch before a movement to the
  one after it, sparse frame included; and the stretches where the sparse pass lost the
  person or saw them poorly, and the clip's first and last ones (a rep the clip cuts off is
  judged there). Where the hips are still (a long hold, a rest), the sparse frames serve.

Why whole movements: a VIDEO-mode tracker that sees a moving body a fifth of a second apart
lags it by about a tenth of a second (3-7 degrees of hip angle on a real lift), so a sparse
frame among dense ones would make the track saw-toothed and time the top late. Why a warm-up:
a tracker that last saw the body a while ago looks where it was; the second model first sees
the frame before each stretch it takes up again, and that pose is dropped.

The decision for a stretch needs the sparse frames on either side of it, so the grid frames
wait in a short buffer (a few tenths of a second): each frame is decoded once and memory
stays flat in clip length. `on_grid` fills the grid between measured frames by
interpolating the landmarks, so everything downstream sees one evenly sampled sequence.
"""

from __future__ import annotations

import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from formcheck.geometry import hip_angle_deg
from formcheck.pose.landmarks import Landmark, PoseFrame
from formcheck.video.frames import Frame

#: One grid frame in this many is in the sparse pass (5 a second on a 15 fps grid).
SPARSE_EVERY = 3
#: Between two sparse frames the hips are still when their hip angle changes less than this
#: (degrees per second); a boundary lies where still turns to moving or back.
STILL_DEG_S = 20.0
#: A sparse frame whose hip, knee and shoulder are seen less surely than this is unsure: the
#: grid frames on either side of it are measured.
MIN_SURE_VISIBILITY = 0.5
#: Stretches at the clip's start and end measured densely (a partial rep is judged there).
EDGE_STRETCHES = 2

_SIDES = (
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP, Landmark.LEFT_KNEE),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE),
)

Detect = Callable[[Frame], PoseFrame]


def _angle(pose: PoseFrame) -> tuple[float, float]:
    """The hip angle (deg, `geometry.hip_angle_deg`) of the better-seen side and how surely
    it is seen (the least visibility of its shoulder, hip and knee); (nan, 0) for a missing
    pose. Only its changes are used: is the body still or moving."""
    if pose.is_missing:
        return math.nan, 0.0
    best = max(_SIDES, key=lambda s: float(min(pose.visibility[list(s)])))
    sure = float(min(pose.visibility[list(best)]))
    a = hip_angle_deg(pose.xy_px[best[0]], pose.xy_px[best[1]], pose.xy_px[best[2]])
    return float(a), sure


@dataclass
class _Sparse:
    """One sparse frame: its grid position, time, hip angle and how surely it was seen."""

    grid: int
    t_s: float
    angle: float
    sure: float

    @property
    def unsure(self) -> bool:
        return not math.isfinite(self.angle) or self.sure < MIN_SURE_VISIBILITY


def _still(a: _Sparse, b: _Sparse) -> bool | None:
    """Whether the hips are still between two sparse frames (None: not known)."""
    if a.unsure or b.unsure or b.t_s <= a.t_s:
        return None
    return abs(b.angle - a.angle) / (b.t_s - a.t_s) < STILL_DEG_S


def needs_dense(sparse: list[_Sparse], m: int, last: bool) -> bool:
    """Whether the grid frames between sparse frames m and m+1 are measured: the hips move
    (or are not seen surely) in this stretch or the one before or after it, or it is one of
    the clip's first or last stretches (`last`). The sparse frames alone serve only where
    the hips are still; a movement is measured whole, from a stretch before it to one after
    (a tracker that sees a moving body a fifth of a second apart lags it by a tenth)."""
    if m < EDGE_STRETCHES or last:
        return True
    states = [
        _still(sparse[k], sparse[k + 1])
        for k in (m - 1, m, m + 1)
        if k >= 0 and k + 1 < len(sparse)
    ]
    return not all(states)


class _Worker:
    """Runs `detect` on its own thread, on frames handed to it in time order."""

    def __init__(self, detect: Detect) -> None:
        self._detect = detect
        self._jobs: queue.Queue[tuple[Frame, bool] | None] = queue.Queue()
        self.results: list[PoseFrame] = []
        self.measured = 0  # frames run through the model, warm-ups included
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dense-pose", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            frame, keep = job
            if self.error is None:
                try:
                    pose = self._detect(frame)
                except BaseException as exc:  # re-raised in the caller by `finish`
                    self.error = exc
                    continue
                self.measured += 1
                if keep:
                    self.results.append(pose)

    def submit(self, frame: Frame, keep: bool = True) -> None:
        """Measure `frame`; with `keep` False only to bring the tracker to it (a warm-up)."""
        self._jobs.put((frame, keep))

    def finish(self) -> list[PoseFrame]:
        self._jobs.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.results


@dataclass(frozen=True)
class Seen:
    """What the schedule measured: the grid (every grid frame's time and decoded-frame
    index) and the poses the model saw on it, by grid position, with the sparse ones
    marked."""

    grid_t_s: np.ndarray
    grid_index: np.ndarray
    poses: dict[int, PoseFrame]
    sparse: frozenset[int]
    model_frames: int  # frames both models ran on (a sparse frame in a dense stretch twice)


def measure_sparse_dense(
    grid: Iterable[Frame],
    sparse_detect: Detect,
    dense_detect: Detect,
    on_sparse: Callable[[Frame, PoseFrame], None] | None = None,
) -> Seen:
    """Run the schedule (module docstring) over the grid frames, in time order.

    `sparse_detect` and `dense_detect` are two VIDEO-mode models (each sees its frames in
    time order); the dense one runs on a thread of its own. `on_sparse(frame, pose)` is
    called for each sparse frame as it is measured, in time order (the band detector's
    hook: the sparse frames sample the whole clip evenly)."""
    dense = _Worker(dense_detect)
    waiting: deque[tuple[int, Frame]] = deque()  # grid frames after the last decided stretch
    sparse: list[_Sparse] = []
    sparse_frames: dict[int, Frame] = {}  # the sparse frames of undecided stretches
    taken: list[bool] = []  # each decided stretch: measured densely or not
    poses: dict[int, PoseFrame] = {}
    handed: list[int] = []  # grid positions given to the dense model, in order
    times: list[float] = []
    indices: list[int] = []
    decided = 0  # stretches decided so far: stretch m lies between sparse m and m+1
    skipped: Frame | None = None  # the last grid frame of the last stretch not measured

    def decide(up_to: int, at_end: bool) -> None:
        nonlocal decided, skipped
        while decided < up_to:
            m = decided
            end_grid = sparse[m + 1].grid if m + 1 < len(sparse) else math.inf
            last = at_end and m >= len(sparse) - 1 - EDGE_STRETCHES
            take = needs_dense(sparse, m, last)
            if take:
                if m > 0 and not taken[-1] and skipped is not None:
                    # The dense model last saw the person a while ago: its tracker (where
                    # it looks, how it smooths) is brought to them on the frame before.
                    dense.submit(skipped, keep=False)
                # The stretch is measured whole by the dense model, its sparse frame too:
                # the sparse model, a fifth of a second between frames, lags a movement,
                # and its frames among the dense ones would make the track saw-toothed.
                dense.submit(sparse_frames[m])
                handed.append(sparse[m].grid)
            taken.append(take)
            sparse_frames.pop(m, None)
            skipped = None
            while waiting and waiting[0][0] < end_grid:
                g, frame = waiting.popleft()
                if take:
                    dense.submit(frame)
                    handed.append(g)
                else:
                    skipped = frame
            decided += 1

    try:
        for g, frame in enumerate(grid):
            times.append(frame.t_s)
            indices.append(frame.index)
            if g % SPARSE_EVERY:
                waiting.append((g, frame))
                continue
            pose = sparse_detect(frame)
            poses[g] = pose
            sparse_frames[len(sparse)] = frame
            if on_sparse is not None:
                on_sparse(frame, pose)
            angle, sure = _angle(pose)
            sparse.append(_Sparse(g, frame.t_s, angle, sure))
            decide(len(sparse) - 2, at_end=False)  # stretch m needs sparse frames up to m+2
        decide(len(sparse), at_end=True)
    finally:
        results = dense.finish()
    poses.update(zip(handed, results, strict=True))
    return Seen(
        np.asarray(times, np.float64),
        np.asarray(indices, np.int64),
        poses,
        frozenset(s.grid for s in sparse),
        len(sparse) + dense.measured,
    )


def on_grid(seen: Seen) -> list[PoseFrame]:
    """One pose per grid frame: the measured ones as they are; between two measured frames
    no more than a sparse stretch apart, landmarks interpolated (visibility and presence
    the lower of the two, people not counted); else missing."""
    known = sorted(seen.poses)
    out: list[PoseFrame] = []
    for g, (t, index) in enumerate(
        zip(seen.grid_t_s.tolist(), seen.grid_index.tolist(), strict=True)
    ):
        if g in seen.poses:
            out.append(seen.poses[g])
            continue
        k = int(np.searchsorted(known, g))
        before = seen.poses[known[k - 1]] if k > 0 else None
        after = seen.poses[known[k]] if k < len(known) else None
        if (
            before is None
            or after is None
            or before.is_missing
            or after.is_missing
            or known[k] - known[k - 1] > SPARSE_EVERY
        ):
            near = before if before is not None else after
            out.append(PoseFrame.missing(t, index, near.resolution_wh if near else (0, 0)))
            continue
        w = (t - before.t_s) / (after.t_s - before.t_s)
        out.append(
            PoseFrame(
                t_s=t,
                index=index,
                resolution_wh=before.resolution_wh,
                xy_px=((1 - w) * before.xy_px + w * after.xy_px).astype(np.float32),
                z=((1 - w) * before.z + w * after.z).astype(np.float32),
                visibility=np.minimum(before.visibility, after.visibility),
                presence=np.minimum(before.presence, after.presence),
                world_xyz_m=((1 - w) * before.world_xyz_m + w * after.world_xyz_m).astype(
                    np.float32
                ),
            )
        )
    return out
