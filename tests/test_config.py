"""The one configuration model: defaults, the example file, TOML round trip, errors, precedence."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.config import (
    Config,
    PoseConfig,
    RepConfig,
    config_to_toml,
    load_config,
)
from formcheck.errors import ConfigError


def _example_text() -> str:
    return resources.files("formcheck").joinpath("example_config.toml").read_text("utf-8")


def _write(tmp_path: Path, text: str, name: str = "formcheck.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and the example file -----------------------------------------------------


def test_defaults_match_the_coaching_sources() -> None:
    """COACHING.md: straight line 180 deg, shins vertical (no tilt), a 1 s pause, a 1 s
    (or slower) lowering. The bands around the targets must contain the targets."""
    rules = Config().rules
    assert rules.top_alignment.target_deg == 180.0
    assert rules.top_alignment.min_deg < 180.0 < rules.top_alignment.max_deg
    assert rules.shin_angle.target_deg == 0.0  # shins vertical: no tilt
    assert rules.shin_angle.min_deg < 0.0 < rules.shin_angle.max_deg
    assert rules.pause.min_s == 1.0
    assert rules.lowering_tempo.min_s == 1.0
    assert rules.band.expected is True


README = Path(__file__).resolve().parents[1] / "README.md"
_DEFAULTS = Config()
# Each default the README states, as (the README's words with the number as a group, the
# default). A default changed without the README, or the README without the default, fails.
README_DEFAULTS: list[tuple[str, float]] = [
    (r"`under_extension` < (\d+(?:\.\d+)?)°", _DEFAULTS.rules.top_alignment.min_deg),
    (r"`over_extension` > (\d+(?:\.\d+)?)°", _DEFAULTS.rules.top_alignment.max_deg),
    (r"`short_pause` < (\d+(?:\.\d+)?) s", _DEFAULTS.rules.pause.min_s),
    (r"`fast_lowering` < (\d+(?:\.\d+)?) s", _DEFAULTS.rules.lowering_tempo.min_s),
    (r"`feet_too_close` < (-?\d+(?:\.\d+)?)°", _DEFAULTS.rules.shin_angle.min_deg),
    (r"`feet_too_far` > (-?\d+(?:\.\d+)?)°", _DEFAULTS.rules.shin_angle.max_deg),
    (r"-?\d+° with the knee angle under (\d+)°", _DEFAULTS.rules.shin_angle.knee_min_deg),
    (r"-?\d+° with the knee angle over (\d+)°", _DEFAULTS.rules.shin_angle.knee_max_deg),
    (r"tilt from vertical \((\d+)° = shins vertical", _DEFAULTS.rules.shin_angle.target_deg),
    (r"\((\d+) = straight knee-hip-shoulder line\)", _DEFAULTS.rules.top_alignment.target_deg),
    (r"about (\d+) frames per second of video\s+\(`pose.max_fps`", _DEFAULTS.pose.max_fps),
    (r"about (\d+(?:\.\d+)?) s after it ends \(`live.settle_s`\)", _DEFAULTS.live.settle_s),
    (r"`live.max_frame_age_s`\s+\((\d+(?:\.\d+)?) s\)", _DEFAULTS.live.max_frame_age_s),
    (r"`live.idle_end_s` \((\d+(?:\.\d+)?) s\)", _DEFAULTS.live.idle_end_s),
]


@pytest.mark.parametrize(
    ("words", "default"),
    README_DEFAULTS,
    ids=[w.split(" ")[0].strip("`\\(") for w, _ in README_DEFAULTS],
)
def test_the_readme_states_the_defaults(words: str, default: float) -> None:
    found = re.findall(words, README.read_text(encoding="utf-8"))
    assert found, f"the README no longer says {words!r}"
    assert {float(f) for f in found} == {default}


def test_no_path_means_defaults() -> None:
    assert load_config(None) == Config()


def test_the_shipped_example_config_loads_and_equals_the_defaults(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, _example_text())) == Config()


def test_the_example_config_documents_every_setting() -> None:
    text = _example_text()
    for section_name, section in Config().model_dump().items():
        assert f"[{section_name}]" in text
        for key, value in section.items():
            if isinstance(value, dict):
                assert f"[{section_name}.{key}]" in text
                for leaf in value:
                    assert f"{leaf} = " in text, f"{section_name}.{key}.{leaf}"
            else:
                assert f"{key} = " in text, f"{section_name}.{key}"


def test_formcheck_config_prints_the_example_file() -> None:
    """The example cannot drift: it is exactly what `formcheck config` prints."""
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    assert result.stdout == _example_text()


def test_formcheck_config_shows_a_file_overlaid_on_the_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "[pose]\nstride = 3\n")
    result = CliRunner().invoke(app, ["config", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "stride = 3" in result.stdout
    assert load_config(_write(tmp_path, result.stdout, "shown.toml")).pose.stride == 3


# --- TOML round trip -------------------------------------------------------------------


def _every_setting_changed() -> Config:
    return Config().with_overrides(
        {
            "pose.model": '/models/with "quotes" and \\backslash/pose.task',
            "pose.num_poses": 2,
            "pose.count_people_every_s": 0.5,
            "pose.min_detection_confidence": 0.6,
            "pose.stride": 2,
            "track.min_visibility": 0.4,
            "track.max_gap_s": 0.25,
            "track.cutoff_hz": 4.5,
            "track.one_euro_beta": 0.1,
            "reps.top_share": 0.8,
            "reps.min_rep_s": 1.1,
            "rules.top_alignment.min_deg": 160.0,
            "rules.pause.min_s": 1.5,
            "rules.shin_angle.max_deg": 115.0,
            "rules.band.expected": False,
            "rules.band.color": "red",
            "rules.min_confidence": 0.6,
        }
    )


@pytest.mark.parametrize("cfg", [Config(), _every_setting_changed()], ids=["defaults", "changed"])
def test_config_to_toml_round_trips(cfg: Config, tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, config_to_toml(cfg))) == cfg


def test_round_trip_really_changed_the_settings() -> None:
    cfg = _every_setting_changed()
    assert cfg != Config()
    assert cfg.pose.model == Path('/models/with "quotes" and \\backslash/pose.task')
    assert cfg.rules.band.color == "red"


def test_config_to_toml_round_trips_turning_the_people_count_off(tmp_path: Path) -> None:
    cfg = Config(pose=PoseConfig(count_people_every_s=0))
    assert load_config(_write(tmp_path, config_to_toml(cfg))) == cfg


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[reps]\nbogus = 1\n", "reps.bogus"),
        ("[nope]\nx = 1\n", "nope"),
        ("stride = 2\n", "stride"),  # a known key in the wrong section
        ("[reps]\ntop_share = 1.5\n", "reps.top_share"),
        ("[reps]\nmin_rep_s = 0\n", "reps.min_rep_s"),
        ("[pose]\nstride = 11\n", "pose.stride"),
        ('[pose]\nstride = "two"\n', "pose.stride"),
        ("[track]\nmin_visibility = -0.1\n", "track.min_visibility"),
        ("[rules]\nmin_confidence = 2\n", "rules.min_confidence"),
        ("[rules.pause]\nmin_s = -1\n", "rules.pause.min_s"),
    ],
)
def test_bad_settings_raise_a_readable_config_error(
    text: str,
    where: str,
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {where}: ")
    assert "\n" not in message
    assert "pydantic" not in message
    assert info.value.exit_code == 2


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not a valid TOML"):
        load_config(_write(tmp_path, "[reps\n"))
    with pytest.raises(ConfigError, match="not a valid TOML"):
        load_config(tmp_path)  # a folder
    bad_bytes = tmp_path / "latin1.toml"
    bad_bytes.write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="not a valid TOML"):
        load_config(bad_bytes)


# --- hysteresis ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"bottom_return": 0.6, "top_share": 0.6},  # no band between them
        {"bottom_return": 0.7, "top_share": 0.6},  # crossed
    ],
)
def test_hysteresis_validator_refuses_crossed_thresholds(fields: dict[str, float]) -> None:
    with pytest.raises(ValidationError, match="bottom_return < top_share"):
        RepConfig(**fields)
    with pytest.raises(ConfigError, match=r"reps: .*bottom_return < top_share"):
        Config().with_overrides({f"reps.{k}": v for k, v in fields.items()})


def test_hysteresis_allows_a_narrow_band() -> None:
    cfg = RepConfig(bottom_return=0.5, top_share=0.51)
    assert cfg.bottom_return < cfg.top_share


# --- precedence ------------------------------------------------------------------------


def test_precedence_options_over_file_over_defaults(tmp_path: Path) -> None:
    file_cfg = load_config(_write(tmp_path, "[pose]\nstride = 3\nnum_poses = 2\n"))
    cfg = file_cfg.with_overrides({"pose.stride": 5, "pose.num_poses": None})
    assert cfg.pose.stride == 5, "an option beats the file"
    assert cfg.pose.num_poses == 2, "None (option not given) keeps the file's value"
    assert cfg.pose.min_detection_confidence == Config().pose.min_detection_confidence
    assert file_cfg.pose.stride == 3, "with_overrides returns a copy"


def test_with_overrides_reaches_nested_sections() -> None:
    cfg = Config().with_overrides(
        {"rules.band.expected": False, "rules.top_alignment.max_deg": 200.0}
    )
    assert cfg.rules.band.expected is False
    assert cfg.rules.top_alignment.max_deg == 200.0


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"pose.nope": 1}, "unknown setting pose.nope"),
        ({"pose.stride": 0}, "options: pose.stride"),
        ({"reps.bottom_return": 0.9}, "options: reps"),
    ],
)
def test_with_overrides_errors(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Config().with_overrides(overrides)


@pytest.mark.parametrize("key", ["nope.stride", "pose.stride.value"])
def test_with_overrides_unknown_section_is_a_config_error(key: str) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        Config().with_overrides({key: 1})


def test_config_is_immutable() -> None:
    cfg = Config()
    with pytest.raises(ValidationError):
        cfg.pose.stride = 2  # type: ignore[misc]
