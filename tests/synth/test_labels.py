"""Labels: the real clips' format, exact rep times, expected faults from the config."""

from __future__ import annotations

import json
from dataclasses import astuple
from pathlib import Path

import pytest

from formcheck.config import Config
from formcheck.evaluate import load_label
from formcheck.synth.kinematics import (
    coach_durations,
    coach_timings,
    eased_fraction,
    top_shin_tilt_deg,
)
from formcheck.synth.labels import build_label, expected_faults
from formcheck.synth.render import render_clip
from formcheck.synth.spec import ClipSpec, RepSpec, random_clip_spec

RULES = Config().rules
EPS = 0.01


SHARE = Config().reps.boundary_share
F = eased_fraction(SHARE)


def _rep(pause: float = 1.5, lowering: float = 1.6, **kw: float) -> RepSpec:
    """A rep whose pause and lowering, as formcheck times them, are `pause` and `lowering`
    (the eased moves' own durations follow: `kinematics.coach_durations`)."""
    con = kw.pop("concentric_s", 1.0)
    ecc = lowering / (1.0 - 2.0 * F)
    rep = RepSpec(
        **{
            "hip_angle_top_deg": 180.0,
            "knee_angle_top_deg": 90.0,
            "concentric_s": con,
            "pause_s": pause - F * (con + ecc),
            "eccentric_s": ecc,
            **kw,
        }
    )
    assert coach_durations(rep, SHARE)[1:] == pytest.approx((pause, lowering))
    return rep


def _faults(rep: RepSpec, band: str, config: Config | None = None, tilt: float = 0.0) -> list[str]:
    return expected_faults(rep, band, config, shin_tilt_deg=tilt)


def test_a_good_rep_with_a_hip_band_has_no_fault() -> None:
    assert _faults(_rep(), "hips") == []
    assert _faults(_rep(), "both") == []


@pytest.mark.parametrize(
    ("field", "threshold", "below", "above"),
    [
        ("hip_angle_top_deg", RULES.top_alignment.min_deg, "under_extension", None),
        ("hip_angle_top_deg", RULES.top_alignment.max_deg, None, "over_extension"),
        ("pause", RULES.pause.min_s, "short_pause", None),
        ("lowering", RULES.lowering_tempo.min_s, "fast_lowering", None),
        ("shin_tilt", RULES.shin_angle.min_deg, "feet_too_close", None),
        ("shin_tilt", RULES.shin_angle.max_deg, None, "feet_too_far"),
    ],
)
def test_faults_switch_exactly_at_the_config_thresholds(
    field: str, threshold: float, below: str | None, above: str | None
) -> None:
    def at_value(value: float) -> list[str]:
        if field == "shin_tilt":  # a level thigh: the knee angle is 90 + the tilt
            return _faults(_rep(knee_angle_top_deg=90.0 + value), "hips", tilt=value)
        return _faults(_rep(**{field: value}), "hips")

    just_below, at, just_above = (at_value(threshold + d) for d in (-EPS, 0.0, EPS))
    assert just_below == ([below] if below else [])
    assert at == []  # strict comparisons, as in the rules
    assert just_above == ([above] if above else [])


def test_a_feet_fault_needs_the_knee_past_its_limit_too() -> None:
    """A sloped thigh (a sag, an arch): the shin tilted past its limit, the knee not."""
    assert _faults(_rep(knee_angle_top_deg=75.0), "hips", tilt=-30.0) == []
    assert _faults(_rep(knee_angle_top_deg=60.0), "hips", tilt=-30.0) == ["feet_too_close"]
    assert _faults(_rep(knee_angle_top_deg=105.0), "hips", tilt=30.0) == []
    assert _faults(_rep(knee_angle_top_deg=120.0), "hips", tilt=30.0) == ["feet_too_far"]


def test_band_faults() -> None:
    assert _faults(_rep(), "knees") == ["band_at_knees"]
    assert _faults(_rep(), "none") == ["no_band"]
    bodyweight = Config().with_overrides({"rules.band.expected": False})
    assert _faults(_rep(), "none", bodyweight) == []


def test_faults_follow_a_custom_config() -> None:
    strict = Config().with_overrides({"rules.pause.min_s": 2.0})
    assert _faults(_rep(pause=1.5), "hips", strict) == ["short_pause"]


