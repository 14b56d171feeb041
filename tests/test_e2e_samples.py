"""End to end through the real model on the bundled sample clips.

The sample clips (sample_videos/, made by `formcheck synth --samples`) each show good form
or one fault. Accuracy over many clips is gated on a fresh generated set each run
(test_accuracy_generated.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import av
import pytest
from edits import cut_window, join, side_by_side, swing_away, turned
from typer.testing import CliRunner

from formcheck.analyze import analyze_video
from formcheck.cli import app
from formcheck.config import Config
from formcheck.report import validate_report

if TYPE_CHECKING:
    from collections.abc import Callable

    from formcheck.judge import Analysis
    from formcheck.pose.landmarker import PoseEstimator

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
SAMPLE_CLIPS = sorted(SAMPLES.glob("*.mp4"))
pytestmark = pytest.mark.e2e


def _label(video: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(video.with_suffix(".json").read_text())


def test_the_eight_samples_the_readme_names_each_have_a_label() -> None:
    assert "`sample_videos/` holds eight short labelled clips" in (ROOT / "README.md").read_text()
    assert len(SAMPLE_CLIPS) == 8
    for clip in SAMPLE_CLIPS:
        assert clip.with_suffix(".json").is_file(), clip


@pytest.mark.parametrize("clip", SAMPLE_CLIPS, ids=lambda p: p.stem)
def test_sample_clip_reps_and_faults(
    clip: Path, sample_analysis: Callable[[str], Analysis]
) -> None:
    label = _label(clip)
    report = sample_analysis(clip.stem).report
    validate_report(report.to_dict())
    assert len(report.reps) == label["rep_count"]
    # One word, one meaning: the label's side_right is the report's head on the right.
    assert f"side_{report.view.head}" == label["view"]
    for got, want in zip(report.reps, label["reps"], strict=True):
        # A fault of the whole set (no band in any rep) is said once, for the set.
        assert {*got.faults, *report.set_faults} == set(want["faults"]), f"rep {got.rep.index}"
        assert got.band == want["band"], f"rep {got.rep.index}"


def test_analyze_cli_writes_json_video_landmarks_and_replays(tmp_path: Path) -> None:
    clip = SAMPLES / "good_form_right.mp4"
    out_json, out_video, out_lm = tmp_path / "r.json", tmp_path / "a.mp4", tmp_path / "l.npz"
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            str(clip),
            "--json",
            str(out_json),
            "--video",
            str(out_video),
            "--landmarks",
            str(out_lm),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out_json.read_text())
    validate_report(report)
    assert report["summary"]["rep_count"] == _label(clip)["rep_count"]
    assert all(not rep["faults"] for rep in _label(clip)["reps"])  # a good set, so:
    assert "Good set: nothing to fix." in result.output
    assert "Head on the right, left side measured" in result.output  # good_form_*right*
    assert "What to fix" not in result.output
    # The annotated video: H.264 yuv420p in MP4, every frame, the moov atom up front.
    with av.open(str(out_video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = sum(1 for _ in container.decode(stream))
    with av.open(str(clip)) as container:
        assert frames == sum(1 for _ in container.decode(container.streams.video[0]))
    head = out_video.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (
        head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat")
    )
    # Replaying the saved landmarks gives the same report without the model.
    replay_json = tmp_path / "replay.json"
    result = CliRunner().invoke(
        app, ["analyze", "--from-landmarks", str(out_lm), "--json", str(replay_json), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    replayed = json.loads(replay_json.read_text())
    # The same report, but analysed now (the HTML page is dated by this, not when built).
    assert replayed.pop("analysed_at") >= report.pop("analysed_at")
    assert replayed == report


def test_a_clip_without_a_complete_rep_says_what_was_seen(
    tmp_path: Path, estimator: PoseEstimator
) -> None:
    """A sample cut as a phone often cuts a set: from the middle of the first rep's hold to
    halfway down the second rep's lowering. The terminal and the page say so, with the
    label's times (less the cut's start), not generic filming advice."""
    source = SAMPLES / "good_form_right.mp4"
    first, second = _label(source)["reps"][:2]
    start = (first["top_start_s"] + first["top_end_s"]) / 2
    end = (second["top_end_s"] + second["end_s"]) / 2
    clip = cut_window(source, tmp_path / "cut.mp4", start, end)
    analysis = analyze_video(clip, Config(), estimator=estimator)
    assert analysis.reps == ()
    landmarks = tmp_path / "cut.npz"
    analysis.measurement.poses.save(landmarks)
    page = tmp_path / "cut.html"
    run = CliRunner().invoke(
        app, ["analyze", "--from-landmarks", str(landmarks), "--html", str(page)]
    )
    assert run.exit_code == 6, run.output
    text = " ".join(run.output.split())
    found = re.search(
        r"opens with the hips up \(up to (\d+)°; a full top is 180°\) and they "
        r"are down by ([\d.]+) s: the lift to that top is not in the clip; a "
        r"lift from ([\d.]+) s reaches (\d+)° by ([\d.]+) s, but the clip ends "
        r"with the hips only (\d+)% of the way back down",
        text,
    )
    assert found, text
    top, down, lift, peak, by, share = (float(g) for g in found.groups())
    assert top == pytest.approx(first["hip_angle_top_deg"], abs=4.0)
    assert peak == pytest.approx(second["hip_angle_top_deg"], abs=4.0)
    assert down == pytest.approx(first["end_s"] - start, abs=0.15)
    assert lift == pytest.approx(second["start_s"] - start, abs=0.15)
    assert by == pytest.approx(second["top_start_s"] - start, abs=0.15)
    assert share == pytest.approx(50, abs=10)
    shown = " ".join(page.read_text(encoding="utf-8").split())
    assert f"The clip opens with the hips up (up to {top:.0f}°" in shown
    assert "Good set" not in shown


def _mid_hold(rep: dict) -> float:  # type: ignore[type-arg]
    return float(rep["top_start_s"] + rep["top_end_s"]) / 2


def test_takes_joined_by_cuts_are_counted_shot_by_shot(
    tmp_path: Path, estimator: PoseEstimator
) -> None:
    """Two samples joined as an editor joins takes, each cut in the middle of a rep's hold,
    then an end card. Counted across the first cut, the first take's lift and the second
    take's lowering would make a rep; within shots they are two halves of nothing."""
    first, second = SAMPLES / "good_form_right.mp4", SAMPLES / "sagging_hips_left.mp4"
    reps_a, reps_b = _label(first)["reps"], _label(second)["reps"]
    start_b = _mid_hold(reps_b[1])
    clip = tmp_path / "joined.mp4"
    joins = join(
        [
            (first, 0.0, _mid_hold(reps_a[1])),
            (second, start_b, _label(second)["video"]["duration_s"]),
        ],
        clip,
        end_card_s=2.0,
    )
    analysis = analyze_video(clip, Config(), estimator=estimator)
    edited = [w for w in analysis.report.warnings if w.startswith("the clip is edited")]
    assert len(edited) == 1, analysis.report.warnings
    cuts = [float(x) for x in re.findall(r"([\d.]+) s", edited[0].split(";")[0])]
    assert cuts == pytest.approx(joins, abs=0.1)
    # Shot 1 holds the first take's first rep; shot 2 the second take's last rep; the card
    # none (and nobody is in view on it).
    assert re.findall(r"shot \d \([\d.-]+ s\): (\d+) reps?", edited[0]) == ["1", "1", "0"]
    assert [
        round(r.start_s - s, 1) for r, s in zip(analysis.reps, (0.0, joins[0]), strict=True)
    ] == pytest.approx([reps_a[0]["start_s"], reps_b[2]["start_s"] - start_b], abs=0.15)
    assert any(w.startswith("no person in view from") for w in analysis.report.warnings)


