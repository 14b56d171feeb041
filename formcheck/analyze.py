"""The offline pipeline: video -> measurement -> track -> reps -> rules -> report (and
overlays).

`measure_clip` runs the model and the pixel watchers over a clip and hands back one typed
`Measurement`; `analyze_measurement` judges it (and `analyze_sequence` a saved landmarks
file, without the model); `analyze_video` does both. Progress goes to an optional callback;
the CLI turns it into a progress bar.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from formcheck.band import BandDetector, BandJudgement, BandThread, band_outline_px
from formcheck.band import judge_reps as judge_bands
from formcheck.band.retake import apply_retakes, retake_tops
from formcheck.config import Config
from formcheck.errors import NoPersonError
from formcheck.geometry import body_box_px, upright_turn_deg
from formcheck.judge import once_for_the_set, rep_report
from formcheck.measurement import Measurement
from formcheck.no_reps import explain_no_reps
from formcheck.overlay import Box, Overlay, annotate
from formcheck.panels import PanelWatch, split_screen_panel
from formcheck.pose.bundle import check_bundle
from formcheck.pose.sequence import PoseSequence
from formcheck.report import ModelInfo, SetReport, ViewInfo
from formcheck.reps import Phase, Rep, segment_reps
from formcheck.schedule import SPARSE_EVERY, measure_sparse_dense, on_grid
from formcheck.shots import Shot, ShotDetector, breaks_of, cuts_of, moves_of, split_shots
from formcheck.track import SIDE_LANDMARKS, PoseTrack, build_track, choose_side
from formcheck.video import FileSource, Frame, VideoInfo, VideoSink
from formcheck.video.prefetch import prefetch

if TYPE_CHECKING:  # the adapter imports mediapipe: only load it when a model runs
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (frames done, frames expected; 0 when unknown)
# More than one person in this share of frames earns a warning.
CROWD_WARNING_SHARE = 0.1
# A pose missing for longer than this (s) is reported as the person leaving the frame.
ABSENCE_WARNING_S = 1.0
# The band outline of a rep is drawn up to this long (s) before and after it.
BAND_OUTLINE_REACH_S = 1.0


@dataclass(frozen=True)
class Analysis:
    """Everything one analysis produced: the report, and the data behind it."""

    report: SetReport
    measurement: Measurement
    track: PoseTrack
    reps: tuple[Rep, ...]
    timings_s: dict[str, float] = field(default_factory=dict)
    bands: tuple[BandJudgement, ...] = ()  # one per rep: where the band was seen

    @property
    def sequence(self) -> PoseSequence:
        """The poses measured (`measurement.poses`)."""
        return self.measurement.poses

    def named(self, path: str) -> Analysis:
        """A copy whose report and landmarks name `path` as the clip: what a worker that
        analysed its own copy of a user's file (batch, server) hands back."""
        report = replace(self.report, source=replace(self.report.source, path=path))
        return replace(self, report=report, measurement=self.measurement.named(path))


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


#: How the lifter looked before that turn.
TURN_WORDS = {90: "on their side", 180: "upside down", 270: "on their side"}


