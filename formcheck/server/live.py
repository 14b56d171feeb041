"""Live coaching from a phone's browser: the Live page's camera frames over a WebSocket ->
the live coach (`formcheck.live.coach`, one pose model per connection) -> its state.

The protocol (one WebSocket per set at `/live/socket`; the session cookie and the page's
own origin are required, as for every post):

- page -> server, text: `{"type": "start", "record": bool}` once the lifter taps Start;
  `{"type": "pause"}`, `{"type": "resume"}`, `{"type": "end"}`.
- page -> server, binary: one frame: 8 bytes, the page's capture time (ms, little-endian
  float64, `performance.now()`), then the picture as a JPEG (downscaled in the page).
- server -> page, text: `{"type": "ready"}` once the model is loaded; a `state` message per
  frame (`state_message`); `{"type": "saved", ...}` when the set is kept; `{"type":
  "busy" | "error", "message": ...}` before the server closes the socket.

The page sends its next frame only when the last one's state is back, so nothing queues:
the coach always gets the newest picture (as the desktop capture thread does). The set
ends on "end", after `live.idle_end_s` without movement once a rep is done, after
`--max-clip-minutes`, or when the socket drops (a locked phone, a lost network). A set
kept counts as an upload against `--uploads-per-hour`. However it ends, the reps judged so far are
kept: the set becomes one of the user's clips, with its report (the JSON contract), hip
trace and HTML page, and the recording with its annotated video when asked.
"""

from __future__ import annotations

import json
import logging
import math
import struct
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import insert
from starlette.concurrency import run_in_threadpool

from formcheck.config import Config
from formcheck.errors import FormcheckError
from formcheck.live.coach import Coach, CoachState, Verdict
from formcheck.server import queue
from formcheck.server.auth import User
from formcheck.server.db import now, uploads
from formcheck.server.pages import same_origin, service_of, session_user
from formcheck.server.service import Service
from formcheck.server.storage import (
    HTML_NAME,
    INPUT_NAME,
    REPORT_NAME,
    TRACE_NAME,
    VIDEO_NAME,
)
from formcheck.server.stores.base import new_upload_id
from formcheck.video import Frame, VideoSink

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: The capture time that heads every frame message: little-endian float64, milliseconds.
HEADER = struct.Struct("<d")
#: The largest frame message accepted (bytes) and picture (pixels on the long side): the
#: page sends 640 px wide JPEGs of 30-80 KB.
MAX_FRAME_BYTES = 2_000_000
MAX_FRAME_PX = 1920
#: The recording's nominal frame rate (the frames keep their own times).
RECORD_FPS = 15.0
#: WebSocket close codes: policy (no session, another site), try again later (busy).
CLOSE_POLICY = 1008
CLOSE_BUSY = 1013


class LiveSlots:
    """At most `limit` live sets at once on this server: each holds a pose model and a core."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._taken = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._taken >= self.limit:
                return False
            self._taken += 1
            return True

    def give(self) -> None:
        with self._lock:
            self._taken = max(0, self._taken - 1)

    @property
    def in_use(self) -> int:
        """Live sets in progress."""
        return self._taken


def state_message(
    state: CoachState, capture_ms: float, size_wh: tuple[int, int], cfg: Config
) -> dict[str, Any]:
    """What the page draws for one frame: the side's joints (shoulder, hip, knee, ankle as
    shares of the picture's width and height; None: not seen), the smoothed hip angle
    (deg) and its target, phase, reps so far, setup guidance, the body's box (shares) and
    the verdicts reached on this frame. `id` is the frame's capture time, for the page's
    latency figure."""
    w, h = size_wh
    joints = [
        None
        if not np.isfinite(xy).all()
        else [round(float(xy[0]) / w, 4), round(float(xy[1]) / h, 4)]
        for xy in state.joints_xy_px
    ]
    box = state.body_box_px
    return {
        "type": "state",
        "id": capture_ms,
        "t": round(state.t_s, 3),
        "joints": joints,
        "hip": None if math.isnan(state.hip_angle_deg) else round(state.hip_angle_deg, 1),
        "target": cfg.rules.top_alignment.target_deg,
        "band": [cfg.rules.top_alignment.min_deg, cfg.rules.top_alignment.max_deg],
        "phase": state.phase,
        "reps": state.reps,
        "guidance": state.guidance,
        "body": None if box is None else [box[0] / w, box[1] / h, box[2] / w, box[3] / h],
        "new": [verdict_message(v) for v in state.new],
    }


def verdict_message(v: Verdict) -> dict[str, Any]:
    """A rep's verdict for the page: its number, the word or two spoken, the line shown."""
    return {"rep": v.report.rep.index, "said": v.said, "text": v.text, "fault": v.fault}


