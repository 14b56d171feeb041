"""Split screens: a clip made of several panels side by side (or stacked), each its own video.

A comparison edit shows two or three sets at once; the pose model would follow one lifter
and jump between panels, and the reps would mix. So during the pose pass a small copy of a
frame is kept every second (`PanelWatch`) and looked at for *seams*: straight lines across
the whole picture where the two sides do not continue each other. In a natural picture,
neighbouring pixel columns (or rows) are alike almost everywhere; across a panel border
they differ on most of the line in every frame. A seam is a line where at least
`SEAM_SHARE` of the pixels differ from their neighbours across it by more than `SEAM_LEVEL`
levels in some colour channel, in every kept frame. A flat span between seams (a divider
bar, a letterbox) is no panel; a narrow strip that is not flat (the floor under a floor
line) belongs to the panel beside it.

A floor line or a bench edge can run straight across a whole picture too. So a candidate
border counts only when the lifter's joints, as the pose pass saw them, do not straddle it,
and two panels or more show a lifter (`split_screen_panel`); the clip is then measured again
in the panel where the pose model sees the lifter best (`measure.measure_clip`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from formcheck.pose.landmarks import PoseFrame
from formcheck.pose.sequence import PoseSequence
from formcheck.track import SIDE_LANDMARKS
from formcheck.video.frames import Frame, ImageBGR

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

#: Version of the panel search kept with the landmarks (`meta["panel_candidates"]`).
PANELS_VERSION = 1
#: Frames looked at for seams, spread over the clip.
SAMPLE_FRAMES = 6
#: Long side of the grey copy searched for seams, pixels.
WORK_PX = 320
#: A pixel differs from its neighbour across a line by more than this (grey levels)...
SEAM_LEVEL = 20.0
#: ...on at least this share of the line, in every sampled frame: a seam.
SEAM_SHARE = 0.6
#: A panel spans at least this share of the picture's width (height); narrower: a bar.
MIN_PANEL_SHARE = 0.15
#: A panel whose grey levels vary less than this (standard deviation) is a flat bar.
MIN_PANEL_STD = 6.0


@dataclass(frozen=True)
class Panel:
    """One panel of a split screen: the box [x0, x1) x [y0, y1) in the upright frame's
    pixels, its 1-based number and how the panels are laid out."""

    index: int
    count: int
    layout: Literal["side by side", "stacked"]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1

    @property
    def name(self) -> str:
        """Where the panel is, in words ("left", "middle", "top", "2nd of 4"...)."""
        ends = ("left", "right") if self.layout == "side by side" else ("top", "bottom")
        if self.index == 1:
            return ends[0]
        if self.index == self.count:
            return ends[1]
        if self.count == 3:
            return "middle"
        return f"{self.index}{'nd' if self.index == 2 else 'rd' if self.index == 3 else 'th'}"

    def to_meta(self) -> dict[str, Any]:
        """What the landmarks keep of it (`meta["panel"]`), read back by `from_meta`."""
        return {
            "index": self.index,
            "count": self.count,
            "layout": self.layout,
            "box": list(self.box),
        }

    @classmethod
    def from_dict(cls, p: dict[str, Any]) -> Panel:
        """The panel `to_meta` wrote."""
        x0, y0, x1, y1 = (int(v) for v in p["box"])
        return cls(int(p["index"]), int(p["count"]), p["layout"], (x0, y0, x1, y1))

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Panel | None:
        """The panel a measured clip was analysed in (None: the whole picture)."""
        p = meta.get("panel")
        return cls.from_dict(p) if isinstance(p, dict) else None

    @property
    def warning(self) -> str:
        """What the report says of a split screen."""
        return (
            f"a split screen of {self.count} panels {self.layout}: analysed only the "
            f"{self.name} panel, where the lifter is seen best; film one set per clip "
            "to have each one analysed"
        )


def _small(image: ImageBGR) -> np.ndarray:
    """The picture at `WORK_PX` on its long side, in colour (float)."""
    h, w = image.shape[:2]
    if max(h, w) <= WORK_PX:  # already small (`PanelWatch` keeps such copies)
        return np.asarray(image, np.float32)
    scale = WORK_PX / max(h, w)
    size = (max(16, round(w * scale)), max(16, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def _seam_share(image: np.ndarray) -> np.ndarray:
    """For each boundary between columns c-1 and c (c = 1..W-1), the share of rows where the
    two columns differ by more than `SEAM_LEVEL` in some colour channel (two panels with the
    same brightness rarely have the same colour)."""
    differ = np.abs(np.diff(image, axis=1)).max(axis=2) > SEAM_LEVEL
    return np.asarray(differ.mean(axis=0))


def _spans(images: Sequence[np.ndarray]) -> list[tuple[int, int]]:
    """The panels along the x axis of `images` as [start, end) columns, between seams.

    A flat span (a divider bar, a letterbox) is no panel. A narrow span that is not flat (a
    strip of floor under a floor line, a title band) belongs to the panel beside it.
    """
    width = images[0].shape[1]
    share = np.min([_seam_share(im) for im in images], axis=0)  # a seam is in every frame
    edges = [0, *(c + 1 for c in range(len(share)) if share[c] >= SEAM_SHARE), width]
    panels: list[tuple[int, int]] = []
    waiting: tuple[int, int] | None = None  # a sliver after a bar, for the next panel
    after_bar = True
    for a, b in itertools.pairwise(edges):
        if float(np.mean([im[:, a:b].std() for im in images])) < MIN_PANEL_STD:
            after_bar, waiting = True, None  # a bar
            continue
        if b - a >= MIN_PANEL_SHARE * width:  # a panel, with the sliver before it
            panels.append((waiting[0] if waiting else a, b))
            waiting = None
        elif panels and not after_bar:  # a sliver: it joins the panel before it...
            panels[-1] = (panels[-1][0], b)
        else:  # ...or, after a bar, the next one
            waiting = (waiting[0] if waiting else a, b)
        after_bar = False
    return panels


def _seam_lines(images: Sequence[ImageBGR], edge: int, reach: int) -> list[int]:
    """The full-resolution seams within `reach` of `edge`, each as the first column after
    it: the two edges of a thin divider bar, or the sharpest line when none is a seam."""
    lo, hi = max(1, edge - reach), min(images[0].shape[1] - 1, edge + reach)
    if lo >= hi:
        return [edge]
    share = np.min(
        [_seam_share(im[:, lo - 1 : hi + 1].astype(np.float32)) for im in images], axis=0
    )
    lines = [lo + int(c) for c in np.flatnonzero(share >= SEAM_SHARE)]
    return lines or [lo + int(np.argmax(share))]


def find_panels(
    images: Sequence[np.ndarray], size_wh: tuple[int, int] | None = None
) -> list[Panel]:
    """The panels of a split screen seen in `images` (frames of one clip, upright), or []
    when the picture is one panel. `images` may be smaller copies of frames `size_wh`
    pixels large: the boxes are then scaled to that size, to within a pixel of the copies
    (`refine_panels` makes them exact on full frames)."""
    if not images:
        return []
    h, w = images[0].shape[:2]
    width, height = size_wh or (w, h)
    same = [im for im in images if im.shape[:2] == (h, w)]
    small = [_small(im) for im in same]
    sh, sw = small[0].shape[:2]
    layouts: tuple[tuple[Literal["side by side", "stacked"], bool], ...] = (
        ("side by side", False),
        ("stacked", True),
    )
    for layout, turn in layouts:
        spans = _spans([im.transpose(1, 0, 2) for im in small] if turn else small)
        if len(spans) < 2:
            continue
        scale = height / sh if turn else width / sw
        panels = [
            Panel(
                k + 1,
                len(spans),
                layout,
                (0, round(a * scale), width, round(b * scale))
                if turn
                else (round(a * scale), 0, round(b * scale), height),
            )
            for k, (a, b) in enumerate(spans)
        ]
        return refine_panels(panels, same) if (width, height) == (w, h) else panels
    return []


def refine_panels(panels: Sequence[Panel], frames: Sequence[ImageBGR]) -> list[Panel]:
    """The panels with their inner edges on the full-resolution seams near them (within a
    work pixel), a thin divider bar left out."""
    h, w = frames[0].shape[:2]
    turn = panels[0].layout == "stacked"
    full = [np.ascontiguousarray(im.transpose(1, 0, 2)) for im in frames] if turn else frames
    size = h if turn else w
    reach = int(np.ceil(size / WORK_PX)) + 1
    out = []
    for p in panels:
        x0, y0, x1, y1 = p.box
        a, b = (y0, y1) if turn else (x0, x1)
        # A panel starts after a divider's last seam and ends at its first.
        a = a if a == 0 else max(_seam_lines(full, a, reach))
        b = b if b == size else min(_seam_lines(full, b, reach))
        out.append(Panel(p.index, p.count, p.layout, (0, a, w, b) if turn else (a, 0, b, h)))
    return out


#: A frame kept by `PanelWatch`: its time (s), decoded index and JPEG bytes.
PanelSample = tuple[float, int, bytes]


class PanelWatch:
    """Keeps a small copy of a frame every `EVERY_S` seconds of the pose pass (the last
    `KEEP`, thinned evenly), so that a split screen's panels can be looked for afterwards
    without decoding again (`candidates`); and `SAMPLE_FRAMES` frames spread over the clip
    of `duration_s`, JPEG-compressed, for the pose model to look at in each candidate panel
    (`split_screen_panel`), again without decoding."""

    EVERY_S = 1.0
    KEEP = 12

    def __init__(self, duration_s: float = 0.0) -> None:
        self._next_s = 0.0
        self._every_s = self.EVERY_S
        self.smalls: list[np.ndarray] = []
        span = duration_s or 1.0
        self._sample_at = [span * (k + 0.5) / SAMPLE_FRAMES for k in range(SAMPLE_FRAMES)]
        self.samples: dict[int, PanelSample] = {}  # by sample time

    def observe(self, frame: Frame) -> None:
        due = [k for k, t in enumerate(self._sample_at) if frame.t_s >= t and k not in self.samples]
        if due:  # the first frame at or after each sample time
            ok, jpeg = cv2.imencode(".jpg", frame.image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if ok:
                self.samples.update((k, (frame.t_s, frame.index, jpeg.tobytes())) for k in due)
        if frame.t_s < self._next_s:
            return
        self.smalls.append(_small(frame.image_bgr))
        if len(self.smalls) > self.KEEP:  # a long clip: keep every other, twice as sparse
            self.smalls = self.smalls[::2]
            self._every_s *= 2
        self._next_s = frame.t_s + self._every_s

    def extend(self, later: PanelWatch) -> None:
        """Add what `later` kept on a later part of the clip (`schedule.Part`)."""
        self.smalls += later.smalls
        while len(self.smalls) > self.KEEP:
            self.smalls = self.smalls[::2]
        for k, sample in later.samples.items():
            self.samples.setdefault(k, sample)

    def kept_samples(self) -> tuple[PanelSample, ...]:
        """The frames kept for the pose model, in time order (`sample_frames` reads them)."""
        return tuple(sorted(set(self.samples.values())))

    def candidates(self, size_wh: tuple[int, int]) -> list[Panel]:
        """The panels the seams suggest (a floor line too: `split_screen_panel` decides)."""
        return find_panels(self.smalls, size_wh) if len(self.smalls) >= 2 else []


def sample_frames(samples: Sequence[PanelSample]) -> list[Frame]:
    """The frames `PanelWatch` kept, decoded."""
    frames = []
    for t_s, index, jpeg in samples:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is not None:
            frames.append(Frame(image.astype(np.uint8, copy=False), t_s, index))
    return frames


#: A panel "shows a lifter" when the pose model sees the better side's shoulder, hip, knee
#: and ankle with at least this mean visibility over the sampled frames.
MIN_SEEN = 0.5
#: A candidate border that the lifter's visible joints straddle in this share of the frames
#: with a pose or more is a floor line or a bench edge, not a border.
CROSSING_SHARE = 0.2


def _seen(pose: PoseFrame) -> float:
    """How well a pose shows a lifter's side: the better side's mean visibility of the
    shoulder, hip, knee and ankle (0 without a pose)."""
    if np.isnan(pose.xy_px).all():
        return 0.0
    return max(float(np.mean(pose.visibility[list(idx)])) for idx in SIDE_LANDMARKS.values())


def _crossed(seq: PoseSequence, panels: Sequence[Panel]) -> bool:
    """True when the poses of the pass over the whole picture straddle a panel's edges in
    `CROSSING_SHARE` of the frames with a pose: one body across the line."""
    idx = [i for side in SIDE_LANDMARKS.values() for i in side]
    xy = seq.xy_px[:, idx].astype(np.float64)
    seen = seq.visibility[:, idx] >= MIN_SEEN
    posed = seen.any(axis=1)
    if not posed.any():
        return False
    for panel in panels:
        x0, y0, x1, y1 = panel.box
        with np.errstate(invalid="ignore"):
            inside = (xy[..., 0] >= x0) & (xy[..., 0] < x1) & (xy[..., 1] >= y0) & (xy[..., 1] < y1)
        straddle = np.asarray((inside & seen).any(axis=1) & (~inside & seen).any(axis=1))
        if float(straddle[posed].mean()) >= CROSSING_SHARE:
            return True
    return False


def split_screen_panel(
    samples: Sequence[PanelSample],
    seq: PoseSequence,
    candidates: Sequence[Panel],
    estimator: PoseEstimator,
) -> Panel | None:
    """The panel to analyse when a clip, measured over its whole picture as `seq` (and the
    `samples` `PanelWatch` kept of it), is a split screen with a lifter in two panels or
    more: the one where the pose model sees the lifter best; None for a clip of one picture,
    or whose `candidates` (the panels `PanelWatch` saw) are cut by a floor line or a bar
    (one lifter across them, or in one only).

    Two panels whose backgrounds meet without a visible line (two takes in one room put
    side by side without a divider) show no seam and are not found.
    """
    if len(candidates) < 2 or _crossed(seq, candidates):
        return None
    frames = sample_frames(samples)
    if not frames:
        return None
    panels = refine_panels(candidates, [f.image_bgr for f in frames])
    seen = []
    for panel in panels:
        x0, y0, x1, y1 = panel.box
        estimator.start_clip()
        seen.append(
            float(
                np.mean(
                    [
                        _seen(
                            estimator.detect(
                                Frame(
                                    np.ascontiguousarray(f.image_bgr[y0:y1, x0:x1]), f.t_s, f.index
                                ),
                                count_people=False,
                            )
                        )
                        for f in frames
                    ]
                )
            )
        )
    estimator.start_clip()
    if sum(s >= MIN_SEEN for s in seen) < 2:
        return None
    return panels[int(np.argmax(seen))]
