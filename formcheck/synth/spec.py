"""What a synthetic clip shows: frozen, validated, JSON-round-trippable specs.

A `ClipSpec` plus its `seed` fully determines every pixel of a rendered clip (same spec on
the same machine => byte-identical frames), and `ClipSpec.to_dict()` is stored in each
clip's label so that any clip can be regenerated with `ClipSpec.from_dict()`.

Units: lengths in metres, times in seconds, angles in degrees, image sizes in pixels.
Colours are "#RRGGBB" strings (RGB order, as people write them); drawing converts them to
OpenCV's BGR order.

Conventions for the two angles that define a rep's top position:
- signed hip angle: the angle at the hip between hip->shoulder and hip->knee; 180 means
  shoulder, hip and knee are collinear, below 180 the hips sag below the shoulder-knee line
  (under-extension), above 180 they are pushed above it (over-extension);
- knee angle: the angle at the knee between knee->hip and knee->ankle (90 = shin
  perpendicular to the thigh, 180 = straight leg).
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast, get_args

from formcheck.config import Config

Facing = Literal["left", "right"]
BandPlacement = Literal["hips", "knees", "both", "none"]
BackgroundKind = Literal["plain", "cluttered"]
ArmPose = Literal["bench", "hips"]
HairStyle = Literal["short", "long", "bun", "bald"]
Legwear = Literal["shorts", "leggings"]
Sleeves = Literal["short", "long", "tank"]

FACINGS: tuple[str, ...] = get_args(Facing)
BAND_PLACEMENTS: tuple[str, ...] = get_args(BandPlacement)
BACKGROUNDS: tuple[str, ...] = get_args(BackgroundKind)
ARM_POSES: tuple[str, ...] = get_args(ArmPose)
HAIR_STYLES: tuple[str, ...] = get_args(HairStyle)
LEGWEARS: tuple[str, ...] = get_args(Legwear)
SLEEVES: tuple[str, ...] = get_args(Sleeves)
FRAME_RATES: tuple[int, ...] = (24, 30, 60)

#: Band colours a clip may use, as "#RRGGBB"; the names are the label's `band_color`.
BAND_COLORS: dict[str, str] = {
    "red": "#d0262b",
    "green": "#2f9e46",
    "blue": "#2554c7",
    "yellow": "#f2c417",
    "black": "#1e1e22",
    "purple": "#7a3db3",
    "orange": "#f07818",
}

#: Skin tones from light to dark ("#RRGGBB").
SKIN_TONES: tuple[str, ...] = (
    "#f3d2bd",
    "#e8b796",
    "#d59e78",
    "#c08461",
    "#a0694a",
    "#7d4f35",
    "#5c3a27",
)
HAIR_COLORS: tuple[str, ...] = ("#1b1410", "#3b2516", "#6b4525", "#a6783e", "#d9b36c", "#8a8a8a")
CLOTHING_COLORS: tuple[str, ...] = (
    "#202024",
    "#3a3d45",
    "#6c7280",
    "#b9bcc4",
    "#f0f0ee",
    "#1f3a68",
    "#2f6bb0",
    "#7a1f2b",
    "#2e5e3e",
    "#b34f7a",
    "#d9a441",
    "#4d3b74",
    "#8c5a3c",
    "#1c6f73",
)
SHOE_COLORS: tuple[str, ...] = ("#f4f4f2", "#222226", "#59606b", "#b8322e", "#2b4f9e")
BENCH_COLORS: tuple[str, ...] = ("#2a2a2e", "#3b3f47", "#5a3b2a", "#7a1f22", "#1d2f52")
WALL_COLORS: tuple[str, ...] = ("#e9e6df", "#d8dde3", "#cfc6b8", "#b7c2c9", "#f2ece1", "#a9aeb3")
FLOOR_COLORS: tuple[str, ...] = ("#8a6a4c", "#5c5f63", "#b09070", "#3d3f44", "#7c7468", "#a8a29a")

MIN_HIP_RANGE_DEG = 30.0  # smallest top-minus-bottom hip angle a spec accepts

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def hex_to_bgr(color: str) -> tuple[int, int, int]:
    """'#RRGGBB' -> (b, g, r) ints in 0..255, OpenCV's channel order."""
    if not _HEX.match(color):
        raise ValueError(f"colour must look like '#RRGGBB', got {color!r}")
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


