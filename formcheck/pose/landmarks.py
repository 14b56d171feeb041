"""The pose frame type and the 33 BlazePose landmark names (MediaPipe's topology)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]

N_LANDMARKS = 33


class Landmark(IntEnum):
    """Indices of MediaPipe's 33 pose landmarks (BlazePose topology)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


LANDMARK_NAMES: tuple[str, ...] = tuple(lm.name.lower() for lm in Landmark)


def _nan_array(*shape: int) -> FloatArray:
    return np.full(shape, np.nan, dtype=np.float32)


@dataclass(frozen=True)
class PoseFrame:
    """The landmarks of one person in one frame, or a missing value.

    Attributes:
        t_s: presentation time of the frame, seconds from the start of the clip.
        index: index of the frame in the decoded stream.
        resolution_wh: (width, height) of the frame in pixels.
        xy_px: (33, 2) image coordinates in pixels, x right, y down, aspect ratio restored
            (MediaPipe normalises x by width and y by height separately); NaN when missing.
        z: (33,) MediaPipe's relative depth (same scale as x, normalised; smaller is nearer
            the camera); NaN when missing.
        visibility: (33,) probability in [0, 1] that the landmark is visible (not occluded).
        presence: (33,) probability in [0, 1] that the landmark is in the frame.
        world_xyz_m: (33, 3) metric 3D coordinates in metres, origin between the hips.
        people: how many people were counted in this frame; -1 when this frame was not
            counted (counting runs a separate detector every couple of seconds).
    """

    t_s: float
    index: int
    resolution_wh: tuple[int, int]
    xy_px: FloatArray = field(default_factory=lambda: _nan_array(N_LANDMARKS, 2))
    z: FloatArray = field(default_factory=lambda: _nan_array(N_LANDMARKS))
    visibility: FloatArray = field(default_factory=lambda: np.zeros(N_LANDMARKS, np.float32))
    presence: FloatArray = field(default_factory=lambda: np.zeros(N_LANDMARKS, np.float32))
    world_xyz_m: FloatArray = field(default_factory=lambda: _nan_array(N_LANDMARKS, 3))
    people: int = -1

    def __post_init__(self) -> None:
        expected = {
            "xy_px": (N_LANDMARKS, 2),
            "z": (N_LANDMARKS,),
            "visibility": (N_LANDMARKS,),
            "presence": (N_LANDMARKS,),
            "world_xyz_m": (N_LANDMARKS, 3),
        }
        for name, shape in expected.items():
            value = getattr(self, name)
            if value.shape != shape:
                raise ValueError(f"PoseFrame.{name} must have shape {shape}, got {value.shape}")
        if not math.isfinite(self.t_s):
            raise ValueError("PoseFrame.t_s must be finite")

    @classmethod
    def missing(cls, t_s: float, index: int, resolution_wh: tuple[int, int]) -> PoseFrame:
        """A frame in which no pose was found: kept in the track, never dropped."""
        return cls(t_s=t_s, index=index, resolution_wh=resolution_wh)

    @property
    def is_missing(self) -> bool:
        return bool(np.isnan(self.xy_px).all())
