"""The causal, per-frame coaching pipeline: pose -> smoothing -> rep machine -> verdicts.

Every frame goes through the pose model, then a causal One-Euro filter on the signed hip
angle feeds the same `RepStateMachine` that `analyze` uses, frame by frame; it drives the
phase on screen and notices when a rep has come back to the bottom.

The verdict on a rep uses exactly the offline stages and thresholds: once a rep is back
at the bottom, the frames since shortly before the previous rep's end go through
`build_track` (side, gaps, zero-phase smoothing), `segment_reps` (boundaries, hold) and the
rule table, with the band placement from the evidence collected so far. Only past frames
are used; the rep is judged `LiveConfig.settle_s` after its end, when the hips have
settled and the smoothing filters no longer move its boundaries. So the lifter hears what
`formcheck analyze` would say of that rep, about 0.6 s after it ends. Why not sooner: a real
lowering ends with a slow settle, and the level the hips come back to is taken from the
frames after the rep; judged 0.3 s after the end, the lowering of real lifters came out
0.3-0.7 s short and "Lower slowly" was said on 7 of 30 real reps where `analyze` says
nothing of the kind.

Before the set, and whenever the camera view is wrong, `guidance` says what to change
("turn side-on", "move back: your feet are out of frame", "too dark").
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from formcheck.band import BandDetector, BandJudgement, BandThread, judge_rep
from formcheck.clip_warnings import set_warnings
from formcheck.config import Config
from formcheck.filters import OneEuroFilter
from formcheck.geometry import body_box_px, hip_angle_deg
from formcheck.judge import SAID_ONCE, Analysis, as_measured, once_for_the_set, rep_report
from formcheck.measurement import Measurement
from formcheck.no_reps import NO_REPS
from formcheck.pose.landmarks import PoseFrame
from formcheck.pose.sequence import PoseSequence
from formcheck.report import ModelInfo, RepReport, SetReport, ViewInfo
from formcheck.reps import Phase, Rep, RepStateMachine, segment_reps
from formcheck.track import NOT_SIDE_ON_MESSAGE, SIDE_LANDMARKS, Side, build_track, check_view
from formcheck.video import Frame, VideoInfo

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

#: What the lifter hears mid-set for each fault: a word or two (the screen shows the cue).
SHORT_CUES: dict[str, str] = {
    "under_extension": "Hips higher",
    "over_extension": "Ribs down",
    "short_pause": "Hold the top",
    "fast_lowering": "Lower slowly",
    "feet_too_close": "Feet out",
    "feet_too_far": "Feet in",
    "band_at_knees": "Band on hips",
    "no_band": "Add the band",
}
GOOD_REP = "Good"
#: Live, the band is looked for this many times as often as `rules.band.sample_every_s`
#: says: frames dropped under load must not leave a rep with too little band evidence
#: (the judgement's thresholds are the same as offline).
LIVE_BAND_DENSITY = 2.0

# The verdict's window of frames starts this long (s) before the previous rep's end, so the
# smoothing filters are settled at the new rep's start (the despike window is 0.45 s).
WINDOW_LEAD_S = 1.5
# After the live machine saw a rep end, look for it on every frame for this long (s).
PENDING_S = 2.0
# ...and never longer than this (s): no rep lasts that long, and the window stays cheap.
MAX_WINDOW_S = 20.0
# Look for a complete rep at least this often (s) even when the live machine saw none.
JUDGE_EVERY_S = 0.5
# The setup guidance looks at this many seconds of recent frames, this often (s).
GUIDANCE_WINDOW_S = 1.0
GUIDANCE_EVERY_S = 0.5
# Where the body keeps to is taken over this many seconds of recent frames (a rep's travel,
# so the panels kept clear of it do not jump about within a rep), as often as the guidance.
BODY_WINDOW_S = 3.0
# Causal speed estimate of the hip angle: exponential smoothing time constant (s).
SPEED_TAU_S = 0.1
# What the view check's findings mean for the lifter setting up.
GUIDANCE_TEXT = {
    "dark": "Too dark: turn on a light or face the camera towards it",
    "nobody": "Step into view: side-on, whole body in the picture",
    "side_on": "Turn side-on to the camera",
    "upright": "Get into position: upper back on the bench, feet flat",
}
OUT_OF_FRAME = {
    "shoulder": "Move back: your shoulders are out of frame",
    "hip": "Move back: your hips are out of frame",
    "knee": "Move back: your knees are out of frame",
    "ankle": "Move back: your feet are out of frame",
}


@dataclass(frozen=True)
class Verdict:
    """What the coach says about one completed rep.

    `said`: the word or two spoken (a `SHORT_CUES` entry, or "Good"); `t_s`: the source
    time (s) of the frame on which the verdict was reached.
    """

    report: RepReport
    said: str
    t_s: float

    @property
    def fault(self) -> bool:
        return bool(self.report.faults)

    @property
    def text(self) -> str:
        """The on-screen verdict: a check, or the fault's cue."""
        head = f"Rep {self.report.rep.index}: "
        return head + (self.report.cue if self.fault else "good rep")