def _check_color(name: str, color: str) -> None:
    if not isinstance(color, str) or not _HEX.match(color):
        raise ValueError(f"{name} must be a '#RRGGBB' colour, got {color!r}")


def _check_choice(name: str, value: object, choices: tuple[Any, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


#: The knee angles at the top a rep may have (degrees).
KNEE_RANGE_DEG = (45.0, 140.0)


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")


@dataclass(frozen=True)
class RepSpec:
    """One rep: its top position and its tempo.

    Attributes:
        hip_angle_top_deg: signed hip angle held at the top (180 straight; <180 sagging,
            >180 over-extended), degrees.
        knee_angle_top_deg: knee angle at the top (about 90 = shins vertical), degrees.
        concentric_s: seconds from leaving the bottom to reaching the top.
        pause_s: seconds the top is held perfectly still (0: no hold).
        eccentric_s: seconds from leaving the top to being back at the bottom.
        rest_s: seconds at the bottom *before* this rep starts (for the first rep this is
            the clip's lead-in). Feet that move between reps move during this rest.
    """

    hip_angle_top_deg: float = 180.0
    knee_angle_top_deg: float = 90.0
    concentric_s: float = 1.0
    pause_s: float = 1.5
    eccentric_s: float = 1.6
    rest_s: float = 0.8

    def __post_init__(self) -> None:
        _check_range("hip_angle_top_deg", self.hip_angle_top_deg, 130.0, 230.0)
        _check_range("knee_angle_top_deg", self.knee_angle_top_deg, *KNEE_RANGE_DEG)
        _check_range("concentric_s", self.concentric_s, 0.2, 10.0)
        _check_range("pause_s", self.pause_s, 0.0, 30.0)
        _check_range("eccentric_s", self.eccentric_s, 0.2, 10.0)
        _check_range("rest_s", self.rest_s, 0.0, 30.0)

    @property
    def duration_s(self) -> float:
        """Rest + concentric + pause + eccentric, seconds."""
        return self.rest_s + self.concentric_s + self.pause_s + self.eccentric_s


@dataclass(frozen=True)
class Body:
    """Body size and build. Segment lengths follow standard anthropometric ratios of
    `height_m` (Drillis & Contini), each group scaled by its factor.

    Attributes:
        height_m: standing height, metres.
        torso_scale, leg_scale, arm_scale: multipliers on the shoulder-hip, thigh/shin and
            arm lengths (about 0.9-1.1 for ordinary people).
        girth: multiplier on limb and trunk thickness (0.8 slim .. 1.35 heavy).
    """

    height_m: float = 1.72
    torso_scale: float = 1.0
    leg_scale: float = 1.0
    arm_scale: float = 1.0
    girth: float = 1.0

    def __post_init__(self) -> None:
        _check_range("height_m", self.height_m, 1.3, 2.1)
        for name in ("torso_scale", "leg_scale", "arm_scale"):
            _check_range(name, getattr(self, name), 0.8, 1.2)
        _check_range("girth", self.girth, 0.7, 1.5)


@dataclass(frozen=True)
class Look:
    """Skin, hair and clothing ("#RRGGBB" colours)."""

    skin: str = "#d59e78"
    hair: str = "#3b2516"
    hair_style: HairStyle = "short"
    shirt: str = "#2f6bb0"
    sleeves: Sleeves = "short"
    legwear: Legwear = "shorts"
    legwear_color: str = "#202024"
    shoes: str = "#f4f4f2"

    def __post_init__(self) -> None:
        for name in ("skin", "hair", "shirt", "legwear_color", "shoes"):
            _check_color(name, getattr(self, name))
        _check_choice("hair_style", self.hair_style, HAIR_STYLES)
        _check_choice("sleeves", self.sleeves, SLEEVES)
        _check_choice("legwear", self.legwear, LEGWEARS)


@dataclass(frozen=True)
class Lighting:
    """A global tone change applied to the whole frame.

    Attributes:
        brightness: added to every channel after contrast, in grey levels (-60..60).
        contrast: gain about mid-grey 128 (0.5..1.5; 1 = unchanged).
        gamma: tone curve exponent (0.6..1.6; 1 = linear; >1 darkens mid-tones).
        cast_rgb: per-channel gains (r, g, b) for a colour cast (1, 1, 1 = neutral).
    """

    brightness: float = 0.0
    contrast: float = 1.0
    gamma: float = 1.0
    cast_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        _check_range("brightness", self.brightness, -60.0, 60.0)
        _check_range("contrast", self.contrast, 0.5, 1.5)
        _check_range("gamma", self.gamma, 0.6, 1.6)
        if len(self.cast_rgb) != 3:
            raise ValueError("cast_rgb needs three gains (r, g, b)")
        for gain in self.cast_rgb:
            _check_range("cast_rgb gain", gain, 0.6, 1.4)
        object.__setattr__(self, "cast_rgb", tuple(float(g) for g in self.cast_rgb))


@dataclass(frozen=True)
class Camera:
    """Where the camera is, relative to the person.

    Attributes:
        yaw_deg: rotation of the camera about the vertical axis through the person;
            0 = a pure side view, the body's plane parallel to the image.
        pitch_deg: camera elevation: how far it looks down at the person (0 = level).
        distance_m: camera to the person's mid-plane, metres (smaller = stronger
            perspective between near and far limbs).
        person_frac: share of the frame width spanned by the person (head to toes) at
            the top of a rep.
        center_x_frac, center_y_frac: where the person's bounding box centre sits in the
            frame, as fractions of width and height (0.5, 0.5 = centred).
    """

    yaw_deg: float = 0.0
    pitch_deg: float = 4.0
    distance_m: float = 3.5
    person_frac: float = 0.8
    center_x_frac: float = 0.5
    center_y_frac: float = 0.55

    def __post_init__(self) -> None:
        _check_range("yaw_deg", self.yaw_deg, -40.0, 40.0)
        _check_range("pitch_deg", self.pitch_deg, -10.0, 30.0)
        _check_range("distance_m", self.distance_m, 1.5, 10.0)
        _check_range("person_frac", self.person_frac, 0.25, 0.98)
        _check_range("center_x_frac", self.center_x_frac, 0.2, 0.8)
        _check_range("center_y_frac", self.center_y_frac, 0.2, 0.8)


@dataclass(frozen=True)
class ClipSpec:
    """Everything one synthetic clip shows.

    Attributes:
        seed: seeds every random choice made while rendering (background clutter, noise,
            shake, occluder and passer-by paths); same spec => byte-identical frames.
        reps: the reps, in order.
        facing: "left" = the head is on the image's left (label view "side_left").
        band: "hips" (across the hip crease, looped under the feet), "knees" (mini-band
            around the thighs above the knees), "both", or "none".
        band_color: a key of `BAND_COLORS`.
        width, height: frame size in pixels.
        fps: frame rate; frame i is at t = i / fps seconds.
        portrait: the clip imitates a phone held upright: a tall frame (height > width)
            in which the person, lying across it, fills only the middle band.
            `random_clip_spec` uses it to pick the size and the framing.
        background: "plain" (wall and floor) or "cluttered" (gym furniture and posters).
        lighting: global tone change.
        noise: sensor noise, standard deviation in grey levels (0 = none).
        blur: Gaussian blur sigma in pixels (0 = sharp).
        shake: hand-held camera shake amplitude in pixels (0 = tripod).
        occlusion: an object passes in front of part of the frame for a while.
        second_person: a second, smaller and fainter person walks across the background.
        body, look: size and appearance of the person.
        camera: viewpoint and framing.
        arm_pose: "bench" (arms resting along the bench top) or "hips" (hands on the hips).
        bottom_hip_angle_deg: signed hip angle at the bottom of every rep (hips low).
        bench_height_m: height of the bench top above the floor, metres.
        bench_color, wall_color, floor_color: "#RRGGBB".
        tail_s: seconds at the bottom after the last rep.
    """

    seed: int = 0
    reps: tuple[RepSpec, ...] = (RepSpec(), RepSpec(), RepSpec())
    facing: Facing = "left"
    band: BandPlacement = "hips"
    band_color: str = "red"
    width: int = 640
    height: int = 360
    fps: float = 30.0
    portrait: bool = False
    background: BackgroundKind = "plain"
    lighting: Lighting = field(default_factory=Lighting)
    noise: float = 2.0
    blur: float = 0.0
    shake: float = 0.0
    occlusion: bool = False
    second_person: bool = False
    body: Body = field(default_factory=Body)
    look: Look = field(default_factory=Look)
    camera: Camera = field(default_factory=Camera)
    arm_pose: ArmPose = "bench"
    bottom_hip_angle_deg: float = 112.0
    bench_height_m: float = 0.42
    bench_color: str = "#2a2a2e"
    wall_color: str = "#e9e6df"
    floor_color: str = "#8a6a4c"
    tail_s: float = 0.8

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an int, got {self.seed!r}")
        object.__setattr__(self, "reps", tuple(self.reps))
        if not self.reps:
            raise ValueError("a clip needs at least one rep")
        if not all(isinstance(r, RepSpec) for r in self.reps):
            raise ValueError("reps must be RepSpec objects")
        _check_choice("facing", self.facing, FACINGS)
        _check_choice("band", self.band, BAND_PLACEMENTS)
        _check_choice("band_color", self.band_color, tuple(BAND_COLORS))
        _check_choice("background", self.background, BACKGROUNDS)
        _check_choice("arm_pose", self.arm_pose, ARM_POSES)
        if self.portrait and self.height <= self.width:
            raise ValueError("a portrait clip needs height > width")
        _check_range("width", self.width, 64, 4096)
        _check_range("height", self.height, 64, 4096)
        _check_range("fps", self.fps, 1.0, 240.0)
        _check_range("noise", self.noise, 0.0, 40.0)
        _check_range("blur", self.blur, 0.0, 10.0)
        _check_range("shake", self.shake, 0.0, 40.0)
        _check_range("bottom_hip_angle_deg", self.bottom_hip_angle_deg, 90.0, 135.0)
        _check_range("bench_height_m", self.bench_height_m, 0.3, 0.6)
        _check_range("tail_s", self.tail_s, 0.0, 30.0)
        for name in ("bench_color", "wall_color", "floor_color"):
            _check_color(name, getattr(self, name))
        for rep in self.reps:
            if rep.hip_angle_top_deg - self.bottom_hip_angle_deg < MIN_HIP_RANGE_DEG:
                raise ValueError(
                    f"each rep's top hip angle must be at least {MIN_HIP_RANGE_DEG} deg above"
                    " the bottom hip angle"
                )

    # -- derived timing ---------------------------------------------------------------

    @property
    def duration_s(self) -> float:
        """Length of the motion: all reps (with their rests) plus the tail, seconds."""
        return sum(r.duration_s for r in self.reps) + self.tail_s

    @property
    def frame_count(self) -> int:
        """Frames rendered: t = i / fps for i in range(frame_count), covering duration_s."""
        return max(1, round(self.duration_s * self.fps))

    # -- serialisation ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (nested dataclasses as dicts, tuples as lists)."""
        return cast(dict[str, Any], _jsonable(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClipSpec:
        """Inverse of `to_dict`; missing keys take their defaults, unknown keys raise."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown ClipSpec fields: {sorted(unknown)}")
        kwargs: dict[str, Any] = dict(data)
        if "reps" in kwargs:
            kwargs["reps"] = tuple(_build(RepSpec, r) for r in kwargs["reps"])
        for name, sub in (
            ("lighting", Lighting),
            ("body", Body),
            ("look", Look),
            ("camera", Camera),
        ):
            if name in kwargs:
                kwargs[name] = _build(sub, kwargs[name])
        return cls(**kwargs)


_D = TypeVar("_D")


def _build(cls: type[_D], data: Any) -> _D:
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} must be given as a dict, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# -- random specs ---------------------------------------------------------------------

#: How far (degrees / seconds) a random spec keeps every value from the rule threshold it
#: is tested against, so that the expected verdict is never a coin toss.
ANGLE_MARGIN_DEG = 6.0
TIME_MARGIN_S = 0.3

REP_KINDS: tuple[str, ...] = (
    "good",
    "under_extension",
    "over_extension",
    "short_pause",
    "fast_lowering",
)


def random_rep(
    rng: random.Random,
    kind: str,
    knee_for_hip: Callable[[float], float],
    config: Config | None = None,
    first: bool = False,
) -> RepSpec:
    """A rep of one `kind` ("good" or a single tempo/alignment fault code).

    Values are drawn at least `ANGLE_MARGIN_DEG` / `TIME_MARGIN_S` away from the
    thresholds of `config` (default `Config()`), so their verdict is unambiguous; the pause
    and the lowering as formcheck times them (`kinematics.coach_durations`), from which the
    eased moves' own durations follow. `knee_for_hip(hip_angle_deg)` gives the knee angle
    at the top for the drawn hip angle (with the feet where they are planted, see
    `random_clip_spec`).
    """
    from formcheck.synth.kinematics import eased_fraction  # kinematics imports this module

    cfg = config or Config()
    rules = cfg.rules
    top = rules.top_alignment
    am, tm = ANGLE_MARGIN_DEG, TIME_MARGIN_S
    if kind not in REP_KINDS:
        raise ValueError(f"kind must be one of {REP_KINDS}, got {kind!r}")
    # Good values: near the target, but never closer than the margin to a threshold.
    hip = rng.uniform(
        max(top.min_deg + am, top.target_deg - 7.0), min(top.max_deg - am, top.target_deg + 5.0)
    )
    pause = rng.uniform(rules.pause.min_s + tm, rules.pause.min_s + 1.3)
    ecc = rng.uniform(rules.lowering_tempo.min_s + tm, rules.lowering_tempo.min_s + 1.2)
    con = rng.uniform(0.7, 1.4)
    rest = rng.uniform(0.5, 1.0) if first else rng.uniform(0.5, 1.5)
    bad_hip_low = rng.uniform(top.min_deg - 20.0, top.min_deg - am - 2.0)
    bad_hip_high = rng.uniform(top.max_deg + am + 2.0, top.max_deg + 16.0)
    bad_pause = rng.uniform(0.0, max(0.0, rules.pause.min_s - tm - 0.1))
    bad_ecc = rng.uniform(0.35, max(0.35, rules.lowering_tempo.min_s - tm - 0.05))
    if kind == "under_extension":
        hip = bad_hip_low
    elif kind == "over_extension":
        hip = bad_hip_high
    elif kind == "short_pause":
        pause = bad_pause
    elif kind == "fast_lowering":
        ecc = bad_ecc
    # The eased moves give a share of their slow ends to the pause and the rest.
    f = eased_fraction(cfg.reps.boundary_share)
    ecc_move = ecc / (1.0 - 2.0 * f)
    pause_hold = max(0.0, pause - f * (con + ecc_move))
    return RepSpec(
        hip_angle_top_deg=round(hip, 1),
        knee_angle_top_deg=round(knee_for_hip(round(hip, 1)), 1),
        concentric_s=round(con, 2),
        pause_s=round(pause_hold, 2),
        eccentric_s=round(ecc_move, 2),
        rest_s=round(rest, 2),
    )


def random_clip_spec(seed: int, *, config: Config | None = None, **overrides: Any) -> ClipSpec:
    """A varied clip spec drawn from `seed`: a mix of good and faulty reps, random
    colours, proportions, framing, background, lighting and camera artefacts.

    Every random draw happens whatever the overrides, so overriding one field never
    changes the others. Keyword `overrides` replace `ClipSpec` fields by name (e.g.
    `band="knees"`, `width=360, height=640, portrait=True`); `n_reps=` sets how many reps
    are drawn. `config` supplies the thresholds the values keep clear of (default
    `Config()`).

    Raises:
        ValueError: an unknown override name or an invalid value.
    """
    n_reps_override = overrides.pop("n_reps", None)
    known = {f.name for f in dataclasses.fields(ClipSpec)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown ClipSpec fields: {sorted(unknown)}")
    rng = random.Random(seed)  # Python's Mersenne Twister: stable across versions.
    rules = (config or Config()).rules
    shin = rules.shin_angle

    def pick(name: str, draw: Callable[[], Any]) -> Any:
        value = draw()  # always draw, so overrides never shift later draws
        return overrides.get(name, value)

    facing = pick("facing", lambda: rng.choice(FACINGS))
    band = pick("band", lambda: rng.choices(BAND_PLACEMENTS, weights=(5, 2, 1, 2))[0])
    band_color = pick("band_color", lambda: rng.choice(tuple(BAND_COLORS)))
    portrait = pick("portrait", lambda: rng.random() < 0.2)
    if "portrait" not in overrides and ("width" in overrides or "height" in overrides):
        # A size given without `portrait` decides it.
        w_o = overrides.get("width", 0)
        h_o = overrides.get("height", 0)
        portrait = bool(w_o and h_o and h_o > w_o)
    fps = pick("fps", lambda: float(rng.choice(FRAME_RATES)))
    size_l = rng.choice(((640, 360), (854, 480), (960, 540), (1280, 720)))
    size_p = rng.choice(((360, 640), (480, 854), (540, 960)))
    width, height = size_p if portrait else size_l
    width = overrides.get("width", width)
    height = overrides.get("height", height)
    background = pick("background", lambda: rng.choice(BACKGROUNDS))

    body = Body(
        height_m=round(rng.uniform(1.55, 1.92), 2),
        torso_scale=round(rng.uniform(0.93, 1.07), 2),
        leg_scale=round(rng.uniform(0.93, 1.07), 2),
        arm_scale=round(rng.uniform(0.93, 1.07), 2),
        girth=round(rng.uniform(0.85, 1.3), 2),
    )
    body = overrides.get("body", body)
    bench_height = pick("bench_height_m", lambda: round(rng.uniform(0.38, 0.46), 3))
    bottom = pick("bottom_hip_angle_deg", lambda: round(rng.uniform(102.0, 114.0), 1))

    # Feet placement is a property of the set: the feet stay planted for the whole clip
    # (as a real lifter's do), chosen for a shin tilt at a straight top (the shin_angle
    # rule's measure) that is mostly good, sometimes too close or too far. Each rep's knee
    # angle then follows from its hip angle; it is nudged (the feet shuffle between reps)
    # only where its shin tilt would come closer than the margin to a threshold.
    feet = rng.choices(("good", "close", "far"), weights=(8, 1, 1))[0]
    m = ANGLE_MARGIN_DEG
    # A feet fault needs the knee angle past its limit too (`ShinConfig`): feet too close
    # or too far keep the knee clear of its limit as well.
    knees = KNEE_RANGE_DEG
    if feet == "good":
        tilt0 = rng.uniform(shin.target_deg - 10.0, shin.target_deg + 8.0)
        tilts = (shin.min_deg + m, shin.max_deg - m)
    elif feet == "close":
        tilt0 = rng.uniform(shin.min_deg - 14.0, shin.min_deg - m - 4.0)
        tilts = (shin.min_deg - 20.0, shin.min_deg - m)
        knees = (KNEE_RANGE_DEG[0], shin.knee_min_deg - m)
    else:
        tilt0 = rng.uniform(shin.max_deg + m + 4.0, shin.max_deg + 12.0)
        tilts = (shin.max_deg + m, shin.max_deg + 20.0)
        knees = (shin.knee_max_deg + m, KNEE_RANGE_DEG[1])
    straight = rules.top_alignment.target_deg
    knee_for_hip = _planted_feet(body, bench_height, straight, tilt0, tilts, knees)
    n_drawn = rng.randint(3, 5)
    n_reps = n_reps_override if n_reps_override is not None else n_drawn
    fault_kinds = [k for k in REP_KINDS if k != "good"]
    reps = []
    # Reps draw from their own stream, so the rep count never shifts the other draws.
    rep_rng = random.Random(seed * 7919 + 1)
    for i in range(n_reps):
        kind = "good" if rep_rng.random() < 0.5 else rep_rng.choice(fault_kinds)
        reps.append(random_rep(rep_rng, kind, knee_for_hip, config, first=i == 0))
    reps_t: tuple[RepSpec, ...] = pick("reps", lambda: tuple(reps))
    if "bottom_hip_angle_deg" not in overrides:
        # The feet (and where a rep's knee angle moves them) bound how low the hips can
        # go; a rep with too little range above that bottom becomes a straight, good one.
        for _ in range(3):
            bottom = _feasible_bottom(body, bench_height, reps_t, bottom)
            short = [r.hip_angle_top_deg - bottom < MIN_HIP_RANGE_DEG for r in reps_t]
            if not any(short):
                break
            good = dict(
                hip_angle_top_deg=straight, knee_angle_top_deg=round(knee_for_hip(straight), 1)
            )
            reps_t = tuple(
                dataclasses.replace(r, **good) if s else r  # type: ignore[arg-type]
                for r, s in zip(reps_t, short, strict=True)
            )

    lighting = Lighting(
        brightness=round(rng.uniform(-30, 25), 1),
        contrast=round(rng.uniform(0.75, 1.2), 2),
        gamma=round(rng.uniform(0.85, 1.2), 2),
        cast_rgb=(
            round(rng.uniform(0.9, 1.1), 2),
            round(rng.uniform(0.93, 1.07), 2),
            round(rng.uniform(0.9, 1.1), 2),
        ),
    )
    band_hex = BAND_COLORS[band_color]
    shirt = rng.choice(CLOTHING_COLORS)
    legwear_color = rng.choice(CLOTHING_COLORS)
    # Now and then the clothes share the band's colour: the band detector must cope.
    share = rng.random()
    if share < 0.15:
        legwear_color = band_hex
    elif share < 0.25:
        shirt = band_hex
    look = Look(
        skin=rng.choice(SKIN_TONES),
        hair=rng.choice(HAIR_COLORS),
        hair_style=cast(HairStyle, rng.choice(HAIR_STYLES)),
        shirt=shirt,
        sleeves=cast(Sleeves, rng.choice(SLEEVES)),
        legwear=cast(Legwear, rng.choice(LEGWEARS)),
        legwear_color=legwear_color,
        shoes=rng.choice(SHOE_COLORS),
    )
    camera = Camera(
        yaw_deg=0.0,
        pitch_deg=round(rng.uniform(0.0, 6.0), 1),
        distance_m=round(rng.uniform(2.6, 5.0), 2),
        person_frac=round(rng.uniform(0.8, 0.9) if portrait else rng.uniform(0.55, 0.85), 2),
        center_x_frac=round(rng.uniform(0.44, 0.56), 3),
        center_y_frac=round(rng.uniform(0.45, 0.62), 3),
    )
    values: dict[str, Any] = dict(
        seed=seed,
        reps=reps_t,
        facing=facing,
        band=band,
        band_color=band_color,
        width=width,
        height=height,
        fps=fps,
        portrait=portrait,
        background=background,
        lighting=lighting,
        noise=round(rng.uniform(0.0, 6.0), 1),
        blur=round(rng.choice((0.0, 0.0, rng.uniform(0.4, 1.5))), 2),
        shake=round(rng.choice((0.0, 0.0, rng.uniform(0.5, 3.0))), 2),
        occlusion=rng.random() < 0.15,
        second_person=rng.random() < 0.15,
        body=body,
        look=look,
        camera=camera,
        arm_pose=rng.choice(ARM_POSES),
        bottom_hip_angle_deg=bottom,
        bench_height_m=bench_height,
        bench_color=rng.choice(BENCH_COLORS),
        wall_color=rng.choice(WALL_COLORS),
        floor_color=rng.choice(FLOOR_COLORS),
        tail_s=round(rng.uniform(0.5, 1.0), 2),
    )
    values.update(overrides)
    return ClipSpec(**values)


def with_legs_like_band(spec: ClipSpec) -> ClipSpec:
    """`spec` with leggings of the band's own colour: the hardest clothing for the band
    detector (a loop shows only by its rims, a strand only where it leaves the legs)."""
    look = dataclasses.replace(
        spec.look, legwear="leggings", legwear_color=BAND_COLORS[spec.band_color]
    )
    return dataclasses.replace(spec, look=look)


def _planted_feet(
    body: Body,
    bench_height_m: float,
    straight_deg: float,
    tilt0_deg: float,
    tilt_range: tuple[float, float],
    knee_range: tuple[float, float],
) -> Callable[[float], float]:
    """Plant the feet where a straight top (hip `straight_deg`) has shin tilt `tilt0_deg`
    (`kinematics.shin_tilt_deg`); return the knee angle at the top as a function of the top
    hip angle, the feet moved (for that rep) where its shin tilt would leave `tilt_range`
    or its knee angle `knee_range` (a smaller knee angle tilts the shin back further, so
    the second move keeps the first)."""
    from formcheck.synth import kinematics as kin  # kinematics imports this module

    seg = kin.segments_of(body)
    shoulder = (0.0, bench_height_m + seg.back_depth)
    knee0 = kin.knee_for_shin_tilt(body, bench_height_m, straight_deg, tilt0_deg)
    ankle = kin.solve_ankle(shoulder, seg, straight_deg, knee0)
    lo, hi = tilt_range

    def knee_for_hip(hip_deg: float) -> float:
        try:
            hip, knee = kin.solve_leg(shoulder, ankle, seg, hip_deg, strict=True)
            tilt = kin.shin_tilt_deg(hip, knee, ankle)
            angle = kin.knee_angle_deg(hip, knee, ankle)
            if not lo <= tilt <= hi:
                angle = kin.knee_for_shin_tilt(
                    body, bench_height_m, hip_deg, min(max(tilt, lo), hi)
                )
        except kin.UnreachableError:
            angle = kin.knee_for_shin_tilt(body, bench_height_m, hip_deg, tilt0_deg)
        return min(max(angle, knee_range[0]), knee_range[1])

    return knee_for_hip


def _feasible_bottom(
    body: Body,
    bench_height_m: float,
    reps: tuple[RepSpec, ...],
    bottom_deg: float,
    limit_deg: float = 130.0,
) -> float:
    """The smallest bottom hip angle >= `bottom_deg` (2-degree steps) that every rep's
    feet placement can reach with the hips off the floor."""
    from formcheck.synth import kinematics as kin

    seg = kin.segments_of(body)
    shoulder = (0.0, bench_height_m + seg.back_depth)
    ankles = [
        kin.solve_ankle(shoulder, seg, r.hip_angle_top_deg, r.knee_angle_top_deg) for r in reps
    ]
    while bottom_deg < limit_deg:
        try:
            if all(
                kin.solve_leg(shoulder, a, seg, bottom_deg, strict=True)[0][1]
                > 0.6 * seg.back_depth
                for a in ankles
            ):
                break
        except kin.UnreachableError:
            pass
        bottom_deg += 2.0
    return round(bottom_deg, 1)
