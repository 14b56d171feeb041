"""Pure geometry on pixel coordinates (x right, y down, aspect ratio restored).

All functions take arrays of shape (..., 2) so they work on one frame or on a whole track,
and return NaN wherever an input point is NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Float = NDArray[np.float64]


def angle_deg(a_xy_px: ArrayLike, vertex_xy_px: ArrayLike, c_xy_px: ArrayLike) -> Float:
    """Unsigned angle at `vertex` between vertex->a and vertex->c, in degrees [0, 180]."""
    a = np.asarray(a_xy_px, dtype=np.float64)
    v = np.asarray(vertex_xy_px, dtype=np.float64)
    c = np.asarray(c_xy_px, dtype=np.float64)
    u = a - v
    w = c - v
    dot = np.sum(u * w, axis=-1)
    cross = u[..., 0] * w[..., 1] - u[..., 1] * w[..., 0]
    return np.asarray(np.degrees(np.abs(np.arctan2(cross, dot))), dtype=np.float64)


def hip_angle_deg(shoulder_xy_px: ArrayLike, hip_xy_px: ArrayLike, knee_xy_px: ArrayLike) -> Float:
    """Signed hip extension angle in degrees, in (0, 360).

    The angle at the hip between hip->shoulder and hip->knee, signed so that:
    180 means shoulder, hip and knee are collinear (a straight bridge);
    below 180 means the hip lies below the shoulder-knee line (hips sag: under-extension);
    above 180 means the hip is pushed above that line (over-extension, lumbar arch).
    "Below" is the image's downward direction (y grows downwards), so the sign does not
    depend on which way the person faces. The shoulder-knee line of a hip thrust seen from
    the side is never vertical, which is the one case where "below" is undefined.
    """
    s = np.asarray(shoulder_xy_px, dtype=np.float64)
    h = np.asarray(hip_xy_px, dtype=np.float64)
    k = np.asarray(knee_xy_px, dtype=np.float64)
    unsigned = angle_deg(s, h, k)
    line = k - s
    # Normal to the shoulder->knee line pointing down the image (positive y).
    normal = np.stack([-line[..., 1], line[..., 0]], axis=-1)
    normal = np.where(normal[..., 1:2] < 0, -normal, normal)
    below = np.sum((h - s) * normal, axis=-1) >= 0
    return np.where(below, unsigned, 360.0 - unsigned)


def knee_angle_deg(hip_xy_px: ArrayLike, knee_xy_px: ArrayLike, ankle_xy_px: ArrayLike) -> Float:
    """Knee flexion angle in degrees: 180 straight leg, 90 shin perpendicular to thigh."""
    return angle_deg(hip_xy_px, knee_xy_px, ankle_xy_px)


def shin_tilt_deg(hip_xy_px: ArrayLike, knee_xy_px: ArrayLike, ankle_xy_px: ArrayLike) -> Float:
    """Signed tilt of the shin (knee -> ankle) from the image's vertical, degrees (-180, 180].

    0 means the ankle lies straight below the knee: shins vertical, what the coaching cue
    asks for at the top. Positive means the ankle lies further from the hips than the knee
    (feet too far out), negative that it lies back towards the hips (feet too close).
    "Towards the hips" is the horizontal direction from the knee to the hip, so the sign
    does not depend on which way the person faces. The thigh's own slope does not enter:
    on a bench the thigh is about level at the top and the tilt is the knee angle less 90,
    but from the floor (a glute bridge) the thigh slopes up to the knee, and vertical shins
    make a knee angle of 50-70 degrees. The image's vertical is taken as plumb: a camera
    rolled by some degrees adds them to the tilt.
    """
    h = np.asarray(hip_xy_px, dtype=np.float64)
    k = np.asarray(knee_xy_px, dtype=np.float64)
    a = np.asarray(ankle_xy_px, dtype=np.float64)
    shin = a - k
    away = np.where(k[..., 0] >= h[..., 0], 1.0, -1.0)  # +x: the knee lies right of the hip
    away = np.where(np.isnan(k[..., 0] - h[..., 0]), np.nan, away)
    return np.asarray(np.degrees(np.arctan2(away * shin[..., 0], shin[..., 1])), np.float64)


def segment_length_px(a_xy_px: ArrayLike, b_xy_px: ArrayLike) -> Float:
    """Euclidean distance in pixels."""
    d = np.asarray(a_xy_px, dtype=np.float64) - np.asarray(b_xy_px, dtype=np.float64)
    return np.asarray(np.hypot(d[..., 0], d[..., 1]), dtype=np.float64)


def body_box_px(
    xy_px: ArrayLike, frame_wh: tuple[int, int], margin: float = 0.04
) -> tuple[int, int, int, int] | None:
    """The box the body keeps to over a clip: (x0, y0, x1, y1) pixels, clipped to the frame.

    `xy_px`: (T, K, 2) landmarks in pixels, NaN where missing. The box spans the 2nd to 98th
    percentile of each frame's leftmost, topmost, rightmost and lowest landmark (a few
    wild frames do not stretch it), widened by `margin` of the frame's size on every side
    (the landmarks sit inside the body's outline); None without a pose.
    """
    xy: Float = np.asarray(xy_px, dtype=np.float64)
    seen = np.any(np.all(np.isfinite(xy), axis=2), axis=1)
    if not seen.any():
        return None
    xy = xy[seen]
    with np.errstate(all="ignore"):
        lo = np.nanpercentile(np.nanmin(xy, axis=1), 2, axis=0)
        hi = np.nanpercentile(np.nanmax(xy, axis=1), 98, axis=0)
    w, h = frame_wh
    mx, my = margin * w, margin * h
    return (
        max(0, int(lo[0] - mx)),
        max(0, int(lo[1] - my)),
        min(w, int(np.ceil(hi[0] + mx))),
        min(h, int(np.ceil(hi[1] + my))),
    )


def upright_turn_deg(
    shoulder_xy: ArrayLike,
    knee_xy: ArrayLike,
    ankle_xy: ArrayLike,
    min_frames: int = 10,
    min_share: float = 0.7,
) -> int:
    """How far a picture must be turned for the lifter to lie on the floor: 0, 90, 180 or
    270 degrees counter-clockwise (FFmpeg's rotation convention, as `FileSource` takes it).

    In a hip thrust or a glute bridge the feet stay on the floor and the shins rise from
    them (ankle to knee within about 70 deg of straight up, feet far out included), and the
    body lies along the floor (shoulder to knee nearer level than upright) in every phase.
    Each frame (shoulder, knee, ankle: (T, 2) pixels each, NaN where not seen) votes: the
    body level and the shins pointing down the picture, upside down; the body upright and
    the shins nearer level than upright, on its side (the shins' way says which); anything
    else (a lifter standing up included), upright. Nothing is turned unless
    `min_frames` frames vote and `min_share` of them vote for the same turn.
    """
    shoulder, knee, ankle = (
        np.asarray(a, dtype=np.float64) for a in (shoulder_xy, knee_xy, ankle_xy)
    )
    shin, body = knee - ankle, knee - shoulder
    ok = (
        np.isfinite(shin).all(axis=1)
        & np.isfinite(body).all(axis=1)
        & (np.hypot(*shin.T) > 0)
        & (np.hypot(*body.T) > 0)
    )
    if int(ok.sum()) < min_frames:
        return 0
    shin, body = shin[ok], body[ok]
    # The shin's way from straight up the picture (deg; + to the right; image y grows down),
    # and whether the body is nearer upright than level.
    way = np.degrees(np.arctan2(shin[:, 0], -shin[:, 1]))
    upright_body = np.abs(body[:, 1]) > np.abs(body[:, 0])
    votes = np.zeros(len(way), dtype=int)
    votes[(np.abs(way) > 90) & ~upright_body] = 180
    votes[(way > 45) & (way < 135) & upright_body] = 90  # up is to the right
    votes[(way < -45) & (way > -135) & upright_body] = 270  # up is to the left
    turns, counts = np.unique(votes, return_counts=True)
    best = int(np.argmax(counts))
    return int(turns[best]) if counts[best] >= min_share * len(votes) else 0
