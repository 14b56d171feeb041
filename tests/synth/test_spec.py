"""Clip specs: validation, JSON round trip, seeded random specs kept clear of thresholds."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.config import Config
from formcheck.synth.kinematics import coach_durations, plan_motion
from formcheck.synth.labels import shin_tilts, spec_faults
from formcheck.synth.spec import (
    ANGLE_MARGIN_DEG,
    BAND_COLORS,
    TIME_MARGIN_S,
    Body,
    ClipSpec,
    Lighting,
    RepSpec,
    hex_to_bgr,
    random_clip_spec,
    with_legs_like_band,
)

SEEDS = range(150)


def test_round_trip_through_json() -> None:
    spec = random_clip_spec(7, occlusion=True, second_person=True)
    data = json.loads(json.dumps(spec.to_dict()))
    assert ClipSpec.from_dict(data) == spec


def test_from_dict_fills_defaults_and_rejects_unknown_keys() -> None:
    assert ClipSpec.from_dict({"seed": 3}) == ClipSpec(seed=3)
    with pytest.raises(ValueError, match="unknown ClipSpec"):
        ClipSpec.from_dict({"seeed": 3})
    with pytest.raises(ValueError, match="unknown Body"):
        ClipSpec.from_dict({"body": {"height": 1.8}})


@pytest.mark.parametrize(
    "bad",
    [
        {"facing": "up"},
        {"band": "ankles"},
        {"band_color": "pink"},
        {"fps": 0.0},
        {"reps": ()},
        {"wall_color": "white"},
        {"noise": -1.0},
        {"seed": 1.5},
        {"bottom_hip_angle_deg": 170.0},
        {"portrait": True},
    ],
)
def test_invalid_specs_raise(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ClipSpec(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"hip_angle_top_deg": 100.0},
        {"knee_angle_top_deg": 170.0},
        {"concentric_s": 0.0},
        {"pause_s": -0.1},
        {"eccentric_s": 0.05},
        {"rest_s": -1.0},
    ],
)
def test_invalid_reps_raise(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RepSpec(**bad)


def test_nested_values_are_validated() -> None:
    with pytest.raises(ValueError):
        Body(height_m=3.0)
    with pytest.raises(ValueError):
        Lighting(cast_rgb=(1.0, 1.0))  # type: ignore[arg-type]


def test_hex_colours_convert_to_bgr() -> None:
    assert hex_to_bgr("#102030") == (0x30, 0x20, 0x10)
    assert all(len(hex_to_bgr(c)) == 3 for c in BAND_COLORS.values())


def test_frame_count_covers_the_motion() -> None:
    spec = ClipSpec(fps=24.0)
    assert spec.frame_count == round(spec.duration_s * 24.0)


def test_random_specs_are_deterministic_and_varied() -> None:
    assert random_clip_spec(11) == random_clip_spec(11)
    specs = [random_clip_spec(s) for s in SEEDS]
    assert len({s.to_dict().__repr__() for s in specs}) == len(specs)
    for field in ("facing", "band", "band_color", "background", "portrait", "fps", "arm_pose"):
        values = {getattr(s, field) for s in specs}
        assert len(values) > 1, field
    assert {s.fps for s in specs} == {24.0, 30.0, 60.0}
    assert any(s.second_person for s in specs) and any(s.occlusion for s in specs)


def test_overrides_replace_only_their_field() -> None:
    base = random_clip_spec(5)
    over = random_clip_spec(5, band="knees", facing="right", n_reps=2)
    assert over.band == "knees" and over.facing == "right" and len(over.reps) == 2
    assert over.look == base.look and over.body == base.body and over.lighting == base.lighting
    with pytest.raises(ValueError, match="unknown"):
        random_clip_spec(5, colour="red")


def test_random_specs_can_be_rendered() -> None:
    for seed in SEEDS:
        plan_motion(random_clip_spec(seed))  # raises if a position is unreachable


def test_random_specs_mix_good_and_faulty_reps() -> None:
    faults: set[str] = set()
    good = 0
    for seed in SEEDS:
        for codes in spec_faults(random_clip_spec(seed)):
            faults.update(codes)
            good += not codes
    assert good > 100
    rule_faults = {
        "under_extension",
        "over_extension",
        "short_pause",
        "fast_lowering",
        "feet_too_close",
        "feet_too_far",
        "band_at_knees",
        "no_band",
    }
    assert faults == rule_faults


SHARE = Config().reps.boundary_share


def test_random_values_keep_clear_of_every_threshold() -> None:
    rules = Config().rules
    hip_thresholds = (rules.top_alignment.min_deg, rules.top_alignment.max_deg)
    shin = rules.shin_angle
    m = ANGLE_MARGIN_DEG - 0.3  # the knee grid's step
    for seed in SEEDS:
        spec = random_clip_spec(seed)
        for rep, tilt in zip(spec.reps, shin_tilts(spec), strict=True):
            for th in hip_thresholds:
                assert abs(rep.hip_angle_top_deg - th) >= ANGLE_MARGIN_DEG - 0.05
            knee = rep.knee_angle_top_deg
            # A feet fault needs the shin and the knee past their limits: either both are
            # clearly past, or one of them is clearly short of its limit.
            close = min(shin.min_deg - tilt, shin.knee_min_deg - knee)
            far = min(tilt - shin.max_deg, knee - shin.knee_max_deg)
            assert abs(close) >= m and abs(far) >= m, (seed, tilt, knee)
            _, pause, lowering = coach_durations(rep, SHARE)  # as formcheck times them
            assert abs(pause - rules.pause.min_s) >= TIME_MARGIN_S - 0.01
            assert abs(lowering - rules.lowering_tempo.min_s) >= TIME_MARGIN_S - 0.01


def test_random_specs_follow_a_custom_config() -> None:
    cfg = Config().with_overrides({"rules.pause.min_s": 2.0})
    for seed in range(40):
        for rep in random_clip_spec(seed, config=cfg).reps:
            assert abs(coach_durations(rep, SHARE)[1] - 2.0) >= TIME_MARGIN_S - 0.01


def test_specs_are_frozen() -> None:
    spec = ClipSpec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 2  # type: ignore[misc]


def test_a_given_size_decides_portrait() -> None:
    for seed in range(20):
        assert not random_clip_spec(seed, width=640, height=360).portrait
        assert random_clip_spec(seed, width=360, height=640).portrait
        tall = random_clip_spec(seed, portrait=True)
        assert tall.height > tall.width


def test_legs_like_band_dresses_the_person_in_leggings_of_the_band_colour() -> None:
    spec = random_clip_spec(3, band="knees", band_color="red")
    dressed = with_legs_like_band(spec)
    assert dressed.look.legwear == "leggings"
    assert dressed.look.legwear_color == BAND_COLORS["red"]
    # Nothing else changes: the same clip in other clothes.
    assert dataclasses.replace(dressed, look=spec.look) == spec


def test_synth_command_can_dress_the_legs_like_the_band(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            str(out),
            "--seed",
            "3",
            "--band",
            "knees",
            "--band-color",
            "yellow",
            "--reps",
            "1",
            "--size",
            "160x90",
            "--legs-like-band",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    look = json.loads(out.with_suffix(".json").read_text())["generator"]["spec"]["look"]
    assert (look["legwear"], look["legwear_color"]) == ("leggings", BAND_COLORS["yellow"])
