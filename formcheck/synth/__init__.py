"""Synthetic labelled clips: a person doing resistance band hip thrusts from a bench,
rendered with exact ground truth (rep times, top angles, expected faults, landmarks).

- `spec`: what a clip shows (`ClipSpec`, `RepSpec`, `random_clip_spec`,
  `with_legs_like_band`);
- `kinematics`: the pose at any time (two-link inverse kinematics, signed hip angle);
- `camera`, `draw`, `scene`: projecting and drawing the person and the room;
- `render`: frames with landmark truth (`iter_frames`) and labelled MP4s (`render_clip`);
- `labels`: the label JSON and the expected faults;
- `samples`: the clips shipped in `sample_videos/` (`SAMPLE_SPECS`, `write_samples`).
"""

from formcheck.synth.labels import build_label, expected_faults
from formcheck.synth.render import ClipRenderer, RenderedFrame, iter_frames, render_clip
from formcheck.synth.samples import SAMPLE_SPECS, write_samples
from formcheck.synth.spec import (
    Body,
    Camera,
    ClipSpec,
    Lighting,
    Look,
    RepSpec,
    random_clip_spec,
    with_legs_like_band,
)

__all__ = [
    "SAMPLE_SPECS",
    "Body",
    "Camera",
    "ClipRenderer",
    "ClipSpec",
    "Lighting",
    "Look",
    "RenderedFrame",
    "RepSpec",
    "build_label",
    "expected_faults",
    "iter_frames",
    "random_clip_spec",
    "render_clip",
    "with_legs_like_band",
    "write_samples",
]
