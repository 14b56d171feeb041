"""End to end through the real model on the bundled sample clips and a fresh generated set.

The sample clips (sample_videos/, made by `formcheck synth --samples`) each show good form
or one fault; the generated set is rendered here, so accuracy cannot silently drop (the
gates are issue 3's targets).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import av
import pytest
from typer.testing import CliRunner

from formcheck.analyze import analyze_video
from formcheck.cli import app
from formcheck.config import Config
from formcheck.evaluate import Gates, check_gates, evaluate_dir
from formcheck.report import validate_report
from formcheck.synth import random_clip_spec, render_clip

if TYPE_CHECKING:
    from formcheck.pose.landmarker import PoseEstimator

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"
SAMPLE_CLIPS = sorted(SAMPLES.glob("*.mp4"))
pytestmark = pytest.mark.e2e


def _label(video: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(video.with_suffix(".json").read_text())


def test_every_sample_has_a_label() -> None:
    assert len(SAMPLE_CLIPS) >= 6
    for clip in SAMPLE_CLIPS:
        assert clip.with_suffix(".json").is_file(), clip


@pytest.mark.parametrize("clip", SAMPLE_CLIPS, ids=lambda p: p.stem)
def test_sample_clip_reps_and_faults(clip: Path, estimator: PoseEstimator) -> None:
    label = _label(clip)
    report = analyze_video(clip, Config(), estimator=estimator).report
    validate_report(report.to_dict())
    assert len(report.reps) == label["rep_count"]
    for got, want in zip(report.reps, label["reps"], strict=True):
        assert set(got.faults) == set(want["faults"]), f"rep {got.rep.index}"
        assert got.band == want["band"], f"rep {got.rep.index}"


def test_analyze_cli_writes_json_video_landmarks_and_replays(tmp_path: Path) -> None:
    clip = SAMPLES / "good_form_right.mp4"
    out_json, out_video, out_lm = tmp_path / "r.json", tmp_path / "a.mp4", tmp_path / "l.npz"
    result = CliRunner().invoke(app, ["analyze", str(clip), "--json", str(out_json),
                                      "--video", str(out_video), "--landmarks", str(out_lm)])
    assert result.exit_code == 0, result.output
    report = json.loads(out_json.read_text())
    validate_report(report)
    assert report["summary"]["rep_count"] == _label(clip)["rep_count"]
    assert "What to fix" in result.output or "Good set" in result.output
    # The annotated video: H.264 yuv420p in MP4, every frame, the moov atom up front.
    with av.open(str(out_video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = sum(1 for _ in container.decode(stream))
    with av.open(str(clip)) as container:
        assert frames == sum(1 for _ in container.decode(container.streams.video[0]))
    head = out_video.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1
                                         or head.find(b"moov") < head.find(b"mdat"))
    # Replaying the saved landmarks gives the same report without the model.
    replay_json = tmp_path / "replay.json"
    result = CliRunner().invoke(app, ["analyze", "--from-landmarks", str(out_lm),
                                      "--json", str(replay_json), "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads(replay_json.read_text()) == report


def test_accuracy_gates_on_a_fresh_generated_set(tmp_path: Path,
                                                 estimator: PoseEstimator) -> None:
    """Issue 3's targets on clips no one has tuned on: rendered here from fixed seeds.

    Twenty clips, so that the 95% count gate means what it says (one miss allowed); the
    encoder's bytes vary a little from run to run, so the set is not identical every time.
    """
    for seed in range(7000, 7020):
        render_clip(random_clip_spec(seed, n_reps=3), tmp_path / f"g{seed}.mp4")
    result = evaluate_dir(tmp_path, Config(), estimator=estimator)
    gates = Gates(min_count_exact=0.95, max_angle_mae_deg=4.0, max_pause_mae_s=0.2)
    assert not check_gates(result, gates), check_gates(result, gates)