@dataclass(frozen=True)
class CoachState:
    """The coach's view after one frame.

    `joints_xy_px`: (4, 2) shoulder, hip, knee, ankle of the side in use (NaN: not seen);
    `hip_angle_deg`: causally smoothed signed hip angle (NaN: not seen); `reps`: reps
    judged so far; `guidance`: what to change in the setup ('' when the view is right);
    `new`: verdicts reached on this frame; `moving`: the hips moved on this frame;
    `body_box_px`: (x0, y0, x1, y1) pixels, where the body kept to over the last
    `BODY_WINDOW_S` (`geometry.body_box_px`; None: nobody seen), for the panels to avoid.
    """

    t_s: float
    joints_xy_px: np.ndarray
    hip_angle_deg: float
    phase: str
    reps: int
    guidance: str
    new: tuple[Verdict, ...]
    moving: bool
    body_box_px: tuple[int, int, int, int] | None = None


def _brightness(image_bgr: np.ndarray) -> float:
    """Mean grey level (0-255) of a thumbnail of the frame (cheap: about 0.1 ms)."""
    small = cv2.resize(image_bgr, (64, 36), interpolation=cv2.INTER_AREA)
    return float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())


def setup_guidance(recent: PoseSequence, side: Side | None, brightness: float, cfg: Config) -> str:
    """What the lifter should change before (or during) the set; '' when all is right.

    Uses the offline view check (`track.check_view`) on the last second of frames, and
    the frame's brightness against `LiveConfig.min_brightness`.
    """
    if brightness < cfg.live.min_brightness:
        return GUIDANCE_TEXT["dark"]
    if len(recent) == 0 or side is None or recent.found.mean() < 0.5:
        return GUIDANCE_TEXT["nobody"]
    view = check_view(recent, side, cfg.track)
    if view.ok:
        return ""
    msg = view.message
    if msg == NOT_SIDE_ON_MESSAGE:
        return GUIDANCE_TEXT["side_on"]
    if "out of frame" in msg:
        for joint, text in OUT_OF_FRAME.items():
            if msg.startswith(f"the {joint}s"):
                return text
    if "upright" in msg:
        return GUIDANCE_TEXT["upright"]
    if "no person" in msg:
        return GUIDANCE_TEXT["nobody"]
    return msg[:1].upper() + msg[1:]


