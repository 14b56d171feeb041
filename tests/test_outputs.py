"""The one call that writes an analysed clip's files (analyze, batch and server workers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted import ScriptedRep, script_hip_angle, side_view_sequence

from formcheck.analyze import analyze_sequence
from formcheck.config import Config
from formcheck.judge import Analysis
from formcheck.outputs import ClipOutputs, report_html, write_outputs
from formcheck.pose.sequence import PoseSequence

CFG = Config()


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    script = script_hip_angle([ScriptedRep()] * 2, bottom_deg=100.0)
    return analyze_sequence(side_view_sequence(script.t_s, script.hip_deg), CFG)


def test_the_files_asked_for_are_written_and_the_report_returned(
    analysis: Analysis, tmp_path: Path
) -> None:
    wanted = ClipOutputs(
        json=tmp_path / "r.json", landmarks=tmp_path / "l.npz", html=tmp_path / "p.html"
    )
    data = write_outputs(analysis, wanted, None, CFG.rules)
    assert json.loads(wanted.json.read_text()) == data  # type: ignore[union-attr]
    assert data["summary"]["rep_count"] == len(analysis.reps) == 2
    assert len(PoseSequence.load(wanted.landmarks)) == len(analysis.measurement.poses)  # type: ignore[arg-type]
    assert 'id="rep-2"' in wanted.html.read_text()  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.npz", "p.html", "r.json"]
    assert write_outputs(analysis, ClipOutputs(), None, CFG.rules) == data  # nothing written
    with pytest.raises(ValueError, match="needs the clip"):
        write_outputs(analysis, ClipOutputs(video=tmp_path / "a.mp4"), None, CFG.rules)


def test_a_clip_that_cannot_be_read_again_still_gets_its_page(
    analysis: Analysis, tmp_path: Path
) -> None:
    """Its stills are drawn on a plain background: the report is never lost for a picture."""
    gone = tmp_path / "gone.mp4"
    gone.write_bytes(b"not a video")
    plain = report_html(analysis, None, CFG.rules)
    page = report_html(analysis, gone, CFG.rules)
    assert page.count("data:image/jpeg;base64,") == plain.count("data:image/jpeg;base64,") == 2
