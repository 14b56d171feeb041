"""The measuring room: a clip's frames -> the pose model and the pixel watchers -> one
`Measurement`.

How the clip is cut between the pose models is `formcheck.schedule`'s; decoding and the
shot and panel watchers run on prefetch threads, the band detector on its own
(`BandThread`), off the models' path. A clip shown upside down or on its side is measured
again turned upright, a split screen again in its best panel, and the tops of banded reps
again with the band painted out (`band.retake`). Progress goes to an optional callback.
"""

from __future__ import annotations

import copy
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from formcheck.band import BandDetector, BandThread
from formcheck.band.retake import retake_tops
from formcheck.config import Config
from formcheck.errors import EmptyVideoError, NoPersonError
from formcheck.geometry import upright_turn_deg
from formcheck.judge import judge_measurement
from formcheck.measurement import Measurement
from formcheck.panels import PanelWatch, split_screen_panel
from formcheck.pose.landmarks import PoseFrame
from formcheck.pose.sequence import PoseSequence
from formcheck.report import ModelInfo
from formcheck.schedule import Part, plan_parts
from formcheck.shots import ShotDetector
from formcheck.track import SIDE_LANDMARKS, choose_side
from formcheck.video import FileSource, Frame, Progress
from formcheck.video.prefetch import prefetch

if TYPE_CHECKING:  # the adapter imports mediapipe: only load it when a model runs
    from formcheck.pose.landmarker import PoseEstimator


def open_estimator(cfg: Config, offline: bool = True) -> PoseEstimator:
    """A VIDEO-mode pose estimator configured from `cfg.pose` (loads mediapipe). For
    `offline` analysis with two models (`pose.models`), its twin is loaded too (0.1 s;
    live coaching runs one model)."""
    from formcheck.pose.landmarker import PoseEstimator

    p = cfg.pose
    est = PoseEstimator(
        p.model,
        "video",
        p.num_poses,
        p.min_detection_confidence,
        p.min_presence_confidence,
        p.min_tracking_confidence,
        p.count_people_every_s or None,
    )
    if offline and p.models > 1:
        est.twin()
    return est


def for_workers(cfg: Config, workers: int, cores: int | None = None) -> Config:
    """`cfg` for each of `workers` processes sharing a machine of `cores` (default: this
    one's): two pose models a clip (`pose.models`) only where each worker has two cores of
    its own; where the workers fill the cores, a second model would only contend."""
    cores = cores or os.cpu_count() or 1
    if cfg.pose.models > 1 and cores // max(1, workers) < cfg.pose.models:
        return cfg.with_overrides({"pose.models": 1})
    return cfg


def _watched(
    frames: Iterable[Frame], *watchers: ShotDetector | PanelWatch | None
) -> Iterator[Frame]:
    """The frames, each shown first to the watchers: run inside `prefetch`, their work is
    done on the decoding thread, off the model's path."""
    for frame in frames:
        for watcher in watchers:
            if watcher is not None:
                watcher.observe(frame)
        yield frame


@dataclass
class _PartSeen:
    """What one model measured on one part of the clip (`schedule.Part`): the poses of the
    part's kept frames, the watchers' and band detector's records, its decoder's counts."""

    poses: list[PoseFrame] = field(default_factory=list)
    shots: ShotDetector = field(default_factory=ShotDetector)
    panels: PanelWatch | None = None
    band: BandDetector | None = None
    model_frames: int = 0
    model_s: float = 0.0
    decode_s: float = 0.0
    decode_errors: int = 0


