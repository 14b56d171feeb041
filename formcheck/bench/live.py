"""The live latency benchmark (`formcheck live-bench CLIP`).

Plays a clip at its own frame rate through the whole live loop, headless and muted by
default, exactly as a camera would feed it, and reports the latency from each frame's
capture to its feedback being drawn (median, 95th percentile, worst), the oldest frame that
was analysed, and how many frames were dropped to stay current.

Targets (issue 5, on a 2-core machine with the bundled model, 30 fps clip): 95th
percentile under 60 ms, and no frame older than 100 ms ever analysed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formcheck.config import Config

if TYPE_CHECKING:  # the live loop loads PyAV: only after the window has opened (`display`)
    from formcheck.live.session import LatencyStats
    from formcheck.pose.landmarker import PoseEstimator

TARGET_P95_MS = 60.0
TARGET_MAX_AGE_MS = 100.0


@dataclass(frozen=True)
class LiveBench:
    """One benchmark run: the clip, what the loop achieved, and the targets."""

    clip: str
    fps: float
    duration_s: float
    width: int
    height: int
    reps: int
    latency: LatencyStats
    cpus: int

    @property
    def p95_ok(self) -> bool:
        return self.latency.p95_ms < TARGET_P95_MS

    @property
    def age_ok(self) -> bool:
        return self.latency.oldest_age_ms <= TARGET_MAX_AGE_MS

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip": self.clip,
            "fps": self.fps,
            "duration_s": round(self.duration_s, 3),
            "width": self.width,
            "height": self.height,
            "reps": self.reps,
            "cpus": self.cpus,
            "latency": self.latency.to_dict(),
            "targets": {
                "p95_ms": TARGET_P95_MS,
                "max_age_ms": TARGET_MAX_AGE_MS,
                "p95_ok": self.p95_ok,
                "age_ok": self.age_ok,
            },
        }


def run_live_bench(
    path: str | Path, cfg: Config, window: bool = False, estimator: PoseEstimator | None = None
) -> LiveBench:
    """Play `path` in real time through the live loop and measure it.

    Raises:
        VideoOpenError: the clip cannot be read.
        ModelError: the pose model cannot be loaded.
    """
    window_ = None
    if window:  # before the file is opened: PyAV must not be loaded first
        from formcheck.live.display import LiveWindow

        window_ = LiveWindow()
    from formcheck.live.capture import FilePlayer
    from formcheck.live.session import LiveOptions, run_live

    player = FilePlayer(path, realtime=True)
    info = player.info
    result = run_live(
        player, cfg, LiveOptions(window=window, mute=True, summary=False), estimator, window_
    )
    return LiveBench(
        Path(path).name,
        info.fps,
        info.duration_s,
        info.width,
        info.height,
        len(result.verdicts),
        result.latency,
        os.cpu_count() or 0,
    )
