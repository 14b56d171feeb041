"""Still images for the HTML report: each rep at the middle of its top hold.

A still is the video frame (or, without the video, a plain background) cropped around the
person, scaled to a card's width, with the skeleton of the side used and the
knee-shoulder target line drawn by `formcheck.overlay.draw_skeleton`, the same drawing as
in the annotated video.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from formcheck.overlay import draw_skeleton
from formcheck.video import FileSource
from formcheck.video.frames import ImageBGR

# Output size of a still (px): wide enough for a phone card at 2x, small as JPEG.
STILL_MAX_W = 560
STILL_MAX_H = 380
# Margin around the person's landmarks, as a share of their bounding box.
CROP_MARGIN = 0.18
# Plain background when there is no video (BGR, dark so that the overlay's white bones and
# yellow line read as they do on video), and its faint full-body lines.
PLAIN_BGR = (51, 41, 31)
BODY_BGR = (125, 115, 105)
# The BlazePose connections drawn faintly on a plain background (whole body, both sides).
_BODY_LINKS: tuple[tuple[int, int], ...] = (
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (27, 29),
    (29, 31),
    (27, 31),
    (24, 26),
    (26, 28),
    (28, 30),
    (30, 32),
    (28, 32),
)
# Stop decoding this long (s) after the last still's time.
DECODE_SLACK_S = 0.5


def top_time_s(rep: Mapping[str, Any]) -> float:
    """The middle of a rep's top hold (s), from a contract rep dict."""
    return 0.5 * (float(rep["top_start_s"]) + float(rep["top_end_s"]))


def _crop_box(points_xy_px: NDArray[np.float64], wh: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixels around the finite points with a margin, inside the frame.

    The box is widened to the still's aspect ratio, so the person is never squashed and
    the still is not a sliver; with no finite point it is the whole frame.
    """
    w, h = wh
    pts = points_xy_px[np.isfinite(points_xy_px).all(axis=1)]
    if not len(pts):
        return 0, 0, w, h
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    x0, x1 = x0 - CROP_MARGIN * bw, x1 + CROP_MARGIN * bw
    y0, y1 = y0 - CROP_MARGIN * bh, y1 + CROP_MARGIN * bh
    aspect = STILL_MAX_W / STILL_MAX_H
    bw, bh = x1 - x0, y1 - y0
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    if bw / bh < aspect:
        bw = bh * aspect
    else:
        bh = bw / aspect
    bw, bh = min(bw, w), min(bh, h)
    x0 = float(np.clip(cx - bw / 2, 0, w - bw))
    y0 = float(np.clip(cy - bh / 2, 0, h - bh))
    return int(x0), int(y0), min(w, math.ceil(x0 + bw)), min(h, math.ceil(y0 + bh))


def draw_still(
    image_bgr: ImageBGR | None,
    wh: tuple[int, int],
    joints_xy_px: NDArray[np.float64] | None,
    body_xy_px: NDArray[np.float64] | None = None,
) -> ImageBGR:
    """One still: crop around the person, scale to at most STILL_MAX_W x STILL_MAX_H, draw.

    Args:
        image_bgr: the video frame (H x W x 3), or None for a plain background.
        wh: the frame size (width, height) in pixels that the coordinates refer to.
        joints_xy_px: (4, 2) shoulder, hip, knee, ankle of the side used (pixels; NaN rows
            are skipped), or None to draw no skeleton.
        body_xy_px: (33, 2) all landmarks (pixels) to frame the crop and, on a plain
            background, to draw the whole body faintly; optional.
    """
    pts = [p for p in (joints_xy_px, body_xy_px) if p is not None]
    every = np.concatenate(pts) if pts else np.empty((0, 2))
    x0, y0, x1, y1 = _crop_box(every, wh)
    scale = min(STILL_MAX_W / (x1 - x0), STILL_MAX_H / (y1 - y0))
    out_w, out_h = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    if image_bgr is not None:
        crop = image_bgr[y0:y1, x0:x1]
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        img: ImageBGR = np.asarray(cv2.resize(crop, (out_w, out_h), interpolation=interp), np.uint8)
    else:
        img = np.empty((out_h, out_w, 3), np.uint8)
        img[:] = PLAIN_BGR

    def to_still(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((p - np.array([x0, y0])) * scale, np.float64)

    if image_bgr is None and body_xy_px is not None:
        body = to_still(body_xy_px)
        for a, b in _BODY_LINKS:
            if np.isfinite(body[[a, b]]).all():
                cv2.line(
                    img,
                    tuple(np.round(body[a]).astype(int)),
                    tuple(np.round(body[b]).astype(int)),
                    BODY_BGR,
                    2,
                    cv2.LINE_AA,
                )
        head = body[[0, 7, 8]]  # nose and ears: a head, so that the figure reads as a person
        head = head[np.isfinite(head).all(axis=1)]
        if len(head):
            centre = head.mean(axis=0)
            radius = max(out_h / 25, 1.4 * float(np.max(np.linalg.norm(head - centre, axis=1))))
            cv2.circle(
                img, tuple(np.round(centre).astype(int)), round(radius), BODY_BGR, 2, cv2.LINE_AA
            )
    if joints_xy_px is not None:
        # Fixed thickness: every still is drawn at the same output size.
        draw_skeleton(img, to_still(joints_xy_px), 4)
    return img


def frames_at(source: FileSource, times_s: Sequence[float]) -> list[ImageBGR | None]:
    """The frame of `source` nearest each time (s), in one pass over it (for an analysed
    clip, `Measurement.frames`: turned and cut to its panel as the analysis measured it).

    Raises:
        VideoOpenError: the file cannot be read as a video.
    """
    best: list[tuple[float, ImageBGR | None]] = [(math.inf, None) for _ in times_s]
    if not times_s:
        return []
    last = max(times_s) + DECODE_SLACK_S
    for frame in source:
        for k, t in enumerate(times_s):
            d = abs(frame.t_s - t)
            if d < best[k][0]:
                best[k] = (d, frame.image_bgr)
        if frame.t_s > last:
            break
    return [image for _, image in best]


def encode_jpeg(image_bgr: ImageBGR, quality: int = 78) -> bytes:
    """JPEG bytes of a BGR image (quality 0-100)."""
    ok, buf = cv2.imencode(
        ".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
    )
    if not ok:
        raise ValueError("could not encode a still as JPEG")
    return bytes(buf.tobytes())
