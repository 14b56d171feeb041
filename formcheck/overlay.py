"""Drawing the overlay on a frame: skeleton of the side used, hip angle, counter, phase, cue,
and the outline of the band where it was found.

`annotate(image, overlay) -> image` never changes its input. Sizes scale with the frame
height so that a portrait phone clip and a 4K clip look the same. The text panels (the
counter, the cue) go where they cover the least of the body (`layout`): a coach watches
the lifter, not the panels.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from formcheck.video.frames import ImageBGR

_GREEN = (80, 200, 80)
_RED = (90, 90, 255)
_WHITE = (255, 255, 255)
_YELLOW = (0, 215, 255)
_MAGENTA = (255, 80, 255)  # the band outline: stands out on skin, clothes and bands
_BONES = ((0, 1), (1, 2), (2, 3))  # shoulder-hip, hip-knee, knee-ankle


#: A rectangle in pixels: (x0, y0, x1, y1), x1 and y1 excluded.
Box = tuple[int, int, int, int]
T = TypeVar("T")


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
    #: Where the body is in the frame, (x0, y0, x1, y1) px: the panels keep clear of it.
    body_box_px: Box | None = None


def draw_text(
    img: ImageBGR,
    text: str,
    org: tuple[int, int],
    scale: float,
    color: tuple[int, int, int],
    thickness: int,
) -> None:
    cv2.putText(
        img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA
    )
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
            cv2.line(
                img,
                tuple(np.round(pts[a]).astype(int)),
                tuple(np.round(pts[b]).astype(int)),
                _WHITE,
                thick,
                cv2.LINE_AA,
            )
    if ok[0] and ok[2]:  # the knee-shoulder target line: the hip should sit on it at the top
        cv2.line(
            img,
            tuple(np.round(pts[0]).astype(int)),
            tuple(np.round(pts[2]).astype(int)),
            _YELLOW,
            max(1, thick // 2),
            cv2.LINE_AA,
        )
    for j in range(len(pts)):
        if ok[j]:
            cv2.circle(img, tuple(np.round(pts[j]).astype(int)), thick * 2, _GREEN, -1, cv2.LINE_AA)


def overlap(a: Box, b: Box) -> int:
    """The area two boxes share (px^2)."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def place(
    size_wh: tuple[int, int], frame_wh: tuple[int, int], avoid: Sequence[Box], prefer_top: bool
) -> Box:
    """Where a panel of `size_wh` goes in a frame: against its left or right edge, at the
    height that covers the least of the `avoid` boxes, the nearest the preferred edge
    (top or bottom) among equals."""
    (pw, ph), (w, h) = size_wh, frame_wh
    pw, ph = min(pw, w), min(ph, h)
    step = max(1, h // 90)
    best: tuple[float, Box] | None = None
    for x in sorted({0, w - pw}):
        for y in [*range(0, h - ph, step), h - ph]:
            box = (x, y, x + pw, y + ph)
            edge = y if prefer_top else h - ph - y
            cost = sum(overlap(box, a) for a in avoid) * 1e3 + edge + (x > 0)
            if best is None or cost < best[0]:
                best = (cost, box)
    assert best is not None
    return best[1]


#: Text sizes a panel may take (of the normal) to fit beside the body rather than on it.
CUE_SCALES = (1.0, 0.8, 0.65)
# Panel text metrics at the normal size, in pixels on a frame whose long side is 720 (they
# scale with it): a line's height, a letter's width, the counter panel's width.
_LINE_PX, _LETTER_PX, _COUNTER_W_PX = 34, 17, 300
# The counter's text on one line, at its longest (sizes the one-line counter).
_COUNTER_LINE_MAX = "Reps: 88   Phase: lowering   Hip: 188 deg"


@dataclass(frozen=True)
class Layout:
    """Where `annotate` draws its panels on a frame and at what size (`*_scale`: 1 the
    normal size; smaller where that keeps a panel off the body): the counter, stacked on
    three lines or (`counter_one_line`) on one, and the cue panel with its lines."""

    counter: Box
    message: Box | None
    lines: tuple[str, ...]
    text_scale: float = 1.0
    counter_scale: float = 1.0
    counter_one_line: bool = False


def best_panel(
    options: Sequence[tuple[tuple[int, int], T, float]],
    frame_wh: tuple[int, int],
    avoid: Sequence[Box],
    prefer_top: bool,
) -> tuple[Box, T, float]:
    """The first of `options` ((width, height) px, what the panel holds, its text scale),
    placed with `place`, among those that cover the least of `avoid`."""
    best: tuple[int, int, Box] | None = None
    for k, (size, _, _) in enumerate(options):
        box = place(size, frame_wh, avoid, prefer_top)
        covered = sum(overlap(box, a) for a in avoid)
        if best is None or (covered, k) < best[:2]:
            best = (covered, k, box)
    assert best is not None, "no options"
    _, held, scale = options[best[1]]
    return best[2], held, scale


def fit_panel(
    size_at: Callable[[int, float], tuple[int, T]],
    frame_wh: tuple[int, int],
    avoid: Sequence[Box],
    body_box: Box | None,
    min_letters: int = 8,
) -> tuple[Box, T, float]:
    """Where a text panel goes near the bottom, what it holds and at what text size: the
    panel is the frame's width, a half or a third of it, or the column beside `body_box`;
    its text is at one of `CUE_SCALES` of the normal size. The choice covers the least of
    `avoid`, then has the largest text, then the widest panel (`best_panel`).
    `size_at(width, scale)` gives the panel's height (px) at that width and text scale, and
    what it holds (its wrapped lines). A panel narrower than `min_letters` letters is not
    tried; when none is left, the full width at the normal size is used."""
    w, h = frame_wh
    unit = max(w, h) / 720.0
    widths = {w, w // 2, w // 3}
    if body_box is not None:
        widths |= {body_box[0], w - body_box[2]}
    options = []
    for scale in CUE_SCALES:
        for pw in sorted(widths, reverse=True):
            if pw >= min_letters * _LETTER_PX * unit * scale:
                height, held = size_at(pw, scale)
                options.append(((pw, height), held, scale))
    if not options:  # a frame too narrow for any panel: along the bottom, as it is
        height, held = size_at(w, 1.0)
        return place((w, height), frame_wh, [], prefer_top=False), held, 1.0
    return best_panel(options, frame_wh, avoid, prefer_top=False)


def scaled_options(size_wh: tuple[int, int], held: T) -> list[tuple[tuple[int, int], T, float]]:
    """A panel of `size_wh` at its normal size at each of `CUE_SCALES`, for `best_panel`."""
    return [((round(size_wh[0] * k), round(size_wh[1] * k)), held, k) for k in CUE_SCALES]


def _counter_options(unit: float) -> list[tuple[tuple[int, int], bool, float]]:
    """The counter's shapes, best first: at each text size, three lines, then one line."""
    stacked = (round(_COUNTER_W_PX * unit), round(3.4 * round(_LINE_PX * unit)))
    text_w = cv2.getTextSize(_COUNTER_LINE_MAX, cv2.FONT_HERSHEY_SIMPLEX, 0.8 * unit, 1)[0][0]
    one_line = (text_w + round(24 * unit), round(1.4 * _LINE_PX * unit))
    options = []
    for (size, _, k), (line, _, _) in zip(
        scaled_options(stacked, False), scaled_options(one_line, True), strict=True
    ):
        options += [(size, False, k), (line, True, k)]
    return options


def layout(ov: Overlay, frame_wh: tuple[int, int]) -> Layout:
    """The panels' places: the counter near the top, the cue near the bottom, each where
    it covers the least of the body (`ov.body_box_px`) and of the other. The counter goes
    on one line, and the cue folds to half or a third of the frame's width or to a column
    beside the body, and their text shrinks down to `CUE_SCALES[-1]`, when that keeps them
    off the body (the largest text first)."""
    return _layout(ov.verdict or ov.cue, frame_wh, ov.body_box_px)


@functools.lru_cache(maxsize=256)  # the same few messages on every frame of a clip
def _layout(message: str, frame_wh: tuple[int, int], body_box: Box | None) -> Layout:
    unit = max(frame_wh) / 720.0
    body = [body_box] if body_box is not None else []
    counter, one_line, counter_scale = best_panel(
        _counter_options(unit), frame_wh, body, prefer_top=True
    )
    if not message:
        return Layout(counter, None, (), 1.0, counter_scale, one_line)

    def cue(pw: int, scale: float) -> tuple[int, tuple[str, ...]]:
        lines = tuple(wrap_text(message, max(8, int(pw / (_LETTER_PX * unit * scale)))))
        return round(24 * unit * scale) + len(lines) * round(_LINE_PX * unit * scale), lines

    box, lines, scale = fit_panel(cue, frame_wh, [*body, counter], body_box)
    return Layout(counter, box, lines, scale, counter_scale, one_line)


def _draw_counter(img: ImageBGR, ov: Overlay, places: Layout) -> None:
    """The counter panel: reps, phase and hip angle, stacked or on one line."""
    unit = max(img.shape[:2]) / 720.0
    k = places.counter_scale
    scale = 0.8 * unit * k
    thin = max(1, round((3 * unit - 1) * k))
    line_h, pad = round(_LINE_PX * unit * k), round(12 * unit * k)
    cx, cy = places.counter[:2]
    draw_panel(img, *places.counter)
    texts = [f"Reps: {ov.reps}", f"Phase: {ov.phase}"]
    if not math.isnan(ov.hip_angle_deg):
        texts.append(f"Hip: {ov.hip_angle_deg:.0f} deg")
    if places.counter_one_line:
        draw_text(img, "   ".join(texts), (cx + pad, cy + line_h), scale, _WHITE, thin)
        return
    draw_text(img, texts[0], (cx + pad, cy + line_h), scale * 1.2, _WHITE, thin + 1)
    for row, text in enumerate(texts[1:], start=2):
        draw_text(img, text, (cx + pad, cy + row * line_h), scale, _WHITE, thin)


def annotate(image_bgr: ImageBGR, ov: Overlay) -> ImageBGR:
    """A copy of `image_bgr` with the overlay drawn."""
    img: ImageBGR = image_bgr.copy()
    h, w = img.shape[:2]
    unit = max(h, w) / 720.0
    thick = max(1, round(3 * unit))
    for poly in ov.band_outline_px:
        if np.isfinite(poly).all() and len(poly) >= 2:
            cv2.polylines(
                img,
                [np.round(poly).astype(np.int32).reshape(-1, 1, 2)],
                True,
                _MAGENTA,
                max(1, thick - 1),
                cv2.LINE_AA,
            )
    pts = ov.joints_xy_px
    ok = ~np.isnan(pts).any(axis=1)
    draw_skeleton(img, pts, thick)
    scale = 0.8 * unit
    pad = round(12 * unit)
    places = layout(ov, (w, h))
    _draw_counter(img, ov, places)
    if not math.isnan(ov.hip_angle_deg) and ok[1]:  # the angle beside the hip itself
        hx, hy = np.round(pts[1]).astype(int)
        draw_text(
            img,
            f"{ov.hip_angle_deg:.0f}",
            (hx + thick * 3, hy - thick * 3),
            scale,
            _YELLOW,
            max(1, thick - 1),
        )
    if places.message is not None:
        x0, _, _, y1 = places.message
        draw_panel(img, *places.message)
        color = _RED if ov.fault else _GREEN
        k_scale = places.text_scale
        cue_h = round(_LINE_PX * unit * k_scale)
        for k, line in enumerate(reversed(places.lines)):
            draw_text(
                img,
                line,
                (x0 + pad, y1 - round(14 * unit * k_scale) - k * cue_h),
                scale * k_scale,
                color,
                max(1, round((thick - 1) * k_scale)),
            )
    return img