def set_warnings(m: Measurement, track: PoseTrack, reps: list[Rep], cfg: Config) -> list[str]:
    """The set-level warnings of a report (damaged file, crowd, absences, view, and what
    was seen when no rep was); shared by `analyze` and live mode so both say the same."""
    out: list[str] = []
    seq = m.poses
    if m.decode_errors:
        last = float(seq.t_s[-1]) if len(seq) else 0.0
        out.append(f"the video is damaged or truncated: analysed the first {last:.1f} s")
    counted = seq.people[seq.people >= 0]
    crowd = float(np.mean(counted > 1)) if len(counted) else 0.0
    if crowd > CROWD_WARNING_SHARE:
        out.append(
            f"more than one person in view ({crowd:.0%} of the counts): followed the main one;"
            " film one lifter at a time for reliable results"
        )
    found = seq.found
    t = seq.t_s
    start = None
    for i in range(len(found) + 1):
        if i < len(found) and not found[i]:
            start = i if start is None else start
        elif start is not None:
            end_t = t[i - 1] if i - 1 < len(t) else t[-1]
            if end_t - t[start] >= ABSENCE_WARNING_S:
                out.append(f"no person in view from {t[start]:.1f} s to {end_t:.1f} s")
            start = None
    turn = m.turn_deg
    if turn:
        out.append(
            f"the picture showed the lifter {TURN_WORDS[turn]} (a wrong rotation tag?):"
            f" analysed it turned {turn} deg counter-clockwise"
        )
    if m.panel is not None:
        out.append(m.panel.warning)
    if not track.view.ok:
        out.append(track.view.message)
    cuts = cuts_of(m.shots)
    if cuts and len(t):
        out.append(shots_warning(split_shots(cuts, float(t[0]), float(t[-1])), reps))
    out += [
        f"the camera {what} from {a:.1f} s to {b:.1f} s: reps are counted before and"
        " after it, never across it"
        for what, a, b in camera_moves(m)
    ]
    if not reps:
        out.append(
            explain_no_reps(track, cfg.reps, straight_deg=cfg.rules.top_alignment.target_deg)
        )
    return out


def camera_moves(m: Measurement) -> list[tuple[str, float, float]]:
    """The camera's moves (`formcheck.shots.find_moves`) as a report names them: ("moved",
    start s, end s), or ("turned away from the lifter", ...) for a move away and the move
    back, with nobody in view for most of the time between (a phone swung away and back)."""
    moves, seq = moves_of(m.shots), m.poses
    out: list[tuple[str, float, float]] = []
    k = 0
    while k < len(moves):
        start, end = moves[k]
        if k + 1 < len(moves):
            between = (seq.t_s > end) & (seq.t_s < moves[k + 1][0])
            if between.any() and float(np.mean(seq.found[between])) < 0.5:
                out.append(("turned away from the lifter", start, moves[k + 1][1]))
                k += 2
                continue
        out.append(("moved", start, end))
        k += 1
    return out


def shots_warning(shots: list[Shot], reps: list[Rep]) -> str:
    """What an edited clip is told: where its cuts are, and the reps counted in each shot."""
    cuts = ", ".join(f"{shot.start_s:.1f} s" for shot in shots[1:])
    counts = []
    for shot in shots:
        n = sum(shot.start_s <= rep.start_s < shot.end_s for rep in reps)
        counts.append(
            f"shot {shot.index} ({shot.start_s:.1f}-{shot.end_s:.1f} s): "
            f"{n} rep{'s' if n != 1 else ''}"
        )
    return (
        f"the clip is edited: {len(shots) - 1} cut{'s' if len(shots) > 2 else ''} (at "
        f"{cuts}); reps are counted within each shot, never across a cut: " + ", ".join(counts)
    )


def _track_reps_bands(
    m: Measurement, cfg: Config, timings: dict[str, float]
) -> tuple[PoseTrack, list[Rep], list[BandJudgement]]:
    """The track, the reps (with any retaken tops) and each rep's band judgement.

    Raises:
        NoPersonError: a pose was found in too few frames to analyse the set.
    """
    seq = m.poses
    found_share = float(seq.found.mean()) if len(seq) else 0.0
    if found_share < cfg.track.min_tracked_fraction:
        raise NoPersonError(
            f"no person found in {1 - found_share:.0%} of the frames: film from the side,"
            " whole body in frame"
        )
    t0 = time.perf_counter()
    breaks = breaks_of(m.shots)
    track = build_track(seq, cfg.track, breaks)
    t1 = time.perf_counter()
    reps = apply_retakes(segment_reps(track, cfg.reps, breaks), m.retake)
    t2 = time.perf_counter()
    evidence = m.band_evidence if cfg.rules.band.detect else None
    bands = judge_bands(evidence, reps, cfg.rules.band)
    # Judging the band counts with the rules, as the band_placement rule's input.
    timings.update(track=t1 - t0, reps=t2 - t1, rules=time.perf_counter() - t2)
    return track, reps, bands


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
    track, reps, bands = _track_reps_bands(m, cfg, timings)
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
            track, reps, bands = _track_reps_bands(m, cfg, {})
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


