"""The OpenCV window of `formcheck live`, and its keys.

This module imports nothing but OpenCV, NumPy and `formcheck.errors`, on purpose: PyAV
(which formcheck uses to decode and encode video) ships its own copy of libxcb, and once
PyAV is loaded OpenCV's Qt window livelocks when it first opens (PyAV-Org/PyAV issues 978
and 1050). So the window is opened, and shown once, before anything imports PyAV:
`formcheck live` opens it first.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from formcheck.errors import ConfigError

KEY_QUIT, KEY_RESET, KEY_PAUSE = "q", "r", " "


class LiveWindow:
    """An OpenCV window (no toolbar) showing the live picture; keys come from `key`.

    Args:
        title: the window title.
        size_wh: the size of the first, placeholder picture (pixels).

    Raises:
        ConfigError: there is no display to open a window on (use `--no-window`).
        RuntimeError: PyAV was imported before the window was opened (it would hang).
    """

    def __init__(
        self, title: str = "formcheck live", size_wh: tuple[int, int] = (960, 540)
    ) -> None:
        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            # Qt would abort the whole process on a missing display.
            raise ConfigError(
                "no display to open the live window on (DISPLAY is not set): use --no-window"
            )
        if "av" in sys.modules and not _qt_started:
            raise RuntimeError(
                "open the live window before importing av (PyAV): OpenCV's Qt"
                " window hangs otherwise"
            )
        self.title = title
        self.closed = False
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        w, h = size_wh
        first = np.full((h, w, 3), 30, dtype=np.uint8)
        cv2.putText(
            first,
            "formcheck live: starting...",
            (24, h // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.0,
            (255, 255, 255),
            2,
            cv2.LINE_AA,
        )
        cv2.imshow(title, first)  # shown now: Qt is fully up before PyAV is loaded
        cv2.waitKey(1)
        _started()

    def show(self, image_bgr: np.ndarray) -> None:
        """Draw `image_bgr` in the window (painted on the next `key` call)."""
        if not self.closed:
            cv2.imshow(self.title, image_bgr)

    def key(self, wait_ms: int = 1) -> str | None:
        """The key pressed ('q', 'r', ' ', or another character), or None.

        Esc and closing the window count as 'q'. This is also where the window repaints.
        """
        if self.closed:
            return KEY_QUIT
        code = cv2.waitKey(max(1, wait_ms))
        try:
            visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE)
        except cv2.error:
            visible = 0
        if visible < 1:
            self.closed = True
            return KEY_QUIT
        if code < 0:
            return None
        code &= 0xFF
        if code == 27:
            return KEY_QUIT
        return chr(code).lower()

    def close(self) -> None:
        if not self.closed:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        self.closed = True


_qt_started = False


def _started() -> None:
    global _qt_started
    _qt_started = True
