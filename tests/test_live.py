"""Live coaching (`formcheck live`): capture, coach, sound, CLI errors; then end to end with
the real model on a labelled clip played in real time, an unplugged camera, and the window
itself on an Xvfb display (screenshot checked)."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest
from live_window_child import SHOWN_SCORE
from short_clips import short_sample
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.config import Config
from formcheck.errors import CameraError
from formcheck.live.capture import CameraSource, Capture, FilePlayer
from formcheck.live.coach import GUIDANCE_TEXT, SHORT_CUES, setup_guidance
from formcheck.live.session import LatencyStats, LiveOptions, run_live
from formcheck.live.sound import FAULT_TONE, GOOD_TONE, Sound, tone_wav
from formcheck.live.window import LiveLayout
from formcheck.overlay import overlap
from formcheck.pose.sequence import PoseSequence
from formcheck.report import validate_report
from formcheck.rules import FAULT_CODES
from formcheck.video import FileSource, Frame

if TYPE_CHECKING:
    from formcheck.judge import Analysis
    from formcheck.pose.landmarker import PoseEstimator

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"
# 8.5 s, 2 reps, each with a short pause (the sample cut: live tests play in real time).
CLIP = short_sample("short_pause_left", reps=2)
# Each rep's feedback within `live.settle_s` and 0.2 s of its (labelled) end. Issue 5 asked
# for half a second (0.3 s of settle then); on real lifters that judged lowerings 0.3-0.7 s
# short, so the settle is 0.6 s now (`test_e2e_real`'s live test is the one that shows it).
MAX_FEEDBACK_DELAY_S = Config().live.settle_s + 0.2


# --- capture ---------------------------------------------------------------------------


class _Burst:
    """A live source that sends `n` small frames `dt_s` apart."""

    name = "burst"
    live = True
    mirror = False
    fps = 100.0
    end_reason = ""

    def __init__(self, n: int, dt_s: float, live: bool = True) -> None:
        self.n, self.dt_s, self.live = n, dt_s, live

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        for i in range(self.n):
            time.sleep(self.dt_s)
            yield Frame(np.zeros((4, 4, 3), np.uint8), i * self.dt_s, i)
        self.end_reason = "done"

    def close(self) -> None:
        pass


def _drain(capture: Capture, work_s: float) -> list[int]:
    taken = []
    while True:
        item = capture.get(0.5)
        if item is None:
            if capture.ended:
                return taken
            continue
        taken.append(item.frame.index)
        time.sleep(work_s)


def test_a_slow_loop_gets_the_newest_frame_and_the_rest_are_counted_as_dropped() -> None:
    capture = Capture(_Burst(40, 0.005)).start()
    taken = _drain(capture, work_s=0.03)  # six frames arrive while one is processed
    capture.stop()
    assert taken == sorted(taken)
    assert taken[-1] == 39  # the last frame is never lost
    assert capture.dropped > 20
    assert len(taken) + capture.dropped == 40


def test_a_file_not_played_in_real_time_hands_over_every_frame() -> None:
    capture = Capture(_Burst(20, 0.0, live=False)).start()
    taken = _drain(capture, work_s=0.005)
    capture.stop()
    assert taken == list(range(20))
    assert capture.dropped == 0


class _FakeCapture:
    """Stands in for cv2.VideoCapture: `frames` good reads, then nothing (unplugged)."""

    def __init__(self, frames: int, opened: bool = True) -> None:
        self.frames, self.opened, self.released = frames, opened, False

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def read(self) -> tuple[bool, Any]:
        if self.frames <= 0:
            return False, None
        self.frames -= 1
        return True, np.zeros((8, 8, 3), np.uint8)

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        self.released = True


def test_a_camera_that_stops_sending_counts_as_disconnected() -> None:
    cam = CameraSource(_FakeCapture(5), "camera 7", disconnect_s=0.1)
    frames = list(cam.frames(threading.Event()))
    assert len(frames) == 5
    assert [f.index for f in frames] == list(range(5))
    assert cam.end_reason == "camera 7 disconnected"
    assert cam.fps == 30.0  # a camera that reports no rate is taken as 30 fps


def test_a_camera_that_is_busy_or_sends_nothing_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(CameraError, match="cannot open it"):
        CameraSource(_FakeCapture(0, opened=False), "camera 3")
    monkeypatch.setattr("formcheck.live.capture.FIRST_FRAME_TIMEOUT_S", 0.1)
    fake = _FakeCapture(0)
    with pytest.raises(CameraError, match="sends no picture"):
        CameraSource(fake, "camera 3")
    assert fake.released


def test_a_missing_camera_is_one_line_and_its_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "formcheck.live.capture.cv2.VideoCapture", lambda device: _FakeCapture(0, opened=False)
    )
    result = CliRunner().invoke(app, ["live", "--source", "0", "--no-window"])
    assert result.exit_code == CameraError.exit_code == 8
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "camera 0" in lines[0] and "cannot open it" in lines[0]
    assert "Traceback" not in result.output


def test_no_display_for_the_window_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = CliRunner().invoke(app, ["live", "--source", str(CLIP)])
    if sys.platform.startswith("linux"):
        assert result.exit_code == 2
        assert "--no-window" in result.output


# --- coach, sound, figures ---------------------------------------------------------------


def test_every_fault_has_a_short_spoken_cue() -> None:
    assert set(FAULT_CODES) <= set(SHORT_CUES)
    assert all(len(cue.split()) <= 3 for cue in SHORT_CUES.values())  # a word mid-set


def test_setup_guidance_says_too_dark_and_step_into_view() -> None:
    cfg = Config()
    empty = PoseSequence.from_frames([], (640, 360))
    assert setup_guidance(empty, None, cfg.live.min_brightness - 1, cfg) == GUIDANCE_TEXT["dark"]
    assert setup_guidance(empty, None, 120.0, cfg) == GUIDANCE_TEXT["nobody"]


def _assert_apart(panels: list[Any], body: Any) -> None:
    """No panel meets the body's box, nor another panel."""
    for k, a in enumerate(panels):
        assert overlap(a, body) == 0, (a, body)
        assert all(overlap(a, b) == 0 for b in panels[k + 1 :]), panels


