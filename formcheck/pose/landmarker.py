"""The one adapter between formcheck and MediaPipe's Tasks PoseLandmarker.

Nothing else in formcheck imports mediapipe. The adapter turns a `Frame` into a `PoseFrame`
in pixels (aspect ratio restored), keeps visibility, presence and world landmarks, and
chooses one person when the detector returns several.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import cv2
import numpy as np

from formcheck.errors import ModelError
from formcheck.pose.bundle import ModelBundle, check_bundle
from formcheck.pose.landmarks import N_LANDMARKS, PoseFrame
from formcheck.video.frames import Frame

log = logging.getLogger(__name__)

RunningMode = Literal["video", "image"]
# The people counter looks for up to this many poses.
MAX_PEOPLE = 3


#: Set (to anything) to let MediaPipe's native log lines through (`formcheck --verbose`);
#: an environment variable, so worker processes inherit it.
NATIVE_LOGS_ENV = "FORMCHECK_NATIVE_LOGS"


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence the C++ chatter (TFLite, glog, absl) that MediaPipe writes to fd 2 when a
    model loads, first runs and closes.

    Those lines are not for the user and cannot be turned off from Python; Python's own
    errors are raised as exceptions, so nothing the user needs is hidden.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    if os.environ.get(NATIVE_LOGS_ENV):  # `formcheck --verbose`: show them
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (e.g. captured by pytest)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class PoseEstimator:
    """MediaPipe PoseLandmarker in VIDEO (tracking) or IMAGE mode.

    Args:
        model: a PoseLandmarker `.task` bundle (default: the bundled full model).
        mode: "video" tracks across frames and needs increasing timestamps; "image" treats
            each frame alone (for stills and for frames that are not in time order).
        num_poses: how many people the tracker may follow; with more than one, the person
            reported is the one nearest the previous choice (at the start, the largest).
            Each extra pose costs about half the model time again, so the default is 1.
        count_people_every_s: every so many seconds of video, a separate IMAGE-mode
            detector (up to `MAX_PEOPLE` poses) counts the people in the frame, so a second
            person is noticed at a small cost; None turns the count off.
        min_detection_confidence, min_presence_confidence, min_tracking_confidence:
            MediaPipe's thresholds, each in [0, 1].

    Use as a context manager, or call `close()`.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        mode: RunningMode = "video",
        num_poses: int = 1,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        count_people_every_s: float | None = 2.0,
    ) -> None:
        self.bundle: ModelBundle = check_bundle(model)
        self.mode = mode
        self._settings = (
            num_poses,
            min_detection_confidence,
            min_presence_confidence,
            min_tracking_confidence,
        )
        self._twin: PoseEstimator | None = None
        self._closed = False
        # Imported here so that model-free paths (replaying landmarks) never load mediapipe.
        from mediapipe.tasks.python import BaseOptions, vision

        running_mode = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.bundle.path)),
            running_mode=running_mode,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._options = options
        with quiet_native_stderr():
            try:
                self._landmarker: Any = vision.PoseLandmarker.create_from_options(options)
                self._counter: Any = None
                if count_people_every_s is not None and mode == "video" and num_poses < MAX_PEOPLE:
                    self._counter = vision.PoseLandmarker.create_from_options(
                        vision.PoseLandmarkerOptions(
                            base_options=BaseOptions(model_asset_path=str(self.bundle.path)),
                            running_mode=vision.RunningMode.IMAGE,
                            num_poses=MAX_PEOPLE,
                            min_pose_detection_confidence=min_detection_confidence,
                            min_pose_presence_confidence=min_presence_confidence,
                        )
                    )
            except (RuntimeError, ValueError) as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ModelError(
                    f"{self.bundle.path}: MediaPipe could not load it as a PoseLandmarker bundle"
                    f" ({first_line[:160]})"
                ) from exc
        self._last_ms = -1
        self._last_center: np.ndarray | None = None
        self._count_lock = threading.Lock()  # a twin shares the counter (`twin`)
        self._owns_counter = True
        self._count_every_s = count_people_every_s
        self._next_count_s = 0.0
        self._quiet_calls = 2
        self.num_poses = num_poses

    def start_clip(self) -> None:
        """Forget the previous clip: a fresh tracker whose timestamps may start again at 0.

        Reusing one estimator across clips saves loading the model bundle each time.
        """
        from mediapipe.tasks.python import vision

        if self._last_ms < 0:  # nothing tracked yet: the current tracker is fresh
            return
        with quiet_native_stderr():
            self._landmarker.close()
            self._landmarker = vision.PoseLandmarker.create_from_options(self._options)
        self._last_ms = -1
        self._last_center = None
        self._next_count_s = 0.0

    def twin(self) -> PoseEstimator:
        """A second estimator with this one's model and settings, counting people with this
        one's counter (one call at a time): loaded on first use (0.1 s) and kept, closed
        with this one, so that two models can run at once, one per core. Loaded on the
        caller's thread: loading prints native lines, hushed by pointing the process's
        stderr elsewhere, which would swallow other threads' lines meanwhile."""
        if self._twin is None:
            twin = PoseEstimator(
                self.bundle.path, self.mode, *self._settings, count_people_every_s=None
            )
            twin._counter, twin._count_lock = self._counter, self._count_lock
            twin._count_every_s, twin._owns_counter = self._count_every_s, False
            self._twin = twin
        return self._twin

    def detect(self, frame: Frame, count_people: bool = True) -> PoseFrame:
        """Landmarks of the followed person in `frame`, or a missing `PoseFrame`.

        `count_people=False` skips the periodic people count (`PoseFrame.people` is then
        -1), for a second look at frames whose count is known.
        """
        if self._quiet_calls > 0:  # the first inferences print native warnings too
            self._quiet_calls -= 1
            with quiet_native_stderr():
                return self._detect(frame, count_people)
        return self._detect(frame, count_people)

    def _detect(self, frame: Frame, count_people: bool) -> PoseFrame:
        import mediapipe as mp

        rgb = cv2.cvtColor(frame.image_bgr, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self.mode == "video":
            # VIDEO mode needs strictly increasing integer milliseconds.
            t_ms = max(round(frame.t_s * 1000.0), self._last_ms + 1)
            self._last_ms = t_ms
            result = self._landmarker.detect_for_video(image, t_ms)
        else:
            result = self._landmarker.detect(image)
        people = -1
        if self._counter is None:
            people = len(result.pose_landmarks) if self.num_poses > 1 else -1
        elif count_people and self._count_every_s is not None and frame.t_s >= self._next_count_s:
            with self._count_lock:
                people = len(self._counter.detect(image).pose_landmarks)
            self._next_count_s = frame.t_s + self._count_every_s
        return self._to_pose_frame(result, frame, people)

    def _to_pose_frame(self, result: Any, frame: Frame, people: int) -> PoseFrame:
        width, height = frame.resolution_wh
        if not result.pose_landmarks:
            return PoseFrame(
                t_s=frame.t_s, index=frame.index, resolution_wh=(width, height), people=people
            )
        arrays = [
            np.array(
                [
                    [lm.x * width, lm.y * height, lm.z, lm.visibility or 0.0, lm.presence or 0.0]
                    for lm in person
                ],
                dtype=np.float32,
            )
            for person in result.pose_landmarks
        ]
        chosen = self._choose(arrays)
        data = arrays[chosen]
        world = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32)
        if len(result.pose_world_landmarks) > chosen:
            world = np.array(
                [[lm.x, lm.y, lm.z] for lm in result.pose_world_landmarks[chosen]],
                dtype=np.float32,
            )
        return PoseFrame(
            t_s=frame.t_s,
            index=frame.index,
            resolution_wh=(width, height),
            xy_px=np.ascontiguousarray(data[:, :2]),
            z=np.ascontiguousarray(data[:, 2]),
            visibility=np.ascontiguousarray(data[:, 3]),
            presence=np.ascontiguousarray(data[:, 4]),
            world_xyz_m=world,
            people=people,
        )

    def _choose(self, people: list[np.ndarray]) -> int:
        """Index of the person to follow: nearest the last one, else the largest."""
        centers = [p[:, :2].mean(axis=0) for p in people]
        if self._last_center is not None and len(people) > 1:
            chosen = int(np.argmin([np.linalg.norm(c - self._last_center) for c in centers]))
        else:
            extents = [float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])) for p in people]
            chosen = int(np.argmax(extents))
        self._last_center = centers[chosen]
        return chosen

    def close(self) -> None:
        """Release the models (again: a no-op). Quietly: closing prints native lines."""
        if self._closed:
            return
        self._closed = True
        with quiet_native_stderr():
            self._landmarker.close()
            if self._counter is not None and self._owns_counter:
                self._counter.close()
        if self._twin is not None:
            self._twin.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
