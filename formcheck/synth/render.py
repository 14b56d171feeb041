"""Rendering a `ClipSpec` into frames with exact landmark truth, and into a labelled MP4.

Per frame: copy the static room-and-bench layer, draw the passer-by (then the bench
over them) if one is passing, draw the lifter, the occluder, then apply camera shake,
blur, the lighting tone curve and sensor noise. Frame i is at t = i / fps.

Landmark truth (`RenderedFrame.truth_px`) is in pixels (x right, y down) in the final
frame (after shake), for the side of the body nearer the camera:
"shoulder" (the top of the upper arm, i.e. the shoulder joint), "elbow", "wrist", "hip"
(hip joint centre), "knee" (knee joint centre), "ankle", "heel", "toe", "eye", "ear",
"nose"; the far side's as "far_shoulder", "far_hip", "far_knee", "far_ankle".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from formcheck.synth.camera import PinholeCamera, fit_camera
from formcheck.synth.draw import PersonPainter
from formcheck.synth.kinematics import BodyPose, MotionPlan, plan_motion
from formcheck.synth.labels import build_label
from formcheck.synth.scene import (
    Occluder,
    Walker,
    bench_sprite,
    blur,
    draw_room,
    is_identity_lut,
    make_occluder,
    make_walker,
    noise_bank,
    shake_path,
    tone_lut,
    translate,
)
from formcheck.synth.spec import ClipSpec, hex_to_bgr
from formcheck.video.frames import ImageBGR, Progress

log = logging.getLogger(__name__)


#: Truth keys for the near side and the body joint each comes from.
NEAR_KEYS: dict[str, str] = {
    "shoulder": "shoulder",
    "elbow": "elbow",
    "wrist": "wrist",
    "hip": "hip",
    "knee": "knee",
    "ankle": "ankle",
    "heel": "heel",
    "toe": "toe",
    "eye": "eye",
    "ear": "ear",
}
FAR_KEYS: tuple[str, ...] = ("shoulder", "hip", "knee", "ankle")


@dataclass(frozen=True)
class RenderedFrame:
    """One synthetic frame and what is exactly true about it.

    Attributes:
        image_bgr: H x W x 3 uint8 BGR image.
        t_s: time, seconds (index / fps).
        index: frame number from 0.
        truth_px: landmark name -> (x, y) pixels (x right, y down) in this image; see
            the module docstring for the names.
        hip_angle_deg: true signed hip angle (shoulder-hip-knee, 180 straight), degrees.
        knee_angle_deg: true knee angle (hip-knee-ankle), degrees.
        near_side: "left" or "right": the body side nearer the camera (MediaPipe's
            LEFT_* or RIGHT_* landmarks).
        phase: "rest", "concentric", "top", "eccentric" or "tail".
        rep_index: rep in progress (or about to start), from 0.
        occluded: truth names hidden by the occluder in this frame.
        people_visible: 1, or 2 while the passer-by is in view.
    """

    image_bgr: ImageBGR
    t_s: float
    index: int
    truth_px: dict[str, tuple[float, float]]
    hip_angle_deg: float
    knee_angle_deg: float
    near_side: str
    phase: str
    rep_index: int
    occluded: frozenset[str] = field(default_factory=frozenset)
    people_visible: int = 1


@dataclass
class ClipRenderer:
    """Everything prepared once for a clip (camera, static layers, noise, paths).

    Use `frames()` to iterate; `occluder` and `walker` say where the occluder and the
    passer-by are (for labels).
    """

    spec: ClipSpec
    plan: MotionPlan = field(init=False)
    camera: PinholeCamera = field(init=False)
    occluder: Occluder | None = field(init=False)
    walker: Walker | None = field(init=False)

    def __post_init__(self) -> None:
        spec = self.spec
        self.plan = plan_motion(spec)
        self.camera = fit_camera(spec, _extent_points(self.plan))
        self._room = draw_room(spec, self.camera)
        self._bench = bench_sprite(spec, self.camera, self.plan)
        self._static = self._room.copy()
        self._bench.paste(self._static)
        self._painter = PersonPainter(spec, self.plan.seg)
        lut = tone_lut(spec)
        self._lut = None if is_identity_lut(lut) else lut
        self._noise = noise_bank(spec)
        self._shake = shake_path(spec)
        self.occluder = make_occluder(spec)
        self.walker = make_walker(spec, self.camera)
        self._wall = hex_to_bgr(spec.wall_color)
        self._near = "right" if self.camera.near_sign > 0 else "left"
        self._far = "left" if self._near == "right" else "right"

    def truth_px(
        self, pose: BodyPose, dx: float = 0.0, dy: float = 0.0
    ) -> dict[str, tuple[float, float]]:
        """Projected truth landmarks for `pose`, shifted by (dx, dy) pixels."""
        names = [f"{self._near}_{j}" for j in NEAR_KEYS.values()]
        names += [f"{self._far}_{j}" for j in FAR_KEYS]
        names.append("nose")
        keys = list(NEAR_KEYS) + [f"far_{j}" for j in FAR_KEYS] + ["nose"]
        pts = np.stack([pose.joints[n] for n in names])
        # The head is drawn flat in the body's mid-plane (see draw.py): its landmarks too.
        for i, name in enumerate(names):
            if name.endswith(("_eye", "_ear")) or name == "nose":
                pts[i, 2] = 0.0
        uv, _ = self.camera.project(pts)
        return {k: (float(p[0] + dx), float(p[1] + dy)) for k, p in zip(keys, uv, strict=True)}

    def render(self, index: int) -> RenderedFrame:
        """Frame number `index` (any order; each frame depends only on its index)."""
        spec = self.spec
        t = index / spec.fps
        pose = self.plan.pose_at(t)
        people = 1
        if self.walker is not None and self.walker.start_s <= t <= self.walker.end_s:
            frame = self._room.copy()
            self.walker.draw(frame, self.camera, t, self._wall)
            self._bench.paste(frame)
            people = 2
        else:
            frame = self._static.copy()
        self._painter.draw(frame, pose, self.camera)
        truth = self.truth_px(pose)
        occluded: frozenset[str] = frozenset()
        if self.occluder is not None:
            poly = self.occluder.draw(frame, t)
            if poly is not None:
                contour = poly.astype(np.float32).reshape(-1, 1, 2)
                occluded = frozenset(
                    k for k, p in truth.items() if cv2.pointPolygonTest(contour, p, False) >= 0
                )
        dx, dy = (float(v) for v in self._shake[index]) if index < len(self._shake) else (0, 0)
        if dx or dy:
            frame = translate(frame, dx, dy)
            truth = {k: (p[0] + dx, p[1] + dy) for k, p in truth.items()}
        frame = blur(frame, spec.blur)
        if self._lut is not None:
            cv2.LUT(frame, self._lut, dst=frame)
        if self._noise is not None:
            self._noise.apply(frame, index)
        return RenderedFrame(
            image_bgr=frame,
            t_s=t,
            index=index,
            truth_px=truth,
            hip_angle_deg=pose.hip_angle_deg,
            knee_angle_deg=pose.knee_angle_deg,
            near_side=self._near,
            phase=pose.phase,
            rep_index=pose.rep_index,
            occluded=occluded,
            people_visible=people,
        )

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[RenderedFrame]:
        """Frames `start` .. `stop - 1` (default: the whole clip)."""
        stop = self.spec.frame_count if stop is None else min(stop, self.spec.frame_count)
        for i in range(start, stop):
            yield self.render(i)

    def events(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(occlusions, passers_by) time windows for the label."""
        occ = []
        if self.occluder is not None:
            occ.append(
                {
                    "start_s": self.occluder.start_s,
                    "end_s": self.occluder.end_s,
                    "edge": self.occluder.edge,
                }
            )
        walk = []
        if self.walker is not None:
            walk.append(
                {
                    "start_s": self.walker.start_s,
                    "end_s": min(self.walker.end_s, self.spec.duration_s),
                }
            )
        return occ, walk


