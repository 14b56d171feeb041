"""The short labelled clips shipped in `sample_videos/`: good form and one clip per fault.

Each clip is 3 reps, about 12-15 s, 640x360 (one portrait 360x640), 30 fps, encoded at
a moderate quality so the whole folder stays small. Fault values are placed relative to
the default thresholds of `formcheck.config.Config()` (never copied), well clear of them,
so each clip's expected verdict is unambiguous. `write_samples(out_dir)` regenerates the
folder: same specs, same frames, same labels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from formcheck.config import Config
from formcheck.synth.spec import (
    Body,
    Camera,
    ClipSpec,
    Lighting,
    Look,
    RepSpec,
)

SAMPLE_CRF = 28  # x264 quality for the shipped clips: small files, artefacts still mild


def _sample_specs() -> dict[str, ClipSpec]:
    rules = Config().rules
    top = rules.top_alignment
    straight = top.target_deg
    sag = top.min_deg - 13.0
    arched = top.max_deg + 10.0
    knee = 90.0  # shins vertical with a level thigh (the shipped clips were drawn so)
    # The eased moves' own durations; formcheck times the pause about 0.4 s longer and the
    # lowering 29% shorter (each move gives its slow ends to the phases around it:
    # `kinematics.coach_durations`): pauses of 1.7 and 0.6 s, lowerings of 1.4 and 0.4 s.
    good_pause = rules.pause.min_s + 0.3
    short_pause = max(0.0, rules.pause.min_s - 0.9)
    good_lower = rules.lowering_tempo.min_s + 0.9
    fast_lower = max(0.3, rules.lowering_tempo.min_s - 0.4)

    def reps(
        hip: float = straight, pause: float = good_pause, lower: float = good_lower, n: int = 3
    ) -> tuple[RepSpec, ...]:
        # Slightly different tempo per rep, as a person's reps are; same top position so
        # the feet stay planted for the whole clip.
        out = []
        for i in range(n):
            out.append(
                RepSpec(
                    hip_angle_top_deg=hip,
                    knee_angle_top_deg=knee,
                    concentric_s=round(0.9 + 0.1 * (i % 2), 2),
                    pause_s=round(pause + 0.1 * ((i + 1) % 2), 2),
                    eccentric_s=round(lower + 0.1 * (i % 3 == 1), 2),
                    rest_s=0.8 if i == 0 else round(0.7 + 0.2 * (i % 2), 2),
                )
            )
        return tuple(out)

    return {
        "good_form_right.mp4": ClipSpec(
            seed=101,
            reps=reps(),
            facing="right",
            band="hips",
            band_color="red",
            arm_pose="hips",
            look=Look(
                skin="#d59e78",
                hair="#3b2516",
                hair_style="short",
                shirt="#2f6bb0",
                sleeves="short",
                legwear="shorts",
                legwear_color="#202024",
                shoes="#f4f4f2",
            ),
        ),
        "good_form_portrait_left.mp4": ClipSpec(
            seed=102,
            reps=reps(),
            facing="left",
            band="hips",
            band_color="blue",
            width=360,
            height=640,
            portrait=True,
            arm_pose="bench",
            camera=Camera(person_frac=0.88, center_y_frac=0.58, pitch_deg=8.0),
            body=Body(height_m=1.62, girth=1.1),
            look=Look(
                skin="#a0694a",
                hair="#1b1410",
                hair_style="bun",
                shirt="#b34f7a",
                sleeves="tank",
                legwear="leggings",
                legwear_color="#202024",
                shoes="#222226",
            ),
            wall_color="#d8dde3",
            floor_color="#5c5f63",
            bench_color="#7a1f22",
            noise=3.0,
        ),
        "sagging_hips_left.mp4": ClipSpec(
            seed=203,
            reps=reps(hip=sag),
            facing="left",
            band="hips",
            band_color="green",
            arm_pose="hips",
            look=Look(
                skin="#f3d2bd",
                hair="#a6783e",
                hair_style="long",
                shirt="#f0f0ee",
                sleeves="short",
                legwear="shorts",
                legwear_color="#1f3a68",
                shoes="#59606b",
            ),
        ),
        "over_arched_right.mp4": ClipSpec(
            seed=304,
            reps=reps(hip=arched),
            facing="right",
            band="hips",
            band_color="orange",
            background="cluttered",
            arm_pose="bench",
            body=Body(height_m=1.85, girth=1.2),
            look=Look(
                skin="#7d4f35",
                hair="#1b1410",
                hair_style="short",
                shirt="#3a3d45",
                sleeves="short",
                legwear="shorts",
                legwear_color="#6c7280",
                shoes="#b8322e",
            ),
        ),
        "short_pause_left.mp4": ClipSpec(
            seed=105,
            reps=reps(pause=short_pause),
            facing="left",
            band="hips",
            band_color="purple",
            arm_pose="hips",
            look=Look(
                skin="#e8b796",
                hair="#6b4525",
                hair_style="bun",
                shirt="#1c6f73",
                sleeves="tank",
                legwear="leggings",
                legwear_color="#7a3db3",
                shoes="#f4f4f2",
            ),
            lighting=Lighting(brightness=-15.0, contrast=0.9, gamma=1.1),
        ),
        "fast_lowering_right.mp4": ClipSpec(
            seed=106,
            reps=reps(lower=fast_lower),
            facing="right",
            band="hips",
            band_color="yellow",
            arm_pose="bench",
            shake=1.5,
            noise=4.0,
            look=Look(
                skin="#c08461",
                hair="#3b2516",
                hair_style="bald",
                shirt="#7a1f2b",
                sleeves="long",
                legwear="shorts",
                legwear_color="#202024",
                shoes="#222226",
            ),
        ),
        "band_at_knees_left.mp4": ClipSpec(
            seed=207,
            reps=reps(),
            facing="left",
            band="knees",
            band_color="black",
            arm_pose="hips",
            background="cluttered",
            look=Look(
                skin="#d59e78",
                hair="#1b1410",
                hair_style="long",
                shirt="#d9a441",
                sleeves="short",
                legwear="shorts",
                legwear_color="#4d3b74",
                shoes="#f4f4f2",
            ),
        ),
        "no_band_right.mp4": ClipSpec(
            seed=108,
            reps=reps(),
            facing="right",
            band="none",
            band_color="red",
            arm_pose="hips",
            look=Look(
                skin="#5c3a27",
                hair="#1b1410",
                hair_style="short",
                shirt="#2e5e3e",
                sleeves="short",
                legwear="leggings",
                legwear_color="#202024",
                shoes="#2b4f9e",
            ),
            blur=0.8,
        ),
    }


#: Clip file name -> spec. Every fault code of the rules appears in at least one clip
#: except the feet-placement ones (knee angle); both facings and one portrait clip.
SAMPLE_SPECS: dict[str, ClipSpec] = _sample_specs()


def write_samples(
    out_dir: str | Path,
    names: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """Render the sample clips (MP4 + label JSON each) into `out_dir`.

    Args:
        names: which clips (keys of `SAMPLE_SPECS`); default all.
        progress: called as progress(clip_name, done_frames, total_frames).

    Returns:
        The video paths written, in `SAMPLE_SPECS` order.
    """
    from formcheck.synth.render import render_clip

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in SAMPLE_SPECS.items():
        if names is not None and name not in names:
            continue
        path = out / name

        def step(done: int, total: int, _name: str = name) -> None:
            if progress is not None:
                progress(_name, done, total)

        render_clip(spec, path, progress=step, crf=SAMPLE_CRF)
        written.append(path)
    return written