def _measure_part(
    source: FileSource,
    part: Part,
    cfg: Config,
    estimator: PoseEstimator,
    done: Callable[[], None],
    stop: threading.Event,
) -> _PartSeen:
    """One part's pass: its frames decoded (and shown to the watchers) on a prefetch
    thread, the model on each, the band detector on a thread of its own; `done()` after
    each kept frame. Stops early when `stop` is set (another part failed)."""
    src = copy.copy(source)  # its own decoder's counts
    src.decode_errors, src.decode_s = 0, 0.0
    seen = _PartSeen(panels=PanelWatch(source.info.duration_s) if source.crop is None else None)
    if cfg.rules.band.detect:
        seen.band = BandDetector(cfg.rules.band.sample_every_s)
    estimator.start_clip()
    frames = prefetch(_watched(src.frames(part.start, part.stop), seen.shots, seen.panels))
    band = BandThread(seen.band) if seen.band is not None else nullcontext()
    with closing(frames), band as band_thread:
        for frame in frames:
            if stop.is_set():
                break
            t0 = time.perf_counter()
            pose = estimator.detect(frame)
            seen.model_s += time.perf_counter() - t0
            seen.model_frames += 1
            if frame.index < part.keep_from:  # the tracker's warm-up: another part's frame
                continue
            seen.poses.append(pose)
            if band_thread is not None:
                band_thread.submit(frame, pose)
            done()
        if band_thread is not None:
            band_thread.wait()
    seen.decode_s, seen.decode_errors = src.decode_s, src.decode_errors
    return seen


def _measure_parts(
    source: FileSource,
    parts: list[Part],
    cfg: Config,
    estimator: PoseEstimator,
    done: Callable[[], None],
) -> _PartSeen:
    """The parts measured at once, the first on this thread with `estimator`, the second on
    a thread of its own with its twin; their records joined in time order. A part after one
    that ended early (a damaged file) is dropped, as a read from the start would stop there;
    a later part whose frames cannot be decoded counts as a decoding error."""
    if len(parts) == 1:
        return _measure_part(source, parts[0], cfg, estimator, done, threading.Event())
    stop = threading.Event()
    twin = estimator.twin()
    with ThreadPoolExecutor(1, thread_name_prefix="pose-part") as pool:
        later = pool.submit(_measure_part, source, parts[1], cfg, twin, done, stop)
        try:
            first = _measure_part(source, parts[0], cfg, estimator, done, stop)
        except BaseException:
            stop.set()
            raise
        try:
            second = later.result()
        except EmptyVideoError:
            first.decode_errors += 1
            return first
    if (
        first.decode_errors
        or not first.poses
        or first.poses[-1].index + source.stride < (parts[0].stop or 0)
    ):
        return first  # the file is damaged before the cut: nothing after it is trusted
    first.poses += second.poses
    first.shots.extend(second.shots)
    if first.panels is not None and second.panels is not None:
        first.panels.extend(second.panels)
    if first.band is not None and second.band is not None:
        first.band.extend(second.band)
    first.model_frames += second.model_frames
    first.model_s = max(first.model_s, second.model_s)  # at once: the slower one's time
    first.decode_s += second.decode_s
    first.decode_errors += second.decode_errors
    return first