@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        (150, 380, 1100, 700),  # a lifter across the bottom, the usual side view
        (100, 40, 1180, 400),  # filmed from below: the body high in the picture
        (0, 230, 700, 720),  # at the left edge
        (580, 230, 1280, 560),  # at the right edge
    ],
)
def test_the_live_panels_keep_off_the_body(body: tuple[int, int, int, int], mirror: bool) -> None:
    from formcheck.live.coach import CoachState
    from formcheck.live.window import Hud, draw_live

    frame = np.full((720, 1280, 3), 128, np.uint8)
    state = CoachState(
        t_s=1.0,
        joints_xy_px=np.full((4, 2), np.nan),
        hip_angle_deg=150.0,
        phase="bottom",
        reps=0,
        guidance=GUIDANCE_TEXT["side_on"],
        new=(),
        moving=False,
        body_box_px=body,
    )
    image, places = draw_live(frame, state, Hud(29.0, 40.0), Config(), mirror=mirror)
    x0, y0, x1, y1 = body
    assert places.body == ((1280 - x1, y0, 1280 - x0, y1) if mirror else body)
    assert places.message is not None and places.head
    _assert_apart([places.counter, places.hud, places.message], places.body)
    # Nothing is drawn on the body: no skeleton here, so it is the untouched grey.
    bx0, by0, bx1, by1 = places.body
    assert (image[by0:by1, bx0:bx1] == 128).all()


def test_the_faulty_rep_tone_differs_from_the_good_one(tmp_path: Path) -> None:
    good = tone_wav(tmp_path / "good.wav", GOOD_TONE).read_bytes()
    fault = tone_wav(tmp_path / "fault.wav", FAULT_TONE).read_bytes()
    assert good[:4] == fault[:4] == b"RIFF"
    assert len(fault) > len(good)


def test_muted_sound_never_starts_a_player() -> None:
    sound = Sound(mute=True)
    assert sound.player is None and sound.tts is None
    sound.rep(fault=True)
    assert not sound.say("Hold the top")
    sound.close()


