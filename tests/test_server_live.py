"""Live coaching through the upload service's WebSocket (`formcheck.server.live`), against the
real app, a real SQLite file and the real pose model: a sample clip's frames sent as the
Live page sends them (JPEG, with their capture time), one at a time.

The browser's own part (camera, page, speech) is `test_server_live_browser.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import pytest
from short_clips import short_sample
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from test_server_api import TestClient, bearer, login

from formcheck.config import Config
from formcheck.pose.bundle import default_model_path
from formcheck.report import validate_report
from formcheck.server import ServerSettings
from formcheck.server.app import create_app, make_token
from formcheck.server.live import CLOSE_BUSY, CLOSE_POLICY, HEADER
from formcheck.video import FileSource

if TYPE_CHECKING:
    from formcheck.judge import Analysis

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found"),
]

CLIP = short_sample("short_pause_left", reps=2)
ORIGIN = {"origin": "http://testserver"}
#: The page sends 15 frames a second at most (its frames wait for the last one's state).
PAGE_FPS = 15.0


def page_frames(path: Path) -> list[bytes]:
    """The clip as the Live page sends it: about 15 frames a second, each its capture time
    (ms) and a JPEG."""
    out = []
    for frame in FileSource(path, max_fps=PAGE_FPS):
        ok, jpeg = cv2.imencode(".jpg", frame.image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        out.append(HEADER.pack(1000.0 * frame.t_s + 12345.0) + jpeg.tobytes())
    return out


@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    return page_frames(CLIP)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A service without workers, one live set at a time, and the tokens of Sam and Pat."""
    settings = ServerSettings(data_dir=tmp_path / "data", workers=0, max_live=1)
    tokens = {name: make_token(settings, name, coach=False) for name in ("Sam", "Pat")}
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def coach(
    ws: WebSocketTestSession, frames: list[bytes], record: bool = False
) -> list[dict[str, Any]]:
    """Start a set and send `frames`, each after the last one's answer, as the page does."""
    assert ws.receive_json() == {"type": "ready"}
    ws.send_text(json.dumps({"type": "start", "record": record}))
    states = []
    for data in frames:
        ws.send_bytes(data)
        answer = ws.receive_json()
        assert answer["type"] in ("state", "skipped")
        states.append(answer)
    return states


def test_a_live_set_is_coached_as_analyze_judges_it_and_kept_as_a_clip(
    served: tuple[TestClient, dict[str, str]],
    frames: list[bytes],
    sample_analysis: Callable[[str | Path], Analysis],
) -> None:
    client, tokens = served
    login(client, tokens["Sam"])
    with client.websocket_connect("/live/socket", headers=ORIGIN) as ws:
        states = coach(ws, frames, record=True)
        ws.send_text(json.dumps({"type": "end"}))
        saved = ws.receive_json()
    offline = sample_analysis(CLIP).report
    said = [v for s in states if s["type"] == "state" for v in s["new"]] + saved["new"]
    # Every frame was coached, and the state carries what the page draws.
    coached = [s for s in states if s["type"] == "state"]
    assert len(coached) == len(frames)
    last = coached[-1]
    seen = [j for j in last["joints"] if j is not None]
    assert len(last["joints"]) == 4 and seen
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in seen)  # shares of the picture
    assert last["target"] == Config().rules.top_alignment.target_deg
    assert {s["phase"] for s in coached} >= {"bottom", "top"}
    # The reps and their faults are analyze's on the same clip.
    assert saved["type"] == "saved" and saved["reps"] == len(offline.reps) == len(said) == 2
    assert [v["rep"] for v in said] == [1, 2]
    report = client.get(f"/clips/{saved['clip']}/report.json").json()
    validate_report(report)
    for live_rep, off_rep in zip(report["reps"], offline.reps, strict=True):
        faults = [f["fault"] for f in live_rep["findings"] if f["status"] == "fault"]
        assert sorted(faults) == sorted(off_rep.faults)
    assert report["summary"]["faults"] == offline.fault_counts
    # The set is one of Sam's clips: listed done, its page, HTML report and recording served.
    listed = client.get("/api/uploads", headers=bearer(tokens["Sam"]))
    (clip,) = listed.json()
    assert clip["id"] == saved["clip"] and clip["state"] == "done" and clip["rep_count"] == 2
    assert clip["filename"].startswith("Live set")
    assert "Live set" in client.get(f"/clips/{saved['clip']}").text
    assert client.get(f"/clips/{saved['clip']}/report.html").status_code == 200
    video = client.get(f"/clips/{saved['clip']}/video")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    # Pat sees none of it.
    login(client, tokens["Pat"])
    assert client.get(f"/clips/{saved['clip']}").status_code == 404
    pat = client.get("/api/uploads", headers=bearer(tokens["Pat"]))
    assert pat.json() == []


