"""Child process of `test_live.py::test_the_window_shows_the_overlay` (not a test itself).

Runs a short live session in a real OpenCV window on the X display in $DISPLAY (an Xvfb
started by the test), and a moment after the first rep verdict goes up grabs the whole
screen with `xwd`, once the window has painted the picture just handed to it (its events
are pumped meanwhile, as the session's own key check does; a loaded X server paints late).
Writes into OUT_DIR: `screen.png` (the X screenshot), `drawn_0.png` (that picture),
`drawn_0.json` (where its panels are: `LiveLayout` as JSON) and `result.json`.
A separate process because OpenCV's Qt window must open before PyAV is loaded (see
`formcheck.live.display`), and must not outlive the Xvfb it talks to.

Usage: python live_window_child.py CLIP OUT_DIR
"""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# The screenshot is taken for the first picture drawn this long after a verdict went up (s;
# it stays up ~2 s).
AFTER_VERDICT_S = 0.4
# How long the window is given to paint that picture (s), its events pumped every
# `PUMP_MS` and the screen grabbed after each, until the picture is on it. Grabbing at a
# fixed moment failed on loaded machines: the screen was black, or showed a picture drawn
# a second before.
PAINT_TIMEOUT_S = 5.0
PUMP_MS = 50
# cv2.TM_SQDIFF_NORMED score under which a picture counts as shown (the test's bar too).
SHOWN_SCORE = 0.02


def grab_screen() -> np.ndarray:
    """The whole X screen as a BGR image, via `xwd` (X Window Dump, ZPixmap format)."""
    data = subprocess.run(
        ["xwd", "-root", "-silent"], capture_output=True, check=True, timeout=20
    ).stdout
    h = struct.unpack(">25I", data[:100])  # XWDFileHeader: 25 big-endian CARD32
    header_size, width, height = h[0], h[4], h[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = h[7], h[11], h[12], h[19]
    offset = header_size + ncolors * 12  # the colour map follows the header
    rows = np.frombuffer(data, np.uint8, count=bytes_per_line * height, offset=offset)
    b = bits_per_pixel // 8
    px = rows.reshape(height, bytes_per_line)[:, : width * b].reshape(height, width, b)
    bgr = px[:, :, :3] if byte_order == 0 else px[:, :, b - 3 :][:, :, ::-1]
    return np.ascontiguousarray(bgr)


@dataclasses.dataclass
class _State:
    verdicts: int = 0
    shot: bool = False
    tries: int = 0  # screenshots taken
    shoot_at: float | None = None  # time.monotonic() to shoot at (None: no verdict yet)


def main(clip: str, out_dir: str) -> None:
    from formcheck.live.display import LiveWindow

    window = LiveWindow()  # before anything imports PyAV

    import cv2

    from formcheck.config import Config
    from formcheck.live.capture import FilePlayer
    from formcheck.live.session import LiveOptions, run_live

    out = Path(out_dir)
    state = _State()
    opts = LiveOptions(window=True, mute=True, summary=True)

    def on_verdict(_v: object) -> None:
        state.verdicts += 1

    def shown(screen: np.ndarray, image: np.ndarray) -> bool:
        score = cv2.minMaxLoc(cv2.matchTemplate(screen, image, cv2.TM_SQDIFF_NORMED))[0]
        return bool(score < SHOWN_SCORE)

    def on_drawn(image: np.ndarray, places: Any) -> None:
        """Called just after `image` is handed to the window, before it is painted."""
        if state.shot or places is None:
            cv2.imwrite(str(out / "summary.png"), image)
            return
        if state.verdicts < 1 or places.message is None:
            return
        now = time.monotonic()
        if state.shoot_at is None:
            state.shoot_at = now + AFTER_VERDICT_S
        if now < state.shoot_at:
            return
        deadline = now + PAINT_TIMEOUT_S
        while True:
            window.key(PUMP_MS)  # the window paints here
            screen = grab_screen()
            state.tries += 1
            if shown(screen, image) or time.monotonic() > deadline:
                break
        cv2.imwrite(str(out / "screen.png"), screen)
        cv2.imwrite(str(out / "drawn_0.png"), image)
        (out / "drawn_0.json").write_text(json.dumps(dataclasses.asdict(places)))
        state.shot = True
        opts.stop.set()

    opts.on_verdict = on_verdict
    opts.on_drawn = on_drawn
    cfg = Config().with_overrides({"live.summary_s": 1.0})
    result = run_live(FilePlayer(clip, realtime=True), cfg, opts, window=window)
    (out / "result.json").write_text(
        json.dumps(
            {
                "reps": len(result.verdicts),
                "end_reason": result.end_reason,
                "shot": state.shot,
                "tries": state.tries,
                "latency": result.latency.to_dict(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