def _extent_points(plan: MotionPlan) -> np.ndarray:
    """Points the lifter reaches during the clip (tops, bottoms, start), for framing."""
    times = [0.0]
    for tm in plan.timings:
        times += [tm.start_s, tm.top_start_s]
    pts: list[np.ndarray] = []
    for t in times:
        pose = plan.pose_at(t)
        pts.extend(pose.joints.values())
    arr = np.array(pts)
    # Pad by the body's thickness so heads, feet and buttocks are not cut off.
    pad = 0.1
    lo, hi = arr.min(axis=0) - pad, arr.max(axis=0) + pad
    lo[1] = max(lo[1], 0.0)
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    return np.vstack([arr, corners])


def iter_frames(spec: ClipSpec) -> Iterator[RenderedFrame]:
    """Render every frame of `spec` in order (frame i at t = i / fps)."""
    yield from ClipRenderer(spec).frames()


def render_clip(
    spec: ClipSpec,
    video_path: str | Path,
    label_path: str | Path | None = None,
    progress: Progress | None = None,
    crf: int = 23,
) -> dict[str, Any]:
    """Render `spec` to an H.264 MP4 at `video_path` and write its label JSON.

    Args:
        label_path: where the label goes (default: `<video stem>.json` beside the video).
        progress: called as progress(done_frames, total_frames) after each frame.
        crf: x264 quality (lower = better and bigger; 23 default, 28 for small samples).

    Returns:
        The label dict (as written).
    """
    from formcheck.video import VideoSink

    video_path = Path(video_path)
    label_path = Path(label_path) if label_path is not None else video_path.with_suffix(".json")
    renderer = ClipRenderer(spec)
    total = spec.frame_count
    with VideoSink(video_path, spec.fps, (spec.width, spec.height), crf=crf) as sink:
        for frame in renderer.frames():
            sink.write(frame.image_bgr, frame.t_s)
            if progress is not None:
                progress(frame.index + 1, total)
    occlusions, passers = renderer.events()
    label = build_label(spec, video_path.name, occlusions=occlusions, passers_by=passers)
    label_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = label_path.with_name(f".{label_path.name}.part")
    tmp.write_text(json.dumps(label, indent=1) + "\n", encoding="utf-8")
    tmp.replace(label_path)
    log.info("rendered %s (%d frames) and %s", video_path, total, label_path)
    return label