class Coach:
    """Feeds frames one at a time; says when a rep is done and what to fix.

    Args:
        cfg: the one configuration (the same thresholds as `analyze`).
        estimator: a VIDEO-mode pose estimator (its tracker is reset here).
    """

    def __init__(self, cfg: Config, estimator: PoseEstimator) -> None:
        self.cfg = cfg
        self.estimator = estimator
        self._band: BandThread | None = None
        estimator.start_clip()
        self.reset()

    def reset(self) -> None:
        """Forget the set so far (the `r` key): count, frames, band evidence."""
        self._stop_band()
        self.poses: list[PoseFrame] = []
        self._times: list[float] = []
        self.verdicts: list[Verdict] = []
        self.band = BandDetector(self.cfg.rules.band.sample_every_s / LIVE_BAND_DENSITY)
        # On its own thread, so its pixel work overlaps the next frame's inference.
        self._band = BandThread(self.band) if self.cfg.rules.band.detect else None
        self._vis = {"left": 0.0, "right": 0.0}
        self._machine = RepStateMachine(self.cfg.reps)
        t = self.cfg.track
        self._smooth = OneEuroFilter(t.one_euro_min_cutoff_hz, t.one_euro_beta)
        self._angle = math.nan
        self._speed = 0.0
        self._t_prev: float | None = None
        self._phase = Phase.BOTTOM
        self._pending_until = -math.inf
        self._next_judge_t = -math.inf
        self._next_guidance_t = -math.inf
        self._guidance = ""
        self._body_box: tuple[int, int, int, int] | None = None
        self._last_end_t = -math.inf
        self._said_once: set[str] = set()  # set faults already said (judge.SAID_ONCE)
        self._motion_ref = math.nan
        self.resolution_wh: tuple[int, int] = (0, 0)

    @property
    def side(self) -> Side | None:
        """The side facing the camera so far (more visible shoulder-hip-knee-ankle)."""
        if max(self._vis.values()) <= 0:
            return None
        return "left" if self._vis["left"] >= self._vis["right"] else "right"

    def step(self, frame: Frame) -> CoachState:
        """Run one frame through the pipeline; the verdicts reached on it are in `new`."""
        pose = self.estimator.detect(frame)
        self.resolution_wh = frame.resolution_wh
        self.poses.append(pose)
        self._times.append(frame.t_s)
        if self._band is not None and not pose.is_missing:
            self._band.submit(frame, pose)
        joints = self._joints(pose)
        moving = self._track_angle(frame.t_s, joints)
        new: tuple[Verdict, ...] = ()
        if frame.t_s <= self._pending_until or frame.t_s >= self._next_judge_t:
            new = self._judge(frame.t_s, final=False)
            self._next_judge_t = frame.t_s + JUDGE_EVERY_S
        if frame.t_s >= self._next_guidance_t:
            self._guidance = self._setup_guidance(frame)
            self._body_box = self._recent_body_box(frame)
            self._next_guidance_t = frame.t_s + GUIDANCE_EVERY_S
        return CoachState(
            frame.t_s,
            joints,
            self._angle,
            self._phase.value,
            len(self.verdicts),
            self._guidance,
            new,
            moving,
            self._body_box,
        )

    def _joints(self, pose: PoseFrame) -> np.ndarray:
        """(4, 2) joints of the side in use, NaN where not visible enough."""
        if not pose.is_missing:
            for name, lms in SIDE_LANDMARKS.items():
                self._vis[name] += float(np.mean(pose.visibility[list(lms)]))
        side = self.side
        if side is None or pose.is_missing:
            return np.full((4, 2), np.nan)
        idx = list(SIDE_LANDMARKS[side])
        xy: np.ndarray = pose.xy_px[idx].astype(np.float64)
        xy[pose.visibility[idx] < self.cfg.track.min_visibility] = np.nan
        return xy

    def _track_angle(self, t_s: float, joints: np.ndarray) -> bool:
        """Smooth the hip angle causally, feed the rep machine, update the phase; returns
        True when the hips moved by `idle_motion_deg` since the last movement."""
        raw = float(hip_angle_deg(joints[0], joints[1], joints[2]))
        angle = self._smooth(t_s, raw)
        if not math.isnan(angle) and not math.isnan(self._angle) and self._t_prev is not None:
            dt = max(t_s - self._t_prev, 1e-3)
            k = dt / (SPEED_TAU_S + dt)
            self._speed += k * ((angle - self._angle) / dt - self._speed)
        if not math.isnan(angle):
            self._angle, self._t_prev = angle, t_s
        if self._machine.update(len(self.poses) - 1, t_s, angle) is not None:
            # Back at the bottom: look for it on every frame until it is judged.
            self._pending_until = t_s + PENDING_S
        self._phase = self._phase_now()
        if math.isnan(angle):
            return False
        if math.isnan(self._motion_ref):
            self._motion_ref = angle
        if abs(angle - self._motion_ref) < self.cfg.live.idle_motion_deg:
            return False
        self._motion_ref = angle
        return True

    def _phase_now(self) -> Phase:
        m, still = self._machine, self.cfg.reps.still_speed_deg_s
        if not m.lifted:
            return Phase.BOTTOM
        if self._speed > still:
            return Phase.CONCENTRIC
        if self._speed < -still:
            return Phase.ECCENTRIC
        high = m.valley_deg + self.cfg.reps.top_share * (m.peak_deg - m.valley_deg)
        return Phase.TOP if self._angle >= high else self._phase

    def _setup_guidance(self, frame: Frame) -> str:
        i0 = bisect.bisect_left(self._times, frame.t_s - GUIDANCE_WINDOW_S)
        recent = PoseSequence.from_frames(self.poses[i0:], frame.resolution_wh)
        return setup_guidance(recent, self.side, _brightness(frame.image_bgr), self.cfg)

    def _recent_body_box(self, frame: Frame) -> tuple[int, int, int, int] | None:
        i0 = bisect.bisect_left(self._times, frame.t_s - BODY_WINDOW_S)
        seen = [p.xy_px for p in self.poses[i0:] if not p.is_missing]
        return body_box_px(np.array(seen), frame.resolution_wh) if seen else None

    def _wait_band(self) -> None:
        if self._band is not None:
            self._band.wait()

    def _stop_band(self) -> None:
        """Measure what was handed over, then stop the band thread (a reset, the set's end)."""
        self._wait_band()
        if self._band is not None:
            self._band.close()

    def _judge(self, now_t: float, final: bool) -> tuple[Verdict, ...]:
        """Verdicts on the reps completed (and settled, unless `final`) since the last one."""
        if not self.poses:
            return ()
        start_t = max(self._last_end_t - WINDOW_LEAD_S, now_t - MAX_WINDOW_S)
        i0 = bisect.bisect_left(self._times, start_t)
        window = PoseSequence.from_frames(self.poses[i0:], self.resolution_wh)
        if not window.found.any():
            return ()
        track = build_track(window, self.cfg.track)
        reps = as_measured(segment_reps(track, self.cfg.reps), track.view)
        # A rep already judged cannot come back: the window starts after its lift.
        after = self._last_end_t + 0.5 * self.cfg.reps.min_rep_s
        fresh = [
            r
            for r in reps
            if r.end_s > after and (final or r.end_s <= now_t - self.cfg.live.settle_s)
        ]
        if not fresh:
            return ()
        self._pending_until = -math.inf
        self._wait_band()
        out = []
        for rep in fresh:
            rep = replace(rep, index=len(self.verdicts) + 1)
            band = (
                judge_rep(self.band.frames, rep, self.cfg.rules.band)
                if self.cfg.rules.band.detect
                else BandJudgement.unknown()
            )
            report = rep_report(rep, band, track.view.side_on, self.cfg.rules)
            # "Add the band" is said on the first rep without one, not on every rep.
            faults = [f for f in report.faults if f not in self._said_once]
            self._said_once.update(f for f in report.faults if f in SAID_ONCE)
            verdict = Verdict(
                report, SHORT_CUES.get(faults[0], faults[0]) if faults else GOOD_REP, now_t
            )
            self.verdicts.append(verdict)
            self._last_end_t = rep.end_s
            out.append(verdict)
        return tuple(out)

    def finish(self, now_t: float | None = None) -> tuple[Verdict, ...]:
        """Judge the reps completed but not yet settled (the set ended); stop the band thread."""
        t = now_t if now_t is not None else (self._times[-1] if self._times else 0.0)
        new = self._judge(t, final=True)
        self._stop_band()
        return new

    def measurement(self, source: VideoInfo) -> Measurement:
        """Every frame analysed so far (since the last reset), with the band evidence."""
        bundle = self.estimator.bundle
        return Measurement(
            poses=PoseSequence.from_frames(self.poses, self.resolution_wh),
            video=source,
            model=ModelInfo(bundle.name, bundle.sha256),
            band=self.band.meta() if self.cfg.rules.band.detect else None,
        )

    def source_info(
        self, name: str, fps: float | None = None, frame_count: int | None = None
    ) -> VideoInfo:
        """The set as a clip, for its report: `name`, `fps` (None: the rate the frames came
        at), `frame_count` (None: the frames coached since the last reset), the time from
        the first frame to the last and the picture's size."""
        t = [p.t_s for p in self.poses]
        duration = float(t[-1] - t[0]) if t else 0.0
        if fps is None:
            fps = (len(t) - 1) / duration if duration > 0 else 0.0
        w, h = self.resolution_wh
        return VideoInfo(
            path=name,
            fps=float(fps),
            frame_count=len(t) if frame_count is None else frame_count,
            duration_s=duration,
            width=w,
            height=h,
        )

    def finished(
        self, source: VideoInfo, extra_warnings: tuple[str, ...] = ()
    ) -> tuple[SetReport, Analysis | None]:
        """The set in the same JSON contract as `analyze` (the reps as judged live) and,
        when someone was seen, the `Analysis` behind it (poses, track, reps), which an
        upload's files (trace, page, annotated video) are written from."""
        measured = self.measurement(source)
        seq = measured.poses
        reps: list[Rep] = [v.report.rep for v in self.verdicts]
        track = build_track(seq, self.cfg.track) if len(seq) and seq.found.any() else None
        if track is not None:
            view = ViewInfo.of(track)
            warnings = set_warnings(measured, track, reps, self.cfg)
        else:
            view = ViewInfo(None, False, "no person found: film from the side, whole body in frame")
            warnings = ["no person found", *([NO_REPS] if not reps else [])]
        rep_reports, set_findings = once_for_the_set([v.report for v in self.verdicts])
        report = SetReport(
            source=source,
            model=measured.model,
            view=view,
            reps=rep_reports,
            warnings=tuple(warnings) + tuple(extra_warnings),
            set_findings=set_findings,
        )
        if track is None:
            return report, None
        return report, Analysis(report=report, measurement=measured, track=track, reps=tuple(reps))

    def report(self, source: VideoInfo, extra_warnings: tuple[str, ...] = ()) -> SetReport:
        """The set in the same JSON contract as `analyze`: the reps as judged live."""
        return self.finished(source, extra_warnings)[0]
