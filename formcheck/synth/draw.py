"""Drawing the person: body, face, clothes and band, from a 3D pose and a camera.

Everything is drawn with anti-aliased, sub-pixel filled polygons (OpenCV `fillPoly` /
`ellipse` with `LINE_AA` and a fixed-point `shift`), painter's order from the far side
of the body to the near side. Limbs are tapered capsules (two circles joined by their
outer tangents), so they have rounded ends like real limbs, drawn as a darker rim with a
core shifted towards the light (a cheap stand-in for shading, which also keeps a limb's
edge visible against a background of similar colour); the trunk, shoes and face are
smoothed outlines with a darker rim. Sizes are in metres in the body frame and are
turned into pixels through the camera, so near limbs are drawn slightly larger than far
ones. A band strand is a flat strip whose apparent width changes along it (it twists).

Image coordinates: pixels, x right, y down; colours are BGR tuples of ints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from formcheck.synth.camera import PinholeCamera
from formcheck.synth.kinematics import HEAD_POINTS, BodyPose, Segments
from formcheck.synth.spec import BAND_COLORS, ClipSpec, hex_to_bgr

BGR = tuple[int, int, int]
Float = NDArray[np.float64]

SHIFT = 4  # fixed-point bits for OpenCV's sub-pixel drawing (1/16 px)
_ONE = float(1 << SHIFT)
_AA = cv2.LINE_AA


def scale_color(color: BGR, k: float) -> BGR:
    """`color` with each channel multiplied by `k` (clipped to 0..255)."""
    return (min(255, int(color[0] * k)), min(255, int(color[1] * k)), min(255, int(color[2] * k)))


def mix_color(a: BGR, b: BGR, w: float) -> BGR:
    """(1 - w) * a + w * b."""
    return (
        round(a[0] + (b[0] - a[0]) * w),
        round(a[1] + (b[1] - a[1]) * w),
        round(a[2] + (b[2] - a[2]) * w),
    )


def _fixed(points: Float) -> NDArray[np.int32]:
    return np.round(points * _ONE).astype(np.int32).reshape(-1, 1, 2)


def fill_poly(img: NDArray[np.uint8], points_px: ArrayLike, color: BGR) -> None:
    """Fill a polygon (any shape) given in float pixels, anti-aliased."""
    pts = np.asarray(points_px, dtype=np.float64)
    cv2.fillPoly(img, [_fixed(pts)], color, _AA, SHIFT)


def fill_convex(img: NDArray[np.uint8], points_px: ArrayLike, color: BGR) -> None:
    """Fill a convex polygon given in float pixels, anti-aliased (faster than fill_poly)."""
    pts = np.asarray(points_px, dtype=np.float64)
    cv2.fillConvexPoly(img, _fixed(pts), color, _AA, SHIFT)


_ARC_CACHE: dict[int, Float] = {}


def _arc(n: int) -> Float:
    """n+1 values evenly spaced on [0, 1] (cached)."""
    arc = _ARC_CACHE.get(n)
    if arc is None:
        arc = np.linspace(0.0, 1.0, n + 1)
        _ARC_CACHE[n] = arc
    return arc


def capsule_points(p0: ArrayLike, p1: ArrayLike, r0: float, r1: float) -> Float:
    """Outline (N, 2) of a tapered capsule: circles of radius r0 at p0 and r1 at p1 joined
    by their outer tangents. Pixels in, pixels out."""
    a = np.asarray(p0, dtype=np.float64)
    b = np.asarray(p1, dtype=np.float64)
    d = b - a
    length = math.hypot(d[0], d[1])
    r0, r1 = max(r0, 0.3), max(r1, 0.3)
    if length <= abs(r0 - r1) + 1e-6:  # one circle swallows the other
        r, c = (r0, a) if r0 >= r1 else (r1, b)
        n = max(8, min(32, int(r * 1.2)))
        t = _arc(n)[:-1] * 2 * math.pi
        return np.stack([c[0] + r * np.cos(t), c[1] + r * np.sin(t)], axis=1)
    theta = math.atan2(d[1], d[0])
    alpha = math.asin((r0 - r1) / length)
    # The tangent points sit at +-(90 deg - alpha) from the axis; the bigger circle gets
    # the longer arc.
    half = math.pi / 2 - alpha
    n0 = max(4, min(16, int(r0 * 0.8)))
    n1 = max(4, min(16, int(r1 * 0.8)))
    t0 = theta + half + _arc(n0) * (2 * math.pi - 2 * half)
    t1 = theta - half + _arc(n1) * (2 * half)
    pts = np.empty((t0.size + t1.size, 2))
    pts[: t0.size, 0] = a[0] + r0 * np.cos(t0)
    pts[: t0.size, 1] = a[1] + r0 * np.sin(t0)
    pts[t0.size :, 0] = b[0] + r1 * np.cos(t1)
    pts[t0.size :, 1] = b[1] + r1 * np.sin(t1)
    return pts


def capsule(
    img: NDArray[np.uint8], p0: ArrayLike, p1: ArrayLike, r0: float, r1: float, color: BGR
) -> None:
    """Draw a filled tapered capsule (radii in pixels)."""
    fill_convex(img, capsule_points(p0, p1, r0, r1), color)


Limb = tuple[Float, Float, float, float]  # (p0, p1, r0, r1) in pixels

RIM_SHADE = 0.72  # colour factor of a limb's silhouette rim
LIGHT_DIR = np.array([0.0, -1.0])  # light from above the image: cores shift upwards


def shaded_limbs(img: NDArray[np.uint8], limbs: Sequence[Limb], color: BGR) -> None:
    """Capsules of one colour drawn as rounded solids: all rims first (darker), then all
    cores (the colour, slightly smaller and shifted towards the light), so parts of one
    limb merge without inner lines while the silhouette keeps a visible edge against a
    background of similar colour."""
    rim = scale_color(color, RIM_SHADE)
    for p0, p1, r0, r1 in limbs:
        capsule(img, p0, p1, r0, r1, rim)
    for p0, p1, r0, r1 in limbs:
        k0, k1 = max(0.3, min(0.86 * r0, r0 - 0.8)), max(0.3, min(0.86 * r1, r1 - 0.8))
        capsule(
            img, p0 + LIGHT_DIR * 0.3 * (r0 - k0), p1 + LIGHT_DIR * 0.3 * (r1 - k1), k0, k1, color
        )


def outlined_poly(img: NDArray[np.uint8], points_px: Float, color: BGR, width_px: float) -> None:
    """A filled polygon with a darker rim of about `width_px` pixels."""
    fill_poly(img, points_px, color)
    polyline(img, points_px, scale_color(color, RIM_SHADE), max(1, round(width_px)), closed=True)


def ellipse(
    img: NDArray[np.uint8],
    center: ArrayLike,
    axes: tuple[float, float],
    angle_deg: float,
    color: BGR,
) -> None:
    """Filled, anti-aliased ellipse; `axes` are semi-axes in pixels, `angle_deg` is the
    rotation of the first axis from +x (clockwise on screen, y down)."""
    c = np.asarray(center, dtype=np.float64)
    cv2.ellipse(
        img,
        (round(c[0] * _ONE), round(c[1] * _ONE)),
        (max(1, round(axes[0] * _ONE)), max(1, round(axes[1] * _ONE))),
        angle_deg,
        0,
        360,
        color,
        -1,
        _AA,
        SHIFT,
    )


def polyline(
    img: NDArray[np.uint8],
    points_px: ArrayLike,
    color: BGR,
    thickness: int = 1,
    closed: bool = False,
) -> None:
    """Anti-aliased polyline in float pixels."""
    pts = np.asarray(points_px, dtype=np.float64)
    cv2.polylines(img, [_fixed(pts)], closed, color, max(1, thickness), _AA, SHIFT)


def chaikin(points: ArrayLike, iterations: int = 2, closed: bool = True) -> Float:
    """Corner-cutting smoothing of a polygon (Chaikin): a rounded outline from a few
    control points."""
    p = np.asarray(points, dtype=np.float64)
    for _ in range(iterations):
        q = np.roll(p, -1, axis=0) if closed else p[1:]
        base = p if closed else p[:-1]
        a = 0.75 * base + 0.25 * q
        b = 0.25 * base + 0.75 * q
        out = np.empty((a.shape[0] * 2, p.shape[1]))
        out[0::2], out[1::2] = a, b
        p = out if closed else np.vstack([p[:1], out, p[-1:]])
    return p


# Trunk outline in the torso's own coordinates: (a, b) with a along shoulder -> hip in
# torso lengths (0 = shoulder joint, 1 = hip joint) and b towards the chest in units of
# the back depth (shoulder joint to the back surface). Drawn clockwise from the front of
# the shoulder cap, round the buttocks and back along the spine.
_TRUNK_CONTROL = np.array(
    [
        (-0.13, 0.25),
        (-0.02, 0.85),
        (0.16, 1.12),
        (0.36, 1.08),
        (0.55, 0.88),
        (0.74, 0.86),
        (0.9, 0.9),
        (1.02, 0.8),
        (1.13, 0.3),
        (1.13, -0.45),
        (1.03, -1.08),
        (0.86, -1.05),
        (0.7, -0.86),
        (0.45, -0.98),
        (0.16, -1.05),
        (-0.05, -0.9),
        (-0.15, -0.4),
    ]
)
_TRUNK = chaikin(_TRUNK_CONTROL, 3)
# The part of the trunk below the waist (a >= 0.8): what shorts or leggings cover.
_WAIST_A = 0.8


def _pelvis_outline() -> Float:
    keep = _TRUNK[:, 0] >= _WAIST_A
    start = int(np.argmax(~keep & np.roll(keep, -1))) + 1  # first kept point of the run
    run = np.roll(_TRUNK, -start, axis=0)
    run = run[: int(keep.sum())]
    return run


_PELVIS = _pelvis_outline()

# Shoe outline in the foot's coordinates: (along the foot from the heel in foot
# lengths, height above the floor in ankle heights).
_SHOE_CONTROL = np.array(
    [
        (0.0, 0.05),
        (-0.02, 0.6),
        (0.04, 1.25),
        (0.2, 1.45),
        (0.36, 1.2),
        (0.6, 0.75),
        (0.85, 0.55),
        (1.0, 0.35),
        (1.02, 0.05),
    ]
)
_SHOE = chaikin(_SHOE_CONTROL, 2, closed=True)


# Head profile in the head's frame (see `kinematics.HEAD_POINTS`): (f, h) in head
# lengths, f towards the face, h towards the crown; from the crown over the face, round
# the chin and jaw, and back over the skull.
_HEAD = chaikin(
    np.array(
        [
            (0.0, 0.52),
            (0.2, 0.46),
            (0.33, 0.3),
            (0.38, 0.16),
            (0.345, 0.085),
            (0.48, -0.035),
            (0.37, -0.085),
            (0.385, -0.14),
            (0.35, -0.19),
            (0.37, -0.225),
            (0.33, -0.3),
            (0.26, -0.38),
            (0.08, -0.34),
            (-0.06, -0.24),
            (-0.22, -0.2),
            (-0.38, -0.02),
            (-0.39, 0.22),
            (-0.25, 0.44),
        ]
    ),
    2,
)
# Short hair: a cap over the crown and the back of the skull, leaving the ear and face.
_HAIR_SHORT = chaikin(
    np.array(
        [
            (0.3, 0.4),
            (0.08, 0.57),
            (-0.2, 0.53),
            (-0.41, 0.36),
            (-0.46, 0.1),
            (-0.41, -0.13),
            (-0.28, -0.19),
            (-0.19, -0.04),
            (-0.13, 0.13),
            (0.0, 0.25),
            (0.14, 0.3),
            (0.3, 0.33),
        ]
    ),
    2,
)
# Long hair: falls from the back of the head onto the bench.
_HAIR_LONG = chaikin(
    np.array(
        [
            (-0.2, 0.5),
            (-0.45, 0.4),
            (-0.75, 0.2),
            (-0.95, -0.05),
            (-0.9, -0.3),
            (-0.55, -0.25),
            (-0.3, -0.2),
        ]
    ),
    2,
)


def head_to_px(pose: BodyPose, cam: PinholeCamera, head_len: float) -> Callable[[Float], Float]:
    """A map from head-frame points (f, h) in head lengths to image pixels, through the
    camera at the body's mid-plane (the head is drawn flat, in profile)."""
    c = pose.joints["head"][:2]
    pts = np.array(
        [
            [c[0], c[1], 0.0],
            [*(c + head_len * pose.face_dir), 0.0],
            [*(c + head_len * pose.head_dir), 0.0],
        ]
    )
    uv, _ = cam.project(pts)
    o, f_px, h_px = uv[0], uv[1] - uv[0], uv[2] - uv[0]

    def to_px(local: Float) -> Float:
        loc = np.asarray(local, dtype=np.float64).reshape(-1, 2)
        out: Float = o + np.outer(loc[:, 0], f_px) + np.outer(loc[:, 1], h_px)
        return out

    return to_px


