"""The one configuration model: every threshold and default lives here, nowhere else.

Precedence: command-line options > the `--config` TOML file > these defaults.
Each coaching threshold cites its source in `docs/COACHING` terms (the team's COACHING.md):
- top alignment: a straight knee-hip-shoulder line, about 180 deg (PureGym; Contreras);
- shins vertical at the top (Contreras; 365physique): tilt within 20 deg of vertical;
- pause at the top: 1 s is the common cue (365physique);
- lowering: controlled, 1-2 s or more (ACSM 2009 position stand; Schoenfeld 2015).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from formcheck.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PoseConfig(_Section):
    """Pose estimation (MediaPipe PoseLandmarker)."""

    model: Path | None = Field(None, description="PoseLandmarker .task bundle; None: bundled")
    num_poses: int = Field(
        1, ge=1, le=5, description="people tracked (each extra one costs ~50% model time)"
    )
    count_people_every_s: float = Field(
        2.0, ge=0, description="how often (s of video) to count the people in view; 0: never"
    )
    min_detection_confidence: float = Field(0.5, ge=0, le=1)
    min_presence_confidence: float = Field(0.5, ge=0, le=1)
    min_tracking_confidence: float = Field(0.5, ge=0, le=1)
    stride: int = Field(1, ge=1, le=10, description="analyse at least every n-th frame")
    max_fps: float = Field(
        15.0,
        ge=0,
        le=240,
        description="time reps on about this many frames per second of video (24, 25 and 30"
        " fps clips every 2nd frame, 60 fps every 4th); 0: every frame",
    )
    models: int = Field(
        2,
        ge=1,
        le=2,
        description="pose models run at once on a recorded clip, each on a part of it (2: both"
        " cores; 1 where other work fills them: batch jobs, live coaching)",
    )


class TrackConfig(_Section):
    """Turning landmarks into a clean track: side choice, gaps, smoothing."""

    min_visibility: float = Field(
        0.5, ge=0, le=1, description="landmarks below this visibility count as missing"
    )
    max_gap_s: float = Field(0.4, ge=0, description="longest gap (s) filled by interpolation")
    max_scale_ratio: float = Field(
        1.6,
        gt=1,
        description="a pose whose torso is this many times longer or shorter than"
        " in the seconds around is another detection: missing",
    )
    scale_window_s: float = Field(
        4.0,
        gt=0,
        description="the seconds around a frame whose median torso length it is"
        " compared with (max_scale_ratio)",
    )
    max_shot_scale_ratio: float = Field(
        2.0,
        gt=1,
        description="a pose whose torso is this many times longer or shorter than"
        " the shot's lifter's is another detection: missing",
    )
    min_torso_lean: float = Field(
        0.3,
        ge=0,
        le=1,
        description="a torso leans one way when its horizontal extent is at"
        " least this share of its length",
    )
    min_facing_share: float = Field(
        0.75,
        gt=0.5,
        le=1,
        description="when this share of the leaning torsos of a shot lean"
        " one way, one leaning the other way is another"
        " detection: missing",
    )
    despike_s: float = Field(
        0.45, ge=0, description="running-median window (s): removes landmark glitches"
    )
    cutoff_hz: float = Field(
        3.0, gt=0, description="offline zero-phase low-pass cutoff (Hz) for angles"
    )
    one_euro_min_cutoff_hz: float = Field(1.5, gt=0, description="live One-Euro filter")
    one_euro_beta: float = Field(0.05, ge=0, description="live One-Euro speed coefficient")
    min_tracked_fraction: float = Field(
        0.3, ge=0, le=1, description="below this share of frames with a pose: no person"
    )
    max_knee_jump_l: float = Field(
        0.3,
        gt=0,
        description="a knee that moves more than this many thigh lengths in 1/15 s has"
        " jumped (feet planted, the knee barely moves in a hip thrust)",
    )
    max_knee_jump_share: float = Field(
        0.05,
        gt=0,
        le=1,
        description="above this share of frame steps with a jumped knee the pose model"
        " is not following the legs: the top and shin angles are not judged",
    )


class RepConfig(_Section):
    """Rep segmentation on the signed hip angle, relative to each rep's own range."""

    min_range_deg: float = Field(
        25.0, gt=0, description="rise from the bottom that makes a lift (deg); less is a twitch"
    )
    bottom_return: float = Field(
        0.35, gt=0, lt=1, description="back at the bottom within this share of the rep's rise"
    )
    top_share: float = Field(
        0.6, gt=0, lt=1, description="the top hold lies above this share of the rep's rise"
    )
    min_rep_s: float = Field(0.8, gt=0, description="shorter cycles are jitter, not reps")
    still_speed_deg_s: float = Field(
        20.0,
        gt=0,
        description="live phase display: hip speed (deg/s) below which the hips"
        " are held still at the top",
    )
    boundary_share: float = Field(
        0.05,
        gt=0,
        lt=0.5,
        description="a phase boundary: the hips within this share of the"
        " rep's range of the level they leave or reach",
    )
    still_speed_floor_deg_s: float = Field(
        6.0,
        gt=0,
        description="hips slower than this (deg/s) have stopped: a lowering the"
        " clip cuts off is one still faster at its end",
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> RepConfig:
        if not self.bottom_return < self.top_share:
            raise ValueError("rep thresholds need bottom_return < top_share")
        return self


class TopAlignmentConfig(_Section):
    target_deg: float = 180.0
    min_deg: float = Field(165.0, description="below: under_extension (hips sag)")
    max_deg: float = Field(195.0, description="above: over_extension (lumbar arch)")


class PauseConfig(_Section):
    min_s: float = Field(1.0, ge=0, description="shortest hold at the top (365physique: 1 s)")


class LoweringConfig(_Section):
    min_s: float = Field(1.0, ge=0, description="shortest eccentric (ACSM 2009: 1-2 s)")


class ShinConfig(_Section):
    """Feet placement at the top: the shin's tilt from vertical and the knee angle (deg).

    The tilt is 0 with the shins vertical, + with the ankle beyond the knee, - with it back
    towards the hips. On a bench the thigh is level at the top, so a tilt of +-20 deg is a
    knee angle of 110/70 deg and the two say the same; from the floor (a glute bridge) the
    thigh slopes up to the knee, vertical shins make a knee angle of 50-70 deg and a knee
    at 90 deg leans the shin out 20-30 deg, and coaches accept both set-ups. So a feet
    fault needs both: the shin tilted past its limit and the knee angle past its limit.
    """

    target_deg: float = 0.0
    min_deg: float = Field(
        -20.0, description="tilt below this and knee under knee_min_deg: feet_too_close"
    )
    max_deg: float = Field(
        20.0, description="tilt above this and knee over knee_max_deg: feet_too_far"
    )
    knee_min_deg: float = Field(
        70.0, description="knee angle under this (and the tilt under min_deg): feet_too_close"
    )
    knee_max_deg: float = Field(
        110.0, description="knee angle over this (and the tilt over max_deg): feet_too_far"
    )


#: The band colours formcheck knows (`--band-color`); see `formcheck.band.colors`.
BandColor = Literal["red", "green", "blue", "yellow", "black", "purple", "orange"]


class BandConfig(_Section):
    """The band: is one expected, its colour, and how the detector looks for it."""

    expected: bool = Field(True, description="a band is used (False: bodyweight set)")
    color: BandColor | None = Field(
        None,
        description="band colour: red, green, blue, yellow, black, purple or orange; None: find it",
    )
    detect: bool = Field(
        True, description="look for the band in the video (False: placement not judged)"
    )
    sample_every_s: float = Field(
        0.15, gt=0, le=2, description="seconds of video between frames checked for the band"
    )
    min_strand: float = Field(
        0.45, ge=0, le=1, description="evidence (0-1) of a strand hip->feet: band across the hips"
    )
    min_strand_black: float = Field(
        0.7, ge=0, le=1, description="the same for a black band (shadows and outlines are dark)"
    )
    min_knee_loop: float = Field(
        0.45, ge=0, le=1, description="evidence (0-1) of a loop round the thighs: band at the knees"
    )
    retake_frames: int = Field(
        5,
        ge=0,
        le=30,
        description="frames of each banded rep's top measured again with the"
        " band painted out (a band across the leg pulls the knee"
        " landmark); 0: off",
    )

    @field_validator("color", mode="before")
    @classmethod
    def _color_name(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class RulesConfig(_Section):
    top_alignment: TopAlignmentConfig = TopAlignmentConfig()
    pause: PauseConfig = PauseConfig()
    lowering_tempo: LoweringConfig = LoweringConfig()
    shin_angle: ShinConfig = ShinConfig()
    band: BandConfig = BandConfig()
    min_confidence: float = Field(
        0.5, ge=0, le=1, description="below this landmark confidence a rule says not_judged"
    )


class LiveConfig(_Section):
    """Live coaching (`formcheck live`): the camera loop, its feedback and when a set ends."""

    mirror: bool | None = Field(
        None, description="show the picture mirrored; None: cameras yes, files and streams no"
    )
    verdict_s: float = Field(2.0, gt=0, description="a rep's verdict stays on screen this long (s)")
    settle_s: float = Field(
        0.6,
        ge=0,
        le=1,
        description="a rep is judged this long (s) after its end, once the hips have settled"
        " (a real lowering ends with a slow settle: judged 0.3 s after, it came out 0.3-0.7 s"
        " short on real clips)",
    )
    idle_end_s: float = Field(
        10.0,
        ge=0,
        description="after a rep, the set ends when nothing moves this long (s); 0: never",
    )
    idle_motion_deg: float = Field(
        10.0, gt=0, description="a change of the hip angle (deg) that counts as movement"
    )
    max_frame_age_s: float = Field(
        0.1, gt=0, description="frames older than this (s) when their turn comes are dropped"
    )
    disconnect_s: float = Field(
        2.0, gt=0, description="a camera that delivers no frame for this long (s) is gone"
    )
    min_brightness: float = Field(
        40.0, ge=0, le=255, description="mean grey level (0-255) below which it is too dark"
    )
    summary_s: float = Field(
        15.0, ge=0, description="the end-of-set summary stays this long (s), or until a key"
    )
    speak: bool = Field(True, description="speak cues when a text-to-speech engine is installed")


class Config(_Section):
    """Everything formcheck can be told. Defaults are the documented coaching defaults."""

    pose: PoseConfig = PoseConfig()
    track: TrackConfig = TrackConfig()
    reps: RepConfig = RepConfig()
    rules: RulesConfig = RulesConfig()
    live: LiveConfig = LiveConfig()

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """A copy with dotted-key overrides applied (e.g. {"pose.stride": 2}); None is skipped."""
        data = self.model_dump()
        for dotted, value in overrides.items():
            if value is None:
                continue
            node: Any = data
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node.get(key) if isinstance(node, dict) else None
            if not isinstance(node, dict) or leaf not in node:
                raise ConfigError(f"unknown setting {dotted}")
            node[leaf] = value
        return _validate(data, "options")


def _validate(data: dict[str, Any], origin: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{origin}: {where}: {err['msg']}") from exc


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, overlaid with the TOML file at `path` when given.

    Raises:
        ConfigError: missing or unparsable file, unknown key, or a value out of range.
    """
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML file ({exc})") from exc
    return _validate(data, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _section_lines(model: BaseModel, name: str) -> list[str]:
    lines: list[str] = []
    doc = (type(model).__doc__ or "").strip().splitlines()
    if name:
        lines += ["", f"[{name}]"] + ([f"# {doc[0]}"] if doc else [])
    nested: list[tuple[str, BaseModel]] = []
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        if isinstance(value, BaseModel):
            nested.append((f"{name}.{key}" if name else key, value))
            continue
        comment = f"  # {info.description}" if info.description else ""
        if value is None:
            lines.append(f"# {key} = ...{comment}")
        else:
            lines.append(f"{key} = {_toml_value(value)}{comment}")
    for child_name, child in nested:
        lines += _section_lines(child, child_name)
    return lines


def config_to_toml(cfg: Config) -> str:
    """The configuration as commented TOML that `load_config` reads back to the same model."""
    header = [
        "# formcheck configuration. Precedence: command-line options > this file > defaults.",
        "# Print the effective configuration with `formcheck config [--config FILE]`.",
        "# Angles in degrees (signed hip angle: 180 = straight line), times in seconds.",
    ]
    return "\n".join(header + _section_lines(cfg, "")).strip() + "\n"
