"""A pinhole camera looking at the body frame, and the framing that fits a clip in it.

World coordinates are the body frame of `formcheck.synth.kinematics` (metres; x from the
head towards the feet, y up, z to the person's right). Image coordinates are pixels, x
right, y down, with integer coordinates at pixel centres (OpenCV's drawing convention).

A camera at +z (looking along -z) sees the person's right side with the head on the
image's left ("facing left"); a camera at -z sees the left side with the head on the
right ("facing right").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from formcheck.synth.spec import ClipSpec

Float = NDArray[np.float64]


@dataclass(frozen=True)
class PinholeCamera:
    """World -> pixel projection.

    Attributes:
        rotation: (3, 3) rows are the camera's right, down and forward axes in world
            coordinates (OpenCV's camera frame: x right, y down, z forward).
        position: (3,) camera centre in world coordinates, metres.
        focal_px: focal length in pixels (square pixels).
        center_px: (cx, cy) principal point in pixels.
        near_sign: +1 when the camera is on the +z side (sees the person's right side),
            else -1.
    """

    rotation: Float
    position: Float
    focal_px: float
    center_px: tuple[float, float]
    near_sign: int

    def to_camera(self, points: ArrayLike) -> Float:
        """(N, 3) world points -> (N, 3) camera-frame points (metres)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        out: Float = (p - self.position) @ self.rotation.T
        return out

    def project(self, points: ArrayLike) -> tuple[Float, Float]:
        """(N, 3) world points -> ((N, 2) pixels, (N,) depth in metres along the view)."""
        c = self.to_camera(points)
        z = np.maximum(c[:, 2], 1e-6)
        uv = np.empty((c.shape[0], 2))
        uv[:, 0] = self.focal_px * c[:, 0] / z + self.center_px[0]
        uv[:, 1] = self.focal_px * c[:, 1] / z + self.center_px[1]
        return uv, z

    def px_per_m(self, depth_m: ArrayLike) -> Float:
        """Pixels per metre for something at `depth_m` metres from the camera."""
        return self.focal_px / np.asarray(depth_m, dtype=np.float64)

    def shifted(self, dx_px: float, dy_px: float) -> PinholeCamera:
        """The same camera with its principal point moved (an image translation)."""
        return PinholeCamera(
            self.rotation,
            self.position,
            self.focal_px,
            (self.center_px[0] + dx_px, self.center_px[1] + dy_px),
            self.near_sign,
        )


def look_at(target: ArrayLike, spec: ClipSpec) -> tuple[Float, Float, int]:
    """Rotation and position of a camera `spec.camera.distance_m` from `target`, on the
    side given by `spec.facing`, turned by yaw and raised by pitch."""
    cam = spec.camera
    target_v = np.asarray(target, dtype=np.float64)
    near = 1 if spec.facing == "left" else -1
    yaw, pitch = math.radians(cam.yaw_deg), math.radians(cam.pitch_deg)
    direction = np.array(
        [
            math.sin(yaw) * math.cos(pitch),
            math.sin(pitch),
            near * math.cos(yaw) * math.cos(pitch),
        ]
    )
    position = target_v + cam.distance_m * direction
    forward = -direction
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward]), position, near


def fit_camera(spec: ClipSpec, extent_points: ArrayLike) -> PinholeCamera:
    """A camera that frames `extent_points` (world points the person reaches during the
    clip) so they span `spec.camera.person_frac` of the frame width, centred at
    (`center_x_frac`, `center_y_frac`), and never leave the frame."""
    pts = np.asarray(extent_points, dtype=np.float64).reshape(-1, 3)
    lo3, hi3 = pts.min(axis=0), pts.max(axis=0)
    target = np.array([(lo3[0] + hi3[0]) / 2, (lo3[1] + hi3[1]) / 2, 0.0])
    rotation, position, near = look_at(target, spec)
    unit_cam = PinholeCamera(rotation, position, 1.0, (0.0, 0.0), near)
    uv, _ = unit_cam.project(pts)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    span = hi - lo
    w, h = spec.width, spec.height
    focal = spec.camera.person_frac * w / span[0]
    # Keep the whole motion inside the frame, with a small margin, whatever was asked.
    focal = min(focal, 0.92 * h / span[1], 0.96 * w / span[0])
    mid = (lo + hi) / 2
    cx = spec.camera.center_x_frac * w - focal * mid[0]
    cy = spec.camera.center_y_frac * h - focal * mid[1]
    # Nudge the box back inside the frame if the requested centre pushes it out.
    box_lo = np.array([cx, cy]) + focal * lo
    box_hi = np.array([cx, cy]) + focal * hi
    margin = np.array([0.02 * w, 0.04 * h])
    shift = np.maximum(margin - box_lo, 0.0) - np.maximum(box_hi - (np.array([w, h]) - margin), 0.0)
    return PinholeCamera(
        rotation, position, float(focal), (float(cx + shift[0]), float(cy + shift[1])), near
    )