def test_label_has_the_shared_format_and_exact_times() -> None:
    spec = random_clip_spec(21, n_reps=4)
    label = build_label(spec, "clip.mp4", version="9.9")
    for key in (
        "clip",
        "video",
        "exercise",
        "usable",
        "segments",
        "people",
        "view",
        "band",
        "reps",
        "rep_count",
        "generator",
    ):
        assert key in label, key
    assert label["exercise"] == "band_hip_thrust" and label["usable"] is True
    video = label["video"]
    assert video["frame_count"] == spec.frame_count
    assert video["duration_s"] == pytest.approx(spec.frame_count / spec.fps)
    assert (video["width"], video["height"], video["fps"]) == (spec.width, spec.height, spec.fps)
    assert label["segments"] == [[0.0, video["duration_s"]]]
    assert label["rep_count"] == len(label["reps"]) == 4
    assert label["view"] == ("side_left" if spec.facing == "left" else "side_right")
    previous_end = 0.0
    for rep, rs, tm in zip(label["reps"], spec.reps, coach_timings(spec, SHARE), strict=True):
        assert (
            previous_end
            < rep["start_s"]
            < rep["top_start_s"]
            <= rep["top_end_s"]
            < rep["end_s"]
            <= video["duration_s"]
        )
        assert rep["top_start_s"] - rep["start_s"] == pytest.approx(rep["concentric_s"])
        assert rep["top_end_s"] - rep["top_start_s"] == pytest.approx(rep["pause_s"])
        assert rep["end_s"] - rep["top_end_s"] == pytest.approx(rep["eccentric_s"])
        assert (rep["start_s"], rep["top_start_s"], rep["top_end_s"], rep["end_s"]) == (
            pytest.approx(astuple(tm))
        )
        assert (rep["concentric_s"], rep["pause_s"], rep["eccentric_s"]) == pytest.approx(
            coach_durations(rs, SHARE)
        )
        assert rep["rest_before_s"] == pytest.approx(rs.rest_s)
        tilt = top_shin_tilt_deg(
            spec.body, spec.bench_height_m, rs.hip_angle_top_deg, rs.knee_angle_top_deg
        )
        assert rep["shin_tilt_top_deg"] == pytest.approx(tilt, abs=1e-3)
        assert rep["faults"] == _faults(rs, spec.band, tilt=tilt)
        assert rep["band"] == spec.band
        previous_end = rep["end_s"]
    assert label["faults_seen"] == sorted({f for r in label["reps"] for f in r["faults"]})
    gen = label["generator"]
    assert gen["seed"] == spec.seed and gen["formcheck_version"] == "9.9"
    assert ClipSpec.from_dict(json.loads(json.dumps(gen["spec"]))) == spec


def test_people_and_view() -> None:
    assert build_label(ClipSpec(facing="right"), "a.mp4")["view"] == "side_right"
    assert build_label(ClipSpec(), "a.mp4")["people"] == 1
    assert build_label(ClipSpec(second_person=True), "a.mp4")["people"] == 2


def test_render_clip_writes_a_playable_video_and_its_label(tmp_path: Path) -> None:
    from formcheck.video import FileSource, probe

    spec = ClipSpec(
        width=320,
        height=180,
        fps=24.0,
        tail_s=0.2,
        reps=(RepSpec(180.0, 90.0, 0.5, 0.3, 0.5, 0.3),),
    )
    calls: list[tuple[int, int]] = []
    label = render_clip(
        spec, tmp_path / "out" / "clip.mp4", progress=lambda d, t: calls.append((d, t))
    )
    video = tmp_path / "out" / "clip.mp4"
    on_disk = json.loads((tmp_path / "out" / "clip.json").read_text(encoding="utf-8"))
    assert on_disk == label and label["clip"] == "clip.mp4"
    assert calls[-1] == (spec.frame_count, spec.frame_count) and len(calls) == spec.frame_count
    info = probe(video)
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(24.0)
    frames = list(FileSource(video))
    assert len(frames) == spec.frame_count
    assert frames[5].t_s == pytest.approx(5 / 24.0, abs=1e-3)
    assert not list(tmp_path.glob("out/.*"))  # no temporary files left behind


def test_render_clip_writes_the_label_where_asked(tmp_path: Path) -> None:
    spec = ClipSpec(
        width=160, height=96, reps=(RepSpec(180.0, 90.0, 0.3, 0.0, 0.3, 0.1),), tail_s=0.1
    )
    render_clip(spec, tmp_path / "v.mp4", label_path=tmp_path / "labels" / "v_truth.json")
    assert (tmp_path / "labels" / "v_truth.json").is_file()
    assert not (tmp_path / "v.json").exists()


def test_the_harness_reads_back_what_the_generator_writes(tmp_path: Path) -> None:
    """One typed label model for writing and reading: a generated label read by the
    harness and written again is the same JSON."""
    label = build_label(random_clip_spec(21, n_reps=3), "clip.mp4", version="9.9")
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(label), encoding="utf-8")
    read = load_label(path)
    assert read.to_dict() == label
    assert [r.times_s for r in read.reps] == [
        (r["start_s"], r["top_start_s"], r["top_end_s"], r["end_s"]) for r in label["reps"]
    ]
    assert read.reps[0].shin_tilt_top_deg == label["reps"][0]["shin_tilt_top_deg"]
