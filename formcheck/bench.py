"""Speed benchmark: decode alone, the pose model alone, and the whole `analyze` pipeline.

All three run on the same clip in one process, so the figures are comparable. The model
runs on pre-decoded frames (the ceiling the pipeline can reach); the pipeline figure is
`analyze_video` with the given configuration, decode and all.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from formcheck.analyze import analyze_video, open_estimator
from formcheck.config import Config
from formcheck.video import FileSource, Frame


@dataclass(frozen=True)
class StageFigure:
    """One timed stage: frames processed, wall seconds, frames per second, x real time."""

    frames: int
    wall_s: float
    fps: float
    realtime_x: float  # clip duration / wall time: 3.0 means three times faster than real time


@dataclass(frozen=True)
class BenchResult:
    clip: str
    duration_s: float
    width: int
    height: int
    decode: StageFigure
    model_alone: StageFigure
    pipeline: StageFigure
    pipeline_overhead_pct: float  # pipeline wall time over model-alone wall time, minus 100%
    pipeline_stages_s: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _figure(frames: int, wall_s: float, duration_s: float) -> StageFigure:
    return StageFigure(frames, wall_s, frames / wall_s if wall_s else 0.0,
                       duration_s / wall_s if wall_s else 0.0)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_bench(video: str | Path, cfg: Config, max_model_frames: int = 900) -> BenchResult:
    """Time decode, model alone (on at most `max_model_frames` pre-decoded frames), pipeline."""
    source = FileSource(video, stride=cfg.pose.stride)
    duration = source.info.duration_s
    t0 = time.perf_counter()
    frames = 0
    kept: list[Frame] = []
    for frame in source:
        frames += 1
        if len(kept) < max_model_frames:
            kept.append(frame)
    decode = _figure(frames, time.perf_counter() - t0, duration)

    with open_estimator(cfg) as est:
        est.detect(kept[0])  # warm-up: the first inference initialises the delegate
        est.start_clip()
        t0 = time.perf_counter()
        for frame in kept:
            est.detect(frame)
        model_wall = time.perf_counter() - t0
    # Scale to the whole clip when only a prefix was kept in memory.
    model_alone = _figure(frames, model_wall * frames / len(kept), duration)
    del kept

    t0 = time.perf_counter()
    analysis = analyze_video(video, cfg)
    pipeline = _figure(frames, time.perf_counter() - t0, duration)
    return BenchResult(
        clip=str(video), duration_s=duration, width=source.info.width,
        height=source.info.height, decode=decode, model_alone=model_alone, pipeline=pipeline,
        pipeline_overhead_pct=100.0 * (pipeline.wall_s / model_alone.wall_s - 1.0),
        pipeline_stages_s=dict(analysis.timings_s), peak_rss_mb=peak_rss_mb(),
    )
