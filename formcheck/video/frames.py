"""The frame type that flows out of every source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ImageBGR = NDArray[np.uint8]
#: A progress callback over a clip's frames: (frames done, frames expected; 0 when unknown).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Frame:
    """One decoded video frame.

    Attributes:
        image_bgr: H x W x 3 uint8 image in OpenCV's BGR order, already rotated upright
            (container rotation metadata applied).
        t_s: presentation time in seconds from the start of the stream (from the container's
            timestamps, so variable frame rate is exact).
        index: 0-based index of the frame among all decoded frames (before any stride).
    """

    image_bgr: ImageBGR
    t_s: float
    index: int

    def __post_init__(self) -> None:
        if self.image_bgr.ndim != 3 or self.image_bgr.shape[2] != 3:
            raise ValueError(f"image_bgr must be HxWx3, got shape {self.image_bgr.shape}")

    @property
    def resolution_wh(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image_bgr.shape[1]), int(self.image_bgr.shape[0])


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video, before decoding it all.

    `fps` is the average rate (frames per second, may be fractional such as 29.97);
    `frame_count` is the container's count (0 when the container does not say);
    width and height are after rotation.
    """

    path: str
    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int
    rotation_deg: int = 0
