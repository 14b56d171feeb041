"""The MediaPipe adapter on the shared model instance (`estimator`, see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from formcheck.pose.landmarker import PoseEstimator
from formcheck.pose.landmarks import N_LANDMARKS, Landmark
from formcheck.video import FileSource, Frame

REAL_CLIP = Path(__file__).resolve().parents[2] / "shared" / "real_videos" / "bridge_studio_man.mp4"


def test_a_blank_frame_gives_a_missing_pose(estimator: PoseEstimator) -> None:
    frame = Frame(np.zeros((360, 640, 3), np.uint8), 0.5, 7)
    pose = estimator.detect(frame)
    assert pose.is_missing
    assert (pose.t_s, pose.index, pose.resolution_wh) == (0.5, 7, (640, 360))
    assert (pose.visibility == 0).all() and (pose.presence == 0).all()


def test_repeated_or_earlier_times_are_accepted(estimator: PoseEstimator) -> None:
    """VIDEO mode wants increasing times; the adapter must cope with a clip restarting."""
    blank = np.zeros((120, 160, 3), np.uint8)
    for t_s, index in ((1.0, 0), (1.0, 1), (0.0, 2)):
        pose = estimator.detect(Frame(blank, t_s, index))
        assert pose.t_s == t_s, "the frame keeps its own time"


@pytest.mark.real
@pytest.mark.skipif(not REAL_CLIP.is_file(), reason=f"{REAL_CLIP} not available")
def test_a_real_side_view_gives_landmarks_in_pixels(estimator: PoseEstimator) -> None:
    source = FileSource(REAL_CLIP, stride=4)
    width, height = source.info.width, source.info.height
    poses = []
    for frame in source:
        if frame.t_s > 2.0:
            break
        poses.append(estimator.detect(frame))
    found = [p for p in poses if not p.is_missing]
    assert len(found) >= 0.9 * len(poses)
    for p in found:
        assert p.xy_px.shape == (N_LANDMARKS, 2) and p.xy_px.dtype == np.float32
        assert (p.visibility >= 0).all() and (p.visibility <= 1).all()
        assert (p.presence >= 0).all() and (p.presence <= 1).all()
        assert np.isfinite(p.world_xyz_m).all()
    # Pixels with the aspect ratio restored: the body spans most of the 16:9 frame's width,
    # which normalised coordinates (0..1) or height-scaled ones could not.
    xs = np.stack([p.xy_px[:, 0] for p in found])
    assert np.nanmax(xs) > 0.6 * width
    assert np.nanmin(xs) > -0.1 * width and np.nanmax(xs) < 1.1 * width
    ys = np.stack([p.xy_px[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP], 1] for p in found])
    assert (ys > 0).all() and (ys < height).all()
