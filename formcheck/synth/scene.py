"""Everything in a synthetic frame except the lifter: room, bench, lighting, sensor noise,
blur, camera shake, a passing occluder and a passer-by.

Static layers (room and bench) are drawn once per clip; per-frame effects use
precomputed material (noise frames, a tone lookup table, a shake path) so a frame costs
a few array operations. All randomness comes from `numpy.random.Generator`s seeded from
the spec's seed, one stream per purpose, so a change in one effect never reshuffles
another.

World coordinates: the body frame (metres; x head->feet, y up, z to the person's right).
Image coordinates: pixels, x right, y down. Colours: BGR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from formcheck.synth.camera import PinholeCamera
from formcheck.synth.draw import (
    BGR,
    draw_walker,
    ellipse,
    fill_convex,
    fill_poly,
    polyline,
    scale_color,
)
from formcheck.synth.kinematics import MotionPlan
from formcheck.synth.spec import CLOTHING_COLORS, HAIR_COLORS, SKIN_TONES, ClipSpec, hex_to_bgr

Image = NDArray[np.uint8]
Float = NDArray[np.float64]

# Seed streams: one per purpose (see module docstring).
_STREAM_ROOM, _STREAM_NOISE, _STREAM_SHAKE, _STREAM_OCCLUDER, _STREAM_WALKER = range(1, 6)
WALKER_MIN_WALL_M = 4.5  # with a passer-by, the wall is at least this far behind (m)
N_NOISE_FRAMES = 6
WALKER_DEPTH_FRAC = (0.65, 0.85)  # the passer-by walks this far towards the wall


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """An independent, reproducible random stream for one purpose."""
    return np.random.default_rng([seed, stream])


def _poly3(cam: PinholeCamera, pts: list[list[float]]) -> Float:
    uv, _ = cam.project(np.array(pts, dtype=np.float64))
    return uv


# -- the room ---------------------------------------------------------------------------


def wall_distance_m(spec: ClipSpec, cam: PinholeCamera) -> float:
    """How far behind the lifter's mid-plane the wall is, metres.

    Usually 2.4-3.6 m (a home or gym wall, drawn from the seed). With a passer-by the
    room is deeper: far enough that a 1.9 m person walking at the nearest of
    `WALKER_DEPTH_FRAC` of that depth has their head inside the frame.
    """
    wall = float(rng_for(spec.seed, _STREAM_ROOM + 200).uniform(2.4, 3.6))
    if not spec.second_person:
        return wall
    wall = max(wall, WALKER_MIN_WALL_M)
    while wall < 30.0:
        z = -cam.near_sign * WALKER_DEPTH_FRAC[0] * wall
        head, _ = cam.project(np.array([[0.5, 1.95, z]]))
        if head[0, 1] >= 0.04 * spec.height:
            break
        wall += 0.25
    return wall


def _wall_line(cam: PinholeCamera, zw: float, y: float, width: int) -> Float:
    """(2, 2) pixels: the wall's horizontal line at height `y` metres, extended well past
    both image sides."""
    uv = _poly3(cam, [[-0.5, y, zw], [1.5, y, zw]])
    d = uv[1] - uv[0]
    if abs(d[0]) < 1e-9:
        d = np.array([1.0, 0.0])
    d = d / abs(d[0])  # unit step in x
    left, right = uv[0] + (-5.0 * width - uv[0][0]) * d, uv[0] + (6.0 * width - uv[0][0]) * d
    return np.array([left, right])


def _wall_z(spec: ClipSpec, cam: PinholeCamera) -> float:
    return -cam.near_sign * wall_distance_m(spec, cam)


def draw_room(spec: ClipSpec, cam: PinholeCamera) -> Image:
    """Wall, floor, skirting, a mat under the lifter and (for "cluttered") gym furniture,
    posters, a window, a plant and a rack. Drawn once per clip."""
    w, h = spec.width, spec.height
    rng = rng_for(spec.seed, _STREAM_ROOM)
    wall = hex_to_bgr(spec.wall_color)
    floor = hex_to_bgr(spec.floor_color)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = wall
    zw = _wall_z(spec, cam)
    # Soft vertical gradient on the wall (light from above).
    ys = np.linspace(0.0, 1.0, h)[:, None, None]
    grad = (1.06 - 0.12 * ys) * np.ones((1, w, 1))
    img = np.clip(img.astype(np.float32) * grad, 0, 255).astype(np.uint8)
    # Floor: everything below the line where the floor meets the wall. A 3D line
    # projects to a 2D line, so project two points near the middle and extend them
    # across the image (far points could lie behind a turned camera).
    base = _wall_line(cam, zw, 0.0, w)
    fill_poly(img, np.vstack([base, [[base[1][0], 10.0 * h], [base[0][0], 10.0 * h]]]), floor)
    # Floor boards / tiles: faint lines receding towards the wall.
    if spec.background == "cluttered" or rng.random() < 0.5:
        line_col = scale_color(floor, 0.88)
        near_z = cam.near_sign * (abs(float(cam.position[2])) - 0.6)
        for xb in np.arange(-6.0, 7.0, 0.6):
            seg = _poly3(cam, [[xb, 0.0, zw], [xb, 0.0, near_z]])
            polyline(img, seg, line_col, 1)
    # Skirting board along the bottom of the wall.
    top = _wall_line(cam, zw, 0.1, w)
    fill_poly(img, np.vstack([base, top[::-1]]), scale_color(wall, 0.8))
    if spec.background == "cluttered":
        _draw_clutter(img, spec, cam, rng, wall)
    # Exercise mat under the lifter.
    mat_col = hex_to_bgr(
        ["#3a3f4a", "#6a2a4a", "#2c5a5a", "#4a4a4a", "#22303f"][int(rng.integers(0, 5))]
    )
    zm = cam.near_sign
    mat = _poly3(
        cam,
        [
            [-0.3, 0.004, 0.45 * zm],
            [1.6, 0.004, 0.45 * zm],
            [1.6, 0.004, -0.45 * zm],
            [-0.3, 0.004, -0.45 * zm],
        ],
    )
    fill_convex(img, mat, mat_col)
    edge = _poly3(
        cam,
        [
            [-0.3, 0.004, 0.45 * zm],
            [1.6, 0.004, 0.45 * zm],
            [1.6, 0.0, 0.45 * zm],
            [-0.3, 0.0, 0.45 * zm],
        ],
    )
    fill_convex(img, edge, scale_color(mat_col, 0.7))
    # Vignette: real lenses darken the corners.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (0.75 * w)) ** 2 + ((yy - h / 2) / (0.75 * h)) ** 2
    vig = (1.0 - 0.18 * r2)[..., None]
    out: Image = np.clip(img.astype(np.float32) * vig, 0, 255).astype(np.uint8)
    return out


def _line3(
    img: Image, cam: PinholeCamera, a: list[float], b: list[float], color: BGR, thickness: int
) -> None:
    """An anti-aliased line between two world points."""
    polyline(img, _poly3(cam, [a, b]), color, thickness)


def _draw_clutter(
    img: Image, spec: ClipSpec, cam: PinholeCamera, rng: np.random.Generator, wall: BGR
) -> None:
    """Posters, a window and a clock on the wall; boxes, a dumbbell rack, a plant and a
    gym ball on the floor against it. Positions in world metres along the wall."""
    zw = _wall_z(spec, cam) + cam.near_sign * 0.01
    zf = _wall_z(spec, cam) + cam.near_sign * 0.35  # floor items stand off the wall
    px_per_m = cam.focal_px / abs(float(cam.position[2]) - zf)
    palette = [hex_to_bgr(c) for c in CLOTHING_COLORS]

    def color() -> BGR:
        return palette[int(rng.integers(0, len(palette)))]

    def wall_rect(x0: float, y0: float, x1: float, y1: float, z: float) -> Float:
        return _poly3(cam, [[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]])

    for _ in range(int(rng.integers(3, 6))):  # posters with a frame and lines of "text"
        cx, cy = float(rng.uniform(-3.0, 4.0)), float(rng.uniform(1.0, 1.9))
        pw, ph = float(rng.uniform(0.3, 0.9)), float(rng.uniform(0.3, 0.8))
        quad = wall_rect(cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2, zw)
        fill_convex(img, quad, scale_color(wall, 0.6))
        inner = quad.mean(axis=0) + 0.88 * (quad - quad.mean(axis=0))
        fill_convex(img, inner, color())
        for k in range(int(rng.integers(0, 4))):
            t = 0.25 + 0.15 * k
            a = inner[0] + t * (inner[3] - inner[0])
            b = inner[1] + t * (inner[2] - inner[1])
            polyline(img, np.array([a, a + 0.7 * (b - a)]), color(), 2)
    wx = float(rng.uniform(-2.5, 3.5))  # a window with a cross bar
    win = wall_rect(wx, 1.0, wx + 1.2, 2.1, zw)
    fill_convex(img, win, (235, 225, 200))
    polyline(img, np.array([(win[0] + win[1]) / 2, (win[2] + win[3]) / 2]), (200, 200, 200), 2)
    polyline(img, np.array([(win[0] + win[3]) / 2, (win[1] + win[2]) / 2]), (200, 200, 200), 2)
    clock = _poly3(cam, [[float(rng.uniform(-2.0, 3.0)), 2.0, zw]])[0]
    r = 0.14 * px_per_m
    ellipse(img, clock, (r + 1.5, r + 1.5), 0.0, (40, 40, 40))
    ellipse(img, clock, (r, r), 0.0, (245, 245, 245))
    for _ in range(int(rng.integers(2, 5))):  # boxes
        bx = float(rng.uniform(-3.5, 4.0))
        bw, bh = float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.2, 0.9))
        col = color()
        back = zf - 0.3 * cam.near_sign
        top = _poly3(cam, [[bx, bh, zf], [bx + bw, bh, zf], [bx + bw, bh, back], [bx, bh, back]])
        fill_convex(img, top, scale_color(col, 1.2))
        fill_convex(img, wall_rect(bx, 0.0, bx + bw, bh, zf), col)
    rx = float(rng.uniform(-3.0, 3.0))  # a dumbbell rack: two shelves of dumbbells
    for lx in (rx, rx + 1.4):
        _line3(img, cam, [lx, 0.0, zf], [lx, 0.7, zf], (50, 50, 50), 3)
    for level in (0.3, 0.65):
        _line3(img, cam, [rx, level, zf], [rx + 1.4, level, zf], (60, 60, 60), 2)
        for k in range(6):
            q = _poly3(cam, [[rx + 0.12 + 0.23 * k, level + 0.06, zf]])[0]
            rr = (0.05 + 0.01 * k) * px_per_m
            ellipse(img, q, (rr, rr), 0.0, (35, 35, 38))
    px = float(rng.uniform(-3.0, 4.0))  # a potted plant
    pot = _poly3(
        cam,
        [[px - 0.15, 0.0, zf], [px + 0.15, 0.0, zf], [px + 0.18, 0.35, zf], [px - 0.18, 0.35, zf]],
    )
    fill_convex(img, pot, (60, 90, 150))
    leaf_c = _poly3(cam, [[px, 0.75, zf]])[0]
    for k in range(7):
        ang = -90 + (k - 3) * 25
        d = np.array([math.cos(math.radians(ang)), math.sin(math.radians(ang))])
        ellipse(
            img,
            leaf_c + d * 0.2 * px_per_m,
            (0.25 * px_per_m, 0.06 * px_per_m),
            ang,
            (50, 120 + 10 * k, 40),
        )
    ball = _poly3(cam, [[float(rng.uniform(-3.0, 4.0)), 0.33, zf]])[0]  # a gym ball
    ellipse(img, ball, (0.33 * px_per_m, 0.33 * px_per_m), 0.0, color())


# -- the bench --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sprite:
    """A pre-drawn layer: pixels plus a mask, pasted over a frame where mask is set."""

    image: Image
    mask: NDArray[np.bool_]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in pixels

    def paste(self, frame: Image) -> None:
        x0, y0, x1, y1 = self.box
        if x1 <= x0 or y1 <= y0:
            return
        np.copyto(
            frame[y0:y1, x0:x1], self.image[y0:y1, x0:x1], where=self.mask[y0:y1, x0:x1, None]
        )


def bench_sprite(spec: ClipSpec, cam: PinholeCamera, plan: MotionPlan) -> Sprite:
    """A padded flat bench whose front edge sits under the shoulder blades (x =
    `plan.bench_edge_x`), seen by `cam`; a box with a padded top for some seeds."""
    w, h = spec.width, spec.height
    rng = rng_for(spec.seed, _STREAM_ROOM + 100)
    layer = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    col = hex_to_bgr(spec.bench_color)
    x1 = plan.bench_edge_x
    x0 = x1 - float(rng.uniform(1.0, 1.25))
    y1 = plan.bench_height_m
    zn = cam.near_sign
    half_w = 0.2 if rng.random() < 0.6 else 0.3
    pad = 0.07
    box = rng.random() < 0.35

    def quad(pts: list[list[float]], c: BGR) -> None:
        uv = _poly3(cam, pts)
        fill_convex(layer, uv, c)
        fill_convex(mask, uv, (255, 255, 255))

    frame_col = (70, 70, 72) if sum(col) > 200 else (150, 150, 155)
    if box:
        # A solid plyo box under the pad.
        quad(
            [
                [x0, 0, zn * half_w],
                [x1, 0, zn * half_w],
                [x1, y1 - pad, zn * half_w],
                [x0, y1 - pad, zn * half_w],
            ],
            (60, 100, 140),
        )
        quad(
            [
                [x1, 0, zn * half_w],
                [x1, 0, -zn * half_w],
                [x1, y1 - pad, -zn * half_w],
                [x1, y1 - pad, zn * half_w],
            ],
            (50, 85, 120),
        )
    else:
        # Two legs and a foot bar under the pad.
        for lx in (x0 + 0.12, x1 - 0.12):
            for lz in (half_w * 0.7, -half_w * 0.7):
                quad(
                    [
                        [lx - 0.03, 0, zn * lz],
                        [lx + 0.03, 0, zn * lz],
                        [lx + 0.03, y1 - pad, zn * lz],
                        [lx - 0.03, y1 - pad, zn * lz],
                    ],
                    scale_color(frame_col, 0.8 if lz < 0 else 1.0),
                )
        quad(
            [
                [x0 + 0.05, y1 - pad - 0.05, zn * half_w * 0.7],
                [x1 - 0.05, y1 - pad - 0.05, zn * half_w * 0.7],
                [x1 - 0.05, y1 - pad, zn * half_w * 0.7],
                [x0 + 0.05, y1 - pad, zn * half_w * 0.7],
            ],
            frame_col,
        )
    # The pad: top face (visible from above), near side, front end.
    quad(
        [
            [x0, y1, zn * half_w],
            [x1, y1, zn * half_w],
            [x1, y1, -zn * half_w],
            [x0, y1, -zn * half_w],
        ],
        scale_color(col, 1.25),
    )
    quad(
        [
            [x0, y1 - pad, zn * half_w],
            [x1, y1 - pad, zn * half_w],
            [x1, y1, zn * half_w],
            [x0, y1, zn * half_w],
        ],
        col,
    )
    quad(
        [
            [x1, y1 - pad, zn * half_w],
            [x1, y1 - pad, -zn * half_w],
            [x1, y1, -zn * half_w],
            [x1, y1, zn * half_w],
        ],
        scale_color(col, 0.8),
    )
    # Stitching line along the pad.
    _line3(
        layer,
        cam,
        [x0 + 0.02, y1 - 0.012, zn * half_w],
        [x1 - 0.02, y1 - 0.012, zn * half_w],
        scale_color(col, 1.5),
        1,
    )
    ys, xs = np.nonzero(mask)
    bbox = (
        (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        if xs.size
        else (0, 0, 0, 0)
    )
    return Sprite(layer, mask > 127, bbox)


# -- camera and sensor effects ----------------------------------------------------------


def tone_lut(spec: ClipSpec) -> NDArray[np.uint8]:
    """A (256, 1, 3) lookup table applying contrast, brightness, gamma and colour cast."""
    light = spec.lighting
    x = np.arange(256, dtype=np.float64)
    base = (x - 128.0) * light.contrast + 128.0 + light.brightness
    base = 255.0 * (np.clip(base, 0, 255) / 255.0) ** light.gamma
    r, g, b = light.cast_rgb
    lut = np.stack([base * b, base * g, base * r], axis=1)  # BGR channel order
    return np.clip(np.round(lut), 0, 255).astype(np.uint8).reshape(256, 1, 3)


def is_identity_lut(lut: NDArray[np.uint8]) -> bool:
    return bool(
        np.array_equal(lut[:, 0, :], np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1))
    )


@dataclass(frozen=True)
class NoiseBank:
    """Precomputed zero-mean Gaussian sensor noise, split into the positive and negative
    parts (uint8) so a frame only needs a saturating add and subtract."""

    plus: tuple[Image, ...]
    minus: tuple[Image, ...]
    order: NDArray[np.int64]

    def apply(self, frame: Image, index: int) -> None:
        """Add noise frame number `order[index % len(order)]` to `frame` in place."""
        k = int(self.order[index % len(self.order)])
        cv2.add(frame, self.plus[k], dst=frame)
        cv2.subtract(frame, self.minus[k], dst=frame)


def noise_bank(spec: ClipSpec) -> NoiseBank | None:
    """Noise frames for `spec.noise` (std in grey levels), or None when there is none."""
    if spec.noise <= 0:
        return None
    rng = rng_for(spec.seed, _STREAM_NOISE)
    plus, minus = [], []
    for _ in range(N_NOISE_FRAMES):
        n = rng.normal(0.0, spec.noise, (spec.height, spec.width, 3))
        # Some noise is shared by the three channels (luma), some is per channel (chroma).
        n = 0.6 * n + 0.4 * n.mean(axis=2, keepdims=True) * math.sqrt(3)
        q = np.round(n).astype(np.int16)
        plus.append(np.clip(q, 0, 255).astype(np.uint8))
        minus.append(np.clip(-q, 0, 255).astype(np.uint8))
    order = rng.integers(0, N_NOISE_FRAMES, size=997)  # prime length: no visible cycle
    return NoiseBank(tuple(plus), tuple(minus), order)


def shake_path(spec: ClipSpec) -> Float:
    """(frame_count, 2) image translation in pixels per frame: a smooth hand-held wobble
    (sum of a few slow sinusoids) with amplitude about `spec.shake`."""
    n = spec.frame_count
    out = np.zeros((n, 2))
    if spec.shake <= 0:
        return out
    rng = rng_for(spec.seed, _STREAM_SHAKE)
    t = np.arange(n) / spec.fps
    for axis in range(2):
        for _ in range(3):
            f = rng.uniform(0.2, 1.6)
            a = rng.uniform(0.3, 1.0)
            out[:, axis] += a * np.sin(2 * math.pi * f * t + rng.uniform(0, 2 * math.pi))
        out[:, axis] *= spec.shake / 1.5
    return out


@dataclass(frozen=True)
class Occluder:
    """Something passing close in front of the camera (a bag carried past, an arm): a big
    dark rounded shape that slides in from an image edge, stays, and slides out.

    Attributes:
        start_s, end_s: when any of it is in the frame, seconds.
        edge: the image edge it comes from: "bottom", "left" or "right".
        depth_frac: how far into the frame it reaches at most (fraction of the frame
            dimension across that edge).
        along_frac: where along that edge it is centred (fraction).
        size_frac: its extent along the edge (fraction).
        color: BGR.
    """

    start_s: float
    end_s: float
    edge: str
    depth_frac: float
    along_frac: float
    size_frac: float
    color: BGR

    def coverage(self, t_s: float) -> float:
        """0..1: how far in it is at `t_s` (eased in over the first and last 0.4 s)."""
        if not self.start_s <= t_s <= self.end_s:
            return 0.0
        ramp = 0.4
        u = min(t_s - self.start_s, self.end_s - t_s) / ramp
        return 0.5 - 0.5 * math.cos(math.pi * min(1.0, u))

    def polygon(self, t_s: float, width: int, height: int) -> Float | None:
        """Outline (N, 2) in pixels at `t_s`, or None when out of frame."""
        c = self.coverage(t_s)
        if c <= 0.0:
            return None
        k = np.linspace(0, 2 * math.pi, 40, endpoint=False)
        if self.edge == "bottom":
            cx = self.along_frac * width
            half = 0.5 * self.size_frac * width
            reach = c * self.depth_frac * height
            cy = height + 0.35 * reach
            return np.stack([cx + half * np.cos(k), cy + 1.35 * reach * np.sin(k)], axis=1)
        half = 0.5 * self.size_frac * height
        reach = c * self.depth_frac * width
        cy = self.along_frac * height
        cx = -0.35 * reach if self.edge == "left" else width + 0.35 * reach
        return np.stack([cx + 1.35 * reach * np.cos(k), cy + half * np.sin(k)], axis=1)

    def draw(self, frame: Image, t_s: float) -> Float | None:
        """Draw it (in place) and return its outline, or None when absent."""
        poly = self.polygon(t_s, frame.shape[1], frame.shape[0])
        if poly is not None:
            fill_poly(frame, poly, self.color)
            # A softer rim, as an out-of-focus object close to the lens has.
            inner = poly.mean(axis=0) + 0.93 * (poly - poly.mean(axis=0))
            fill_poly(frame, inner, scale_color(self.color, 0.85))
        return poly


def make_occluder(spec: ClipSpec) -> Occluder | None:
    """The spec's occluder (None when `spec.occlusion` is False): 1.2-2.2 s long, at a
    random time after the first rep has started."""
    if not spec.occlusion:
        return None
    rng = rng_for(spec.seed, _STREAM_OCCLUDER)
    dur = float(rng.uniform(1.2, 2.2))
    first = spec.reps[0].rest_s
    start = float(rng.uniform(first, max(first, spec.duration_s - dur - 0.2)))
    edge = ("bottom", "left", "right")[int(rng.integers(0, 3))]
    col = (int(rng.integers(25, 70)), int(rng.integers(25, 70)), int(rng.integers(25, 80)))
    return Occluder(
        start_s=round(start, 3),
        end_s=round(min(start + dur, spec.duration_s), 3),
        edge=edge,
        depth_frac=float(rng.uniform(0.25, 0.4)),
        along_frac=float(rng.uniform(0.25, 0.75)),
        size_frac=float(rng.uniform(0.25, 0.4)),
        color=col,
    )


@dataclass(frozen=True)
class Walker:
    """A second person walking across the room behind the lifter.

    Attributes:
        start_s, end_s: when they are in the frame (roughly), seconds.
        x0, x1: walking from world x0 to x1 (metres) at depth z.
        z: depth of the walking line, metres (between the lifter and the wall).
        height_m: their height.
        colors: skin, hair, top, trousers, shoes (BGR).
        fade: how much they blend into the wall colour (0..1): fainter, further away.
    """

    start_s: float
    end_s: float
    x0: float
    x1: float
    z: float
    height_m: float
    colors: tuple[BGR, BGR, BGR, BGR, BGR]
    fade: float

    def draw(self, frame: Image, cam: PinholeCamera, t_s: float, wall: BGR) -> bool:
        """Draw them at `t_s` (in place); False when they are not in the clip then."""
        if not self.start_s <= t_s <= self.end_s:
            return False
        u = (t_s - self.start_s) / (self.end_s - self.start_s)
        x = self.x0 + (self.x1 - self.x0) * u
        heading = 1.0 if self.x1 > self.x0 else -1.0
        stride_m = 0.75
        phase = math.pi * abs(x - self.x0) / stride_m
        draw_walker(
            frame,
            cam,
            (x, 0.0, self.z),
            heading,
            phase,
            self.height_m,
            self.colors,
            wall,
            self.fade,
        )
        return True


def make_walker(spec: ClipSpec, cam: PinholeCamera) -> Walker | None:
    """The passer-by (None unless `spec.second_person`): walks the width of the view at
    1.0-1.4 m/s, part-way between the lifter and the wall, during the clip."""
    if not spec.second_person:
        return None
    rng = rng_for(spec.seed, _STREAM_WALKER)
    wall = wall_distance_m(spec, cam)
    depth = float(rng.uniform(*WALKER_DEPTH_FRAC)) * wall
    z = -cam.near_sign * depth
    # The x range visible at that depth, plus a margin so they walk in and out.
    d = abs(float(cam.position[2]) - z)
    half_view = 0.5 * spec.width / cam.focal_px * d
    cx = float(cam.to_camera(np.array([[0.0, 0.0, z]]))[0, 0])
    centre_x = -cx if cam.near_sign > 0 else cx
    xa, xb = centre_x - half_view - 0.6, centre_x + half_view + 0.6
    if rng.random() < 0.5:
        xa, xb = xb, xa
    speed = float(rng.uniform(1.0, 1.4))
    dur = float(abs(xb - xa)) / speed
    start = float(rng.uniform(0.0, max(0.0, spec.duration_s - dur)))
    # Clothes that stand out from the wall, so the passer-by is faint but still a person.
    wall_luma = sum(hex_to_bgr(spec.wall_color)) / 3
    visible = [c for c in CLOTHING_COLORS if abs(sum(hex_to_bgr(c)) / 3 - wall_luma) > 70]
    colors = (
        hex_to_bgr(SKIN_TONES[int(rng.integers(0, len(SKIN_TONES)))]),
        hex_to_bgr(HAIR_COLORS[int(rng.integers(0, len(HAIR_COLORS)))]),
        hex_to_bgr(visible[int(rng.integers(0, len(visible)))]),
        hex_to_bgr(visible[int(rng.integers(0, len(visible)))]),
        hex_to_bgr(("#f4f4f2", "#222226", "#59606b")[int(rng.integers(0, 3))]),
    )
    return Walker(
        round(start, 3),
        round(start + dur, 3),
        float(xa),
        float(xb),
        z,
        float(rng.uniform(1.6, 1.9)),
        colors,
        float(rng.uniform(0.3, 0.45)),
    )


def blur(frame: Image, sigma: float) -> Image:
    """Gaussian blur with `sigma` pixels (the frame itself when sigma is 0)."""
    if sigma <= 0:
        return frame
    out: Image = np.asarray(cv2.GaussianBlur(frame, (0, 0), sigma), dtype=np.uint8)
    return out


def translate(frame: Image, dx: float, dy: float) -> Image:
    """Shift the image by (dx, dy) pixels (sub-pixel, edges replicated)."""
    if dx == 0 and dy == 0:
        return frame
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float64)
    warped = cv2.warpAffine(
        frame,
        m,
        (frame.shape[1], frame.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    out: Image = np.asarray(warped, dtype=np.uint8)
    return out
