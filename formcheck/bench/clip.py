"""Speed benchmark: decode alone, the pose model alone, and the whole `analyze` pipeline.

Everything runs on the same clip in one process, so the figures are comparable:

- decode alone: every frame decoded and converted to BGR, nothing else;
- model alone (the ceiling): the pose model on every pre-decoded frame, nothing else;
- pipeline: `analyze_video` with the given configuration (by default it analyses about
  `pose.max_fps` frames per second of video), decode, band, rules and all;
- pipeline, every frame: the same with `pose.max_fps = 0` and `pose.models = 1`
  (one model on every frame), the like-for-like comparison with the model alone (what the
  pipeline adds on top of the model), and the reference the default schedule is checked
  against: rep count, top hip angle, pause and lowering of each rep (`ScheduleAgreement`);
- annotated video (optional): `write_annotated_video`, the cost of `analyze --video`.

The models are loaded once, before any timing, as batch workers and the server do (with
`pose.models = 2`, two: `PoseEstimator.twin`); their load time is reported apart, and
counted in `cold_ratio`, the one-off `analyze` against the model alone. Each timed stage
runs `repeats` times and the fastest run counts, which filters out other programs on the
machine. Peak memory is read right after the pipeline runs, before the model-alone stage
holds decoded frames in memory.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from formcheck.analyze import analyze_video
from formcheck.annotate import write_annotated_video
from formcheck.bench.memory import peak_rss_mb
from formcheck.config import Config
from formcheck.judge import Analysis
from formcheck.measure import open_estimator
from formcheck.video import FileSource, Frame, probe
from formcheck.video.source import stride_for

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

#: The model-alone stage keeps at most this many decoded frames in memory (scaled after).
MAX_MODEL_FRAMES = 900


@dataclass(frozen=True)
class StageFigure:
    """One timed stage: frames of the clip it covers, wall seconds, frames per second
    (clip frames over wall time, so a stage that skips frames can beat the model), and
    speed as a multiple of real time (3.0: three times faster than the clip plays)."""

    frames: int
    wall_s: float
    fps: float
    realtime_x: float


@dataclass(frozen=True)
class ScheduleAgreement:
    """How the default schedule's analysis agrees with the every-frame one on the same clip:
    rep counts, and over the reps matched in order, the mean absolute difference of the top
    hip angle (deg), the pause and the lowering (s)."""

    reps: int
    reps_every_frame: int
    top_angle_deg: float | None
    pause_s: float | None
    lowering_s: float | None

    @classmethod
    def of(cls, fast: Analysis, every: Analysis) -> ScheduleAgreement:
        pairs = list(zip(fast.reps, every.reps, strict=False))

        def mean(values: list[float]) -> float | None:
            return float(sum(values) / len(values)) if values else None

        return cls(
            len(fast.reps),
            len(every.reps),
            mean([abs(a.hip_angle_top_deg - b.hip_angle_top_deg) for a, b in pairs]),
            mean([abs(a.pause_s - b.pause_s) for a, b in pairs]),
            mean([abs(a.eccentric_s - b.eccentric_s) for a, b in pairs]),
        )


@dataclass(frozen=True)
class BenchResult:
    """All figures of one benchmark run (seconds, MiB)."""

    clip: str
    duration_s: float
    width: int
    height: int
    fps: float
    analysed_every: int  # the default pipeline's stride on this clip
    model_load_s: float
    decode: StageFigure
    model_alone: StageFigure
    pipeline: StageFigure
    pipeline_every_frame: StageFigure
    annotated_video: StageFigure | None
    pipeline_vs_model_pct: float  # default pipeline wall over model-alone wall, minus 100%
    every_frame_overhead_pct: float  # every-frame pipeline over model alone, minus 100%
    cold_realtime_x: float  # clip duration / (model load + default pipeline): a one-off run
    cold_ratio: float  # (model load + default pipeline) / model alone on every frame
    model_frames: int  # frames the default pipeline's models measured (both passes)
    agreement: ScheduleAgreement | None = None
    pipeline_stages_s: dict[str, float] = field(default_factory=dict)
    every_frame_stages_s: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0  # peak resident memory after the default pipeline

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _best(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    """(fastest wall time, that run's result) over `repeats` runs of `run`."""
    best: tuple[float, object] | None = None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = run()
        wall = time.perf_counter() - t0
        if best is None or wall < best[0]:
            best = (wall, out)
    assert best is not None
    return best


def _model_alone(est: PoseEstimator, frames: list[Frame]) -> int:
    est.start_clip()  # the same fresh tracker the pipeline starts each clip with
    for frame in frames:
        est.detect(frame)
    return len(frames)


def run_bench(
    video: str | Path,
    cfg: Config,
    repeats: int = 2,
    render: bool = False,
    max_model_frames: int = MAX_MODEL_FRAMES,
) -> BenchResult:
    """Time every stage on `video` (see the module docstring); `render` adds the
    annotated-video stage."""
    info = probe(video)
    stride = max(cfg.pose.stride, stride_for(info.fps, cfg.pose.max_fps))
    every_cfg = cfg.with_overrides({"pose.max_fps": 0.0, "pose.stride": 1, "pose.models": 1})

    def fig(wall_s: float, frames: int) -> StageFigure:
        return StageFigure(
            frames,
            wall_s,
            frames / wall_s if wall_s else 0.0,
            info.duration_s / wall_s if wall_s else 0.0,
        )

    t0 = time.perf_counter()
    est = open_estimator(cfg)  # with its twin when `pose.models` is 2
    load_s = time.perf_counter() - t0
    with est:
        pipe_s, pipe = _best(lambda: analyze_video(video, cfg, estimator=est), repeats)
        peak = peak_rss_mb()
        every_s, every = _best(lambda: analyze_video(video, every_cfg, estimator=est), repeats)
        assert isinstance(pipe, Analysis) and isinstance(every, Analysis)
        n_frames = len(every.measurement.poses)
        stages = dict(pipe.timings_s)
        render_fig = None
        if render:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "annotated.mp4"
                render_s, _ = _best(lambda: write_annotated_video(video, pipe, out), 1)
            render_fig = fig(render_s, n_frames)
            stages["rendering"] = render_s
        decode_s, _ = _best(lambda: sum(1 for _ in FileSource(video)), repeats)
        kept = list(itertools.islice(FileSource(video), max_model_frames))
        model_s, _ = _best(lambda: _model_alone(est, kept), repeats)
        model_s *= n_frames / len(kept)  # the whole clip, when only a prefix was kept
        kept.clear()
    model = fig(model_s, n_frames)
    return BenchResult(
        clip=str(video),
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
        fps=info.fps,
        analysed_every=stride,
        model_load_s=load_s,
        decode=fig(decode_s, n_frames),
        model_alone=model,
        pipeline=fig(pipe_s, n_frames),
        pipeline_every_frame=fig(every_s, n_frames),
        annotated_video=render_fig,
        pipeline_vs_model_pct=100.0 * (pipe_s / model_s - 1.0),
        every_frame_overhead_pct=100.0 * (every_s / model_s - 1.0),
        cold_realtime_x=info.duration_s / (load_s + pipe_s),
        cold_ratio=(load_s + pipe_s) / model_s,
        model_frames=int(pipe.measurement.schedule["model_frames"]),
        agreement=ScheduleAgreement.of(pipe, every),
        pipeline_stages_s=stages,
        every_frame_stages_s=dict(every.timings_s),
        peak_rss_mb=peak,
    )
