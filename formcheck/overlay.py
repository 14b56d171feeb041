"""Drawing the overlay on a frame: skeleton of the side used, hip angle, counter, phase, cue,
and the outline of the band where it was found.

`annotate(image, overlay) -> image` never changes its input. Sizes scale with the frame
height so that a portrait phone clip and a 4K clip look the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from formcheck.video.frames import ImageBGR

_GREEN = (80, 200, 80)
_RED = (90, 90, 255)
_WHITE = (255, 255, 255)
_YELLOW = (0, 215, 255)
_MAGENTA = (255, 80, 255)  # the band outline: stands out on skin, clothes and bands
_BONES = ((0, 1), (1, 2), (2, 3))  # shoulder-hip, hip-knee, knee-ankle


@dataclass(frozen=True)
class Overlay:
    """What to draw on one frame.

    `joints_xy_px`: (4, 2) shoulder, hip, knee, ankle in pixels (NaN rows are skipped);
    `hip_angle_deg`: signed hip angle; `fault`: True colours the verdict red;
    `band_outline_px`: closed polygons ((N, 2) pixels) around the band where it was found.
    """

    joints_xy_px: np.ndarray
    hip_angle_deg: float
    reps: int
    phase: str  # in the report's words (`Phase.word`): lifting, top, lowering, bottom
    cue: str
    verdict: str = ""
    fault: bool = False
    band_outline_px: tuple[np.ndarray, ...] = ()


def draw_text(img: ImageBGR, text: str, org: tuple[int, int], scale: float,
              color: tuple[int, int, int], thickness: int) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2,
                cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)


def draw_panel(img: ImageBGR, x0: int, y0: int, x1: int, y1: int, alpha: float = 0.55) -> None:
    """Darken a rectangle in place so that text on it reads on any background."""
    h, w = img.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x1 > x0 and y1 > y0:
        img[y0:y1, x0:x1] = (img[y0:y1, x0:x1] * (1.0 - alpha)).astype(np.uint8)


def wrap_text(text: str, max_chars: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def draw_skeleton(img: ImageBGR, joints_xy_px: np.ndarray, thick: int) -> None:
    """Draw, in place, the side's bones, the knee-shoulder target line and the joints.

    `joints_xy_px`: (4, 2) shoulder, hip, knee, ankle in pixels (NaN rows are skipped);
    `thick`: bone thickness in pixels. Shared by the annotated video and the HTML stills.
    """
    pts = joints_xy_px
    ok = ~np.isnan(pts).any(axis=1)
    for a, b in _BONES:
        if ok[a] and ok[b]:
            cv2.line(img, tuple(np.round(pts[a]).astype(int)), tuple(np.round(pts[b]).astype(int)),
                     _WHITE, thick, cv2.LINE_AA)
    if ok[0] and ok[2]:  # the knee-shoulder target line: the hip should sit on it at the top
        cv2.line(img, tuple(np.round(pts[0]).astype(int)), tuple(np.round(pts[2]).astype(int)),
                 _YELLOW, max(1, thick // 2), cv2.LINE_AA)
    for j in range(len(pts)):
        if ok[j]:
            cv2.circle(img, tuple(np.round(pts[j]).astype(int)), thick * 2, _GREEN, -1, cv2.LINE_AA)


def annotate(image_bgr: ImageBGR, ov: Overlay) -> ImageBGR:
    """A copy of `image_bgr` with the overlay drawn."""
    img: ImageBGR = image_bgr.copy()
    h, w = img.shape[:2]
    unit = max(h, w) / 720.0
    thick = max(1, round(3 * unit))
    for poly in ov.band_outline_px:
        if np.isfinite(poly).all() and len(poly) >= 2:
            cv2.polylines(img, [np.round(poly).astype(np.int32).reshape(-1, 1, 2)], True,
                          _MAGENTA, max(1, thick - 1), cv2.LINE_AA)
    pts = ov.joints_xy_px
    ok = ~np.isnan(pts).any(axis=1)
    draw_skeleton(img, pts, thick)
    scale = 0.8 * unit
    line_h = round(34 * unit)
    x0 = round(12 * unit)
    draw_panel(img, 0, 0, round(300 * unit), round(3.4 * line_h))
    draw_text(img, f"Reps: {ov.reps}", (x0, line_h), scale * 1.2, _WHITE, thick)
    draw_text(img, f"Phase: {ov.phase}", (x0, 2 * line_h), scale, _WHITE, max(1, thick - 1))
    if not math.isnan(ov.hip_angle_deg):
        draw_text(img, f"Hip: {ov.hip_angle_deg:.0f} deg", (x0, 3 * line_h), scale, _WHITE,
              max(1, thick - 1))
        if ok[1]:
            hx, hy = np.round(pts[1]).astype(int)
            draw_text(img, f"{ov.hip_angle_deg:.0f}", (hx + thick * 3, hy - thick * 3), scale,
                      _YELLOW, max(1, thick - 1))
    message = ov.verdict or ov.cue
    if message:
        color = _RED if ov.fault else _GREEN
        lines = wrap_text(message, max(20, int(w / (17 * unit))))
        draw_panel(img, 0, h - round(24 * unit) - len(lines) * line_h, w, h)
        for k, line in enumerate(reversed(lines)):
            draw_text(img, line, (x0, h - round(14 * unit) - k * line_h), scale, color,
                  max(1, thick - 1))
    return img
