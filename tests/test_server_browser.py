"""A real browser through the upload service: log in, upload with the progress bar, wait on
the result page, check the video, the plot and the per-rep table, and save a screenshot.

Headless Chromium is Debian's `chromium` package (installed by `.ci/run`), driven by
playwright; playwright's own browser downloads are never used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import playwright.sync_api as playwright_api  # a dev dependency: installed with the tests
import pytest
from chromium import CHROME_ARGS, SKIP_REASON, chromium_path
from server_proc import Server, create_token
from short_clips import short_sample

from formcheck.pose.bundle import default_model_path
from formcheck.video import probe

CLIP = short_sample("short_pause_left", reps=2)  # two reps: 8.5 s to score
CHROMIUM = chromium_path()
# Where the screenshot is copied for a human to look at (FORMCHECK_SCREENSHOT overrides).
SCREENSHOT_COPY = os.environ.get("FORMCHECK_SCREENSHOT", "/tmp/server_result.png")


@pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def _wait_ready(page: playwright_api.Page, state: int, timeout_s: float = 30.0) -> None:
    """Wait until the result page's video reaches `readyState` `state`. Polled from here:
    the pages' Content-Security-Policy forbids the string evaluation `wait_for_function`
    uses."""
    for _ in range(int(timeout_s / 0.1)):
        if page.eval_on_selector("video#video", "v => v.readyState") >= state:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the video did not reach readyState {state} in {timeout_s} s")


def test_upload_in_the_browser_then_see_the_result(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "fast.toml"
    config.write_text("[pose]\nstride = 2\n")  # the pages are under test, not the accuracy
    token = create_token(data, "Sam")
    server = Server(data, tmp_path / "server.log", "--config", str(config))
    shot = tmp_path / "result.png"
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1000, "height": 800})
                page.goto(f"{server.url}/clips")
                assert page.url.endswith("/login")  # no session: the login page
                page.fill("#token", "wrong")
                page.click("button[type=submit]")
                assert "not valid" in page.inner_text("[role=alert]")
                page.fill("#token", token)
                page.click("button[type=submit]")
                page.wait_for_url("**/clips")
                cookie = next(c for c in page.context.cookies() if c["name"] == "formcheck_session")
                assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

                page.click("text=Upload a set")
                page.wait_for_url("**/upload")
                page.set_input_files("#file", str(CLIP))
                assert "short_pause_left.mp4" in page.inner_text("#chosen")
                page.click("#send")
                page.wait_for_url("**/clips/*", timeout=60_000)
                # The result page polls the job and reloads itself when it is done.
                page.wait_for_selector("video#video", timeout=240_000)
                _wait_ready(page, 1)
                duration = page.eval_on_selector("video#video", "v => v.duration")
                assert abs(duration - probe(CLIP).duration_s) < 1.0  # the whole clip
                assert page.locator(".plot-wide svg.plot").is_visible()
                assert not page.locator(".plot-compact svg.plot").is_visible()
                rows = page.locator("table tbody tr")
                assert rows.count() >= 1
                assert "short_pause_left.mp4" in page.inner_text("h1")
                # A phone-sized view, where the screenshot is taken: the whole result page.
                page.set_viewport_size({"width": 430, "height": 900})
                assert page.locator(".plot-compact svg.plot").is_visible()
                page.eval_on_selector("video#video", "v => { v.currentTime = 5.0; }")
                _wait_ready(page, 2)
                page.wait_for_timeout(300)
                page.screenshot(path=str(shot), full_page=True)
                listing = page.goto(f"{server.url}/clips")
                assert listing is not None and listing.status == 200
                assert page.locator(".pill.done").count() == 1
            finally:
                browser.close()
    finally:
        server.stop()
    assert shot.stat().st_size > 20_000
    with contextlib.suppress(OSError):  # a convenience; the test's own file is the evidence
        shutil.copyfile(shot, SCREENSHOT_COPY)