@dataclass(frozen=True)
class Palette:
    """BGR colours of one person."""

    skin: BGR
    skin_shade: BGR
    lips: BGR
    hair: BGR
    shirt: BGR
    legwear: BGR
    shoes: BGR
    sole: BGR
    band: BGR
    band_edge: BGR
    eye: BGR
    sclera: BGR


def palette_for(spec: ClipSpec) -> Palette:
    """The person's colours from the spec's `look` and `band_color`."""
    look = spec.look
    skin = hex_to_bgr(look.skin)
    shoes = hex_to_bgr(look.shoes)
    band = hex_to_bgr(BAND_COLORS[spec.band_color])
    dark_shoes = sum(shoes) < 300
    return Palette(
        skin=skin,
        skin_shade=scale_color(skin, 0.8),
        lips=mix_color(scale_color(skin, 0.75), (70, 60, 150), 0.35),
        hair=hex_to_bgr(look.hair),
        shirt=hex_to_bgr(look.shirt),
        legwear=hex_to_bgr(look.legwear_color),
        shoes=shoes,
        sole=(235, 235, 235) if dark_shoes else (60, 60, 60),
        band=band,
        band_edge=scale_color(band, 0.7),
        eye=(40, 30, 25),
        sclera=(235, 240, 240),
    )


