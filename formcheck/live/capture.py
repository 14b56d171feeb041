"""Frames for the live loop: a camera, a stream or a file, read on their own thread.

The reader thread always keeps only the newest frame: when the coaching loop is slower than
the camera, the frames it could not take in time are dropped (and counted), so feedback
never lags behind a backlog. Each handed-over frame carries the moment it was captured
(`time.perf_counter()` seconds), from which the loop measures its latency.

Sources (`open_source`):
- a camera index ("0") or a stream URL ("rtsp://...", "http://..."): `cv2.VideoCapture`;
  frame times are seconds since the first frame (the capture clock). A camera that returns
  no frame for `disconnect_s` is treated as unplugged: the stream ends.
- a video file: `formcheck.video.FileSource` with the clip's own timestamps; with
  `realtime`, frames are released at the clip's own rate, as a camera would deliver them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from formcheck.errors import CameraError, FormcheckError
from formcheck.pose.landmarker import quiet_native_stderr
from formcheck.video import FileSource, Frame, VideoInfo

log = logging.getLogger(__name__)

# A camera must deliver its first frame within this long (s) after opening, else it is
# busy (another program holds it) or not a camera at all.
FIRST_FRAME_TIMEOUT_S = 5.0


class VideoCaptureLike(Protocol):
    """The part of `cv2.VideoCapture` a camera source uses (tests pass a fake one)."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name

    def read(self) -> tuple[bool, Any]: ...

    def get(self, prop: int) -> float: ...

    def release(self) -> None: ...


class LiveSource(Protocol):
    """A source of frames in time order; `live` says frames arrive at the sender's pace,
    `mirror` that it is a front camera whose picture people expect mirrored."""

    name: str
    live: bool
    mirror: bool
    fps: float
    end_reason: str

    def frames(self, stop: threading.Event) -> Iterator[Frame]: ...

    def close(self) -> None: ...


class CameraSource:
    """A camera or a network stream read with OpenCV.

    Args:
        capture: an opened `cv2.VideoCapture` (or anything with its `read`/`get`/`release`).
        name: what to call it in messages and in the report ("camera 0", a URL).
        disconnect_s: no frame for this long (s) ends the stream as "disconnected".

    Raises:
        CameraError: the capture is not open, or sends no first frame.
    """

    live = True
    mirror = False

    def __init__(self, capture: VideoCaptureLike, name: str, disconnect_s: float = 2.0) -> None:
        self.name = name
        self.end_reason = ""
        self.disconnect_s = disconnect_s
        self._cap = capture
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"{name}: cannot open it (not connected, or busy in another program)")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0  # webcams often report 0
        self._first = self._read_first()

    @classmethod
    def open(cls, device: int | str, disconnect_s: float = 2.0) -> CameraSource:
        """Open camera `device` (an index) or a stream URL, quietly (OpenCV's own warnings
        about missing devices are replaced by one `CameraError`)."""
        name = f"camera {device}" if isinstance(device, int) else str(device)
        with quiet_native_stderr():
            cap = cv2.VideoCapture(device)
        source = cls(cap, name, disconnect_s)
        source.mirror = isinstance(device, int)  # a local webcam faces the lifter
        return source

    def _read_first(self) -> np.ndarray:
        deadline = time.perf_counter() + FIRST_FRAME_TIMEOUT_S
        while time.perf_counter() < deadline:
            ok, image = self._cap.read()
            if ok and image is not None:
                return np.asarray(image)
            time.sleep(0.02)
        self._cap.release()
        raise CameraError(f"{self.name}: opened, but sends no picture (busy in another program?)")

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        t0 = time.perf_counter()
        index = 0
        yield Frame(_bgr(self._first), 0.0, 0)
        last_ok = time.perf_counter()
        while not stop.is_set():
            ok, image = self._cap.read()
            now = time.perf_counter()
            if not ok or image is None:
                if now - last_ok >= self.disconnect_s:
                    self.end_reason = f"{self.name} disconnected"
                    return
                time.sleep(0.01)
                continue
            last_ok = now
            index += 1
            yield Frame(_bgr(np.asarray(image)), now - t0, index)
        self.end_reason = "stopped"

    def close(self) -> None:
        self._cap.release()


