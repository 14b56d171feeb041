"""The live picture: the overlay of the annotated video plus the live-only parts, and the
end-of-set summary (the window that shows them is `formcheck.live.display`).

`draw_live` reuses `formcheck.overlay.annotate` (skeleton of the side in use, knee-shoulder
target line, rep counter, phase, hip angle, cue or verdict) and adds what only a live view
needs: frames per second and latency, a gauge of the hip angle against its target band,
the setup guidance and a pause banner. A front camera's picture is shown mirrored (people
expect a mirror), but the model always sees the frame as captured: only the drawing is
flipped, with the joints' x coordinates flipped to match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from formcheck.config import Config
from formcheck.live.coach import SHORT_CUES, CoachState, Verdict
from formcheck.overlay import (
    Box,
    Overlay,
    annotate,
    best_panel,
    draw_panel,
    draw_text,
    fit_panel,
    layout,
    scaled_options,
    wrap_text,
)
from formcheck.reps import Phase
from formcheck.video.frames import ImageBGR

# The window shows small frames enlarged to this long side (px) so that text stays legible.
MIN_DISPLAY_LONG_SIDE_PX = 960
# The hip angle gauge spans this range (deg): deep bottom to well past over-extension.
GAUGE_RANGE_DEG = (100.0, 220.0)
_GREEN = (80, 200, 80)
_RED = (90, 90, 255)
_WHITE = (255, 255, 255)
_YELLOW = (0, 215, 255)
_GREY = (170, 170, 170)
_ORANGE = (0, 165, 255)
# Panel metrics in pixels on a frame whose long side is 720 (they scale with it): the hud's
# width and line height, and the line heights of the message's large head and small detail.
_HUD_W_PX, _HUD_LINE_PX, _BIG_LINE_PX, _SMALL_LINE_PX = 290, 28, 44, 28


@dataclass(frozen=True)
class Hud:
    """The live-only figures: `fps` processed frames per second, `latency_ms` capture to
    drawn of the last frame(s), `verdict` the rep verdict still on screen (None: none),
    `paused` the pause banner."""

    fps: float
    latency_ms: float
    verdict: Verdict | None = None
    paused: bool = False


def display_scale(resolution_wh: tuple[int, int], window: bool) -> float:
    """Enlargement of the frame for the window (1.0 headless: draw at the native size)."""
    if not window:
        return 1.0
    return max(1.0, MIN_DISPLAY_LONG_SIDE_PX / max(resolution_wh))


@dataclass(frozen=True)
class LiveLayout:
    """Where the live picture's panels are, in its pixels (after scaling and mirroring):
    the counter, the hud (frames per second, latency, the hip gauge) and the message (the
    verdict or the setup guidance; None: nothing to say), each placed off `body` (the box
    the body kept to over the last seconds; None: nobody seen) and off each other. The
    message's `head` lines are in large type, its `detail` lines below in small type, both
    at `text_scale` of their normal size."""

    body: Box | None
    counter: Box
    hud: Box
    hud_scale: float
    message: Box | None = None
    head: tuple[str, ...] = ()
    detail: tuple[str, ...] = ()
    head_color: tuple[int, int, int] = _WHITE
    text_scale: float = 1.0


def _shown_box(box: Box | None, scale: float, width: int, mirror: bool) -> Box | None:
    """`box` (pixels of the captured frame) in the drawn picture: scaled, then mirrored."""
    if box is None:
        return None
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    return (width - x1, y0, width - x0, y1) if mirror else (x0, y0, x1, y1)


def _message(state: CoachState, hud: Hud) -> tuple[str, str, tuple[int, int, int]] | None:
    """What the message panel says: its head (large), detail (small) and the head's colour;
    the rep verdict while it is up, else the setup guidance, else None."""
    v = hud.verdict
    if v is not None:
        if v.fault:
            return f"Rep {v.report.rep.index}: {v.said}", v.report.cue, _RED
        return f"Rep {v.report.rep.index}: good rep", "", _GREEN
    if state.guidance:
        return state.guidance, "", _ORANGE
    return None


def live_layout(
    state: CoachState, hud: Hud, overlay: Overlay, frame_wh: tuple[int, int]
) -> LiveLayout:
    """The live panels' places on a picture of `frame_wh` drawn from `overlay` (whose
    `body_box_px` the panels keep clear of): the counter where `annotate` puts it, the hud
    near the top, the message near the bottom, folded and its text shrunk as the video's
    cue is (`overlay.fit_panel`) when that keeps it off the body."""
    w, h = frame_wh
    unit = max(w, h) / 720.0
    body = overlay.body_box_px
    avoid = [body] if body is not None else []
    counter = layout(overlay, frame_wh).counter
    hud_size = (round(_HUD_W_PX * unit), round(3.3 * round(_HUD_LINE_PX * unit)))
    hud_box, _, hud_scale = best_panel(
        scaled_options(hud_size, None), frame_wh, [*avoid, counter], prefer_top=True
    )
    said = _message(state, hud)
    if said is None:
        return LiveLayout(body, counter, hud_box, hud_scale)
    head, detail, color = said

    def size_at(pw: int, scale: float) -> tuple[int, tuple[tuple[str, ...], tuple[str, ...]]]:
        heads = tuple(wrap_text(head, max(8, int(pw / (26 * unit * scale)))))
        details = tuple(wrap_text(detail, max(8, int(pw / (14 * unit * scale)))))
        height = round(24 * unit * scale) + round(
            (len(heads) * _BIG_LINE_PX + len(details) * _SMALL_LINE_PX) * unit * scale
        )
        return height, (heads, details)

    box, (heads, details), scale = fit_panel(size_at, frame_wh, [*avoid, counter, hud_box], body)
    return LiveLayout(body, counter, hud_box, hud_scale, box, heads, details, color, scale)


def draw_live(
    image_bgr: ImageBGR,
    state: CoachState,
    hud: Hud,
    cfg: Config,
    *,
    mirror: bool = False,
    scale: float = 1.0,
) -> tuple[ImageBGR, LiveLayout]:
    """The live picture for one frame (a new image; `image_bgr` is not changed), and where
    its panels are."""
    img: np.ndarray = image_bgr
    joints = state.joints_xy_px.astype(np.float64)
    if scale != 1.0:
        h, w = img.shape[:2]
        img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
        joints = joints * scale
    if mirror:
        img = cv2.flip(img, 1)
        joints = joints.copy()
        joints[:, 0] = img.shape[1] - 1 - joints[:, 0]
    # The message panel is drawn here rather than by `annotate`: live, the verdict leads
    # with the word or two the lifter can take in mid-set, in large type.
    overlay = Overlay(
        joints_xy_px=joints,
        hip_angle_deg=state.hip_angle_deg,
        reps=state.reps,
        phase=Phase(state.phase).word,
        cue="",
        body_box_px=_shown_box(state.body_box_px, scale, img.shape[1], mirror),
    )
    places = live_layout(state, hud, overlay, (img.shape[1], img.shape[0]))
    out = annotate(img, overlay)
    _draw_message(out, places)
    _draw_hud(out, state, hud, cfg, places)
    return out, places


def _draw_message(img: ImageBGR, places: LiveLayout) -> None:
    """The message panel: its head in large type, the detail below it in small type."""
    if places.message is None:
        return
    h, w = img.shape[:2]
    unit = max(h, w) / 720.0
    k = places.text_scale
    thick = max(1, round(2 * unit * k))
    x0, y, _, _ = places.message
    draw_panel(img, *places.message, alpha=0.6)
    y += round(10 * unit * k)
    # (lines, line height, text scale, colour, thickness, baseline lift): head, then detail
    blocks = (
        (places.head, _BIG_LINE_PX, 1.15, places.head_color, thick + 1, 8),
        (places.detail, _SMALL_LINE_PX, 0.62, _WHITE, max(1, thick - 1), 4),
    )
    for lines, line_px, text_scale, color, weight, lift in blocks:
        for line in lines:
            y += round(line_px * unit * k)
            org = (x0 + round(14 * unit), y - round(lift * unit * k))
            draw_text(img, line, org, text_scale * unit * k, color, weight)


def _draw_hud(img: ImageBGR, state: CoachState, hud: Hud, cfg: Config, places: LiveLayout) -> None:
    """The hud in its box: fps, latency and the hip angle gauge; the pause banner across
    the middle (the set is paused: nothing to watch beneath it)."""
    h, w = img.shape[:2]
    box = places.hud
    unit = max(h, w) / 720.0 * places.hud_scale
    thick = max(1, round(2 * unit))
    scale = 0.6 * unit
    line_h = round(_HUD_LINE_PX * unit)
    x0, y0, x1, _ = box
    draw_panel(img, *box)
    lat = "-" if math.isnan(hud.latency_ms) else f"{hud.latency_ms:.0f} ms"
    draw_text(
        img,
        f"{hud.fps:4.1f} fps  latency {lat}",
        (x0 + round(10 * unit), y0 + line_h),
        scale,
        _WHITE,
        thick,
    )
    # The gauge: the target band in green, 180 (straight line) as a tick, the hip as a dot.
    lo, hi = GAUGE_RANGE_DEG
    gx0, gx1 = x0 + round(12 * unit), x1 - round(14 * unit)
    gy = y0 + round(2.0 * line_h)
    gh = max(3, round(7 * unit))

    def gx(deg: float) -> int:
        x: float = gx0 + (gx1 - gx0) * (min(max(deg, lo), hi) - lo) / (hi - lo)
        return round(x)

    ta = cfg.rules.top_alignment
    cv2.rectangle(img, (gx0, gy - gh), (gx1, gy + gh), _GREY, 1, cv2.LINE_AA)
    cv2.rectangle(img, (gx(ta.min_deg), gy - gh), (gx(ta.max_deg), gy + gh), _GREEN, -1)
    cv2.line(
        img,
        (gx(ta.target_deg), gy - 2 * gh),
        (gx(ta.target_deg), gy + 2 * gh),
        _WHITE,
        max(1, thick - 1),
        cv2.LINE_AA,
    )
    label = "hip -"
    if not math.isnan(state.hip_angle_deg):
        cv2.circle(img, (gx(state.hip_angle_deg), gy), round(1.6 * gh), _YELLOW, -1, cv2.LINE_AA)
        cv2.circle(img, (gx(state.hip_angle_deg), gy), round(1.6 * gh), (0, 0, 0), 1, cv2.LINE_AA)
        label = f"hip {state.hip_angle_deg:.0f} / target {ta.target_deg:.0f} deg"
    draw_text(
        img,
        label,
        (x0 + round(10 * unit), y0 + round(3.05 * line_h)),
        scale * 0.9,
        _WHITE,
        max(1, thick - 1),
    )
    if hud.paused:
        unit = max(h, w) / 720.0  # the banner at the frame's own size
        scale, thick, line_h = 0.96 * unit, max(1, round(2 * unit)) + 1, round(_HUD_LINE_PX * unit)
        text = "PAUSED - space to go on"
        size = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)[0]
        draw_panel(img, 0, h // 2 - 2 * line_h, w, h // 2 + line_h)
        draw_text(img, text, ((w - size[0]) // 2, h // 2), scale, _ORANGE, thick)


def draw_summary(
    resolution_wh: tuple[int, int],
    verdicts: list[Verdict],
    end_reason: str,
    latency_line: str,
    json_path: Path | None,
) -> ImageBGR:
    """The end-of-set screen: reps, score, each rep's verdict, what to fix, latency."""
    w, h = resolution_wh
    img: ImageBGR = np.full((h, w, 3), 28, dtype=np.uint8)
    unit = max(h, w) / 720.0
    thick = max(1, round(2 * unit))
    scale = 0.62 * unit
    line_h = round(30 * unit)
    x0 = round(24 * unit)
    scores = [v.report.score for v in verdicts if v.report.score is not None]
    overall = f", score {round(sum(scores) / len(scores))}" if scores else ""
    y = round(1.5 * line_h)
    reps = f"{len(verdicts)} rep" + ("" if len(verdicts) == 1 else "s")
    draw_text(img, f"Set done: {reps}{overall}", (x0, y), scale * 1.5, _WHITE, thick + 1)
    y += round(0.9 * line_h)
    draw_text(img, f"({end_reason})", (x0, y), scale * 0.8, _GREY, max(1, thick - 1))
    max_rows = max(1, (h - 5 * line_h) // line_h - 2)
    for v in verdicts[-max_rows:]:
        y += line_h
        score = "-" if v.report.score is None else str(v.report.score)
        msg = ", ".join(SHORT_CUES.get(c, c) for c in v.report.faults) if v.fault else "good rep"
        draw_text(
            img,
            f"Rep {v.report.rep.index}  {score:>3}  {msg}",
            (x0, y),
            scale,
            _RED if v.fault else _GREEN,
            thick,
        )
    fixes = []
    for v in verdicts:
        if v.report.cue and v.report.cue not in fixes:
            fixes.append(v.report.cue)
    if fixes:
        y += round(1.3 * line_h)
        draw_text(img, "To fix:", (x0, y), scale, _YELLOW, thick)
        for line in wrap_text(fixes[0], max(20, int(w / (15 * unit))))[:2]:
            y += line_h
            draw_text(img, line, (x0, y), scale * 0.9, _WHITE, max(1, thick - 1))
    foot = latency_line + (f"; report: {json_path.name}" if json_path else "")
    draw_text(img, foot, (x0, h - round(1.6 * line_h)), scale * 0.75, _GREY, max(1, thick - 1))
    draw_text(
        img,
        "press any key to close",
        (x0, h - round(0.6 * line_h)),
        scale * 0.75,
        _GREY,
        max(1, thick - 1),
    )
    return img
