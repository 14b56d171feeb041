"""Bands drawn on real bodies: a real clip with a resistance band added along the lifter's own
tracked landmarks, to measure the band detector where no real footage exists.

Nobody films band hip thrusts for us, and the team's real clips show no band across the hips.
So each real clip is measured once (`measure.measure_clip`), and a band is painted on every
frame where the lifter's near-side joints are:

- `hips`: a band across the hip crease, looped under the feet: a strip from the foot up to
  the front of the hips (twisting, so its apparent width changes along it), and a short piece
  over the crease;
- `knees`: a mini-band round the thighs just above the knees, seen from the side as a strip
  across the thigh;
- `both`;
- `none`: the clip encoded again with no band (the same compression as the banded copies),
  so the set also asks the detector to say "none" on real bodies.

Only the near strand is drawn: the far one is behind the body. The band takes the clip's
light (its colour is scaled by the light falling on the body: the brightness of the
brightest surfaces around it, not their mean, which is the clothes' own colour as much as
the light: a band on black leggings in a bright studio stays bright), blur (it is drawn on
a layer softened in proportion to the frame size) and grain, and the clip is encoded again
with the product's H.264 encoder (its compression). The joints are the track's (interpolated
to every frame and smoothed a little, as a band moves with the body, not with landmark
jitter). The label is the real clip's own, with the band placement it now shows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from formcheck.config import Config
from formcheck.filters import lowpass
from formcheck.synth.spec import BAND_COLORS, hex_to_bgr
from formcheck.track import PoseTrack
from formcheck.video import FileSource, VideoSink

Placement = Literal["hips", "knees", "both", "none"]
#: The placements drawn by default, and the colours taken in turn, clip after clip.
PLACEMENTS: tuple[Placement, ...] = ("hips", "knees", "both", "none")
COLOR_CYCLE: tuple[str, ...] = ("red", "blue", "green", "black", "purple", "yellow", "orange")
#: Band width as a share of the thigh's length in the picture (2.6 cm on a 45 cm thigh).
BAND_WIDTH = 0.058
#: Joints' smoothing (Hz): a band follows the body, not the landmarks' jitter.
JOINT_CUTOFF_HZ = 4.0
#: Grain added to the band (grey levels), as a camera's sensor adds it to everything.
GRAIN = 3.0
#: The light on the body: this percentile of the brightness (max of R, G, B) around the
#: thigh, against `FULL_LIGHT` (grey levels), the brightness of a white surface in a
#: well-lit clip. The bright surfaces (skin, a white wall or floor, lit cloth) tell the
#: light; the mean would take dark clothing for a dark room.
LIGHT_PERCENTILE = 95.0
FULL_LIGHT = 215.0


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return v / max(float(np.hypot(*v)), 1e-9)


def _up_normal(d: NDArray[np.float64]) -> NDArray[np.float64]:
    """The unit normal of direction `d` that points up the picture (the front of a lying
    lifter's hips)."""
    n = _unit(np.array([-d[1], d[0]]))
    return n if n[1] <= 0 else -n


def _strip(
    layer: np.ndarray,
    mask: np.ndarray,
    centre: np.ndarray,
    half: np.ndarray,
    normal: np.ndarray,
    color: tuple[int, ...],
    edge: tuple[int, ...],
) -> None:
    left = centre + normal * half[:, None]
    right = centre - normal * half[:, None]
    poly = np.round(np.vstack([left, right[::-1]]) * 16).astype(np.int32)
    cv2.fillPoly(layer, [poly], color, cv2.LINE_AA, shift=4)
    cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA, shift=4)
    for side in (left, right):
        cv2.polylines(
            layer, [np.round(side * 16).astype(np.int32)], False, edge, 1, cv2.LINE_AA, shift=4
        )


def _capsule(
    layer: np.ndarray,
    mask: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    r: float,
    color: tuple[int, ...],
) -> None:
    thick = max(1, round(2 * r))
    pa = (round(float(a[0])), round(float(a[1])))
    pb = (round(float(b[0])), round(float(b[1])))
    cv2.line(layer, pa, pb, color, thick, cv2.LINE_AA)
    cv2.line(mask, pa, pb, 255, thick, cv2.LINE_AA)