def test_latency_figures() -> None:
    stats = LatencyStats(tuple(float(x) for x in range(1, 101)), (5.0, 40.0), 3, 1, 2.0)
    assert stats.median_ms == pytest.approx(50.5)
    assert stats.p95_ms == pytest.approx(95.05)
    assert stats.oldest_age_ms == 40.0
    assert stats.fps == 50.0
    assert "p95 95 ms" in stats.line() and "4 of 104 dropped" in stats.line()


# --- end to end: the real model, clips played in real time -------------------------------


def _labelled_ends(clip: Path) -> list[float]:
    label = json.loads(clip.with_suffix(".json").read_text())
    return [float(r["end_s"]) for r in label["reps"]]


@pytest.mark.e2e
def test_live_on_a_clip_in_real_time_says_what_analyze_says_soon_after_each_rep(
    estimator: PoseEstimator, sample_analysis: Callable[[str | Path], Analysis], tmp_path: Path
) -> None:
    cfg = Config()
    out = tmp_path / "live.json"
    said: list[str] = []
    layouts: list[LiveLayout | None] = []
    opts = LiveOptions(
        window=False,
        mute=True,
        json_out=out,
        on_verdict=lambda v: said.append(v.said),
        on_drawn=lambda _image, places: layouts.append(places),
    )
    result = run_live(FilePlayer(CLIP, realtime=True), cfg, opts, estimator)
    offline = sample_analysis(CLIP).report

    assert result.end_reason == "end of the video"
    assert len(result.verdicts) == len(offline.reps) == len(_labelled_ends(CLIP))
    for live_rep, off_rep in zip(result.report.reps, offline.reps, strict=True):
        assert sorted(live_rep.faults) == sorted(off_rep.faults)
    assert said == [SHORT_CUES[v.report.faults[0]] for v in result.verdicts]
    for fed_back, end in zip(result.feedback_t_s, _labelled_ends(CLIP), strict=True):
        assert abs(fed_back - end) <= MAX_FEEDBACK_DELAY_S, (fed_back, end)
    # The report is the analyze contract, written and valid.
    data = json.loads(out.read_text())
    validate_report(data)
    assert data["summary"]["rep_count"] == len(offline.reps)
    assert data["summary"]["faults"] == offline.fault_counts
    # Most frames analysed, not a slideshow.
    assert result.latency.frames > 0.5 * 30 * FileSource(CLIP).info.duration_s
    # On every picture the panels (counter, hud, verdict) keep off the body and each other.
    drawn = [p for p in layouts if p is not None and p.body is not None]
    assert len(drawn) > 0.9 * len(layouts) and sum(p.message is not None for p in drawn) > 30
    for p in drawn:
        _assert_apart([b for b in (p.counter, p.hud, p.message) if b is not None], p.body)
    assert result.latency.oldest_age_ms <= 1000 * cfg.live.max_frame_age_s


class _ClipCamera:
    """Stands in for cv2.VideoCapture: a clip's frames at their own pace, and from
    `unplug_s` on, nothing (the camera was unplugged)."""

    def __init__(self, path: Path, unplug_s: float) -> None:
        self._frames = iter(FileSource(path))
        self._t0: float | None = None
        self.unplug_s = unplug_s

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def read(self) -> tuple[bool, Any]:
        if self._t0 is None:
            self._t0 = time.perf_counter()
        frame = next(self._frames, None)
        if frame is None or frame.t_s >= self.unplug_s:
            time.sleep(0.01)
            return False, None
        delay = self._t0 + frame.t_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return True, frame.image_bgr

    def get(self, prop: int) -> float:
        return 30.0

    def release(self) -> None:
        pass


@pytest.mark.e2e
def test_a_camera_unplugged_mid_set_ends_it_with_the_reps_so_far_saved(
    estimator: PoseEstimator, tmp_path: Path
) -> None:
    ends = _labelled_ends(CLIP)
    unplug_s = ends[1] + 0.5  # after two reps, during the rest before the third
    camera = CameraSource(_ClipCamera(CLIP, unplug_s), "test camera", disconnect_s=0.3)
    out = tmp_path / "live.json"
    result = run_live(
        camera, Config(), LiveOptions(window=False, mute=True, json_out=out), estimator
    )
    assert result.end_reason == "test camera disconnected"
    assert len(result.verdicts) == 2
    data = json.loads(out.read_text())
    validate_report(data)
    assert data["summary"]["rep_count"] == 2
    assert data["source"]["path"] == "test camera"


