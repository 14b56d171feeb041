"""Video file frame source, decoded with PyAV (FFmpeg).

PyAV is used rather than cv2.VideoCapture because it exposes each frame's presentation
timestamp (variable frame rate is common in phone clips) and the display-matrix rotation of
portrait phone videos.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from formcheck.errors import EmptyVideoError, VideoOpenError
from formcheck.video.frames import Frame, ImageBGR, VideoInfo

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    """Anything that yields frames in time order: a file, a camera, a stream."""

    info: VideoInfo

    def __iter__(self) -> Iterator[Frame]: ...


def _upright(image: ImageBGR, rotation_deg: int) -> ImageBGR:
    """Rotate a decoded image by the container's display rotation.

    `rotation_deg` is FFmpeg's display-matrix angle: counter-clockwise degrees the image
    must be turned to be shown upright (a portrait phone clip typically says -90).
    """
    k = round(rotation_deg / 90) % 4
    return image if k == 0 else np.ascontiguousarray(np.rot90(image, k))


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise VideoOpenError(f"{path}: no such file")
    if path.is_dir():
        raise VideoOpenError(f"{path}: is a folder, not a video file")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise VideoOpenError(f"{path}: not a readable video ({exc.__class__.__name__})") from exc
    if not container.streams.video:
        container.close()
        raise VideoOpenError(f"{path}: the file holds no video stream")
    return container


def _rotation_of(container: av.container.InputContainer) -> int:
    """Display rotation of the first video frame (0 when there is none)."""
    stream = container.streams.video[0]
    try:
        for frame in container.decode(stream):
            rotation: float = getattr(frame, "rotation", 0) or 0
            return round(rotation)
    except av.error.FFmpegError:
        return 0
    return 0


def stride_for(fps: float, max_fps: float) -> int:
    """The stride that keeps a `fps` clip at about `max_fps` analysed frames per second: the
    nearest whole stride (15 on a 30 fps clip is every 2nd frame, and so are 24 and 25 fps
    clips, at 12-12.5 a second; 60 fps every 4th). `max_fps` 0 (or an unknown clip rate)
    keeps every frame."""
    if max_fps <= 0 or fps <= 0:
        return 1
    return max(1, round(fps / max_fps))


def probe(path: str | Path) -> VideoInfo:
    """Read a video's metadata (and its first frame, for the rotation) without decoding it all.

    Raises:
        VideoOpenError: missing file, not a video, or no video stream.
        EmptyVideoError: the stream has no decodable frame.
    """
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or 0
        fps = float(rate) if rate else 0.0
        width = stream.codec_context.width
        height = stream.codec_context.height
        rotation = _rotation_of(container)
        if width == 0 or height == 0:
            raise EmptyVideoError(f"{path}: the video stream has no frames")
        if round(rotation / 90) % 2:
            width, height = height, width
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        frame_count = int(stream.frames or 0)
        if frame_count == 0 and fps > 0:
            frame_count = round(duration * fps)
        return VideoInfo(str(path), fps, frame_count, duration, width, height, rotation)
    finally:
        container.close()


class FileSource:
    """Yields the frames of a video file, upright, with container timestamps.

    Args:
        path: the video file.
        stride: keep every `stride`-th decoded frame (1 keeps all). Skipped frames are
            decoded (codecs need them) but never converted to arrays, which is most of
            the saving.
        max_fps: raise the stride so that about this many frames per second of video are
            kept (see `stride_for`); 0 leaves `stride` as it is.
        crop: (x0, y0, x1, y1) in the upright frame's pixels: yield only that box (one
            panel of a split screen); `info` then gives the box's size.
        turn_deg: a further turn (counter-clockwise degrees, a multiple of 90) on top of
            the container's rotation, for a clip whose rotation tag is wrong (a person seen
            upside down or on their side: `geometry.upright_turn_deg`); `info` then gives
            the turned size and rotation. The crop is in the turned frame's pixels.
    """

    def __init__(
        self,
        path: str | Path,
        stride: int = 1,
        max_fps: float = 0.0,
        crop: tuple[int, int, int, int] | None = None,
        turn_deg: int = 0,
    ) -> None:
        if stride < 1:
            raise ValueError("stride must be >= 1")
        if turn_deg % 90:
            raise ValueError("turn_deg must be a multiple of 90")
        self.path = Path(path)
        self.info = probe(self.path)
        self.turn_deg = turn_deg % 360
        if self.turn_deg:
            w, h = self.info.width, self.info.height
            if self.turn_deg % 180:
                w, h = h, w
            self.info = replace(
                self.info, width=w, height=h, rotation_deg=self.info.rotation_deg + self.turn_deg
            )
        self.crop = crop
        if crop is not None:
            x0, y0, x1, y1 = crop
            if not (0 <= x0 < x1 <= self.info.width and 0 <= y0 < y1 <= self.info.height):
                raise ValueError(
                    f"crop {crop} is not inside the {self.info.width}x{self.info.height} frame"
                )
            self.info = replace(self.info, width=x1 - x0, height=y1 - y0)
        self.stride = max(stride, stride_for(self.info.fps, max_fps))
        self.decode_errors = 0
        self.decode_s = 0.0  # wall time spent decoding and converting, for the benchmark
        self._packet_index: tuple[list[int], list[int]] | None = None  # see `_index`

    def _stream(self, container: av.container.InputContainer) -> tuple[av.VideoStream, int]:
        """The clip's video stream, set to decode on threads, and its start time (pts)."""
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame-threaded decoding: overlaps with inference cores
        return stream, stream.start_time or 0

    def _image(self, frame: av.VideoFrame) -> ImageBGR:
        """A decoded frame as an upright BGR image."""
        image: ImageBGR = frame.to_ndarray(format="bgr24")  # type: ignore[assignment]
        image = _upright(image, self.info.rotation_deg)
        if self.crop is None:
            return image
        x0, y0, x1, y1 = self.crop
        return np.ascontiguousarray(image[y0:y1, x0:x1])

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def _index(self) -> tuple[list[int], list[int]]:
        """Every packet's timestamp (pts, sorted: a frame's rank in it is its decoded index)
        and the key frames' indices, from the packet index, read without decoding; ([], [])
        when a packet carries no timestamp or the file cannot be read so far."""
        if self._packet_index is None:
            pts: list[int] = []
            keys: list[int] = []
            container = _open(self.path)
            try:
                for packet in container.demux(container.streams.video[0]):
                    if packet.pts is None:
                        if packet.size:  # a frame without a timestamp: no index
                            pts, keys = [], []
                            break
                        continue  # the demuxer's empty flush packet
                    pts.append(packet.pts)
                    if packet.is_keyframe:
                        keys.append(packet.pts)
            except av.error.FFmpegError:
                pts, keys = [], []
            finally:
                container.close()
            pts.sort()
            self._packet_index = (pts, [bisect_left(pts, k) for k in sorted(keys)])
        return self._packet_index

    def key_frames(self) -> list[int]:
        """The decoded-frame indices where a decoder can start (key frames), ascending; [] when
        the file's packets carry no timestamps (then only `frames(0)` can be read)."""
        return list(self._index()[1])

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """The frames of the clip (every `stride`-th decoded frame, as `__iter__`), from decoded
        index `start` up to `stop` (exclusive; None: the end).

        A `start` after the first frame seeks to the key frame before it and decodes from
        there (frames before `start` decoded, not converted); a frame's index is then its
        timestamp's rank among the clip's packets (`key_frames`), the index a read from the
        start gives it. The decoding errors are counted in `decode_errors`, the time spent in
        `decode_s`."""
        container = _open(self.path)
        stream, origin = self._stream(container)
        base = float(stream.time_base) if stream.time_base else 1.0 / max(self.info.fps, 1.0)
        order: list[int] = []
        if start > 0:
            order, keys = self._index()
            if not order:
                container.close()
                raise VideoOpenError(f"{self.path}: cannot seek in a clip without timestamps")
            key = keys[max(0, bisect_right(keys, start) - 1)] if keys else 0
            container.seek(order[key], stream=stream, backward=True)
        index = -1
        produced = 0
        last_t = -1.0
        try:
            decoded = container.decode(stream)
            while True:
                t0 = time.perf_counter()
                try:
                    frame = next(decoded)
                except StopIteration:
                    break
                except av.error.FFmpegError as exc:
                    # A truncated or damaged file: keep what decoded so far, say so once.
                    self.decode_errors += 1
                    log.warning("%s: decoding stopped early (%s)", self.path, exc)
                    break
                if order and frame.pts is not None:  # after a seek: the timestamp's rank
                    index = bisect_left(order, frame.pts)
                else:
                    index += 1
                if stop is not None and index >= stop:
                    break
                if index < start or index % self.stride:
                    self.decode_s += time.perf_counter() - t0
                    continue
                if frame.pts is not None:
                    t_s = (frame.pts - origin) * base
                else:  # no timestamp: fall back on the nominal rate
                    t_s = index / self.info.fps if self.info.fps else float(index)
                if t_s <= last_t:  # non-monotonic timestamps break VIDEO-mode tracking
                    t_s = last_t + 1e-3
                last_t = t_s
                image = self._image(frame)
                produced += 1
                self.decode_s += time.perf_counter() - t0
                yield Frame(image, t_s, index)
            # A truncated file can end without a decoder error: compare with the container's
            # own frame count (exact in MP4/MOV; 0 when the container does not say).
            expected = int(stream.frames or 0)
            if stop is None and expected and index + 1 < expected and not self.decode_errors:
                self.decode_errors += 1
                log.warning("%s: %d of %d frames decoded", self.path, index + 1, expected)
        finally:
            container.close()
        if produced == 0:
            raise EmptyVideoError(f"{self.path}: no frame could be decoded")

    def frames_at(self, times_s: Sequence[float]) -> Iterator[Frame]:
        """The frames at these times (seconds, as `__iter__` stamps them), in time order.

        Decodes only what they need: where the next key frame before a wanted time lies
        ahead of the decoder, it seeks there instead of decoding the gap (the key frames
        come from the packet index, `_index`, read once per source). Times that match no frame
        (within half a frame) are skipped; a decoding error ends the frames early. `index`
        is the frame number the nominal rate gives, since a seek loses the count.
        """
        wanted = sorted(set(times_s))
        if not wanted:
            return
        container = _open(self.path)
        try:
            stream, start = self._stream(container)
            if not stream.time_base:
                return
            base = float(stream.time_base)
            order, key_frames = self._index()
            keys = [(order[k] - start) * base for k in key_frames]
            half = 0.5 / self.info.fps if self.info.fps else 1e-3
            decoded: Iterator[av.VideoFrame] | None = None
            pos, last = float("-inf"), None
            for target in wanted:
                k = bisect_right(keys, target + half) - 1
                key = keys[k] if k >= 0 else 0.0
                if decoded is None or key > pos + half:
                    container.seek(start + round(key / base), stream=stream, backward=True)
                    decoded, pos = iter(container.decode(stream)), float("-inf")
                while pos < target - half:
                    last = next(decoded, None)
                    if last is None or last.pts is None:
                        return
                    pos = (last.pts - start) * base
                if last is not None and abs(pos - target) <= half:
                    index = round(pos * self.info.fps) if self.info.fps else 0
                    yield Frame(self._image(last), pos, index)
        except av.error.FFmpegError as exc:
            log.warning("%s: decoding stopped early (%s)", self.path, exc)
        finally:
            container.close()