FAR_SHADE = 0.78  # far-side limbs are in the body's shadow
_STRAND_T = np.linspace(0.0, 1.0, 14)  # samples along a band strand, foot (0) to hip (1)


class PersonPainter:
    """Draws one person, built once per clip (palette, sizes), then `draw` per frame."""

    def __init__(self, spec: ClipSpec, seg: Segments) -> None:
        self.spec = spec
        self.seg = seg
        self.pal = palette_for(spec)
        g = seg.girth
        h = spec.body.height_m / 1.72
        self.r = {  # limb radii, metres
            "thigh0": 0.088 * g * h,
            "thigh1": 0.056 * g * h,
            "shin0": 0.05 * g * h,
            "shin1": 0.031 * g * h,
            "calf0": 0.045 * g * h,
            "calf1": 0.036 * g * h,
            "uarm0": 0.047 * g * h,
            "uarm1": 0.037 * g * h,
            "farm0": 0.036 * g * h,
            "farm1": 0.026 * g * h,
            "hand0": 0.03 * h,
            "hand1": 0.021 * h,
            "neck": 0.052 * (0.6 + 0.4 * g) * h,
            "band": 0.013,  # half-width of a loop band (2.6 cm wide)
        }
        # Where along its length the hip band shows its edge (a half twist), per clip.
        self._twist = (spec.seed * 0.618034) % 1.0
        self.band = spec.band
        self.look = spec.look

    # -- helpers ----------------------------------------------------------------------

    def _proj(self, cam: PinholeCamera, pts: ArrayLike) -> tuple[Float, Float]:
        uv, z = cam.project(pts)
        return uv, cam.focal_px / z

    def draw(self, img: NDArray[np.uint8], pose: BodyPose, cam: PinholeCamera) -> None:
        """Draw the person in `pose` onto `img` (in place) as seen by `cam`."""
        jts = pose.joints
        near = "right" if cam.near_sign > 0 else "left"
        far = "left" if near == "right" else "right"
        names = list(jts)
        uv, ppm = self._proj(cam, np.stack([jts[n] for n in names]))
        px = dict(zip(names, uv, strict=True))
        sc: dict[str, float] = dict(zip(names, ppm.tolist(), strict=True))
        pal = self.pal

        self._draw_arm(img, px, sc, far, FAR_SHADE)
        if self.band in ("hips", "both"):
            self._draw_hip_strand(img, pose, cam, far, FAR_SHADE)
        self._draw_leg(img, pose, cam, px, sc, far, FAR_SHADE)
        if self.band in ("knees", "both"):
            self._draw_knee_band(img, px, sc, far, FAR_SHADE)
        # Neck under the trunk and head.
        shaded_limbs(
            img,
            [(px["neck"], px["head"], self.r["neck"] * sc["neck"], self.r["neck"] * sc["head"])],
            scale_color(pal.skin, 0.92),
        )
        self._draw_trunk(img, pose, cam)
        self._draw_head(img, pose, cam, near)
        self._draw_leg(img, pose, cam, px, sc, near, 1.0)
        if self.band in ("hips", "both"):
            self._draw_hip_strand(img, pose, cam, near, 1.0)
        if self.band in ("knees", "both"):
            self._draw_knee_band(img, px, sc, near, 1.0)
        self._draw_arm(img, px, sc, near, 1.0)

    # -- body parts -------------------------------------------------------------------

    def _draw_trunk(self, img: NDArray[np.uint8], pose: BodyPose, cam: PinholeCamera) -> None:
        seg = self.seg
        s = pose.xy("right_shoulder")
        u = pose.torso_dir
        n = np.array([-u[1], u[0]])
        bd = seg.back_depth

        def to_world(local: Float) -> Float:
            xy = s + np.outer(local[:, 0] * seg.torso, u) + np.outer(local[:, 1] * bd, n)
            return np.column_stack([xy, np.zeros(len(local))])

        trunk_uv, depth = cam.project(to_world(_TRUNK))
        rim = 0.012 * cam.focal_px / float(depth.mean())
        outlined_poly(img, trunk_uv, self.pal.shirt, rim)
        pelvis_uv, _ = cam.project(to_world(_PELVIS))
        outlined_poly(img, pelvis_uv, self.pal.legwear, rim)

    def _draw_leg(
        self,
        img: NDArray[np.uint8],
        pose: BodyPose,
        cam: PinholeCamera,
        px: dict[str, Float],
        sc: dict[str, float],
        side: str,
        shade: float,
    ) -> None:
        pal, r = self.pal, self.r
        hip, knee, ankle = px[f"{side}_hip"], px[f"{side}_knee"], px[f"{side}_ankle"]
        sh, sk, sa = sc[f"{side}_hip"], sc[f"{side}_knee"], sc[f"{side}_ankle"]
        leggings = self.look.legwear == "leggings"
        skin = scale_color(pal.skin, shade)
        leg_col = scale_color(pal.legwear, shade)
        # Calf: a bulge on the back of the shin (away from the toes).
        shin_vec = ankle - knee
        ln = math.hypot(shin_vec[0], shin_vec[1]) or 1.0
        toward_toe = px[f"{side}_toe"] - ankle
        back = np.array([-shin_vec[1], shin_vec[0]]) / ln
        if back @ toward_toe > 0:
            back = -back
        c0 = knee + 0.3 * shin_vec + back * 0.008 * sk
        c1 = knee + 0.62 * shin_vec + back * 0.004 * sk
        thigh: Limb = (hip, knee, r["thigh0"] * sh, r["thigh1"] * sk)
        calf: Limb = (c0, c1, r["calf0"] * sk, r["calf1"] * sk)
        shin: Limb = (knee, ankle, r["shin0"] * sk, r["shin1"] * sa)
        if leggings:
            self._draw_shoe(img, pose, cam, side, shade)
            shaded_limbs(img, [calf, shin, thigh], leg_col)
            return
        shaded_limbs(img, [calf, shin], skin)
        self._draw_shoe(img, pose, cam, side, shade)
        shaded_limbs(img, [thigh], skin)
        # Shorts cover the upper half of the thigh, a little wider than it.
        mid = hip + 0.5 * (knee - hip)
        shaded_limbs(
            img,
            [
                (
                    hip,
                    mid,
                    (r["thigh0"] + 0.008) * sh,
                    (0.5 * (r["thigh0"] + r["thigh1"]) + 0.008) * sk,
                )
            ],
            leg_col,
        )

    def _draw_shoe(
        self, img: NDArray[np.uint8], pose: BodyPose, cam: PinholeCamera, side: str, shade: float
    ) -> None:
        seg = self.seg
        heel = pose.joints[f"{side}_heel"]
        x0 = heel[0]
        pts = np.column_stack(
            [
                x0 + _SHOE[:, 0] * seg.foot,
                _SHOE[:, 1] * seg.ankle_height,
                np.full(len(_SHOE), heel[2]),
            ]
        )
        uv, depth = cam.project(pts)
        outlined_poly(
            img, uv, scale_color(self.pal.shoes, shade), 0.008 * cam.focal_px / float(depth.mean())
        )
        sole = np.array([[x0 - 0.005, 0.0, heel[2]], [x0 + 1.02 * seg.foot, 0.0, heel[2]]])
        suv, sz = cam.project(sole)
        thick = 0.012 * cam.focal_px / float(sz[0])
        capsule(img, suv[0], suv[1], thick, thick, scale_color(self.pal.sole, shade))

    def _draw_arm(
        self,
        img: NDArray[np.uint8],
        px: dict[str, Float],
        sc: dict[str, float],
        side: str,
        shade: float,
    ) -> None:
        pal, r = self.pal, self.r
        sh, el, wr, ha = (px[f"{side}_{j}"] for j in ("shoulder", "elbow", "wrist", "hand"))
        ss, se, sw, sa = (sc[f"{side}_{j}"] for j in ("shoulder", "elbow", "wrist", "hand"))
        skin = scale_color(pal.skin, shade)
        shirt = scale_color(pal.shirt, shade)
        sleeves = self.look.sleeves
        hand: Limb = (wr, ha, r["hand0"] * sw, r["hand1"] * sa)
        forearm: Limb = (el, wr, r["farm0"] * se, r["farm1"] * sw)
        upper: Limb = (sh, el, r["uarm0"] * ss, r["uarm1"] * se)
        if sleeves == "long":
            shaded_limbs(img, [hand], skin)
            shaded_limbs(img, [forearm, upper], shirt)
            return
        shaded_limbs(img, [hand, forearm, upper], skin)
        if sleeves == "short":
            mid = sh + 0.5 * (el - sh)
            shaded_limbs(
                img, [(sh, mid, (r["uarm0"] + 0.008) * ss, (r["uarm1"] + 0.01) * se)], shirt
            )

    def _draw_head(
        self, img: NDArray[np.uint8], pose: BodyPose, cam: PinholeCamera, near: str
    ) -> None:
        """Head in profile: skull and face outline (forehead, nose, lips, chin), hair,
        ear, eye, brow, nostril and mouth, drawn in the body's mid-plane."""
        pal, look = self.pal, self.look
        to_px = head_to_px(pose, cam, self.seg.head_len)
        style = look.hair_style
        if style == "long":
            fill_poly(img, to_px(_HAIR_LONG), pal.hair)
        if style == "bun":
            c = to_px(np.array([[-0.36, 0.4]]))[0]
            r = float(np.hypot(*(to_px(np.array([[0.0, 0.12]]))[0] - to_px(np.zeros((1, 2)))[0])))
            ellipse(img, c, (r, r), 0.0, pal.hair)
        o = to_px(np.zeros((1, 2)))[0]
        h_px = to_px(np.array([[0.0, 1.0]]))[0] - o  # one head length towards the crown
        hl = float(np.hypot(*h_px))
        outlined_poly(img, to_px(_HEAD), pal.skin, 0.02 * hl)
        if style != "bald":
            outlined_poly(img, to_px(_HAIR_SHORT), pal.hair, 0.015 * hl)
        f_px = to_px(np.array([[1.0, 0.0]]))[0] - o  # one head length along the face
        angle = math.degrees(math.atan2(h_px[1], h_px[0]))
        ear = to_px(np.array([HEAD_POINTS["ear"]]))[0]
        ellipse(img, ear, (0.08 * hl, 0.05 * hl), angle, pal.skin_shade)
        ellipse(
            img, ear + 0.01 * f_px, (0.045 * hl, 0.022 * hl), angle, scale_color(pal.skin, 0.62)
        )
        eye = to_px(np.array([HEAD_POINTS["eye"]]))[0]
        ellipse(img, eye, (0.052 * hl, 0.026 * hl), angle + 90.0, pal.sclera)
        ellipse(img, eye + 0.02 * f_px, (0.022 * hl, 0.024 * hl), angle, pal.eye)
        lid = max(1, round(0.018 * hl))
        polyline(
            img,
            to_px(np.array([[0.22, 0.125], [0.27, 0.13], [0.31, 0.115]])),
            scale_color(pal.skin, 0.5),
            lid,
        )
        polyline(
            img,
            to_px(np.array([[0.19, 0.175], [0.27, 0.19], [0.35, 0.165]])),
            scale_color(pal.hair, 0.9),
            max(1, round(0.03 * hl)),
        )
        nostril = to_px(np.array([[0.39, -0.06]]))[0]
        ellipse(img, nostril, (0.022 * hl, 0.012 * hl), angle + 90.0, scale_color(pal.skin, 0.55))
        polyline(
            img,
            to_px(np.array([[0.365, -0.19], [0.32, -0.195], [0.28, -0.185]])),
            pal.lips,
            max(1, round(0.025 * hl)),
        )

    def _draw_hip_strand(
        self, img: NDArray[np.uint8], pose: BodyPose, cam: PinholeCamera, side: str, shade: float
    ) -> None:
        """Band looped under the foot and over the hip crease: a straight, taut strand
        from the middle of the foot to the front of the hip, and the wrap over it."""
        jts = pose.joints
        seg = self.seg
        zsign = 1.0 if side == "right" else -1.0
        heel = jts[f"{side}_heel"]
        foot = np.array([heel[0] + 0.45 * seg.foot, 0.01, zsign * (seg.limb_z + 0.045)])
        u3 = np.append(pose.torso_dir, 0.0)
        top = jts["pelvis_front"] + np.array([0.0, 0.0, zsign * (seg.limb_z + 0.05)])
        wrap0 = top - 0.035 * u3
        wrap1 = top + 0.035 * u3
        uv, depth = cam.project(np.stack([foot, top, wrap0, wrap1, jts["pelvis_front"]]))
        ppm = cam.focal_px / depth
        w = self.r["band"]
        col = scale_color(self.pal.band, shade)
        edge = scale_color(self.pal.band_edge, shade)
        # A flat band seen from the side twists along its length: its apparent width
        # swings between its full width and a fraction of it.
        t = _STRAND_T
        centre = uv[0] + np.outer(t, uv[1] - uv[0])
        half = w * (ppm[0] + (ppm[1] - ppm[0]) * t)
        half = half * (0.3 + 0.7 * np.abs(np.cos(math.pi * (1.3 * t + self._twist))))
        d = uv[1] - uv[0]
        normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
        left = centre + normal * half[:, None]
        right = centre - normal * half[:, None]
        strip = np.vstack([left, right[::-1]])
        fill_poly(img, strip, col)
        polyline(img, left, edge, 1)
        polyline(img, right, edge, 1)
        # Over the crease: a short band across the front of the pelvis.
        capsule(img, uv[2], uv[3], 0.75 * w * ppm[2], 0.75 * w * ppm[3], col)
        capsule(img, uv[1], uv[4], 0.8 * w * ppm[1], 0.8 * w * ppm[4], col)

    def _draw_knee_band(
        self,
        img: NDArray[np.uint8],
        px: dict[str, Float],
        sc: dict[str, float],
        side: str,
        shade: float,
    ) -> None:
        """A mini-band loop round the thigh just above the knee: seen from the side, a
        strip across the thigh, a little proud of it."""
        hip, knee = px[f"{side}_hip"], px[f"{side}_knee"]
        sk = sc[f"{side}_knee"]
        c = hip + 0.8 * (knee - hip)
        d = knee - hip
        ln = math.hypot(d[0], d[1]) or 1.0
        perp = np.array([-d[1], d[0]]) / ln
        thick = 0.5 * (self.r["thigh0"] * 0.2 + self.r["thigh1"] * 1.8) + 0.012
        a, b = c + perp * thick * sk, c - perp * thick * sk
        w = 0.019 * sk
        capsule(img, a, b, w + 0.004 * sk, w + 0.004 * sk, scale_color(self.pal.band_edge, shade))
        capsule(img, a, b, w, w, scale_color(self.pal.band, shade))


