"""Edited clips for tests, made from the bundled samples as an editor would make them: a
window cut out of a clip (the times re-started from 0), written with the product's own
browser-playable encoder."""

from __future__ import annotations

from pathlib import Path

from formcheck.video import FileSource, VideoSink


def cut_window(source: Path, out: Path, start_s: float, end_s: float) -> Path:
    """The frames of `source` from `start_s` to `end_s` (s), as a clip of their own."""
    frames = FileSource(source)
    with VideoSink(out, frames.info.fps, (frames.info.width, frames.info.height)) as sink:
        for frame in frames:
            if start_s <= frame.t_s <= end_s:
                sink.write(frame.image_bgr, frame.t_s - start_s)
    return out
