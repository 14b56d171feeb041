"""One live set, start to end: capture -> coach -> picture and sound -> report.

The set ends on `q` (or Esc, or closing the window), when nothing has moved for
`LiveConfig.idle_end_s` after a rep, when the source ends (a file played to its end, an
unplugged camera), or on Ctrl-C. However it ends, the reps judged so far are kept: the
report (the JSON contract of `analyze`) is written, the recording closed, and the
latency figures returned. Keys: `q` ends the set, `r` starts it again from zero, space
pauses (frames keep coming from the camera, none is analysed).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from formcheck.config import Config
from formcheck.live.capture import Capture, LiveSource
from formcheck.live.coach import Coach, CoachState, Verdict
from formcheck.live.display import KEY_PAUSE, KEY_QUIT, KEY_RESET, LiveWindow
from formcheck.live.sound import Sound
from formcheck.live.window import Hud, LiveLayout, display_scale, draw_live, draw_summary
from formcheck.report import SetReport, validate_report, write_json
from formcheck.video import VideoSink
from formcheck.video.frames import ImageBGR

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)

# Guidance is spoken at most this often (s), and only before the first rep: mid-set the
# lifter hears the rep verdicts, not a stream of setup advice.
GUIDANCE_SPEECH_GAP_S = 5.0
# The frame rate shown is measured over this many recent frames.
FPS_WINDOW = 30
# More than this share of frames dropped earns a warning in the report.
DROP_WARNING_SHARE = 0.25


@dataclass(frozen=True)
class LatencyStats:
    """Capture-to-feedback-drawn latency over a session (milliseconds).

    `latency_ms`: per analysed frame, from the moment it was captured to the moment its
    overlay was drawn (shown in the window when there is one); `age_ms`: how old each frame
    was when its analysis started; `dropped`: frames replaced by newer ones before the loop
    took them; `stale`: frames taken but skipped for being older than
    `LiveConfig.max_frame_age_s`.
    """

    latency_ms: tuple[float, ...]
    age_ms: tuple[float, ...]
    dropped: int
    stale: int
    wall_s: float

    @property
    def frames(self) -> int:
        return len(self.latency_ms)

    def _pct(self, values: tuple[float, ...], q: float) -> float:
        return float(np.percentile(values, q)) if values else math.nan

    @property
    def median_ms(self) -> float:
        return self._pct(self.latency_ms, 50)

    @property
    def p95_ms(self) -> float:
        return self._pct(self.latency_ms, 95)

    @property
    def max_ms(self) -> float:
        return max(self.latency_ms, default=math.nan)

    @property
    def oldest_age_ms(self) -> float:
        """The oldest a frame was when its analysis started."""
        return max(self.age_ms, default=math.nan)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def line(self) -> str:
        """One line for the end of a session."""
        total = self.frames + self.dropped + self.stale
        return (
            f"latency capture->feedback: median {self.median_ms:.0f} ms, "
            f"p95 {self.p95_ms:.0f} ms, max {self.max_ms:.0f} ms; oldest frame analysed "
            f"{self.oldest_age_ms:.0f} ms old; {self.frames} frames analysed at "
            f"{self.fps:.1f} fps, {self.dropped + self.stale} of {total} dropped"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "dropped": self.dropped,
            "stale": self.stale,
            "fps": round(self.fps, 2),
            "median_ms": round(self.median_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "oldest_age_ms": round(self.oldest_age_ms, 2),
        }


@dataclass(frozen=True)
class LiveResult:
    """What a live set produced.

    `feedback_t_s`: for each verdict, when its feedback was drawn, on the source's clock
    (seconds; for a file, the clip's own time line).
    """

    report: SetReport
    verdicts: tuple[Verdict, ...]
    feedback_t_s: tuple[float, ...]
    latency: LatencyStats
    end_reason: str


@dataclass
class LiveOptions:
    """How to run a live set.

    `window`: show the OpenCV window (else headless); `mute`: no sound; `json_out`: write
    the report there; `record`: write the annotated picture there (H.264 MP4);
    `on_verdict`: called with each verdict as it is reached (the CLI prints a line);
    `on_drawn`: called with each drawn picture and where its panels are (None: the
    end-of-set screen; for tests); `summary`: show the end-of-set
    screen in the window; `stop`: set it to end the set from another thread (an embedding
    program, a test).
    """

    window: bool = True
    mute: bool = False
    json_out: Path | None = None
    record: Path | None = None
    on_verdict: Callable[[Verdict], None] | None = None
    on_drawn: Callable[[ImageBGR, LiveLayout | None], None] | None = None
    summary: bool = True
    stop: threading.Event = field(default_factory=threading.Event)


def run_live(
    source: LiveSource,
    cfg: Config,
    opts: LiveOptions,
    estimator: PoseEstimator | None = None,
    window: LiveWindow | None = None,
) -> LiveResult:
    """Coach one set from `source` until it ends (see the module docstring).

    Pass an `estimator` to reuse a loaded model (tests, benchmarks); else one is opened
    (and closed) here. With `opts.window`, pass the `window` opened before PyAV was
    imported (see `formcheck.live.display`); it is closed at the end.
    """
    from formcheck.measure import open_estimator

    with ExitStack() as stack:
        if estimator is None:
            estimator = open_estimator(cfg, offline=False)
            stack.callback(estimator.close)
        sound = Sound(mute=opts.mute, speak=cfg.live.speak)
        stack.callback(sound.close)
        # Everything slow to start (a fresh tracker, the window) comes before the capture
        # thread starts, so that no frame waits for it.
        coach = Coach(cfg, estimator)
        if opts.window and window is None:
            window = LiveWindow()
        window = window if opts.window else None
        if window is not None:
            stack.callback(window.close)
        capture = Capture(source).start()
        stack.callback(capture.stop)
        loop = _Loop(cfg, opts, source, capture, coach, sound, window, stack)
        end_reason = loop.run()
        for v in coach.finish():  # reps complete but not yet settled when the set ended
            loop.announce(v, loop.last_t)
        capture.stop()
        latency = LatencyStats(
            tuple(loop.latency_ms),
            tuple(loop.age_ms),
            capture.dropped,
            loop.stale,
            time.perf_counter() - loop.t_start,
        )
        warnings: list[str] = []
        total = latency.frames + latency.dropped + latency.stale
        if total and (latency.dropped + latency.stale) / total > DROP_WARNING_SHARE:
            warnings.append(
                f"live: {latency.dropped + latency.stale} of {total} frames "
                "dropped (the computer could not keep up)"
            )
        info = coach.source_info(source.name, source.fps, latency.frames)
        report = coach.report(info, tuple(warnings))
        data = report.to_dict()
        validate_report(data)
        if opts.json_out is not None:
            write_json(data, opts.json_out)
        result = LiveResult(
            report, tuple(coach.verdicts), tuple(loop.feedback_t_s), latency, end_reason
        )
        if window is not None and opts.summary and not window.closed:
            _show_summary(window, coach, result, cfg, opts)
        return result


def _show_summary(
    window: LiveWindow, coach: Coach, result: LiveResult, cfg: Config, opts: LiveOptions
) -> None:
    """The end-of-set screen, until a key or `LiveConfig.summary_s`."""
    wh = coach.resolution_wh if coach.resolution_wh != (0, 0) else (1280, 720)
    s = display_scale(wh, True)
    image = draw_summary(
        (round(wh[0] * s), round(wh[1] * s)),
        list(result.verdicts),
        result.end_reason,
        result.latency.line().split(";")[0],
        opts.json_out,
    )
    window.show(image)
    if opts.on_drawn is not None:
        opts.on_drawn(image, None)
    deadline = time.perf_counter() + cfg.live.summary_s
    while time.perf_counter() < deadline:
        if window.key(50) is not None:
            break


class _Loop:
    """The per-frame loop of `run_live` (state shared by its steps)."""

    def __init__(
        self,
        cfg: Config,
        opts: LiveOptions,
        source: LiveSource,
        capture: Capture,
        coach: Coach,
        sound: Sound,
        window: LiveWindow | None,
        stack: ExitStack,
    ) -> None:
        self.cfg, self.opts, self.source, self.capture = cfg, opts, source, capture
        self.coach, self.sound, self.window, self.stack = coach, sound, window, stack
        self.mirror = cfg.live.mirror if cfg.live.mirror is not None else source.mirror
        self.sink: VideoSink | None = None
        self.latency_ms: list[float] = []
        self.age_ms: list[float] = []
        self.feedback_t_s: list[float] = []
        self.stale = 0
        self.t_start = time.perf_counter()
        self.last_t = 0.0
        self._done_at: deque[float] = deque(maxlen=FPS_WINDOW)
        self._verdict: Verdict | None = None
        self._verdict_until = -math.inf
        self._paused = False
        self._last_motion_t: float | None = None
        self._spoken_guidance = ""
        self._last_state: CoachState | None = None
        self._last_image: ImageBGR | None = None

    def announce(self, v: Verdict, feedback_t: float) -> None:
        """A rep verdict: tone, spoken word, on screen for `verdict_s`, callback."""
        self.sound.rep(v.fault)
        self.sound.say(v.said)
        self._verdict, self._verdict_until = v, feedback_t + self.cfg.live.verdict_s
        self.feedback_t_s.append(feedback_t)
        if self.opts.on_verdict is not None:
            self.opts.on_verdict(v)

    def run(self) -> str:
        """Process frames until the set ends; returns why it ended."""
        try:
            return self._run()
        except KeyboardInterrupt:
            return "interrupted"

    def _run(self) -> str:
        live = self.source.live
        max_age = self.cfg.live.max_frame_age_s
        while True:
            if self.opts.stop.is_set():
                return "stopped"
            try:
                item = self.capture.get(0.05)
            except Exception as exc:  # the reader died: end the set, keep what was judged
                log.debug("capture failed", exc_info=True)
                return f"{self.source.name} failed ({exc.__class__.__name__}: {exc})"
            if item is None:
                if self.capture.ended:
                    return self.source.end_reason or "the source ended"
                if (reason := self._keys()) is not None:
                    return reason
                continue
            started = time.perf_counter()
            age = started - item.captured_at
            if live and age > max_age:  # never coach from a stale picture
                self.stale += 1
                continue
            frame = item.frame
            if self._paused:
                self._draw_paused()
                if (reason := self._keys()) is not None:
                    return reason
                continue
            state = self.coach.step(frame)
            self.last_t = frame.t_s
            self._last_state = state
            done = time.perf_counter()
            for v in state.new:  # the verdict is drawn on this very frame
                self.announce(v, frame.t_s + (done - item.captured_at))
            if (
                not state.new
                and state.guidance
                and state.reps == 0
                and state.guidance != self._spoken_guidance
                and self.sound.say(state.guidance, GUIDANCE_SPEECH_GAP_S)
            ):
                self._spoken_guidance = state.guidance
            image = self._draw(frame.image_bgr, state, frame.t_s)
            drawn = time.perf_counter()
            self.latency_ms.append(1000.0 * (drawn - item.captured_at))
            self.age_ms.append(1000.0 * age)
            self._done_at.append(drawn)
            self._record(image, frame.t_s)
            if self._last_motion_t is None or state.moving:
                self._last_motion_t = frame.t_s
            idle = self.cfg.live.idle_end_s
            if idle > 0 and state.reps > 0 and frame.t_s - self._last_motion_t >= idle:
                return f"no movement for {idle:g} s"
            if (reason := self._keys()) is not None:
                return reason

    def _hud(self) -> Hud:
        fps = 0.0
        if len(self._done_at) >= 2:
            fps = (len(self._done_at) - 1) / max(self._done_at[-1] - self._done_at[0], 1e-6)
        lat = self.latency_ms[-1] if self.latency_ms else math.nan
        return Hud(fps, lat, paused=self._paused)

    def _draw(self, image_bgr: ImageBGR, state: CoachState, t_s: float) -> ImageBGR:
        hud = self._hud()
        if self._verdict is not None and t_s <= self._verdict_until:
            hud = Hud(hud.fps, hud.latency_ms, self._verdict, hud.paused)
        scale = display_scale((image_bgr.shape[1], image_bgr.shape[0]), self.window is not None)
        image, places = draw_live(image_bgr, state, hud, self.cfg, mirror=self.mirror, scale=scale)
        if self.window is not None:
            self.window.show(image)
        if self.opts.on_drawn is not None:
            self.opts.on_drawn(image, places)
        self._last_image = image_bgr
        return image

    def _draw_paused(self) -> None:
        """Show the last analysed picture again, with the pause banner."""
        if self._last_state is None or self._last_image is None or self.window is None:
            return
        hud = self._hud()
        scale = display_scale((self._last_image.shape[1], self._last_image.shape[0]), True)
        image, _ = draw_live(
            self._last_image,
            self._last_state,
            Hud(hud.fps, hud.latency_ms, None, paused=True),
            self.cfg,
            mirror=self.mirror,
            scale=scale,
        )
        self.window.show(image)

    def _record(self, image: ImageBGR, t_s: float) -> None:
        if self.opts.record is None:
            return
        if self.sink is None:
            h, w = image.shape[:2]
            self.sink = self.stack.enter_context(
                VideoSink(self.opts.record, self.source.fps, (w, h))
            )
            self._t0 = t_s
        self.sink.write(image, t_s - self._t0)

    def _keys(self) -> str | None:
        """Handle the window's keys; the reason to end the set, or None."""
        if self.window is None:
            return None
        key = self.window.key(1)
        if key == KEY_QUIT:
            return "ended with q" if not self.window.closed else "window closed"
        if key == KEY_RESET:
            self.coach.reset()
            self.feedback_t_s.clear()
            self._verdict = None
            self._last_motion_t = None
        elif key == KEY_PAUSE:
            self._paused = not self._paused
        return None


def run_live_source(
    spec: str,
    cfg: Config,
    opts: LiveOptions,
    realtime: bool = False,
    estimator: PoseEstimator | None = None,
    window: LiveWindow | None = None,
) -> LiveResult:
    """`run_live` on the source named by `--source` (camera index, file or stream URL).

    Raises:
        CameraError: the camera or stream is missing, busy, or sends no frame.
        VideoOpenError: a file that is not a readable video.
        ModelError: the pose model cannot be loaded.
    """
    from formcheck.live.capture import open_source
    from formcheck.pose.bundle import check_bundle

    check_bundle(cfg.pose.model)  # fail fast, before the camera light comes on
    source = open_source(spec, realtime, cfg.live.disconnect_s)
    try:
        return run_live(source, cfg, opts, estimator, window)
    finally:
        source.close()