def test_a_dropped_connection_keeps_the_reps_judged_so_far(
    served: tuple[TestClient, dict[str, str]],
    frames: list[bytes],
) -> None:
    client, tokens = served
    login(client, tokens["Sam"])
    # The set is cut 1.5 s after the first rep's labelled end, mid-set: the rep is judged
    # (0.6 s after its end) and the second one has not ended.
    first_end_s = json.loads(CLIP.with_suffix(".json").read_text())["reps"][0]["end_s"]
    cut = round((first_end_s + 1.5) * PAGE_FPS)
    with client.websocket_connect("/live/socket", headers=ORIGIN) as ws:
        states = coach(ws, frames[:cut])
        judged = max(s["reps"] for s in states if s["type"] == "state")
        # The phone's screen locks: the socket closes without "end".
    assert judged >= 1
    auth = bearer(tokens["Sam"])
    (clip,) = client.get("/api/uploads", headers=auth).json()
    assert clip["state"] == "done" and clip["rep_count"] >= judged
    report = client.get(f"/clips/{clip['id']}/report.json").json()
    validate_report(report)
    assert any("the connection dropped" in w for w in report["warnings"])
    # No recording was asked for: no video.
    assert client.get(f"/clips/{clip['id']}/video").status_code == 404


def test_anonymous_cross_site_and_surplus_sockets_are_refused(
    served: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = served
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/live/socket", headers=ORIGIN),
    ):
        pass
    assert refused.value.code == CLOSE_POLICY
    login(client, tokens["Sam"])
    with (
        pytest.raises(WebSocketDisconnect) as cross,
        client.websocket_connect("/live/socket", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert cross.value.code == CLOSE_POLICY
    # One live set at a time on this server (max_live=1): the second is told it is busy.
    with client.websocket_connect("/live/socket", headers=ORIGIN) as first:
        assert first.receive_json() == {"type": "ready"}
        with client.websocket_connect("/live/socket", headers=ORIGIN) as second:
            busy = second.receive_json()
            assert busy["type"] == "busy" and "busy" in busy["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                second.receive_json()
            assert closed.value.code == CLOSE_BUSY
    # A set never started keeps nothing.
    auth = bearer(tokens["Sam"])
    assert client.get("/api/uploads", headers=auth).json() == []
    assert client.get("/live").status_code == 200


def test_a_set_kept_counts_as_an_upload_against_the_hourly_limit(
    tmp_path: Path, frames: list[bytes]
) -> None:
    settings = ServerSettings(data_dir=tmp_path / "data", workers=0, uploads_per_window=1)
    token = make_token(settings, "Sam", coach=False)
    with TestClient(create_app(settings)) as client:
        login(client, token)
        with client.websocket_connect("/live/socket", headers=ORIGIN) as ws:
            coach(ws, frames[:5])  # a few frames: kept, no rep
            ws.send_text(json.dumps({"type": "end"}))
            assert ws.receive_json()["reps"] == 0
        with client.websocket_connect("/live/socket", headers=ORIGIN) as ws:
            assert ws.receive_json() == {"type": "ready"}
            ws.send_text(json.dumps({"type": "start", "record": False}))
            refused = ws.receive_json()
            assert refused["type"] == "error" and "too many" in refused["message"]
        auth = bearer(token)
        assert len(client.get("/api/uploads", headers=auth).json()) == 1