# --- the window, for real: Xvfb, a live session, a screenshot -----------------------------


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A virtual X display (Xvfb) for this test, stopped afterwards.

    Skipped only when Xvfb or xwd is not installed (`.ci/run` installs them); an installed
    Xvfb that does not start is a failure, not a skip. Xvfb picks a free display number
    itself (`-displayfd`) and writes it once it accepts connections.
    """
    if shutil.which("Xvfb") is None or shutil.which("xwd") is None:
        pytest.skip("Xvfb or xwd not installed (apt-get install xvfb x11-apps; .ci/run does)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            ready, _, _ = select.select([pipe], [], [], 10.0)
            number = pipe.readline().strip() if ready else b""
        if not number.isdigit():
            proc.kill()
            _, stderr = proc.communicate()
            pytest.fail(f"Xvfb is installed but did not start: {stderr.decode()[-500:]!r}")
        yield f":{number.decode()}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _locate(screen: np.ndarray, drawn: np.ndarray) -> tuple[float, tuple[int, int]]:
    """Where `drawn` appears on `screen`: (normalised squared difference, top-left x, y)."""
    res = cv2.matchTemplate(screen, drawn, cv2.TM_SQDIFF_NORMED)
    score, _, loc, _ = cv2.minMaxLoc(res)
    return float(score), (int(loc[0]), int(loc[1]))


#: Sessions run when the whole screen comes back black: on this machine under load, about
#: one session in three beside 5 busy processes had a window that Qt never painted (mapped,
#: viewable, 960x540 at 0,0; moving it or a fullscreen round trip did not help), while the
#: others showed every picture at once. Not understood yet: a black screen is not a
#: picture to judge, so the session is run again, at most this many times in all.
WINDOW_SESSIONS = 3


@pytest.mark.e2e
def test_the_window_shows_the_overlay(xvfb_display: str, tmp_path: Path) -> None:
    env = dict(os.environ, DISPLAY=xvfb_display)
    child = Path(__file__).with_name("live_window_child.py")
    for session in range(1, WINDOW_SESSIONS + 1):
        out = tmp_path / str(session)
        out.mkdir()
        run = subprocess.run(
            [sys.executable, str(child), str(CLIP), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        result = json.loads((out / "result.json").read_text())
        assert result["shot"] and result["end_reason"] == "stopped", result
        screen = cv2.imread(str(out / "screen.png"))
        if screen.max() > 0:
            break
    else:
        pytest.fail(f"the screen stayed black in all {WINDOW_SESSIONS} sessions")
    # The screen shows the picture handed to the window with the verdict up.
    drawn = cv2.imread(str(out / "drawn_0.png"))
    places = json.loads((out / "drawn_0.json").read_text())
    score, (x, y) = _locate(screen, drawn)
    assert score < SHOWN_SCORE, (
        f"the drawn picture is not on the screen (score {score:.3f}, after {result['tries']} "
        f"screenshots, session {session})"
    )
    h, w = drawn.shape[:2]
    shown = screen[y : y + h, x : x + w].astype(int)
    # The panels keep off the body and off each other.
    assert places["body"] is not None and places["message"] is not None
    _assert_apart([places["counter"], places["hud"], places["message"]], places["body"])
    # The panels darken the video beneath them, so bright pixels there are the overlay's
    # text: white for the counter, green or red for the rep verdict.
    x0, y0, x1, y1 = places["counter"]
    white = (shown[y0:y1, x0:x1].min(axis=2) > 220).sum()
    assert white > 200, f"no rep counter drawn ({white} white pixels)"
    x0, y0, x1, y1 = places["message"]
    cue = shown[y0:y1, x0:x1]
    green = ((cue[..., 1] > 170) & (cue[..., 0] < 130) & (cue[..., 2] < 130)).sum()
    red = ((cue[..., 2] > 200) & (cue[..., 1] < 130) & (cue[..., 0] > 60)).sum()
    assert green + red > 150, f"no verdict drawn ({green} green, {red} red pixels)"
    assert red > green  # this clip's reps all pause too briefly: the verdict is a fault


class _ScriptedWindow:
    """Stands in for `LiveWindow`: keys pressed on given calls of `key` (1-based)."""

    closed = False

    def __init__(self, keys: dict[int, str]) -> None:
        self.keys, self.calls, self.shown = keys, 0, 0

    def show(self, image_bgr: np.ndarray) -> None:
        self.shown += 1

    def key(self, wait_ms: int = 1) -> str | None:
        self.calls += 1
        return self.keys.get(self.calls)

    def close(self) -> None:
        self.closed = True


@pytest.mark.e2e
def test_keys_pause_reset_and_end_the_set(estimator: PoseEstimator) -> None:
    # Space pauses at frame 20 and resumes at 60; r resets at 200 (after the first rep);
    # q ends the set at 300.
    window = _ScriptedWindow({20: " ", 60: " ", 200: "r", 300: "q"})
    result = run_live(
        FilePlayer(SAMPLES / "short_pause_left.mp4"),  # 3 reps, 12 s: q comes before its end
        Config(),
        LiveOptions(window=True, mute=True, summary=False),
        estimator,
        window,
    )  # type: ignore[arg-type]
    assert result.end_reason == "ended with q"
    # `key` is polled once per frame (and while waiting for one): the 40 polls while paused
    # were frames taken but not analysed.
    assert 200 < result.latency.frames <= 300 - 40
    assert window.shown >= 300 - 40
    # The first rep (ends at 3.7 s, frame ~111 + the 40 paused) was dropped by the reset,
    # and no rep that started before it (the second, from 4.8 s) is counted after it.
    assert not result.verdicts, [v.report.rep.start_s for v in result.verdicts]
    assert window.closed


@pytest.mark.e2e
def test_the_set_ends_after_a_rest_without_movement(estimator: PoseEstimator) -> None:
    cfg = Config().with_overrides({"live.idle_end_s": 0.5})
    result = run_live(FilePlayer(CLIP), cfg, LiveOptions(window=False, mute=True), estimator)
    assert result.end_reason == "no movement for 0.5 s"
    assert len(result.verdicts) == 1  # the rest after the first rep is longer than 0.5 s


class _BrokenCapture(_FakeCapture):
    """A camera whose driver raises after a few frames."""

    def read(self) -> tuple[bool, Any]:
        if self.frames <= 0:
            raise RuntimeError("USB error")
        return super().read()


@pytest.mark.e2e
def test_a_camera_that_fails_ends_the_set_with_a_report(
    estimator: PoseEstimator, tmp_path: Path
) -> None:
    out = tmp_path / "live.json"
    camera = CameraSource(_BrokenCapture(10), "camera 0")
    result = run_live(
        camera, Config(), LiveOptions(window=False, mute=True, json_out=out), estimator
    )
    assert result.end_reason == "camera 0 failed (RuntimeError: USB error)"
    data = json.loads(out.read_text())
    validate_report(data)
    assert data["summary"]["rep_count"] == 0
    assert "no complete hip-thrust rep found" in " ".join(data["warnings"])


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda im: (im * 0.12).astype(np.uint8), "Too dark"),
        (lambda im: im[:250], "Move back: your"),  # the lower body cut off
        (lambda im: np.full_like(im, 128), "Step into view"),
    ],
)
def test_setup_guidance_before_the_set(estimator: PoseEstimator, spoil: Any, expected: str) -> None:
    from formcheck.live.coach import Coach

    coach = Coach(Config(), estimator)
    said = set()
    for frame in FileSource(CLIP):
        if frame.index >= 45:
            break
        image = np.ascontiguousarray(spoil(frame.image_bgr))
        said.add(coach.step(Frame(image, frame.t_s, frame.index)).guidance)
    coach.finish()
    assert any(s.startswith(expected) for s in said), said
