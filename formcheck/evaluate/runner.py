"""Running an evaluation: each labelled clip analysed (from saved or cached landmarks when
there are, else with the pose model) and scored against its label.

Which clips count. A clip whose analysis failed (a `FormcheckError`: unreadable video,
no person, ...) is an error row and counts as predicting no rep (that is what the user
got). A clip whose label cannot be read is an error row that cannot be scored: it is left
out of every figure (`Metrics.clips` says how many were scored) and `check_gates` fails.
Clips labelled `usable: false` (not a continuous single-camera shot of one person: they
test refusals and warnings) are listed with their own figures but left out of every
overall figure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from formcheck.analyze import analyze_measurement
from formcheck.band.detector import EVIDENCE_VERSION
from formcheck.band.retake import RETAKE_VERSION
from formcheck.config import Config
from formcheck.errors import FormcheckError, LabelError
from formcheck.evaluate.labels import find_clips, load_label
from formcheck.evaluate.matching import MIN_MATCH_IOU, PredRep, match_reps
from formcheck.evaluate.metrics import VerdictLimits
from formcheck.evaluate.results import ClipResult, EvalResult, aggregate
from formcheck.measure import measure_clip, open_estimator
from formcheck.measurement import Measurement
from formcheck.panels import PANELS_VERSION
from formcheck.shots import SHOTS_VERSION
from formcheck.video import FileSource

if TYPE_CHECKING:  # the adapter imports mediapipe: only load it when a model runs
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)

#: Saved landmarks beside a clip: `<stem>.landmarks.npz`.
LANDMARKS_SUFFIX = ".landmarks.npz"
EvalProgress = Callable[[int, int], None]  # (clips done, clips in all)


def cache_key(video: Path, cfg: Config) -> str:
    """The cache file name for `video`'s landmarks: its name, size, mtime, pose settings, the
    band measurement's settings and record versions, and the shot and panel searches'
    versions.

    A changed clip (size or modification time), other pose settings (model path, stride,
    confidences) or band records of another version give another key, so stale landmarks
    are never reused. A different model file at the same path is not noticed: clear the
    cache after replacing a model.
    """
    st = video.stat()
    band = cfg.rules.band
    basis = json.dumps(
        {
            "name": video.name,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "pose": cfg.pose.model_dump(mode="json"),
            "band": [
                band.detect,
                band.sample_every_s,
                band.retake_frames,
                EVIDENCE_VERSION,
                RETAKE_VERSION,
            ],
            "shots": SHOTS_VERSION,
            "panels": PANELS_VERSION,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]
    return f"{video.stem}.{digest}{LANDMARKS_SUFFIX}"


class _LazyEstimator:
    """Opens the pose model on first use only (a folder of saved landmarks never loads it)."""

    def __init__(self, cfg: Config, given: PoseEstimator | None) -> None:
        self.cfg = cfg
        self.est = given
        self.owned = False
        self.failed: FormcheckError | None = None

    def get(self) -> PoseEstimator:
        if self.est is None:
            if self.failed is not None:
                raise self.failed
            try:
                self.est = open_estimator(self.cfg)
            except FormcheckError as exc:
                self.failed = exc  # e.g. a missing model: every clip that needs it says so
                raise
            self.owned = True
        return self.est

    def close(self) -> None:
        if self.owned and self.est is not None:
            self.est.close()


def _measure(
    video: Path, cfg: Config, cache_dir: Path | None, est: _LazyEstimator
) -> tuple[Measurement, str]:
    beside = video.with_name(video.stem + LANDMARKS_SUFFIX)
    if beside.is_file():
        return Measurement.load(beside), "beside"
    cached = cache_dir / cache_key(video, cfg) if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return Measurement.load(cached), "cache"
    # A broken video fails here, before the model loads.
    source = FileSource(video, cfg.pose.stride, cfg.pose.max_fps)
    measured = measure_clip(source, cfg, est.get())
    if cached is not None:
        try:
            measured.save(cached)
        except OSError as exc:
            log.warning("%s: could not cache landmarks (%s)", cached, exc)
    return measured, "model"


def evaluate_clip(
    label_path: Path,
    video: Path,
    cfg: Config,
    *,
    cache_dir: Path | None = None,
    estimator: PoseEstimator | None = None,
    min_iou: float = MIN_MATCH_IOU,
) -> ClipResult:
    """One clip's row. A `FormcheckError` becomes the row's error; other exceptions are bugs
    and propagate. `estimator` is used as is (opened with `open_estimator` when None and the
    model is needed, and closed again)."""
    lazy = _LazyEstimator(cfg, estimator)
    try:
        return _evaluate_clip(label_path, video, cfg, cache_dir, lazy, min_iou)
    finally:
        lazy.close()


def _evaluate_clip(
    label_path: Path,
    video: Path,
    cfg: Config,
    cache_dir: Path | None,
    est: _LazyEstimator,
    min_iou: float,
) -> ClipResult:
    t0 = time.perf_counter()
    try:
        label = load_label(label_path)
    except LabelError as exc:
        return ClipResult(
            video.name, label_path, video, None, error=str(exc), elapsed_s=time.perf_counter() - t0
        )
    kind: str | None = None
    try:
        measured, kind = _measure(video, cfg, cache_dir, est)
        analysis = analyze_measurement(measured, cfg)
    except FormcheckError as exc:
        log.info("%s: %s", video.name, exc)
        return ClipResult(
            video.name,
            label_path,
            video,
            label,
            landmarks=kind,
            error=str(exc),
            elapsed_s=time.perf_counter() - t0,
        )
    report = analysis.report
    predicted = tuple(PredRep.from_report(rr, report.set_faults) for rr in report.reps)
    matches = match_reps([r.times_s for r in label.reps], [p.times_s for p in predicted], min_iou)
    return ClipResult(
        video.name,
        label_path,
        video,
        label,
        predicted,
        matches,
        kind,
        analysis.report.warnings,
        None,
        time.perf_counter() - t0,
        head=analysis.report.view.head,
    )


def evaluate_dir(
    directory: str | Path,
    cfg: Config,
    *,
    cache_dir: Path | None = None,
    estimator: PoseEstimator | None = None,
    progress: EvalProgress | None = None,
    min_iou: float = MIN_MATCH_IOU,
) -> EvalResult:
    """Analyse every labelled clip in `directory` and score it against its label.

    Landmarks come from `<stem>.landmarks.npz` beside the clip, else from `cache_dir`
    (see `cache_key`), else from the pose model, whose landmarks are then written to
    `cache_dir` when given. One estimator serves all clips: `estimator` when given (left
    open), else one opened on the first clip that needs the model and closed at the end.
    `progress(done, total)` is called with 0 done first and after each clip.

    Raises:
        LabelError: `directory` is not a folder or holds no labelled clip.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise LabelError(f"{directory}: no such folder")
    pairs = find_clips(directory)
    if not pairs:
        raise LabelError(
            f"{directory}: no labelled clip (a <name>.json label beside a <name>.mp4/.mov/...)"
        )
    lazy = _LazyEstimator(cfg, estimator)
    rows: list[ClipResult] = []
    if progress:
        progress(0, len(pairs))
    try:
        for label_path, video in pairs:
            rows.append(_evaluate_clip(label_path, video, cfg, cache_dir, lazy, min_iou))
            if progress:
                progress(len(rows), len(pairs))
    finally:
        lazy.close()
    limits = VerdictLimits(cfg.rules.pause.min_s, cfg.rules.lowering_tempo.min_s)
    return aggregate(rows, directory, min_iou, limits)
