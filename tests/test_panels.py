"""Split screens: seams between panels on drawn pictures (`formcheck.panels.find_panels`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formcheck.panels import MIN_PANEL_SHARE, Panel, find_panels


def _scene(seed: int, h: int = 360, w: int = 640) -> np.ndarray:
    """A picture with structure but no straight line across it: smooth random tones and
    blobs (a real room's floor line is such a line: `split_screen_panel` rules it out with
    the pose, here it is left out)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(20, 235, (6, 10, 3)).astype(np.uint8)
    image = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(8):
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(image, center, int(rng.integers(10, 50)), rng.integers(0, 255, 3).tolist(), -1)
    return image


def _frames(layout: str, n: int, divider: int) -> list[np.ndarray]:
    out = []
    for t in range(4):
        scenes = [_scene(10 * k + t % 2) for k in range(n)]
        bar = (
            np.full((360, divider, 3), 255, np.uint8)
            if layout == "side by side"
            else np.full((divider, 640, 3), 255, np.uint8)
        )
        parts: list[np.ndarray] = []
        for k, scene in enumerate(scenes):
            if k and divider:
                parts.append(bar)
            parts.append(scene)
        out.append(np.concatenate(parts, axis=1 if layout == "side by side" else 0))
    return out


@pytest.mark.parametrize(
    ("layout", "n", "divider"),
    [
        ("side by side", 2, 0),
        ("side by side", 3, 8),
        ("stacked", 2, 6),
        ("stacked", 3, 0),
    ],
)
def test_panels_are_found_at_their_seams(layout: str, n: int, divider: int) -> None:
    panels = find_panels(_frames(layout, n, divider))
    assert [(p.index, p.count, p.layout) for p in panels] == [(k + 1, n, layout) for k in range(n)]
    size = 640 if layout == "side by side" else 360
    along = 0 if layout == "side by side" else 1
    for k, panel in enumerate(panels):
        start = k * (size + divider)
        assert panel.box[along] == pytest.approx(start, abs=4)
        assert panel.box[along + 2] == pytest.approx(start + size, abs=4)


def test_one_picture_and_a_letterboxed_one_are_not_split() -> None:
    frames = [_scene(3)] * 4
    assert find_panels(frames) == []
    boxed = [
        np.concatenate(
            [np.zeros((360, 140, 3), np.uint8), f, np.zeros((360, 140, 3), np.uint8)], axis=1
        )
        for f in frames
    ]
    assert find_panels(boxed) == []  # the black bars are flat: one panel, no split


def test_a_seam_must_be_in_every_frame() -> None:
    frames = _frames("side by side", 2, 0)
    frames[2] = np.concatenate([_scene(3)] * 2, axis=1)[:, 320:960]  # a picture across it
    frames[2] = np.ascontiguousarray(np.concatenate([frames[2], frames[2]], axis=1))
    assert find_panels(frames) == []


def test_panel_names_and_meta() -> None:
    panels = [Panel(k + 1, 3, "side by side", (k * 100, 0, k * 100 + 100, 50)) for k in range(3)]
    assert [p.name for p in panels] == ["left", "middle", "right"]
    assert Panel(2, 2, "stacked", (0, 50, 100, 100)).name == "bottom"
    assert Panel.from_meta({"panel": panels[1].to_meta()}) == panels[1]
    assert Panel.from_meta({}) is None
    assert "middle panel" in panels[1].warning
    assert MIN_PANEL_SHARE < 1 / 3


def test_a_strip_under_a_floor_line_stays_with_its_panel() -> None:
    """A straight floor line near a panel's bottom is a seam too, but the strip under it is
    part of that panel, not a panel or a bar."""
    frames = []
    for image in _frames("stacked", 2, 6):
        for top in (0, 366):  # each panel's floor: its last 8% of rows
            image[top + 330 : top + 360] = image[top + 330 : top + 360] // 3
        frames.append(image)
    panels = find_panels(frames)
    assert [p.box for p in panels] == [(0, 0, 640, 360), (0, 366, 640, 726)]