class LiveSet:
    """One live set on the server: the coach on the frames a page sends, the recording when
    asked, and at the end the clip it becomes (`save`)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.estimator: PoseEstimator | None = None
        self.coach: Coach | None = None
        self.record = False
        self._t0_ms: float | None = None
        self._last_t = -math.inf
        self._last_motion_t: float | None = None
        self._sink: VideoSink | None = None
        self._record_wh: tuple[int, int] = (0, 0)
        self._folder: Path | None = None

    def open(self) -> None:
        """Load this set's pose model (0.1-1 s: in a thread, never on the event loop)."""
        from formcheck.measure import open_estimator

        self.estimator = open_estimator(self.cfg, offline=False)
        self.coach = Coach(self.cfg, self.estimator)

    def start(self, record: bool, folder: Path) -> None:
        self.record = record
        self._folder = folder

    @property
    def size_wh(self) -> tuple[int, int]:
        """The last frame's picture size (width, height, pixels)."""
        return self.coach.resolution_wh if self.coach is not None else (0, 0)

    def resume(self) -> None:
        """After a pause: the time without frames is no rest without movement."""
        self._last_motion_t = None

    def step(self, data: bytes) -> CoachState | None:
        """One frame message through the coach; None for a frame not coached (unreadable,
        too big, or not after the last one in time).

        Raises:
            ValueError: a frame the page could not have sent (the socket is closed).
        """
        assert self.coach is not None
        if len(data) <= HEADER.size or len(data) > MAX_FRAME_BYTES:
            raise ValueError("a frame message must be 8 bytes of time and a JPEG under 2 MB")
        (capture_ms,) = HEADER.unpack_from(data)
        image = cv2.imdecode(np.frombuffer(data, np.uint8, offset=HEADER.size), cv2.IMREAD_COLOR)
        if image is None or not math.isfinite(capture_ms):
            return None
        h, w = image.shape[:2]
        if max(w, h) > MAX_FRAME_PX:
            raise ValueError(f"frames of at most {MAX_FRAME_PX} px on the long side, please")
        if self._t0_ms is None:
            self._t0_ms = capture_ms
        t_s = (capture_ms - self._t0_ms) / 1000.0
        if t_s <= self._last_t:
            return None
        self._last_t = t_s
        frame = Frame(image.astype(np.uint8, copy=False), t_s, len(self.coach.poses))
        state = self.coach.step(frame)
        self._write(frame)
        if self._last_motion_t is None or state.moving:
            self._last_motion_t = t_s
        return state

    def idle(self, state: CoachState) -> bool:
        """Nothing has moved for `live.idle_end_s` since a rep was done: the set is over."""
        idle = self.cfg.live.idle_end_s
        return (
            idle > 0
            and state.reps > 0
            and self._last_motion_t is not None
            and state.t_s - self._last_motion_t >= idle
        )

    def _write(self, frame: Frame) -> None:
        if not self.record or self._folder is None:
            return
        if self._sink is None:
            self._sink = VideoSink(self._folder / INPUT_NAME, RECORD_FPS, frame.resolution_wh)
            self._sink.__enter__()
            self._record_wh = frame.resolution_wh
        if frame.resolution_wh == self._record_wh:  # a phone turned mid-set: not recorded
            self._sink.write(frame.image_bgr, frame.t_s)

    def _close_recording(self) -> None:
        if self._sink is not None:
            self._sink.__exit__(None, None, None)
            self._sink = None

    def close(self) -> None:
        self._close_recording()
        if self.estimator is not None:
            self.estimator.close()
            self.estimator = None

    def save(
        self, svc: Service, user: User, upload_id: str, folder: Path, end_reason: str
    ) -> dict[str, Any] | None:
        """End the set and keep it in the store as `user`'s clip `upload_id` (written first in
        `folder`, from `store.local`): report, trace, HTML page, and the recording with its
        annotated video when recorded. Returns the `saved` message; None when no frame was
        coached (nothing to keep)."""
        from formcheck.outputs import ClipOutputs, write_outputs
        from formcheck.server.worker import RESULT_NAMES, save_trace

        assert self.coach is not None
        last = self.coach.finish()  # verdicts reached as the set ended
        self._close_recording()
        if not self.coach.poses:
            return None
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
        name = f"Live set {stamp} UTC"
        info = self.coach.source_info(name)
        if not info.fps:
            info = replace(info, fps=RECORD_FPS)
        report, analysis = self.coach.finished(info, (f"live: {end_reason}",))
        recording = folder / INPUT_NAME
        recorded = self.record and recording.is_file()
        if analysis is not None:
            save_trace(analysis, folder / TRACE_NAME)
            write_outputs(
                analysis,
                ClipOutputs(
                    json=folder / REPORT_NAME,
                    html=folder / HTML_NAME,
                    video=folder / VIDEO_NAME if recorded else None,
                ),
                recording if recorded else None,
                self.cfg.rules,
            )
        else:  # nobody seen: the report says so; there is no trace to plot
            from formcheck.report import validate_report, write_json

            data = report.to_dict()
            validate_report(data)
            write_json(data, folder / REPORT_NAME)
        size = recording.stat().st_size if recorded else 0
        svc.store.keep(upload_id, folder, (INPUT_NAME, *RESULT_NAMES))
        with svc.engine.begin() as conn:
            conn.execute(
                insert(uploads).values(
                    id=upload_id,
                    user_id=user.id,
                    filename=name,
                    size_bytes=size,
                    duration_s=info.duration_s,
                    created_at=now(),
                )
            )
            queue.add_done(conn, upload_id, len(report.reps), report.score)
        log.info(
            "live set %s by %s: %d reps, %s", upload_id, user.name, len(report.reps), end_reason
        )
        return {
            "type": "saved",
            "clip": upload_id,
            "url": f"/clips/{upload_id}",
            "reps": len(report.reps),
            "score": report.score,
            "end": end_reason,
            "new": [verdict_message(v) for v in last],
        }


