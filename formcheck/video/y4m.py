"""A clip as a Y4M file: what Chromium's fake camera plays (`--use-file-for-fake-video-capture`),
so the Live page can be tested and timed in a real browser with a known set in front of it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from formcheck.video.source import FileSource


def write_y4m(clip: str | Path, out: Path, lead_s: float = 0.0) -> float:
    """Write `clip` (every frame, at its own rate rounded to a whole number) to `out` as
    Y4M (4:2:0), its first frame held `lead_s` seconds first; returns the file's duration
    (s). The camera loops the file: the lead is the lifter getting ready."""
    source = FileSource(clip)
    fps = max(1, round(source.info.fps))
    frames = [f.image_bgr for f in source]
    h, w = frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2  # 4:2:0 halves both sides
    frames = [frames[0]] * round(lead_s * fps) + frames
    frames = [np.ascontiguousarray(image[:h, :w]) for image in frames]
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in frames:
            f.write(b"FRAME\n")
            f.write(np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)).tobytes())
    return len(frames) / fps
