"""Measurement: the measuring half's one typed result, and its landmarks file round trip."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from scripted import side_view_sequence

from formcheck.band.detector import EVIDENCE_VERSION
from formcheck.measurement import Measurement
from formcheck.panels import Panel
from formcheck.pose.sequence import PoseSequence
from formcheck.report import ModelInfo
from formcheck.video import VideoInfo

SHOTS = {"version": 1, "t_s": [0.0, 0.5], "change": [0.0, 0.1]}
BAND = {
    "version": EVIDENCE_VERSION,
    "sample_every_s": 0.15,
    "colors": ["red"],
    "frames": [],
}
RETAKE = {"version": 1, "reps": [{"rep": 1, "top_start_s": 1.0, "top_end_s": 1.5}]}
PANEL = Panel(2, 3, "side by side", (213, 0, 426, 360))


def _poses() -> PoseSequence:
    t = np.arange(0.0, 3.0, 1 / 15)
    return side_view_sequence(t, 150.0 + 30.0 * np.sin(t))


def _full() -> Measurement:
    poses = _poses()
    w, h = poses.resolution_wh
    return Measurement(
        poses=poses,
        video=VideoInfo("set.mp4", 29.97, 90, 3.0, w, h),
        model=ModelInfo("pose_landmarker_full", "ab" * 32),
        decode_errors=2,
        schedule={"grid_stride": 2, "parts": [[0, None, 0]], "grid": 45, "model_frames": 45},
        shots=SHOTS,
        band=BAND,
        retake=RETAKE,
        turn_deg=180,
        panel=PANEL,
        panel_candidates=(Panel(1, 3, "side by side", (0, 0, 213, 360)), PANEL),
    )


def test_every_record_survives_the_landmarks_file(tmp_path: Path) -> None:
    m = _full()
    m.save(tmp_path / "set.npz")
    back = Measurement.load(tmp_path / "set.npz")
    for f in dataclasses.fields(Measurement):
        if f.name != "poses":
            assert getattr(back, f.name) == getattr(m, f.name), f.name
    np.testing.assert_array_equal(back.poses.xy_px, m.poses.xy_px)
    assert back.poses.meta == {} and m.sequence().meta == back.to_meta()
    assert back.band_evidence == []  # the detector ran and saw nothing


def test_a_file_of_an_earlier_version_reads_with_what_it_has(tmp_path: Path) -> None:
    """Files written before the records existed hold only the source and the model."""
    poses = _poses()
    meta = {"source": {"path": "old.mp4", "fps": 30.0, "duration_s": 3.0}, "model": {"name": "m"}}
    dataclasses.replace(poses, meta=meta).save(tmp_path / "old.npz")
    m = Measurement.load(tmp_path / "old.npz")
    assert (m.video.path, m.video.fps, m.video.frame_count) == ("old.mp4", 30.0, len(poses))
    assert (m.video.width, m.video.height) == poses.resolution_wh
    assert m.model == ModelInfo("m", "")
    assert (m.decode_errors, m.turn_deg, m.panel, m.panel_candidates) == (0, 0, None, ())
    assert m.shots is None and m.band is None and m.retake is None
    assert m.band_evidence is None


@pytest.mark.parametrize("version", [EVIDENCE_VERSION - 1, "x"])
def test_band_evidence_of_another_version_is_not_read(version: object) -> None:
    m = dataclasses.replace(_full(), band={**BAND, "version": version})
    assert m.band_evidence is None
    assert json.loads(json.dumps(m.to_meta()))["band"]["version"] == version  # kept as it was


def test_named_changes_only_the_clip_s_path() -> None:
    m = _full()
    renamed = m.named("/uploads/abc/input.mp4")
    assert renamed.video.path == "/uploads/abc/input.mp4"
    assert dataclasses.replace(renamed, video=m.video) == m