@router.websocket("/live/socket")
async def live_socket(ws: WebSocket) -> None:
    """One live set (see the module docstring)."""
    svc = service_of(ws)
    slots: LiveSlots = ws.app.state.live
    user = await run_in_threadpool(session_user, ws)
    if user is None or not same_origin(ws, missing_ok=False):
        await ws.close(code=CLOSE_POLICY)  # before accepting: the handshake gets 403
        return
    await ws.accept()
    if not slots.take():
        await ws.send_json(
            {
                "type": "busy",
                "message": f"The coach is busy: {slots.limit} live set(s) already running."
                " Try again in a minute.",
            }
        )
        await ws.close(code=CLOSE_BUSY)
        return
    try:
        await _coach(ws, svc, user)
    finally:
        slots.give()


async def _coach(ws: WebSocket, svc: Service, user: User) -> None:
    live = LiveSet(svc.config)
    upload_id = new_upload_id()
    folder: Path | None = None  # the set's files, from its start
    end, connected, saved = "the connection dropped", True, None
    try:
        await run_in_threadpool(live.open)
        await ws.send_json({"type": "ready"})
        started = paused = False
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                connected = False
                break
            text, data = message.get("text"), message.get("bytes")
            if text is not None:
                kind = _command(text)
                if kind == "start" and not started:
                    wait_s = svc.limiter.allow(user.id)  # a set kept is an upload
                    if wait_s:
                        end = f"too many sets and uploads: try again in {wait_s:.0f} s"
                        await ws.send_json({"type": "error", "message": end})
                        break
                    folder = await run_in_threadpool(svc.store.local, upload_id)
                    live.start(bool(json.loads(text).get("record")), folder)
                    started = True
                elif kind == "pause":
                    paused = True
                elif kind == "resume":
                    paused = False
                    live.resume()
                elif kind == "end":
                    end = "ended on the page"
                    break
                continue
            if data is None or not started or paused:
                continue
            try:
                state = await run_in_threadpool(live.step, data)
            except ValueError as exc:
                await ws.send_json({"type": "error", "message": str(exc)})
                end = f"refused a frame: {exc}"
                break
            if state is None:
                await ws.send_json({"type": "skipped"})
                continue
            capture_ms = HEADER.unpack_from(data)[0]
            await ws.send_json(state_message(state, capture_ms, live.size_wh, svc.config))
            if live.idle(state):
                end = f"no movement for {svc.config.live.idle_end_s:g} s"
                break
            if state.t_s >= svc.settings.max_clip_s:  # as long as the longest upload
                end = f"the set reached {svc.settings.max_clip_s / 60:g} minutes"
                break
    except WebSocketDisconnect:
        connected = False
    except FormcheckError as exc:  # the model could not load: said on the page
        if connected:
            await ws.send_json({"type": "error", "message": str(exc)})
    finally:
        try:
            if folder is not None:
                saved = await run_in_threadpool(live.save, svc, user, upload_id, folder, end)
        except Exception:  # a bug: the log keeps it; the page hears the set was not saved
            log.exception("live set of %s could not be saved", user.name)
            saved = {"type": "error", "message": "the set could not be saved (a server error)"}
        finally:
            await run_in_threadpool(live.close)
    if folder is not None:
        await run_in_threadpool(svc.store.release, folder)
        if saved is None or saved["type"] == "error":
            await run_in_threadpool(svc.store.delete, upload_id)
        if saved is None:
            svc.limiter.refund(user.id)  # nothing kept: it does not count
    if connected:
        if saved is not None:
            await ws.send_json(saved)
        await ws.close()


def _command(text: str) -> str:
    """The `type` of a page's text message ('' when it is not one)."""
    try:
        value = json.loads(text)
    except ValueError:
        return ""
    return str(value.get("type", "")) if isinstance(value, dict) else ""
