"""Pose estimation: the MediaPipe adapter, the landmark model bundle, the pose frame type."""

from formcheck.pose.landmarks import LANDMARK_NAMES, Landmark, PoseFrame

__all__ = ["LANDMARK_NAMES", "Landmark", "PoseFrame"]
