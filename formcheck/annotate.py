"""The annotated video: each frame of an analysed clip with its overlay (`formcheck.overlay`)
drawn from the analysis: the skeleton, the counter and phase, the verdict of the rep just
ended, and the band's outline around its reps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from formcheck.band import BandJudgement, band_outline_px
from formcheck.geometry import body_box_px
from formcheck.judge import Analysis
from formcheck.overlay import Box, Overlay, annotate
from formcheck.reps import Phase, Rep
from formcheck.video import FileSource, Progress, VideoInfo, VideoSink
from formcheck.video.prefetch import prefetch

# The band outline of a rep is drawn up to this long (s) before and after it.
BAND_OUTLINE_REACH_S = 1.0


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
        seq = analysis.measurement.poses
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


def iter_annotated(frames: FileSource, analysis: Analysis) -> Iterator[tuple[np.ndarray, float]]:
    """Decode the clip again (`frames`: `Measurement.frames`) and yield (annotated image,
    t_s) for each frame."""
    overlays = VideoOverlays.of(analysis)
    for frame in prefetch(frames):
        yield annotate(frame.image_bgr, overlays.at(frame.t_s)), frame.t_s


def write_annotated_video(
    path: str | Path,
    analysis: Analysis,
    out: str | Path,
    progress: Progress | None = None,
) -> None:
    """Write the browser-playable annotated video (H.264 MP4) of an analysed clip."""
    frames = analysis.measurement.frames(path)
    info: VideoInfo = frames.info
    total = info.frame_count
    with VideoSink(out, info.fps, (info.width, info.height)) as sink:
        for n, (image, t_s) in enumerate(iter_annotated(frames, analysis), start=1):
            sink.write(image, t_s)
            if progress:
                progress(n, total)
