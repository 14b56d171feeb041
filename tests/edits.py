"""Edited clips for tests, made from the bundled samples as an editor would make them: a
window cut out of a clip, takes joined end to end, an end card after a set, panels side by
side; and as a handheld phone films: turned away from the lifter and back, held above the
lifter, or with its rotation tag lost (the picture upside down or on its side). The times
start again from 0, and the product's own browser-playable encoder writes them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from formcheck.video import FileSource, VideoSink


def _window(source: Path, start_s: float, end_s: float) -> Iterator[tuple[np.ndarray, float]]:
    """The frames of `source` from `start_s` to `end_s` (s) with their times from `start_s`."""
    for frame in FileSource(source):
        if start_s <= frame.t_s <= end_s:
            yield frame.image_bgr, frame.t_s - start_s


def join(
    parts: Sequence[tuple[Path, float, float]], out: Path, end_card_s: float = 0.0
) -> list[float]:
    """Takes (clip, start s, end s) joined end to end with hard cuts (all at the first
    clip's size and frame rate), then `end_card_s` seconds of a still title card. Returns
    the times (s) in `out` where each take after the first, and the card, begin."""
    info = FileSource(parts[0][0]).info
    size = (info.width, info.height)
    step = 1.0 / info.fps
    joins: list[float] = []
    t_out = 0.0
    with VideoSink(out, info.fps, size) as sink:
        for k, (clip, start_s, end_s) in enumerate(parts):
            if k:
                joins.append(t_out)
            for image, _ in _window(clip, start_s, end_s):
                if (image.shape[1], image.shape[0]) != size:
                    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                sink.write(image, t_out)
                t_out += step
        if end_card_s > 0:
            joins.append(t_out)
            card = np.full((info.height, info.width, 3), (40, 30, 25), np.uint8)
            cv2.putText(
                card,
                "Thanks for watching",
                (info.width // 8, info.height // 2),
                cv2.FONT_HERSHEY_SIMPLEX,
                info.width / 700,
                (240, 240, 240),
                2,
                cv2.LINE_AA,
            )
            for _ in range(round(end_card_s * info.fps)):
                sink.write(card, t_out)
                t_out += step
    return joins


def cut_window(source: Path, out: Path, start_s: float, end_s: float) -> Path:
    """The frames of `source` from `start_s` to `end_s` (s), as a clip of their own."""
    join([(source, start_s, end_s)], out)
    return out


def side_by_side(
    clips: Sequence[Path], out: Path, divider_px: int = 0, stacked: bool = False
) -> Path:
    """A split screen: the clips' frames in panels side by side (or `stacked`), each at the
    first clip's size, with a white divider `divider_px` wide between them, as long as the
    shortest clip."""
    info = FileSource(clips[0]).info
    size = (info.width, info.height)
    n = len(clips)
    if stacked:
        whole = (info.width, n * info.height + (n - 1) * divider_px)
    else:
        whole = (n * info.width + (n - 1) * divider_px, info.height)
    step = 1.0 / info.fps
    with VideoSink(out, info.fps, whole) as sink:
        for k, frames in enumerate(zip(*(FileSource(c) for c in clips), strict=False)):
            canvas = np.full((whole[1], whole[0], 3), 255, np.uint8)
            for j, frame in enumerate(frames):
                image = frame.image_bgr
                if (image.shape[1], image.shape[0]) != size:
                    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                if stacked:
                    y0 = j * (info.height + divider_px)
                    canvas[y0 : y0 + info.height] = image
                else:
                    x0 = j * (info.width + divider_px)
                    canvas[:, x0 : x0 + info.width] = image
            sink.write(canvas, k * step)
    return out


def swing_away(
    source: Path, out: Path, at_s: float, pan_s: float = 0.5, away_s: float = 0.6
) -> tuple[float, float]:
    """`source` filmed by a phone that turns away at `at_s` (s): the view pans off the lifter
    over `pan_s` onto the room beside them (a textured wall), stays there `away_s`, and pans
    back, while the lifter carries on. Returns when the camera leaves and when it is back."""
    info = FileSource(source).info
    w, h = info.width, info.height
    rng = np.random.default_rng(11)
    blocks = rng.integers(40, 220, (h // 40 + 1, w // 40 + 1, 3), dtype=np.uint8)
    room = cv2.GaussianBlur(np.kron(blocks, np.ones((40, 40, 1), np.uint8))[:h, :w], (0, 0), 3)
    back_s = at_s + pan_s + away_s
    with VideoSink(out, info.fps, (w, h)) as sink:
        for frame in FileSource(source):
            t = frame.t_s
            turned = min(max((t - at_s) / pan_s, 0.0), 1.0) - min(
                max((t - back_s) / pan_s, 0.0), 1.0
            )
            shift = round(0.5 * (1 - np.cos(np.pi * turned)) * w)  # eased, as a hand turns
            view = np.hstack([frame.image_bgr, room])[:, shift : shift + w]
            sink.write(np.ascontiguousarray(view), t)
    return at_s, back_s + pan_s


def turned(source: Path, out: Path, quarters: int, end_s: float = float("inf")) -> Path:
    """`source` (up to `end_s`) with every picture turned `quarters` quarter turns
    counter-clockwise and no rotation tag: a phone clip whose rotation tag was lost."""
    info = FileSource(source).info
    size = (info.width, info.height) if quarters % 2 == 0 else (info.height, info.width)
    with VideoSink(out, info.fps, size) as sink:
        for image, t_s in _window(source, 0.0, end_s):
            sink.write(np.ascontiguousarray(np.rot90(image, quarters)), t_s)
    return out


def seen_from_above(source: Path, out: Path, squash: float) -> Path:
    """`source` with every height in the picture shortened to `squash` of itself, as a camera
    held above the lifter foreshortens them (widths kept)."""
    info = FileSource(source).info
    size = (info.width, 2 * round(info.height * squash / 2))
    with VideoSink(out, info.fps, size) as sink:
        for frame in FileSource(source):
            sink.write(cv2.resize(frame.image_bgr, size, interpolation=cv2.INTER_AREA), frame.t_s)
    return out