def draw_walker(
    img: NDArray[np.uint8],
    cam: PinholeCamera,
    base_xyz: Sequence[float],
    heading: float,
    phase: float,
    height_m: float,
    colors: Sequence[BGR],
    fade_to: BGR,
    fade: float,
) -> None:
    """A simple walking person (for the background passer-by).

    Args:
        base_xyz: point on the floor between the feet, world metres.
        heading: +1 walking towards +x, -1 towards -x.
        phase: gait phase in radians (one stride per 2 pi).
        height_m: standing height, metres.
        colors: (skin, hair, top, trousers, shoes) BGR.
        fade_to, fade: colours are mixed with `fade_to` by `fade` (0..1) so the
            passer-by looks further away and fainter than the lifter.
    """
    skin, hair, top, trousers, shoes = (mix_color(c, fade_to, fade) for c in colors)
    h = height_m
    bx, by, bz = (float(v) for v in base_xyz)
    hip_y = 0.53 * h
    sh_y = 0.82 * h
    thigh, shin, uarm, farm = 0.245 * h, 0.25 * h, 0.186 * h, 0.16 * h
    swing = 0.45 * math.sin(phase)
    bob = 0.012 * h * abs(math.cos(phase))
    pts: list[list[float]] = []
    names: list[str] = []

    def add(name: str, x: float, y: float, z: float) -> None:
        names.append(name)
        pts.append([bx + heading * x, by + y, bz + z])

    add("hip", 0.0, hip_y + bob, 0.0)
    add("shoulder", 0.02, sh_y + bob, 0.0)
    add("head", 0.03, 0.93 * h + bob, 0.0)
    for k, s in (("a", 1.0), ("b", -1.0)):
        leg = s * swing
        knee_bend = 0.35 * max(0.0, math.sin(phase * s + 1.2))
        kx, ky = thigh * math.sin(leg), hip_y + bob - thigh * math.cos(leg)
        ax = kx + shin * math.sin(leg - knee_bend)
        ay = ky - shin * math.cos(leg - knee_bend)
        add(f"knee_{k}", kx, ky, 0.05 * s)
        add(f"ankle_{k}", ax, max(ay, 0.05 * h), 0.05 * s)
        add(f"toe_{k}", ax + 0.13 * h, max(ay, 0.05 * h) - 0.03 * h, 0.05 * s)
        arm = -s * swing * 0.8
        ex, ey = uarm * math.sin(arm), sh_y + bob - uarm * math.cos(arm)
        add(f"elbow_{k}", ex, ey, 0.12 * s)
        add(
            f"wrist_{k}", ex + farm * math.sin(arm + 0.3), ey - farm * math.cos(arm + 0.3), 0.12 * s
        )
    uv, depth = cam.project(np.array(pts))
    ppm = cam.focal_px / depth
    px = dict(zip(names, uv, strict=True))
    k_m: dict[str, float] = dict(zip(names, ppm.tolist(), strict=True))
    g = h / 1.75
    for k in ("b", "a"):  # far limbs first
        capsule(
            img,
            px["shoulder"],
            px[f"elbow_{k}"],
            0.042 * g * k_m["shoulder"],
            0.035 * g * k_m["shoulder"],
            top,
        )
        capsule(
            img,
            px[f"elbow_{k}"],
            px[f"wrist_{k}"],
            0.033 * g * k_m["shoulder"],
            0.025 * g * k_m["shoulder"],
            skin,
        )
        capsule(
            img, px["hip"], px[f"knee_{k}"], 0.075 * g * k_m["hip"], 0.05 * g * k_m["hip"], trousers
        )
        capsule(
            img,
            px[f"knee_{k}"],
            px[f"ankle_{k}"],
            0.05 * g * k_m["hip"],
            0.035 * g * k_m["hip"],
            trousers,
        )
        capsule(
            img,
            px[f"ankle_{k}"],
            px[f"toe_{k}"],
            0.035 * g * k_m["hip"],
            0.03 * g * k_m["hip"],
            shoes,
        )
        if k == "b":
            capsule(
                img,
                px["shoulder"],
                px["hip"],
                0.13 * g * k_m["shoulder"],
                0.12 * g * k_m["hip"],
                top,
            )
            capsule(
                img,
                px["shoulder"],
                px["head"],
                0.045 * g * k_m["shoulder"],
                0.045 * g * k_m["shoulder"],
                skin,
            )
            ellipse(img, px["head"], (0.11 * g * k_m["head"], 0.12 * g * k_m["head"]), 90.0, skin)
            ellipse(
                img,
                px["head"] + np.array([-heading * 0.02, -0.04]) * g * k_m["head"],
                (0.1 * g * k_m["head"], 0.09 * g * k_m["head"]),
                0.0,
                hair,
            )