def test_a_phone_turned_away_mid_rep_breaks_the_count(
    tmp_path: Path, estimator: PoseEstimator
) -> None:
    """A handheld phone turns off the lifter during the second rep's hold and back during its
    lowering: the camera's move is reported with its times, and that rep, seen whole in no
    steady view, is not counted; the reps before and after are."""
    sample = SAMPLES / "fast_lowering_right.mp4"
    reps = _label(sample)["reps"]
    clip = tmp_path / "handheld.mp4"
    left, back = swing_away(sample, clip, at_s=_mid_hold(reps[1]) - 0.4)
    analysis = analyze_video(clip, Config(), estimator=estimator)
    said = [w for w in analysis.report.warnings if w.startswith("the camera")]
    assert len(said) == 1, analysis.report.warnings
    found = re.match(
        r"the camera turned away from the lifter from ([\d.]+) s to ([\d.]+) s", said[0]
    )
    assert found, said[0]
    assert [float(found.group(1)), float(found.group(2))] == pytest.approx([left, back], abs=0.15)
    assert [round(r.start_s, 1) for r in analysis.reps] == pytest.approx(
        [reps[0]["start_s"], reps[2]["start_s"]], abs=0.15
    )


@pytest.mark.parametrize(
    ("stacked", "names"),
    [
        (False, ("good_form_right", "short_pause_left", "sagging_hips_left")),
        (True, ("over_arched_right", "fast_lowering_right")),
    ],
)
def test_a_split_screen_is_analysed_in_one_panel(
    tmp_path: Path, estimator: PoseEstimator, stacked: bool, names: tuple[str, ...]
) -> None:
    """Samples shown at once in panels (first rep of each, with a divider, as an editor
    makes a comparison): one panel is analysed, the warning says which, and its reps are
    that sample's."""
    clips = [cut_window(SAMPLES / f"{n}.mp4", tmp_path / f"{n}.mp4", 0.0, 5.6) for n in names]
    split = side_by_side(clips, tmp_path / "split.mp4", divider_px=8, stacked=stacked)
    analysis = analyze_video(split, Config(), estimator=estimator)
    said = [w for w in analysis.report.warnings if w.startswith("a split screen")]
    assert len(said) == 1, analysis.report.warnings
    layout = "stacked" if stacked else "side by side"
    found = re.match(
        rf"a split screen of {len(names)} panels {layout}: analysed only the "
        r"(\w+) panel",
        said[0],
    )
    assert found, said[0]
    where = ["top", "bottom"] if stacked else ["left", "middle", "right"][-len(names) :]
    shown = names[where.index(found.group(1))] if len(names) == 3 or stacked else names[0]
    want = [r for r in _label(SAMPLES / f"{shown}.mp4")["reps"] if r["end_s"] < 5.6]
    assert len(analysis.reps) == len(want) == 1
    assert set(analysis.report.reps[0].faults) == set(want[0]["faults"])
    assert analysis.reps[0].start_s == pytest.approx(want[0]["start_s"], abs=0.15)
    assert (analysis.report.source.width, analysis.report.source.height) == (640, 360)