def _bgr(image: np.ndarray) -> np.ndarray:
    """A contiguous 3-channel uint8 BGR image (some cameras deliver grey or BGRA)."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image, dtype=np.uint8)


class FilePlayer:
    """A video file as a live source; `realtime` paces it at the clip's own timestamps."""

    mirror = False

    def __init__(self, path: str | Path, realtime: bool = False) -> None:
        self._source = FileSource(path)
        self.info: VideoInfo = self._source.info
        self.name = str(path)
        self.live = realtime
        self.fps = self.info.fps or 30.0
        self.end_reason = ""

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        t0 = time.perf_counter()
        try:
            for frame in self._source:
                if stop.is_set():
                    self.end_reason = "stopped"
                    return
                if self.live:  # wait for the frame's own moment, as a camera would send it
                    delay = t0 + frame.t_s - time.perf_counter()
                    if delay > 0:
                        stop.wait(delay)
                yield frame
        except FormcheckError as exc:  # a damaged file ends the set like an unplugged camera
            self.end_reason = f"{self.name}: {exc}"
            return
        self.end_reason = self.end_reason or "end of the video"

    def close(self) -> None:
        pass


def open_source(spec: str, realtime: bool = False, disconnect_s: float = 2.0) -> LiveSource:
    """The source named by `--source`: a camera index, an existing video file, or a URL.

    Raises:
        CameraError: the camera or stream cannot be opened or sends nothing.
        VideoOpenError: the file is not a readable video.
    """
    spec = spec.strip()
    if spec.isdigit():
        return CameraSource.open(int(spec), disconnect_s)
    if "://" in spec:
        return CameraSource.open(spec, disconnect_s)
    return FilePlayer(spec, realtime)


@dataclass(frozen=True)
class Captured:
    """A frame as handed to the loop, with the moment it was captured (perf_counter s)."""

    frame: Frame
    captured_at: float


class Capture:
    """Reads a `LiveSource` on a daemon thread and hands over the newest frame.

    For a live source (camera, stream, file played in real time) an older frame not yet
    taken is replaced by a newer one and counted in `dropped`. A file played as fast as
    possible (not live) hands over every frame: the reader waits for the loop instead.

    Args:
        source: what to read.
        clock: the clock that stamps `captured_at` (tests may pass a fake one).
    """

    def __init__(self, source: LiveSource, clock: Callable[[], float] = time.perf_counter) -> None:
        self.source = source
        self.dropped = 0
        self.delivered = 0
        self.error: BaseException | None = None
        self._clock = clock
        self._slot: Captured | None = None
        self._done = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-capture", daemon=True)

    def start(self) -> Capture:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for frame in self.source.frames(self._stop):
                item = Captured(frame, self._clock())
                with self._cond:
                    if not self.source.live:
                        while self._slot is not None and not self._stop.is_set():
                            self._cond.wait(0.1)
                    if self._slot is not None:
                        self.dropped += 1
                    self._slot = item
                    self.delivered += 1
                    self._cond.notify_all()
                if self._stop.is_set():
                    break
        except BaseException as exc:  # handed to the loop: `get` re-raises it
            self.error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def get(self, timeout_s: float = 0.5) -> Captured | None:
        """The newest frame not yet taken; None when none came within `timeout_s` or the
        source has ended (see `ended`).

        Raises:
            Exception: whatever stopped the reader thread (other than the source's end).
        """
        with self._cond:
            if self._slot is None and not self._done:
                self._cond.wait(timeout_s)
            item, self._slot = self._slot, None
            self._cond.notify_all()
        if item is None and self.error is not None:
            raise self.error
        return item

    @property
    def ended(self) -> bool:
        """The source has ended and its last frame was taken."""
        with self._cond:
            return self._done and self._slot is None

    def stop(self) -> None:
        """Stop the reader thread and release the source."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self.source.close()
