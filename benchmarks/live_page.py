"""Latency of the Live page: capture in the page -> the coach's state drawn in the page.

    .venv/bin/python benchmarks/live_page.py                      # 1, then 2 sets at once
    .venv/bin/python benchmarks/live_page.py --sessions 1 2 3 --json live_page.json

Starts `formcheck serve --workers 0` on a free port with a fresh data folder, then for each
session count N opens N headless Chromium browsers (Debian's `chromium`, driven by
playwright), each a logged-in user on the Live page whose camera is the clip
(`--use-file-for-fake-video-capture`, its first frame held 3 s first), taps Start on all,
lets the clip play once and taps End set. Each page measures, per frame, the time from
grabbing the picture (`performance.now()`) to drawing the state the server answered
(`window.formcheckLive.latency`): the figures are the median, p95 and max over all frames
of all sessions, with the frames coached per second and the reps each set counted.
Everything runs on loopback, on this machine: the page's JPEG encoding, the server's
decoding, the pose model and the drawing all count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from server_load import make_tokens, percentile, start_server

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = ROOT / "sample_videos" / "short_pause_left.mp4"
LEAD_S = 3.0


@dataclass
class Figures:
    sessions: int
    frames: int
    fps_per_session: float
    median_ms: float
    p95_ms: float
    max_ms: float
    reps: list[int]


def run(url: str, tokens: list[str], camera: Path, played_s: float, chromium: str) -> Figures:
    import playwright.sync_api as pw

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    stats: list[dict[str, Any]] = []
    with pw.sync_playwright() as p:
        browsers = [
            p.chromium.launch(executable_path=chromium, headless=True, args=args) for _ in tokens
        ]
        try:
            pages = []
            for browser, token in zip(browsers, tokens, strict=True):
                page = browser.new_page(viewport={"width": 430, "height": 900})
                page.goto(f"{url}/login")
                page.fill("#token", token)
                page.click("button[type=submit]")
                page.wait_for_url("**/clips")
                page.goto(f"{url}/live")
                page.wait_for_selector("#start:not([disabled])", timeout=20_000)
                pages.append(page)
            for page in pages:
                page.click("#start")
            t0 = time.monotonic()
            while time.monotonic() - t0 < played_s - 0.5:
                time.sleep(0.2)
            for page in pages:
                page.click("#end")
            deadline = time.monotonic() + 60
            for k, page in enumerate(pages, start=1):
                while time.monotonic() < deadline:
                    s = page.evaluate("() => window.formcheckLive")
                    if s["saved"] is not None or s["error"] is not None:
                        stats.append(s)
                        break
                    page.wait_for_timeout(100)
                else:  # a set never saved is a failure, not a set left out of the figures
                    raise SystemExit(f"set {k} of {len(pages)} was not saved within 60 s")
        finally:
            for browser in browsers:
                browser.close()
    latency = [v for s in stats for v in s["latency"]]
    return Figures(
        sessions=len(tokens),
        frames=len(latency),
        fps_per_session=statistics.mean(s["states"] for s in stats) / played_s,
        median_ms=statistics.median(latency),
        p95_ms=percentile(latency, 95),
        max_ms=max(latency),
        reps=[s["saved"]["reps"] if s["saved"] else -1 for s in stats],
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="what the cameras show")
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 2], help="sets at once")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from formcheck.video.y4m import write_y4m

    out = []
    with tempfile.TemporaryDirectory(prefix="fc-live-") as tmp_name:
        tmp = Path(tmp_name)
        camera = tmp / "camera.y4m"
        played_s = write_y4m(args.clip, camera, LEAD_S)
        most = max(args.sessions)
        tokens = make_tokens(tmp, most)
        proc, url, _log = start_server(tmp, 0, None, ["--max-live", str(most)])
        try:
            for n in args.sessions:
                fig = run(url, tokens[:n], camera, played_s, args.chromium)
                out.append(fig)
                print(
                    f"{n} set(s) at once: {fig.frames} frames, {fig.fps_per_session:.1f} a second"
                    f" each; capture -> drawn median {fig.median_ms:.0f} ms, p95"
                    f" {fig.p95_ms:.0f} ms, max {fig.max_ms:.0f} ms; reps {fig.reps}",
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(30)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in out], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