@pytest.mark.parametrize("quarters", [2, 1], ids=["upside_down", "on_its_side"])
def test_a_clip_with_a_lost_rotation_tag_is_turned_upright(
    quarters: int,
    tmp_path: Path,
    estimator: PoseEstimator,
    sample_analysis: Callable[[str], Analysis],
) -> None:
    """A clip shown upside down read a 241 deg hip angle, with no word of warning."""
    upright = sample_analysis("short_pause_left").report
    one_rep = upright.reps[0].rep.end_s + 0.8  # measured twice: one rep is enough
    clip = turned(SAMPLES / "short_pause_left.mp4", tmp_path / "turned.mp4", quarters, one_rep)
    analysis = analyze_video(clip, Config(), estimator=estimator)
    report = analysis.report
    assert analysis.measurement.turn_deg == (4 - quarters) * 90 % 360
    assert sum("a wrong rotation tag" in w for w in report.warnings) == 1
    assert [rr.faults for rr in report.reps] == [rr.faults for rr in upright.reps[:1]]
    for got, want in zip(report.reps, upright.reps, strict=False):
        assert abs(got.rep.hip_angle_top_deg - want.rep.hip_angle_top_deg) < 3.0
    # The page's stills and the annotated video are turned the same way.
    assert analysis.measurement.frames(clip).info.width == 640
