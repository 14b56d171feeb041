"""Browser-playable video writer (H.264 in MP4, yuv420p, moov atom first), via PyAV."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av

from formcheck.video.frames import ImageBGR


class VideoSink:
    """Context manager that encodes BGR frames to an H.264 MP4 a browser can play.

    Frames are written with explicit presentation times when given (so a variable frame
    rate source keeps its timing), else at the nominal `fps`. The file is written to a
    temporary name and renamed on a clean close, so a crash never leaves a half-written
    video under the final name.

    Args:
        path: output .mp4 path.
        fps: nominal frame rate (frames per second).
        resolution_wh: (width, height) in pixels; odd sizes are padded to even, as H.264
            with 4:2:0 chroma requires.
        crf: x264 constant rate factor (lower is better quality, bigger files).
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        resolution_wh: tuple[int, int],
        crf: int = 23,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(f".{self.path.name}.part")
        self.fps = fps
        width, height = resolution_wh
        self.size = (width + width % 2, height + height % 2)
        self.crf = crf
        self.preset = preset
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._time_base = Fraction(1, 90_000)
        self._last_pts = -1
        self.frames_written = 0

    def __enter__(self) -> VideoSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(
            str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = Fraction(self.fps).limit_denominator(1001) if self.fps > 0 else Fraction(30)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuv420p"
        stream.time_base = self._time_base
        stream.codec_context.time_base = self._time_base
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        self._stream = stream
        return self

    def write(self, image_bgr: ImageBGR, t_s: float | None = None) -> None:
        """Encode one frame; `t_s` is its presentation time in seconds (None: nominal rate)."""
        if self._container is None or self._stream is None:
            raise RuntimeError("VideoSink.write called outside its `with` block")
        height, width = image_bgr.shape[:2]
        if (width, height) != self.size:
            import cv2

            image_bgr = cv2.copyMakeBorder(  # type: ignore[assignment]
                image_bgr, 0, self.size[1] - height, 0, self.size[0] - width, cv2.BORDER_REPLICATE
            )
        frame = av.VideoFrame.from_ndarray(image_bgr, format="bgr24")
        if t_s is None:
            t_s = self.frames_written / (self.fps or 30.0)
        pts = max(round(t_s / self._time_base), self._last_pts + 1)
        frame.pts = pts
        frame.time_base = self._time_base
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._container is None or self._stream is None:
            return
        try:
            if exc_type is None:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None
        if exc_type is None and self.frames_written > 0:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)
