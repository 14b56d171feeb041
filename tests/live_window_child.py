"""Child process of `test_live.py::test_the_window_shows_the_overlay` (not a test itself).

Runs a short live session in a real OpenCV window on the X display in $DISPLAY (an Xvfb
started by the test), and a few frames after the first rep verdict grabs the whole screen
with `xwd`. Writes into OUT_DIR: `screen.png` (the X screenshot), `drawn_0.png` ...
(the last pictures with the verdict up handed to the window, up to `RECENT`, newest last:
the screen shows one of them; on a loaded machine the window paints late), `drawn_0.json` ...
(where each picture's panels are: `LiveLayout` as JSON), and `result.json`.
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
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

# The pictures kept for the test to find on the screen: the last ones drawn with a verdict
# up, 1 s of them (a loaded X server paints late: with 3 busy processes beside it, the
# screen showed none of the last 8 for a second).
RECENT = 30
# The first screenshot is taken this long after the verdict went up (s; it stays up ~2 s),
# then one every `RETRY_S` while a verdict is up, until one of the recent pictures is on
# the screen (on a loaded machine the window is painted late: the screen came back black in
# CI runs). The test then checks the screenshot it gets, as before.
FIRST_S = 0.4
RETRY_S = 0.2
# cv2.TM_SQDIFF_NORMED score under which a picture counts as shown (the test's own bar).
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
    next_try_at: float | None = None  # time.monotonic() of the next one (None: no verdict yet)


def main(clip: str, out_dir: str) -> None:
    from formcheck.live.display import LiveWindow

    window = LiveWindow()  # before anything imports PyAV

    import cv2

    from formcheck.config import Config
    from formcheck.live.capture import FilePlayer
    from formcheck.live.session import LiveOptions, run_live

    out = Path(out_dir)
    state = _State()
    recent: deque[tuple[np.ndarray, Any]] = deque(maxlen=RECENT)
    opts = LiveOptions(window=True, mute=True, summary=True)

    def on_verdict(_v: object) -> None:
        state.verdicts += 1

    def on_drawn(image: np.ndarray, places: Any) -> None:
        if state.shot or places is None:
            cv2.imwrite(str(out / "summary.png"), image)
            return
        if state.verdicts < 1 or places.message is None:
            return
        recent.append((image, places))
        now = time.monotonic()
        if state.next_try_at is None:
            state.next_try_at = now + FIRST_S
        if now < state.next_try_at:
            return
        state.next_try_at = now + RETRY_S
        screen = grab_screen()
        state.tries += 1
        if not any(
            cv2.minMaxLoc(cv2.matchTemplate(screen, drawn, cv2.TM_SQDIFF_NORMED))[0] < SHOWN_SCORE
            for drawn, _ in recent
        ):
            return
        cv2.imwrite(str(out / "screen.png"), screen)
        for i, (drawn, where) in enumerate(recent):
            cv2.imwrite(str(out / f"drawn_{i}.png"), drawn)
            (out / f"drawn_{i}.json").write_text(json.dumps(dataclasses.asdict(where)))
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
