"""The Live page in a real browser: headless Chromium whose camera is a sample clip
(`--use-file-for-fake-video-capture`), against `formcheck serve`: log in, coach the set,
compare with `analyze` on the same clip, find the set in "My clips", save a screenshot.

Headless Chromium is Debian's `chromium` package (installed by `.ci/run`), driven by
playwright, as in `test_server_browser.py`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import playwright.sync_api as playwright_api  # a dev dependency: installed with the tests
import pytest
from chromium import CHROME_ARGS, SKIP_REASON, chromium_path
from server_proc import Server, create_token
from short_clips import short_sample

from formcheck.pose.bundle import default_model_path
from formcheck.video.y4m import write_y4m

if TYPE_CHECKING:
    from formcheck.judge import Analysis

CLIP = short_sample("short_pause_left", reps=2)
CHROMIUM = chromium_path()
#: The fake camera shows the clip's first frame this long (s) before the clip plays, so the
#: set starts before the first lift whenever the page connects.
LEAD_S = 3.0
#: Where the mid-set screenshot is copied for a human (FORMCHECK_LIVE_SCREENSHOT overrides).
SCREENSHOT_COPY = os.environ.get("FORMCHECK_LIVE_SCREENSHOT", "/tmp/server_live.png")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found"),
    pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON),
]


def chrome_args(camera: Path | None) -> list[str]:
    """Headless Chromium whose camera plays `camera` (a Y4M file), or its own test pattern."""
    return [
        *CHROME_ARGS,
        "--use-fake-ui-for-media-stream",  # the camera is allowed without asking
        "--use-fake-device-for-media-stream",
        *([f"--use-file-for-fake-video-capture={camera}"] if camera else []),
    ]


def live_stats(page: playwright_api.Page) -> dict[str, Any]:
    """The page's `window.formcheckLive` (read over the DevTools protocol, which the pages'
    Content-Security-Policy allows; `wait_for_function` evaluates strings, which it does
    not)."""
    stats: dict[str, Any] = page.evaluate("() => window.formcheckLive")
    return stats


def log_in(page: playwright_api.Page, url: str, token: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url("**/clips")


def wait_until(
    page: playwright_api.Page,
    ok: Callable[[dict[str, Any]], bool],
    what: str,
    timeout_s: float = 60.0,
) -> None:
    for _ in range(int(timeout_s / 0.1)):
        if ok(live_stats(page)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{what} not within {timeout_s} s: {live_stats(page)}")


def test_the_live_page_coaches_a_set_from_the_phone_camera(
    tmp_path: Path, sample_analysis: Callable[[str | Path], Analysis]
) -> None:
    camera = tmp_path / "camera.y4m"
    played_s = write_y4m(CLIP, camera, LEAD_S)
    data = tmp_path / "data"
    token = create_token(data, "Sam")
    server = Server(data, tmp_path / "server.log", "--workers", "0")
    shot = tmp_path / "live.png"
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=chrome_args(camera)
            )
            try:
                page = browser.new_page(viewport={"width": 430, "height": 900})
                log_in(page, server.url, token)
                page.click("text=Live")
                page.wait_for_url("**/live")
                page.wait_for_selector("#start:not([disabled])", timeout=20_000)
                page.click("#start")
                wait_until(page, lambda s: s["ready"], "the coach ready", 30)
                # Mid-set, after the first verdict: the screenshot for docs/.
                wait_until(page, lambda s: len(s["verdicts"]) >= 1, "the first verdict")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(shot))
                # The clip plays once (then the fake camera loops it): end the set before.
                wait_until(page, lambda s: len(s["verdicts"]) >= 2, "the second verdict")
                page.click("#end")
                wait_until(page, lambda s: s["saved"] is not None, "the set saved")
                stats = live_stats(page)
                clip = stats["saved"]["clip"]
                kept = page.request.get(f"{server.url}/clips/{clip}/report.json").json()
                assert "See the set" in page.inner_text("#saved")
                page.click("#saved a")
                page.wait_for_url("**/clips/*")
                assert "Live set" in page.inner_text("h1")
                page.goto(f"{server.url}/clips")
                assert page.locator(".pill.done").count() == 1
            finally:
                browser.close()
    finally:
        server.stop()
    offline = sample_analysis(CLIP).report
    assert stats["error"] is None
    assert stats["saved"]["reps"] == len(offline.reps) == 2
    said = stats["verdicts"]
    assert [v["rep"] for v in said] == [1, 2]
    expected = [offline.reps[i].faults for i in range(2)]
    assert [v["fault"] for v in said] == [bool(f) for f in expected]
    for rep, faults in zip(kept["reps"], expected, strict=True):
        assert sorted(f["fault"] for f in rep["findings"] if f["status"] == "fault") == sorted(
            faults
        )
    # Coached in real time: the clip seen at 8 pictures a second or more.
    print(f"live page: {stats['states']} states, latency {np.median(stats['latency']):.0f} ms")
    assert stats["states"] >= 8 * (played_s - LEAD_S)
    assert shot.stat().st_size > 20_000
    with contextlib.suppress(OSError):  # a convenience; the test's own file is the evidence
        shutil.copyfile(shot, SCREENSHOT_COPY)


def test_a_plain_http_page_says_why_the_camera_is_blocked(tmp_path: Path) -> None:
    """A phone reaching the server by its network address over plain HTTP gets no camera:
    the page says why, in words (here the browser resolves a name to this machine, which
    makes the page an insecure context as a LAN address is)."""
    data = tmp_path / "data"
    token = create_token(data, "Sam")
    server = Server(data, tmp_path / "server.log", "--workers", "0")
    url = f"http://phone-lan.test:{server.port}"
    try:
        with playwright_api.sync_playwright() as p:
            rules = "--host-resolver-rules=MAP phone-lan.test 127.0.0.1"
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[*chrome_args(None), rules],
            )
            try:
                page = browser.new_page()
                log_in(page, url, token)
                page.goto(f"{url}/live")
                page.wait_for_selector("#blocked:not([hidden])", timeout=10_000)
                said = page.inner_text("#blocked")
                assert "HTTPS" in said and "camera is blocked" in said
                assert page.locator("#start").is_disabled()
            finally:
                browser.close()
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_the_server_serves_https_and_the_page_gets_the_camera(tmp_path: Path) -> None:
    """`--certfile/--keyfile`: the service over TLS, with the self-signed certificate the
    README shows how to make; there the camera opens (a secure context)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=formcheck",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    data = tmp_path / "data"
    token = create_token(data, "Sam")
    server = Server(
        data,
        tmp_path / "server.log",
        "--workers",
        "0",
        "--certfile",
        str(cert),
        "--keyfile",
        str(key),
    )
    assert server.url.startswith("https://")
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[*chrome_args(None), "--ignore-certificate-errors"],
            )
            try:
                page = browser.new_page()
                log_in(page, server.url, token)
                cookie = next(c for c in page.context.cookies() if c["name"] == "formcheck_session")
                assert cookie["secure"]  # over HTTPS the session cookie is Secure
                page.goto(f"{server.url}/live")
                page.wait_for_selector("#start:not([disabled])", timeout=10_000)
                assert page.evaluate("() => window.isSecureContext")
            finally:
                browser.close()
    finally:
        server.stop()
