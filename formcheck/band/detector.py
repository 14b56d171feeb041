"""The streaming band detector: a per-frame hook that samples frames sparsely.

`measure.estimate_poses` calls `BandDetector.observe(frame, pose)` right after pose
detection, so each frame is decoded once and nothing but small per-frame records is kept
(memory stays flat). The records go into `Measurement.band` (`BandDetector.meta()`), which is
saved with `--landmarks` files, so `analyze --from-landmarks` still judges the band.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from formcheck.band.colors import BAND_COLOR_NAMES
from formcheck.band.evidence import MIN_VISIBILITY, FrameEvidence, measure_frame
from formcheck.pose.landmarks import PoseFrame
from formcheck.video.frames import Frame

#: Version of the records in `Measurement.band`; bumped when their meaning changes.
EVIDENCE_VERSION = 3
#: Frames waiting for a `BandThread` at most (each holds a decoded image).
MAX_BACKLOG = 8
META_KEY = "band"


class BandDetector:
    """Collects band evidence from a stream of (frame, pose) pairs.

    Args:
        sample_every_s: seconds of video between measured frames (a frame without a usable
            lower body is skipped and the next one is tried).
        min_visibility: landmark visibility below which the lower body is not used.

    Attributes:
        frames: the evidence records so far, in time order.
        elapsed_s: wall time spent measuring (seconds).
    """

    def __init__(
        self, sample_every_s: float = 0.15, min_visibility: float = MIN_VISIBILITY
    ) -> None:
        if sample_every_s <= 0:
            raise ValueError("sample_every_s must be positive")
        self.sample_every_s = sample_every_s
        self.min_visibility = min_visibility
        self.frames: list[FrameEvidence] = []
        self.elapsed_s = 0.0
        self._next_t = float("-inf")

    def observe(self, frame: Frame, pose: PoseFrame) -> None:
        """Measure `frame` when it is due (and the lower body is seen); else do nothing."""
        if pose.is_missing or frame.t_s < self._next_t:
            return
        t0 = time.perf_counter()
        evidence = measure_frame(frame.image_bgr, pose, self.min_visibility)
        self.elapsed_s += time.perf_counter() - t0
        if evidence is not None:
            self.frames.append(evidence)
            self._next_t = frame.t_s + self.sample_every_s - 1e-6

    __call__ = observe

    def extend(self, later: BandDetector) -> None:
        """Add the evidence `later` found on a later part of the clip (`schedule.Part`),
        from after this one's last record."""
        last = self.frames[-1].t_s if self.frames else -math.inf
        self.frames += [f for f in later.frames if f.t_s > last]
        self.elapsed_s += later.elapsed_s

    def meta(self) -> dict[str, Any]:
        """The JSON-able record for `Measurement.band`."""
        return {
            "version": EVIDENCE_VERSION,
            "sample_every_s": self.sample_every_s,
            "colors": list(BAND_COLOR_NAMES),
            "frames": [f.to_dict() for f in self.frames],
        }


class BandThread:
    """Runs a `BandDetector` on its own thread, so that its pixel work overlaps the pose
    model's inference (which releases the GIL). One worker keeps the frames in time order;
    at most `MAX_BACKLOG` frames wait, so held images cannot pile up. The detector's errors
    are re-raised in the caller, by `submit` or `wait`.

    Use as a context manager, or call `close()`.
    """

    def __init__(self, detector: BandDetector) -> None:
        self.detector = detector
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="band")
        self._pending: deque[Future[None]] = deque()

    def submit(self, frame: Frame, pose: PoseFrame) -> None:
        """Hand `frame` to the detector's thread (blocks while the backlog is full)."""
        self._pending.append(self._pool.submit(self.detector.observe, frame, pose))
        while self._pending and (self._pending[0].done() or len(self._pending) > MAX_BACKLOG):
            self._pending.popleft().result()

    def wait(self) -> None:
        """Return once every frame handed over has been measured."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Stop the thread; frames not measured yet are dropped."""
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BandThread:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def evidence_of(band: Mapping[str, Any] | None) -> list[FrameEvidence] | None:
    """The evidence in a `BandDetector.meta()` record (`Measurement.band`), or None without
    one (landmarks saved without the band detector) or from an incompatible version."""
    if not isinstance(band, Mapping) or band.get("version") != EVIDENCE_VERSION:
        return None
    frames = band.get("frames")
    if not isinstance(frames, list):
        return None
    try:
        return [FrameEvidence.from_dict(f) for f in frames]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
