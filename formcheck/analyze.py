"""The offline pipeline's wiring: measure -> judge -> report (the annotated video is
`formcheck.annotate`'s).

`analyze_video` measures a clip (`formcheck.measure.measure_clip`: the pose model and the
pixel watchers, one typed `Measurement`) and judges it; `analyze_measurement` judges a
measurement (`formcheck.judge`: track, reps, band, rules), `analyze_sequence` a saved
landmarks file, neither loading the model.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from formcheck.clip_warnings import set_warnings
from formcheck.config import Config
from formcheck.judge import Analysis, judge_measurement, once_for_the_set, rep_report
from formcheck.measure import measure_clip, open_estimator
from formcheck.measurement import Measurement
from formcheck.pose.bundle import check_bundle
from formcheck.pose.sequence import PoseSequence
from formcheck.report import SetReport, ViewInfo
from formcheck.video import FileSource, Progress

if TYPE_CHECKING:  # the adapter imports mediapipe: only load it when a model runs
    from formcheck.pose.landmarker import PoseEstimator


def analyze_sequence(seq: PoseSequence, cfg: Config) -> Analysis:
    """`analyze_measurement` of a saved landmarks file's poses and records (`seq.meta`).

    Raises:
        NoPersonError: a pose was found in too few frames to analyse the set.
    """
    return analyze_measurement(Measurement.of(seq), cfg)


def analyze_measurement(
    m: Measurement,
    cfg: Config,
    timings: dict[str, float] | None = None,
) -> Analysis:
    """Track, reps, rules and report from a clip's measurement (no model, no video).

    Raises:
        NoPersonError: a pose was found in too few frames to analyse the set.
    """
    timings = {} if timings is None else timings
    track, reps, bands = judge_measurement(m, cfg, timings)
    t2 = time.perf_counter()
    rep_reports, set_findings = once_for_the_set(
        [
            rep_report(rep, band, track.view.side_on, cfg.rules)
            for rep, band in zip(reps, bands, strict=True)
        ]
    )
    timings["rules"] += time.perf_counter() - t2
    report = SetReport(
        source=m.video,
        model=m.model,
        view=ViewInfo.of(track),
        reps=rep_reports,
        warnings=tuple(set_warnings(m, track, reps, cfg)),
        set_findings=set_findings,
    )
    return Analysis(report, m, track, tuple(reps), timings, tuple(bands))


def analyze_video(
    path: str | Path,
    cfg: Config,
    progress: Progress | None = None,
    estimator: PoseEstimator | None = None,
) -> Analysis:
    """The whole offline pipeline on one video file.

    Raises:
        VideoOpenError / EmptyVideoError: the file cannot be read as a video.
        ModelError: the pose model bundle is missing or invalid.
        NoPersonError: no person in (enough of) the video.
    """
    check_bundle(cfg.pose.model)  # fail fast, before decoding anything
    # A broken video fails here, before the model loads.
    source = FileSource(path, cfg.pose.stride, cfg.pose.max_fps)
    timings: dict[str, float] = {}
    est = estimator if estimator is not None else open_estimator(cfg)
    try:
        m = measure_clip(source, cfg, est, progress, timings)
    finally:
        if estimator is None:
            est.close()
    return analyze_measurement(m, cfg, timings)
