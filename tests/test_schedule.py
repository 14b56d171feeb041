"""The sparse-then-dense schedule (`formcheck.schedule`) with stand-in models: which frames
each model sees, in what order, and the grid filled between them."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from formcheck.pose.landmarks import Landmark, PoseFrame
from formcheck.schedule import (
    EDGE_STRETCHES,
    SPARSE_EVERY,
    measure_sparse_dense,
    on_grid,
)
from formcheck.video.frames import Frame

FPS = 15.0


def _hip_deg(t_s: float) -> float:
    """Still at 120 deg, a lift to 180 from 2 s to 3 s, held until 5 s, still after."""
    if t_s < 2.0:
        return 120.0
    if t_s < 3.0:
        return 120.0 + 60.0 * (t_s - 2.0)
    return 180.0


def _pose(frame: Frame) -> PoseFrame:
    """A lying body whose left hip angle is `_hip_deg` at the frame's time."""
    a = math.radians(180.0 - _hip_deg(frame.t_s))
    xy = np.full((33, 2), np.nan, np.float32)
    hip = np.array([300.0, 300.0])
    xy[Landmark.LEFT_HIP] = hip
    xy[Landmark.LEFT_SHOULDER] = hip - [200.0, 0.0]
    xy[Landmark.LEFT_KNEE] = hip + 200.0 * np.array([math.cos(a), -math.sin(a)])
    vis = np.full(33, 0.9, np.float32)
    return PoseFrame(
        frame.t_s,
        frame.index,
        (640, 360),
        xy,
        np.zeros(33, np.float32),
        vis,
        vis,
        np.zeros((33, 3), np.float32),
    )


class _Model:
    """A stand-in VIDEO-mode model: records what it saw, refuses time going backwards."""

    def __init__(self) -> None:
        self.seen: list[float] = []
        self.threads: set[str] = set()

    def __call__(self, frame: Frame) -> PoseFrame:
        assert not self.seen or frame.t_s > self.seen[-1], "timestamps must increase"
        self.seen.append(frame.t_s)
        self.threads.add(threading.current_thread().name)
        return _pose(frame)


def _grid(seconds: float) -> list[Frame]:
    image = np.zeros((4, 4, 3), np.uint8)
    return [Frame(image, g / FPS, 2 * g) for g in range(round(seconds * FPS))]


def test_the_dense_model_sees_the_movement_and_the_sparse_one_the_rest() -> None:
    grid = _grid(8.0)
    sparse, dense = _Model(), _Model()
    seen = measure_sparse_dense(grid, sparse, dense)
    assert sparse.seen == [f.t_s for f in grid[::SPARSE_EVERY]]
    assert seen.sparse == frozenset(range(0, len(grid), SPARSE_EVERY))
    # A stretch measured densely is measured whole by the dense model, its sparse frame too.
    assert set(np.round(dense.seen, 6)) & set(np.round(sparse.seen, 6))
    assert dense.threads == {"dense-pose"} and threading.current_thread().name in sparse.threads
    dense_t = np.array(dense.seen)
    stretch = SPARSE_EVERY / FPS
    # The lift (2-3 s) is measured whole, from a stretch before it to a stretch after it.
    lift = [
        f.t_s
        for f in grid
        if 2.0 - stretch <= f.t_s <= 3.0 + stretch and round(f.t_s * FPS) % SPARSE_EVERY
    ]
    assert np.isin(np.round(lift, 6), dense_t.round(6)).all()
    # Where the hips are still for long, only the sparse frames are measured.
    still = [g for g, f in enumerate(grid) if 4.0 <= f.t_s <= 7.0]
    assert not (set(still) & (set(seen.poses) - seen.sparse))
    # The first and last stretches are measured (partial reps are judged there).
    assert set(range(1, EDGE_STRETCHES * SPARSE_EVERY)) <= set(seen.poses)
    assert len(grid) - 1 in seen.poses
    # Before a window that follows a stretch left to the sparse model, the dense model is
    # warmed up on that stretch's last frame, whose pose is not kept.
    warm_ups = [t for t in dense.seen if round(t * FPS) not in seen.poses]
    assert warm_ups and all(round(t * FPS) % SPARSE_EVERY == SPARSE_EVERY - 1 for t in warm_ups)


def test_the_grid_is_filled_between_measured_frames() -> None:
    grid = _grid(8.0)
    seen = measure_sparse_dense(grid, _Model(), _Model())
    poses = on_grid(seen)
    assert [p.t_s for p in poses] == [f.t_s for f in grid]
    assert [p.index for p in poses] == [f.index for f in grid]
    for g, pose in enumerate(poses):
        if g not in seen.poses:  # interpolated: the angle where a measured one would be
            hip, knee, shoulder = (
                pose.xy_px[lm]
                for lm in (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_SHOULDER)
            )
            u, w = shoulder - hip, knee - hip
            cos = float(np.dot(u, w) / np.linalg.norm(u) / np.linalg.norm(w))
            assert math.degrees(math.acos(np.clip(cos, -1, 1))) == pytest.approx(
                _hip_deg(pose.t_s), abs=1.0
            )
            assert pose.people == -1


def test_a_person_lost_on_the_sparse_frames_is_measured_densely() -> None:
    grid = _grid(6.0)

    def lost_after_3s(frame: Frame) -> PoseFrame:
        if 3.5 <= frame.t_s < 4.5:
            return PoseFrame.missing(frame.t_s, frame.index, (640, 360))
        return _pose(frame)

    seen = measure_sparse_dense(grid, lost_after_3s, lost_after_3s)
    around = [g for g, f in enumerate(grid) if 3.5 <= f.t_s < 4.5]
    assert set(around) <= set(seen.poses)
    # Nobody in view is never bridged by interpolation.
    assert all(pose.is_missing for pose in on_grid(seen)[around[0] : around[-1] + 1])
