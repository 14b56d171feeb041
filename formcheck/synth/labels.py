"""Ground-truth labels for synthetic clips, in the format of the real labelled clips.

The label is a dict ready for JSON (see the real clips' README for the shared format):
`clip`, `video`, `exercise`, `usable`, `segments`, `people`, `view`, `band`, `reps` (with
exact times and the generated per-rep extras), `rep_count`, and a `generator` block that
holds the seed and the full spec so the clip can be regenerated.

Expected faults come from the spec's values against the thresholds of
`formcheck.config.Config()` (or the config given), with the same comparisons as the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from formcheck.config import Config
from formcheck.evaluate.labels import ClipLabel, LabelRep
from formcheck.synth.kinematics import coach_durations, coach_timings, top_shin_tilt_deg
from formcheck.synth.spec import ClipSpec, RepSpec

EXERCISE = "band_hip_thrust"
GENERATOR_NAME = "formcheck.synth"
TIMING_CONVENTION = (
    "start_s = hips leave the bottom (start of the lift); top_start_s = top reached; "
    "top_end_s = hips start to lower; end_s = hips back at the bottom; each where the hips "
    "are within 5% of the rep's range of the level they leave or reach (the way a person "
    "times a rep from video). Times in seconds from the clip's start; frame i is at i / fps. "
    "Generated times are exact; rest_before_s is the rest between the eased moves."
)


def expected_faults(
    rep: RepSpec, band: str, config: Config | None = None, *, shin_tilt_deg: float
) -> list[str]:
    """Fault codes a correct checker reports for `rep` done with the band at `band`, whose
    shin tilt at the top is `shin_tilt_deg` (`kinematics.top_shin_tilt_deg`).

    Comparisons are strict, as in the rules: a value exactly at a threshold passes.
    """
    cfg = config or Config()
    rules = cfg.rules
    _, pause, lowering = coach_durations(rep, cfg.reps.boundary_share)
    faults = []
    if rep.hip_angle_top_deg < rules.top_alignment.min_deg:
        faults.append("under_extension")
    if rep.hip_angle_top_deg > rules.top_alignment.max_deg:
        faults.append("over_extension")
    if pause < rules.pause.min_s:
        faults.append("short_pause")
    if lowering < rules.lowering_tempo.min_s:
        faults.append("fast_lowering")
    shin = rules.shin_angle
    knee = rep.knee_angle_top_deg
    if shin_tilt_deg < shin.min_deg and knee < shin.knee_min_deg:
        faults.append("feet_too_close")
    if shin_tilt_deg > shin.max_deg and knee > shin.knee_max_deg:
        faults.append("feet_too_far")
    if band == "knees":
        faults.append("band_at_knees")
    if band == "none" and rules.band.expected:
        faults.append("no_band")
    return faults


def shin_tilts(spec: ClipSpec) -> list[float]:
    """Each rep's shin tilt at the top (degrees, `kinematics.shin_tilt_deg`)."""
    return [
        top_shin_tilt_deg(spec.body, spec.bench_height_m, r.hip_angle_top_deg, r.knee_angle_top_deg)
        for r in spec.reps
    ]


def spec_faults(spec: ClipSpec, config: Config | None = None) -> list[list[str]]:
    """Each rep's expected fault codes (`expected_faults`)."""
    return [
        expected_faults(rep, spec.band, config, shin_tilt_deg=tilt)
        for rep, tilt in zip(spec.reps, shin_tilts(spec), strict=True)
    ]


def view_of(spec: ClipSpec) -> str:
    """The label's `view`: side_left (head on the image's left), side_right, or oblique
    when the camera is turned more than 15 degrees from a pure side view."""
    if abs(spec.camera.yaw_deg) > 15.0:
        return "oblique"
    return "side_left" if spec.facing == "left" else "side_right"


def _t(x: float) -> float:
    return round(float(x), 6)


def build_label(
    spec: ClipSpec,
    clip_name: str,
    *,
    config: Config | None = None,
    occlusions: Sequence[dict[str, Any]] = (),
    passers_by: Sequence[dict[str, Any]] = (),
    version: str | None = None,
) -> dict[str, Any]:
    """The label dict for `spec` rendered as `clip_name` (a file name such as
    "good_form_right.mp4").

    Args:
        config: thresholds for the expected faults (default `Config()`).
        occlusions, passers_by: time windows of the occluder and the second person
            (dicts with at least start_s and end_s), as the renderer placed them.
        version: formcheck version to record (default: the installed one).
    """
    if version is None:
        from formcheck import __version__ as version
    n = spec.frame_count
    duration = n / spec.fps
    tilts = shin_tilts(spec)
    faults = spec_faults(spec, config)
    share = (config or Config()).reps.boundary_share
    reps = tuple(
        LabelRep(
            start_s=_t(tm.start_s),
            top_start_s=_t(tm.top_start_s),
            top_end_s=_t(tm.top_end_s),
            end_s=_t(tm.end_s),
            concentric_s=_t(tm.top_start_s - tm.start_s),
            pause_s=_t(tm.top_end_s - tm.top_start_s),
            eccentric_s=_t(tm.end_s - tm.top_end_s),
            hip_angle_top_deg=round(rep.hip_angle_top_deg, 3),
            knee_angle_top_deg=round(rep.knee_angle_top_deg, 3),
            shin_tilt_top_deg=round(tilt, 3),
            band=spec.band,
            faults=tuple(rep_faults),
            extra={"rest_before_s": _t(rep.rest_s)},
        )
        for rep, tm, tilt, rep_faults in zip(
            spec.reps, coach_timings(spec, share), tilts, faults, strict=True
        )
    )
    label = ClipLabel(
        reps=reps,
        usable=True,
        view=view_of(spec),
        band=spec.band,
        faults_seen=tuple(sorted({f for rep_faults in faults for f in rep_faults})),
        clip=clip_name,
        extra={
            "video": {
                "fps": float(spec.fps),
                "frame_count": n,
                "duration_s": _t(duration),
                "width": spec.width,
                "height": spec.height,
            },
            "exercise": EXERCISE,
            "segments": [[0.0, _t(duration)]],
            "people": 2 if passers_by or spec.second_person else 1,
            "band_color": spec.band_color if spec.band != "none" else None,
            "partial_reps": [],
            "bottom_hip_angle_deg": spec.bottom_hip_angle_deg,
            "occlusions": [dict(o) for o in occlusions],
            "passers_by": [dict(p) for p in passers_by],
            "overlays": "none",
            "notes": "Synthetic clip rendered by formcheck.synth: a band hip thrust from a"
            " bench with exact ground truth.",
            "timing_convention": TIMING_CONVENTION,
            "generator": {
                "name": GENERATOR_NAME,
                "seed": spec.seed,
                "spec": spec.to_dict(),
                "formcheck_version": version,
            },
        },
    )
    return label.to_dict()