def draw_band(
    image: np.ndarray,
    joints: NDArray[np.float64],
    placement: Placement,
    color_bgr: tuple[int, int, int],
    twist: float,
) -> np.ndarray:
    """`image` with a band drawn at `placement` on the body whose near side's shoulder, hip,
    knee and ankle are `joints` (4, 2) in pixels; unchanged for `none`, and where the hip,
    knee or ankle is missing."""
    if placement == "none" or not np.isfinite(joints[1:]).all():
        return image
    _, hip, knee, ankle = joints
    thigh = knee - hip
    length = float(np.hypot(*thigh))
    if length < 8:
        return image
    w = BAND_WIDTH * length
    h, wd = image.shape[:2]
    # The band takes the light of the body around it.
    x0, y0 = np.clip(np.minimum(hip, knee) - 0.2 * length, 0, [wd - 1, h - 1]).astype(int)
    x1, y1 = np.clip(np.maximum(hip, knee) + 0.2 * length, 1, [wd, h]).astype(int)
    region = image[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]
    light = (
        float(np.clip(np.percentile(region.max(axis=2), LIGHT_PERCENTILE) / FULL_LIGHT, 0.35, 1.15))
        if region.size
        else 1.0
    )
    color = tuple(int(np.clip(c * light, 0, 255)) for c in color_bgr)
    edge = tuple(int(c * 0.7) for c in color)
    sigma = max(0.5, 0.8 * h / 720.0)  # the clip's softness: 720 px high blur about 1 px
    # Drawn on a layer the size of the band's box only (a full-frame layer costs 10x).
    pts = [knee - 0.3 * length, knee + 0.3 * length, hip - 0.3 * length, hip + 0.3 * length]
    if placement != "knees":
        pts += [ankle - 0.3 * length, ankle + 0.3 * length]
    lo = np.clip(np.floor(np.min(pts, axis=0)), 0, [wd, h]).astype(int)
    hi = np.clip(np.ceil(np.max(pts, axis=0)), 0, [wd, h]).astype(int)
    if (hi - lo).min() < 2:
        return image
    origin = lo.astype(np.float64)
    roi = image[lo[1] : hi[1], lo[0] : hi[0]]
    layer = np.zeros_like(roi)
    mask = np.zeros(roi.shape[:2], np.uint8)
    hip, knee, ankle = hip - origin, knee - origin, ankle - origin
    if placement in ("hips", "both"):
        up = _up_normal(thigh)
        crease = hip + 0.12 * thigh + up * 0.2 * length
        foot = ankle + _unit(ankle - knee) * 0.08 * length
        t = np.linspace(0.0, 1.0, 16)
        centre = foot + np.outer(t, crease - foot)
        half = 0.5 * w * (0.3 + 0.7 * np.abs(np.cos(math.pi * (1.3 * t + twist))))
        _strip(layer, mask, centre, half, _up_normal(crease - foot), color, edge)
        along = _unit(thigh)
        _capsule(
            layer,
            mask,
            crease - along * 0.12 * length,
            crease + along * 0.12 * length,
            0.4 * w,
            color,
        )
    if placement in ("knees", "both"):
        c = hip + 0.8 * thigh
        across = _up_normal(thigh) * 0.2 * length
        _capsule(layer, mask, c + across, c - across, 0.5 * w + 1.0, edge)
        _capsule(layer, mask, c + across, c - across, 0.5 * w, color)
    layer = cv2.GaussianBlur(layer, (0, 0), sigma)
    alpha = cv2.GaussianBlur(mask, (0, 0), sigma).astype(np.float32)[..., None] / 255.0
    grain = np.random.default_rng(int(twist * 1e6)).normal(0.0, GRAIN, roi.shape)
    painted = layer.astype(np.float32) / np.maximum(alpha, 1e-3) + grain
    blended = roi.astype(np.float32) * (1 - alpha) + np.clip(painted, 0, 255) * alpha
    out = np.array(image, copy=True)
    out[lo[1] : hi[1], lo[0] : hi[0]] = np.clip(blended, 0, 255).astype(np.uint8)
    return np.asarray(out, np.uint8)


