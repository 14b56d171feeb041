"""The measuring room: a clip's frames -> the pose model and the pixel watchers -> one
`Measurement`.

Which frames the model sees is `formcheck.schedule`'s; decoding and the shot and panel
watchers run on the prefetch thread, the band detector on its own (`BandThread`), off the
model's path. A clip shown upside down or on its side is measured again turned upright, a
split screen again in its best panel, and the tops of banded reps again with the band
painted out (`band.retake`). Progress goes to an optional callback.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from formcheck.band import BandDetector, BandThread
from formcheck.band.retake import retake_tops
from formcheck.config import Config
from formcheck.errors import NoPersonError
from formcheck.geometry import upright_turn_deg
from formcheck.judge import judge_measurement
from formcheck.measurement import Measurement
from formcheck.panels import PanelWatch, split_screen_panel
from formcheck.pose.sequence import PoseSequence
from formcheck.report import ModelInfo
from formcheck.schedule import SPARSE_EVERY, measure_sparse_dense, on_grid
from formcheck.shots import ShotDetector
from formcheck.track import SIDE_LANDMARKS, choose_side
from formcheck.video import FileSource, Frame, Progress
from formcheck.video.prefetch import prefetch

if TYPE_CHECKING:  # the adapter imports mediapipe: only load it when a model runs
    from formcheck.pose.landmarker import PoseEstimator


def open_estimator(cfg: Config, offline: bool = True) -> PoseEstimator:
    """A VIDEO-mode pose estimator configured from `cfg.pose` (loads mediapipe). For
    `offline` analysis with the sparse schedule, its twin loads on a thread meanwhile (live
    coaching runs one model)."""
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
    if offline and p.schedule == "sparse":
        est.load_twin()  # the second model loads while the first starts on the clip
    return est


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


def _counted(frames: Iterable[Frame], progress: Progress | None, total: int) -> Iterator[Frame]:
    """The frames, with `progress(done, total)` after each."""
    for done, frame in enumerate(frames, start=1):
        yield frame
        if progress:
            progress(done, total)


def estimate_poses(
    source: FileSource,
    cfg: Config,
    estimator: PoseEstimator,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> Measurement:
    """The pose of every analysed frame (one in `source.stride`); frames with no pose are
    kept as missing. With `cfg.pose.schedule` "sparse" the model sees only some of them
    (`formcheck.schedule`), on `estimator` and its twin at once, and the rest are
    interpolated; "every": all of them, on `estimator`. With the poses, what the watchers
    saw on the decoding thread (picture changes, split-screen panels) and, when
    `cfg.rules.band.detect`, the band detector's evidence (it sees each frame with its pose
    as it goes).

    `estimator` is reset for this clip and left open (one loaded model serves many clips).
    """
    band = BandDetector(cfg.rules.band.sample_every_s) if cfg.rules.band.detect else None
    estimator.start_clip()
    total = source.info.frame_count // source.stride if source.info.frame_count else 0
    band_thread = BandThread(band) if band is not None else None
    shots = ShotDetector()
    panels = PanelWatch() if source.crop is None else None
    grid = _counted(prefetch(_watched(source, shots, panels)), progress, total)
    schedule: dict[str, Any] = {"name": cfg.pose.schedule, "grid_stride": source.stride}
    pose_s = 0.0  # the model's time (two models at once: the wall time of both)
    try:
        if cfg.pose.schedule == "sparse":
            t0 = time.perf_counter()
            twin = estimator.twin()
            twin.start_clip()
            seen = measure_sparse_dense(
                grid,
                estimator.detect,
                lambda frame: twin.detect(frame, count_people=False),
                band_thread.submit if band_thread else None,
            )
            frames = on_grid(seen)
            pose_s = time.perf_counter() - t0
            schedule.update(
                sparse_every=SPARSE_EVERY,
                grid=len(frames),
                model_frames=seen.model_frames,
                dense_frames=sorted(set(seen.poses) - seen.sparse),
            )
        else:
            frames = []
            for frame in grid:
                t0 = time.perf_counter()
                pose = estimator.detect(frame)
                pose_s += time.perf_counter() - t0
                frames.append(pose)
                if band_thread is not None:
                    band_thread.submit(frame, pose)
            schedule.update(grid=len(frames), model_frames=len(frames))
        if band_thread is not None:
            band_thread.wait()
    finally:
        if band_thread is not None:
            band_thread.close()
    bundle = estimator.bundle
    if timings is not None:
        timings["decode"] = source.decode_s  # on the prefetch thread: overlaps the model
        timings["pose"] = pose_s
        if band is not None:
            timings["band"] = band.elapsed_s
    info = source.info
    poses = PoseSequence.from_frames(frames, (info.width, info.height))
    return Measurement(
        poses=poses,
        video=replace(info, rotation_deg=0),
        model=ModelInfo(bundle.name, bundle.sha256),
        decode_errors=source.decode_errors,
        schedule=schedule,
        shots=shots.meta(),
        band=band.meta() if band is not None else None,
        # A wrong rotation tag set right: frames re-read later turn too.
        turn_deg=source.turn_deg,
        panel_candidates=tuple(panels.candidates((info.width, info.height)) if panels else ()),
    )


def measure_video(
    source: FileSource,
    cfg: Config,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    estimator: PoseEstimator | None = None,
) -> Measurement:
    """Everything the model measures in one picture of a clip, ready for
    `analyze_measurement` (or saving).

    The poses and band evidence (`estimate_poses`), then, when a band was found, the tops
    of the banded reps measured again with the band painted out (`band.retake`), kept in
    `Measurement.retake`. `estimator` as in `estimate_poses`.
    """
    timings = {} if timings is None else timings
    est = estimator if estimator is not None else open_estimator(cfg)
    try:
        t0 = time.perf_counter()
        m = estimate_poses(source, cfg, est, progress, timings)
        timings["decode_and_pose"] = time.perf_counter() - t0
        per_rep = cfg.rules.band.retake_frames
        if not per_rep or not cfg.rules.band.detect:
            return m
        t1 = time.perf_counter()
        try:
            track, reps, bands = judge_measurement(m, cfg, {})
        except NoPersonError:  # said by the analysis; a split screen's panels may show one
            return m
        if any(b.found for b in bands):
            record = retake_tops(source, track, reps, bands, est, per_rep, cfg.track.min_visibility)
            m = replace(m, retake=record)
        timings["retake"] = time.perf_counter() - t1
        return m
    finally:
        if estimator is None:
            est.close()


def measure_clip(
    source: FileSource,
    cfg: Config,
    estimator: PoseEstimator,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> Measurement:
    """`measure_video` of a whole clip. A picture whose lifter is upside down or on their
    side (a wrong rotation tag, `geometry.upright_turn_deg`) is measured again turned
    upright, the turn kept in `Measurement.turn_deg`; a split screen is measured again in
    only the panel where the lifter is seen best (`panels.split_screen_panel`), kept in
    `Measurement.panel`."""
    m = measure_video(source, cfg, progress, timings, estimator)
    turn = _upright_turn(m.poses)
    if turn:  # a wrong rotation tag: the person upside down or on their side
        source = FileSource(source.path, source.stride, turn_deg=turn)
        m = measure_video(source, cfg, progress, timings, estimator)
    panel = split_screen_panel(source, m.poses, m.panel_candidates, estimator)
    if panel is None:
        return m
    m = measure_video(
        FileSource(source.path, source.stride, crop=panel.box, turn_deg=turn),
        cfg,
        progress,
        timings,
        estimator,
    )
    return replace(m, panel=panel)


def _upright_turn(seq: PoseSequence) -> int:
    """`geometry.upright_turn_deg` of the better-seen side over a measured clip."""
    side = choose_side(seq)
    if side is None:
        return 0
    shoulder, _, knee, ankle = SIDE_LANDMARKS[side]
    seen = seq.found & (seq.visibility[:, [shoulder, knee, ankle]] >= 0.5).all(axis=1)
    return upright_turn_deg(*(seq.xy_px[seen, j] for j in (shoulder, knee, ankle)))