@dataclass(frozen=True)
class VideoOverlays:
    """The annotated video's overlay for any time of an analysed clip.

    Attributes:
        analysis: the clip's analysis.
        body_box: where the body keeps to over the clip (`geometry.body_box_px`): the
            text panels keep clear of it.
    """

    analysis: Analysis
    body_box: Box | None

    @classmethod
    def of(cls, analysis: Analysis) -> VideoOverlays:
        seq = analysis.sequence
        return cls(analysis, body_box_px(seq.xy_px[seq.found], seq.resolution_wh))

    def at(self, t_s: float) -> Overlay:
        """The overlay for the frame at `t_s`: nearest tracked sample, reps done, phase, cue.

        A rep's verdict is up for two seconds after it ends; a fault's cue then stays, in
        the fault's colour, until the next rep ends (a good rep's "good rep" goes)."""
        analysis = self.analysis
        track = analysis.track
        i = int(np.clip(np.searchsorted(track.t_s, t_s), 0, len(track.t_s) - 1))
        done = [rr for rr in analysis.report.reps if rr.rep.end_s <= t_s]
        phase = Phase.BOTTOM.word
        for rr in analysis.report.reps:
            current = rr.rep.phase_at(t_s)
            if current is not None:
                phase = current.word
        verdict, fault = "", bool(done and done[-1].faults)
        if done and t_s - done[-1].rep.end_s < 2.0:  # the last verdict stays up two seconds
            last = done[-1]
            verdict = f"Rep {last.rep.index}: " + (last.cue if fault else "good rep")
        cue = done[-1].cue if done else ""
        return Overlay(
            track.joints_xy_px[i],
            float(track.hip_angle_deg[i]),
            len(done),
            phase,
            cue,
            verdict,
            fault,
            _band_outline(analysis, t_s, track.joints_xy_px[i]),
            self.body_box,
        )


def _band_outline(
    analysis: Analysis, t_s: float, joints_xy_px: np.ndarray
) -> tuple[np.ndarray, ...]:
    """The outline of the band found in the rep nearest `t_s` (within a second of it)."""
    best: tuple[Rep, BandJudgement] | None = None
    gap = BAND_OUTLINE_REACH_S
    for rep, band in zip(analysis.reps, analysis.bands, strict=False):
        d = max(rep.start_s - t_s, t_s - rep.end_s, 0.0)
        if d <= gap:
            best, gap = (rep, band), d
    if best is None:
        return ()
    rep, band = best
    mid_rise = 0.5 * (rep.start_s + rep.top_start_s)
    mid_fall = 0.5 * (rep.top_end_s + rep.end_s)
    return band_outline_px(band, joints_xy_px, near_top=mid_rise <= t_s <= mid_fall)


def iter_annotated(
    path: str | Path, analysis: Analysis, stride: int = 1
) -> Iterator[tuple[np.ndarray, float]]:
    """Decode the clip again and yield (annotated image, t_s) for each frame."""
    overlays = VideoOverlays.of(analysis)
    for frame in prefetch(analysis.measurement.frames(path, stride)):
        yield annotate(frame.image_bgr, overlays.at(frame.t_s)), frame.t_s


def write_annotated_video(
    path: str | Path,
    analysis: Analysis,
    out: str | Path,
    progress: Progress | None = None,
) -> None:
    """Write the browser-playable annotated video (H.264 MP4) of an analysed clip."""
    info: VideoInfo = analysis.measurement.frames(path).info
    total = info.frame_count
    with VideoSink(out, info.fps, (info.width, info.height)) as sink:
        for n, (image, t_s) in enumerate(iter_annotated(path, analysis), start=1):
            sink.write(image, t_s)
            if progress:
                progress(n, total)