def _joint_paths(track: PoseTrack) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per joint coordinate (4 joints x 2): the track's times, the smoothed values where the
    joint is known, and where it is missing (to leave the band out there)."""
    paths = []
    for j in range(4):
        for c in range(2):
            x = track.joints_xy_px[:, j, c]
            ok = np.isfinite(x)
            smooth = lowpass(track.t_s[ok], x[ok], JOINT_CUTOFF_HZ) if ok.sum() >= 4 else x[ok]
            paths.append((track.t_s[ok], smooth, (~ok).astype(np.float64)))
    return paths


def _joints_at(
    paths: list[tuple[np.ndarray, np.ndarray, np.ndarray]], t_all: np.ndarray, t_s: float
) -> NDArray[np.float64]:
    """The near-side joints (4, 2) at time `t_s`; NaN where the track had none nearby."""
    out = np.full(8, np.nan)
    for k, (t, x, missing) in enumerate(paths):
        if len(t) >= 2 and np.interp(t_s, t_all, missing) <= 0.5:
            out[k] = np.interp(t_s, t, x, left=np.nan, right=np.nan)
    return out.reshape(4, 2)


def overlay_clip(
    video: Path, track: PoseTrack, outs: Mapping[Placement, tuple[Path, float]], color: str
) -> None:
    """Write `video` with a band drawn, in `color`, at each placement of `outs` to its
    (path, twist), decoding the clip once."""
    source = FileSource(video)
    info = source.info
    paths = _joint_paths(track)
    bgr = hex_to_bgr(BAND_COLORS[color])
    with ExitStack() as stack:
        sinks = {
            placement: stack.enter_context(VideoSink(out, info.fps, (info.width, info.height)))
            for placement, (out, _) in outs.items()
        }
        for frame in source:
            joints = _joints_at(paths, track.t_s, frame.t_s)
            for placement, sink in sinks.items():
                sink.write(
                    draw_band(frame.image_bgr, joints, placement, bgr, outs[placement][1]),
                    frame.t_s,
                )


def overlay_label(
    label: dict[str, Any], clip_name: str, placement: Placement, color: str
) -> dict[str, Any]:
    """The real clip's label for its banded copy: the band placement it now shows."""
    band = "both" if placement == "hips" and label.get("band") == "knees" else placement
    drawn = (
        f"a {color} band drawn at the {placement} along the tracked landmarks"
        if placement != "none"
        else "no band drawn: the clip encoded again"
    )
    return {
        **label,
        "clip": clip_name,
        "band": band,
        "band_color": color if placement != "none" else None,
        "reps": [{**r, "band": band} for r in label.get("reps", [])],
        "overlays": f"{drawn} (formcheck band-overlay)",
    }


def band_overlay_set(
    source_dir: Path,
    out_dir: Path,
    cfg: Config,
    placements: tuple[Placement, ...] = PLACEMENTS,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Banded copies of the usable labelled clips of `source_dir` (those without a band, and
    for `hips` the knee-band ones too, which then show both; `none`: re-encoded, no band),
    with their labels, in `out_dir`. Returns the clips written."""
    from formcheck.analyze import analyze_measurement
    from formcheck.evaluate.labels import find_clips
    from formcheck.measure import measure_clip, open_estimator

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with open_estimator(cfg) as estimator:
        for k, (label_path, video) in enumerate(find_clips(source_dir)):
            label = json.loads(label_path.read_text(encoding="utf-8"))
            if not label.get("usable", True) or not label.get("reps"):
                continue
            source = FileSource(video, cfg.pose.stride, cfg.pose.max_fps)
            track = analyze_measurement(measure_clip(source, cfg, estimator), cfg).track
            color = COLOR_CYCLE[k % len(COLOR_CYCLE)]
            outs: dict[Placement, tuple[Path, float]] = {
                placement: (
                    out_dir / f"{video.stem}__band_{placement}.mp4",
                    (k * 0.618034 + len(placement) * 0.1) % 1.0,
                )
                for placement in placements
                if label.get("band", "none") == "none" or placement == "hips"
            }
            if progress:
                for clip, _ in outs.values():
                    progress(clip.name)
            overlay_clip(video, track, outs, color)
            for placement, (clip, _) in outs.items():
                clip.with_suffix(".json").write_text(
                    json.dumps(overlay_label(label, clip.name, placement, color), indent=1),
                    encoding="utf-8",
                )
                written.append(clip)
    return written
