"""The annotated video's overlay: its text panels keep clear of the body."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from short_clips import SAMPLES

from formcheck.annotate import VideoOverlays
from formcheck.judge import Analysis
from formcheck.overlay import Overlay, layout, overlap, place

NO_JOINTS = np.full((4, 2), np.nan)


def _overlay(message: str, body: tuple[int, int, int, int] | None) -> Overlay:
    return Overlay(NO_JOINTS, 170.0, 1, "top", "", message, True, (), body)


def test_panels_go_where_the_body_is_not() -> None:
    frame = (1280, 720)
    lying = (100, 330, 1180, 640)  # a lifter across the frame's lower middle
    places = layout(
        _overlay("Rep 1: hold the top for a full second before you lower", lying), frame
    )
    assert places.message is not None
    assert overlap(places.counter, lying) == 0 and overlap(places.message, lying) == 0
    assert overlap(places.counter, places.message) == 0
    # Nothing to avoid: the counter at the top left, the cue along the bottom.
    free = layout(_overlay("Rep 1: good rep", None), frame)
    assert free.counter[:2] == (0, 0) and free.message is not None
    assert free.message[3] == 720 and free.message[2] - free.message[0] == 1280
    # A body filling most of the frame: the panel goes in what is left, the nearest the top
    # it can; filling all of it, the panel covers it as little as it can (its own size).
    assert place((300, 100), frame, [(0, 0, 1280, 600)], prefer_top=True) == (0, 600, 300, 700)
    everywhere = (0, 0, 1280, 720)
    assert overlap(place((300, 100), frame, [everywhere], prefer_top=True), everywhere) == 30000


def test_the_counter_goes_on_one_line_above_a_body_that_leaves_only_a_strip() -> None:
    frame = (640, 360)
    big = (100, 84, 540, 348)  # a lifter filling the frame but for its top quarter
    places = layout(_overlay("Rep 1: good rep", big), frame)
    assert places.counter_one_line and places.counter_scale == 1.0
    assert overlap(places.counter, big) == 0
    assert places.message is not None and overlap(places.message, big) == 0
    # With room for it, the counter keeps its three lines.
    assert not layout(_overlay("Rep 1: good rep", (100, 200, 540, 348)), frame).counter_one_line


def test_a_cue_folds_into_a_narrower_panel_beside_a_tall_body() -> None:
    frame = (720, 1280)  # portrait
    standing = (250, 100, 470, 1240)
    places = layout(
        _overlay("Rep 2: drive your hips higher and squeeze your glutes at the top", standing),
        frame,
    )
    assert places.message is not None and overlap(places.message, standing) == 0
    assert len(places.lines) > 1


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(p.stem for p in SAMPLES.glob("*.mp4")))
def test_the_video_s_panels_never_cover_the_body(
    name: str, sample_analysis: Callable[[str], Analysis]
) -> None:
    """On every third frame of each sample (the lifter fills most of some of them: the
    counter goes on one line there), neither the counter nor the cue panel meets the box
    around that frame's landmarks."""
    analysis = sample_analysis(name)
    overlays = VideoOverlays.of(analysis)
    seq = analysis.measurement.poses
    messages = 0
    for i in np.flatnonzero(seq.found)[::3]:
        ov = overlays.at(float(seq.t_s[i]))
        xy = seq.xy_px[i][np.isfinite(seq.xy_px[i]).all(axis=1)]
        body = (
            int(xy[:, 0].min()),
            int(xy[:, 1].min()),
            int(xy[:, 0].max()) + 1,
            int(xy[:, 1].max()) + 1,
        )
        places = layout(ov, seq.resolution_wh)
        assert overlap(places.counter, body) == 0, f"counter on the body at {seq.t_s[i]:.2f} s"
        if places.message is not None:
            messages += 1
            assert overlap(places.message, body) == 0, f"cue on the body at {seq.t_s[i]:.2f} s"
    assert messages > 5  # the clip's verdicts were on screen in the frames looked at