def estimate_poses(
    source: FileSource,
    cfg: Config,
    estimator: PoseEstimator,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> Measurement:
    """The pose of every analysed frame (one in `source.stride`); frames with no pose are
    kept as missing. With two models (`pose.models`) and a clip long enough, the clip is
    measured in two parts at once, on `estimator` and its twin (`formcheck.schedule`). With
    the poses, what the watchers saw on the decoding threads (picture changes, split-screen
    panels) and, when `cfg.rules.band.detect`, the band detector's evidence (it sees each
    frame with its pose as it goes).

    `estimator` is reset for this clip and left open (one loaded model serves many clips).
    """
    info = source.info
    total = info.frame_count // source.stride if info.frame_count else 0
    parts = [Part(0, None, 0)]
    if cfg.pose.models > 1 and info.frame_count:
        parts = plan_parts(
            info.frame_count,
            source.stride,
            source.key_frames(),
            info.width * info.height / 1e6,
            cfg.pose.models,
        )
    counter = itertools.count(1)

    def done() -> None:
        n = next(counter)
        if progress:
            progress(n, total)

    seen = _measure_parts(source, parts, cfg, estimator, done)
    if timings is not None:
        timings["decode"] = seen.decode_s  # on the prefetch threads: overlaps the model
        timings["pose"] = seen.model_s
        if seen.band is not None:
            timings["band"] = seen.band.elapsed_s
    schedule: dict[str, Any] = {
        "grid_stride": source.stride,
        "parts": [[p.start, p.stop, p.keep_from] for p in parts],
        "grid": len(seen.poses),
        "model_frames": seen.model_frames,
    }
    bundle = estimator.bundle
    return Measurement(
        poses=PoseSequence.from_frames(seen.poses, (info.width, info.height)),
        video=replace(info, rotation_deg=0),
        model=ModelInfo(bundle.name, bundle.sha256),
        decode_errors=seen.decode_errors,
        schedule=schedule,
        shots=seen.shots.meta(),
        band=seen.band.meta() if seen.band is not None else None,
        # A wrong rotation tag set right: frames re-read later turn too.
        turn_deg=source.turn_deg,
        panel_candidates=tuple(
            seen.panels.candidates((info.width, info.height)) if seen.panels else ()
        ),
        panel_samples=seen.panels.kept_samples() if seen.panels else (),
    )


def _retaken(
    m: Measurement,
    source: FileSource,
    cfg: Config,
    estimator: PoseEstimator,
    timings: dict[str, float],
) -> Measurement:
    """`m`, when a band was found, with the tops of the banded reps measured again with the
    band painted out (`band.retake`), kept in `Measurement.retake`."""
    per_rep = cfg.rules.band.retake_frames
    if not per_rep or not cfg.rules.band.detect:
        return m
    t0 = time.perf_counter()
    try:
        track, reps, bands = judge_measurement(m, cfg, {})
    except NoPersonError:  # said by the analysis
        return m
    if any(b.found for b in bands):
        record = retake_tops(
            source, track, reps, bands, estimator, per_rep, cfg.track.min_visibility
        )
        m = replace(m, retake=record)
    timings["retake"] = time.perf_counter() - t0
    return m


def measure_clip(
    source: FileSource,
    cfg: Config,
    estimator: PoseEstimator,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> Measurement:
    """Everything the model measures in a clip, ready for `analyze_measurement` (or
    saving): the poses and band evidence (`estimate_poses`). A picture whose lifter is
    upside down or on their side (a wrong rotation tag, `geometry.upright_turn_deg`) is
    measured again turned upright, the turn kept in `Measurement.turn_deg`; a split screen
    is measured again in only the panel where the lifter is seen best
    (`panels.split_screen_panel`), kept in `Measurement.panel`. Then, on the picture kept
    only, the tops of banded reps are measured again with the band painted out
    (`band.retake`). `estimator` as in `estimate_poses`."""
    timings = {} if timings is None else timings

    def measured(src: FileSource) -> Measurement:
        t0 = time.perf_counter()
        m = estimate_poses(src, cfg, estimator, progress, timings)
        timings["decode_and_pose"] = time.perf_counter() - t0
        return m

    m = measured(source)
    turn = _upright_turn(m.poses)
    if turn:  # a wrong rotation tag: the person upside down or on their side
        source = FileSource(source.path, source.stride, turn_deg=turn)
        m = measured(source)
    panel = split_screen_panel(m.panel_samples, m.poses, m.panel_candidates, estimator)
    if panel is not None:
        source = FileSource(source.path, source.stride, crop=panel.box, turn_deg=turn)
        m = replace(measured(source), panel=panel)
    return _retaken(m, source, cfg, estimator, timings)


def _upright_turn(seq: PoseSequence) -> int:
    """`geometry.upright_turn_deg` of the better-seen side over a measured clip."""
    side = choose_side(seq)
    if side is None:
        return 0
    shoulder, _, knee, ankle = SIDE_LANDMARKS[side]
    seen = seq.found & (seq.visibility[:, [shoulder, knee, ankle]] >= 0.5).all(axis=1)
    return upright_turn_deg(*(seq.xy_px[seen, j] for j in (shoulder, knee, ankle)))
