"""Per-frame band evidence: how much each named colour looks like a band around the body.

Everything is measured in a *body frame* built from the landmarks of the side facing the
camera, so it works at any resolution and for either facing direction:

- origin at the hip joint, lengths in units of the thigh length L (hip to knee, pixels);
- `s` runs along the thigh (0 = hip, 1 = knee), `c` across it, positive towards the top
  of the image (the front of the hips and thighs when lying on the back);
- pixel points are (x, y), x right, y down, in the full frame.

Per colour class (`formcheck.band.colors`) these scores, each in [0, 1]:

- `strand`: a band looped under the feet and across the hips runs as a thin straight
  strand from the front of the hip crease down to the foot. Among a fan of candidate
  lines (start near the crease, end near the foot; the best few refined), the best line's
  share of samples on *thin* parts of the colour: pixels of the colour neither inside nor
  touching a region of that colour (loosely: shading included) where a disc `THIN_L` wide
  fits. A thigh, a mat, a bench, clothing or skin is broad; a strand is thin. Only the
  hip half of the line is sampled (near the foot lie shoes, mats and the floor), and left
  out are: samples on the floor (`FLOOR_CLEAR_L`), samples on the legs when the person's
  legs are of that colour (the outline of a shin in leggings is a thin line too), samples
  with the colour beside the line on either side (`_SIDE_L` away: slivers of a larger
  region of that colour cut by a seam or a gap), and for black, whose loose class takes
  in shadows and dim surfaces, samples with different colours on their two sides instead
  (outlines and shadows along an edge are dark lines). A hit counts only in runs of three
  or more (a strand is long, chance coincidences are bits). Not measured with the hips on
  the floor.
- `knee`: a mini-band above the knees is a narrow loop across the thigh. Along the thigh
  (0.55-1.0 L, `knee_pos`), a cross-section within the thigh (where no background shows)
  that is of the colour and whose colour stands out from the thigh just before and after
  it, from any mix of those two (a hem), and from the person's shin. The score is the
  colour's share of the cross-section times that contrast (CIE76 delta E, full marks at
  `LOOP_DELTA_E`). A loop of the thigh's own colour (a band on leggings of its colour)
  does not stand out; its rims do: two thin lines across the thigh a band's width apart,
  the same cloth between and either side, found in a finer resampled patch of the thigh
  (full marks at `RIM_DELTA_E`).
- `crease`: the share of the colour in a patch over the front of the hip crease, above its
  share in the person's own clothing (thigh and torso). Recorded, not used by the judge:
  belts, waistbands and a dumbbell across the hips look the same.

and two references: `clothing`, the largest share of the colour on the person's thigh,
torso and shin (their clothing and skin), and `background`, its share along the border of
the crop (the floor, mat, wall and bench behind).

Regions outside the frame are left out; a score whose region is mostly outside the frame
is None. The work is done on a small crop around the lower body, resized so that L is
about `WORK_PX_PER_L` pixels, so a 4K frame costs no more than a 360p one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from formcheck.band.colors import BAND_COLOR_NAMES, classes_from_hsv, hue_value_chroma
from formcheck.pose.landmarks import Landmark, PoseFrame
from formcheck.video.frames import ImageBGR

Float = NDArray[np.float64]
Bool = NDArray[np.bool_]

#: Pixels per thigh length in the working crop (smaller crops are used as they are).
WORK_PX_PER_L = 48.0
#: Landmarks below this visibility are not used to place regions.
MIN_VISIBILITY = 0.5
#: The far leg (mostly hidden in a side view) is placed from landmarks this visible.
FAR_LEG_VISIBILITY = 0.2
#: A thigh shorter than this (pixels) is too small to see a band on.
MIN_THIGH_PX = 12.0
#: Margin of the working crop around the lower body, in thigh lengths.
CROP_MARGIN_L = 0.45
#: Thin: parts of a colour that a disc this wide (thigh lengths) does not fit in. A band
#: strand is about 0.1 L wide; a thigh, a mat or a bench is far wider.
THIN_L = 0.22
#: Thin parts this close (thigh lengths) to a broad region of their colour are its rim
#: (edges are soft: blur, anti-aliasing, compression), not a strand.
TOUCH_L = 0.06
#: Strands are judged with the hips at least this far up from the feet towards the knees
#: (a share of the knees' height above the feet). A camera above the lifter shortens every
#: height in the picture alike and leaves this share as it is; a height in thigh lengths it
#: shortens (the real knee-band clip squashed to 0.6 of its height, as a camera above the
#: lifter foreshortens it, had its tops at 0.35-0.4 L where 0.5 L was asked: the strand was
#: never looked for, and the band was "unknown"). On the team's real floor bridges the share
#: runs 0.46-0.7 at the tops and 0.11-0.41 at the bottoms (hips on the floor); a hip thrust
#: from a bench reaches the knees' height (about 1.0) at the top.
MIN_HIP_RISE = 0.4
#: Strand samples lower in the image than this far (thigh lengths) above the foot are
#: on the floor: left out.
FLOOR_CLEAR_L = 0.2
#: Half-widths (thigh lengths) of the thigh and the shin, for leaving them out of strands.
LEG_HALF_WIDTH_L = (0.2, 0.13)
#: The person's legs count as "of a colour" (their leggings, shorts or socks) from this
#: share of the thigh or shin samples (loose classes); then that colour's strands skip
#: the legs.
LEGS_WEAR_SHARE = 0.3
#: A strand sample is judged by the colours `_SIDE_L` thigh lengths to either side of it: of
#: a colour other than black, neither side may be (loosely) of that colour; black, the
#: two sides must differ by less than this (CIE76 delta E).
DARK_SIDES_DELTA_E = 25.0
_SIDE_L = 0.12
_BLACK = BAND_COLOR_NAMES.index("black")
#: Colour contrast (CIE76 delta E) of a knee loop against the thigh that earns full marks.
LOOP_DELTA_E = 25.0
#: A knee loop of the thigh's own colour (a band on leggings of its colour) shows only by its
#: rims: two thin lines across the thigh a band's width apart, the same cloth between and
#: either side. They are looked for in a patch of the thigh resampled at this many pixels per
#: thigh length (rims are a few millimetres wide: finer than the working crop).
RIM_PX_PER_L = 100.0
_RIM_S = (0.45, 1.1)  # the patch along the thigh (L): loop positions and the band's width
_RIM_C = 0.12  # the patch across the thigh (L), within it
_RIM_GAP_L = 0.03  # a rim is compared with the colours this far (L) to either side
_RIM_WIDTH_L = (0.05, 0.16)  # a band's width between its rims (L): 2-7 cm on a 45 cm thigh
_RIM_SHEAR = (-0.27, 0.0, 0.27)  # the band's tilt across the thigh: tan(-15, 0, 15 degrees)
#: Rim contrast (CIE76 delta E) that earns full marks. Lower than `LOOP_DELTA_E`: a rim is a
#: line a few millimetres wide, which blur and compression spread over two or three pixels
#: of a typical clip, so even a sharp rim shows at about half its contrast.
RIM_DELTA_E = 15.0
#: A strand scoring at least this is left out of the knee profile within `_STRAND_CLEAR`.
STRAND_EXCLUDE = 0.5
_STRAND_CLEAR = 0.12

# Knee loop: cross-sections of the thigh from s = 0.1 to 1.35 in steps of 0.05.
_PROFILE_S = np.round(np.arange(0.1, 1.351, 0.05), 3)
_PROFILE_C = np.linspace(-0.12, 0.12, 7)  # within the thigh
_LOOP_S = (0.55, 1.0)  # where a mini-band above the knees sits along the thigh
_LOOP_GAP = (0.15, 0.25)  # the loop's close neighbours, this far before and after it


def _profile_between(lo: float, hi: float) -> NDArray[np.intp]:
    """Indices of the profile positions in [lo, hi] (thigh lengths)."""
    return np.flatnonzero(np.abs(_PROFILE_S - 0.5 * (lo + hi)) <= 0.5 * (hi - lo) + 1e-9)


_LOOP_POS = _profile_between(*_LOOP_S)
_LOOP_BEFORE = np.array(
    [_profile_between(s - _LOOP_GAP[1], s - _LOOP_GAP[0]) for s in _PROFILE_S[_LOOP_POS]]
)
_LOOP_AFTER = np.array(
    [_profile_between(s + _LOOP_GAP[0], s + _LOOP_GAP[1]) for s in _PROFILE_S[_LOOP_POS]]
)
# Knee-loop rims: the patch's samples along (s) and across (c) the thigh (L); every candidate
# loop as the patch columns of its first rim, its second rim and its middle; and the columns
# nearest each loop position.
_RIM_S_L = np.arange(_RIM_S[0], _RIM_S[1] + 0.5 / RIM_PX_PER_L, 1.0 / RIM_PX_PER_L)
_RIM_C_L = np.linspace(-_RIM_C, _RIM_C, 13)
_RIM_GAP = max(1, round(_RIM_GAP_L * RIM_PX_PER_L))
_RIM_WIDTHS = np.arange(
    round(_RIM_WIDTH_L[0] * RIM_PX_PER_L), round(_RIM_WIDTH_L[1] * RIM_PX_PER_L) + 1
)
_wi, _j1 = np.meshgrid(np.arange(len(_RIM_WIDTHS)), np.arange(len(_RIM_S_L)), indexing="ij")
_fits = (_j1 >= _RIM_GAP) & (_j1 + _RIM_WIDTHS[_wi] + _RIM_GAP < len(_RIM_S_L))
_RIM_WIDTH_INDEX, _RIM_J1 = _wi[_fits], _j1[_fits]
_RIM_J2 = _RIM_J1 + _RIM_WIDTHS[_RIM_WIDTH_INDEX]
_RIM_MID = (_RIM_J1 + _RIM_J2) // 2
_RIM_NEAR = (
    np.abs(_RIM_S_L[None, :] - _PROFILE_S[_LOOP_POS][:, None])
    <= 0.5 * (_PROFILE_S[1] - _PROFILE_S[0]) + 1e-9
)  # (P, S)
# Strand: candidate starts (s, c) near the front of the hip crease, candidate ends as
# offsets (dx, dy) from the foot in image axes (thigh lengths), samples along each line.
_STRAND_STARTS = np.array([(s, c) for s in (-0.2, 0.05, 0.3) for c in (-0.1, 0.15, 0.4)])
_STRAND_ENDS = np.array([(dx, dy) for dx in (-0.3, -0.15, 0.0, 0.15, 0.3) for dy in (-0.1, 0.05)])
# Refining a colour's best line: each end moved by -1, 0 or +1 step along x and y.
_REFINE_FROM = 0.15
_REFINE_STEP_L = 0.08
_REFINE_OFFSETS = np.array(
    [(a, b, c, d) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) for d in (-1, 0, 1)],
    dtype=np.float64,
)
_STRAND_T = np.linspace(0.12, 0.55, 12)  # the hip half: clear of shoes, mats and floor
_STRAND_WIDTH = (-0.06, -0.03, 0.0, 0.03, 0.06)  # a hit anywhere across this width (L)
_MIN_VALID_SHARE = 0.6
# Crease: a patch in front of the hip; clothing: the thigh's upper half, torso, shin.
_CREASE = np.array([(s, c) for s in (-0.1, 0.05, 0.2) for c in (0.15, 0.3, 0.45)])
_THIGH_REF = np.array([(s, c) for s in (0.25, 0.35, 0.45) for c in (-0.08, 0.0, 0.08)])


@dataclass(frozen=True)
class BodyFrame:
    """The side facing the camera, in pixels, and the body frame built on it.

    `hip`, `knee`, `ankle`, `foot` (mid-foot, or the ankle when the foot is not seen) and
    `shoulder` (NaN when not seen) are (2,) pixel points; `length_px` is the thigh length
    L; `u` the unit vector hip->knee, `n` the unit normal to it pointing up the image.
    `far_leg`: (3, 2) hip, knee, ankle of the other side (rows NaN when not seen).
    """

    side: str
    hip: Float
    knee: Float
    ankle: Float
    foot: Float
    shoulder: Float
    length_px: float
    u: Float
    n: Float
    far_leg: Float

    def at(self, s_l: Float | float, c_l: Float | float) -> Float:
        """Pixel points (..., 2) at body coordinates s along the thigh, c across it (L)."""
        s = np.asarray(s_l, dtype=np.float64)[..., None]
        c = np.asarray(c_l, dtype=np.float64)[..., None]
        return np.asarray(self.hip + self.length_px * (s * self.u + c * self.n))

    def to_body(self, xy_px: Float) -> Float:
        """(..., 2) body coordinates (s, c), in units of L, of pixel points."""
        d = (np.asarray(xy_px, dtype=np.float64) - self.hip) / self.length_px
        return np.stack([d @ self.u, d @ self.n], axis=-1)


_SIDES: dict[str, tuple[Landmark, ...]] = {
    "left": (
        Landmark.LEFT_SHOULDER,
        Landmark.LEFT_HIP,
        Landmark.LEFT_KNEE,
        Landmark.LEFT_ANKLE,
        Landmark.LEFT_HEEL,
        Landmark.LEFT_FOOT_INDEX,
    ),
    "right": (
        Landmark.RIGHT_SHOULDER,
        Landmark.RIGHT_HIP,
        Landmark.RIGHT_KNEE,
        Landmark.RIGHT_ANKLE,
        Landmark.RIGHT_HEEL,
        Landmark.RIGHT_FOOT_INDEX,
    ),
}


def body_frame(pose: PoseFrame, min_visibility: float = MIN_VISIBILITY) -> BodyFrame | None:
    """The body frame of the side whose hip, knee and ankle are more visible in this frame,
    or None when those three are not all seen or the thigh is too short."""
    if pose.is_missing:
        return None
    vis = pose.visibility.astype(np.float64)
    side = max(_SIDES, key=lambda s: float(np.mean(vis[list(_SIDES[s][1:4])])))
    sh, hp, kn, an, he, fi = _SIDES[side]
    if min(vis[hp], vis[kn], vis[an]) < min_visibility:
        return None
    xy = pose.xy_px.astype(np.float64)
    hip, knee, ankle = xy[hp], xy[kn], xy[an]
    if not np.isfinite(np.concatenate([hip, knee, ankle])).all():
        return None
    d = knee - hip
    length = float(math.hypot(d[0], d[1]))
    if length < MIN_THIGH_PX:
        return None
    u = d / length
    n = np.array([u[1], -u[0]])
    if n[1] > 0:  # point up the image
        n = -n
    foot = ankle
    if min(vis[he], vis[fi]) >= min_visibility and np.isfinite(xy[[he, fi]]).all():
        foot = 0.5 * (xy[he] + xy[fi])
    shoulder = xy[sh] if vis[sh] >= min_visibility else np.full(2, np.nan)
    other = _SIDES["right" if side == "left" else "left"][1:4]
    far_leg = xy[list(other)].copy()
    far_leg[vis[list(other)] < FAR_LEG_VISIBILITY] = np.nan
    return BodyFrame(side, hip, knee, ankle, foot, shoulder, length, u, n, far_leg)


@dataclass(frozen=True)
class ColorEvidence:
    """One colour's scores in one frame (see the module docstring; all in [0, 1]).

    `knee_pos`: where along the thigh (units of L) the best knee loop is. `line`: the best
    strand as (s, c) of its start in the body frame and (dx, dy) of its end from the
    ankle in image axes, all in units of L. None: not measurable.
    """

    strand: float | None
    knee: float | None
    crease: float | None
    clothing: float
    background: float
    knee_pos: float | None = None
    line: tuple[float, float, float, float] | None = None

    def to_list(self) -> list[float | None]:
        """Compact JSON form: [strand, knee, crease, clothing, background, knee_pos, *line]."""
        line = list(self.line) if self.line is not None else [None] * 4
        return [
            _r(x)
            for x in (
                self.strand,
                self.knee,
                self.crease,
                self.clothing,
                self.background,
                self.knee_pos,
                *line,
            )
        ]

    @classmethod
    def from_list(cls, data: list[Any]) -> ColorEvidence:
        """Inverse of `to_list` (missing trailing entries are None)."""
        v = [None if x is None else float(x) for x in (list(data) + [None] * 10)[:10]]
        line = v[6:10]
        return cls(
            v[0],
            v[1],
            v[2],
            v[3] or 0.0,
            v[4] or 0.0,
            v[5],
            (line[0], line[1], line[2], line[3])  # type: ignore[arg-type]
            if all(x is not None for x in line)
            else None,
        )


def _r(x: float | None, digits: int = 3) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


@dataclass(frozen=True)
class FrameEvidence:
    """The band evidence of one sampled frame.

    `t_s`: frame time (s); `side`: body side used; `thigh_px`: L in pixels;
    `colors`: name -> `ColorEvidence` for every name in `BAND_COLOR_NAMES`.
    """

    t_s: float
    side: str
    thigh_px: float
    colors: dict[str, ColorEvidence]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, as stored in `Measurement.band["frames"]`."""
        return {
            "t": round(self.t_s, 4),
            "side": self.side,
            "L": round(self.thigh_px, 1),
            "c": {k: v.to_list() for k, v in self.colors.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameEvidence:
        """Inverse of `to_dict`.

        Raises:
            KeyError, TypeError, ValueError: not a record written by `to_dict`.
        """
        return cls(
            float(data["t"]),
            str(data["side"]),
            float(data["L"]),
            {str(k): ColorEvidence.from_list(v) for k, v in data["c"].items()},
        )


class _Crop:
    """A small, resized crop of the frame around some points: its colour classes, their
    thin parts, its Lab colours, sampled at pixel points of the full frame."""

    def __init__(self, image_bgr: ImageBGR, points_px: Float, length_px: float) -> None:
        margin = CROP_MARGIN_L * length_px
        h, w = image_bgr.shape[:2]
        lo = np.floor(np.nanmin(points_px, axis=0) - margin)
        hi = np.ceil(np.nanmax(points_px, axis=0) + margin)
        x0, y0 = int(max(0, lo[0])), int(max(0, lo[1]))
        x1, y1 = int(min(w, hi[0])), int(min(h, hi[1]))
        self.origin = np.array([x0, y0], dtype=np.float64)
        self.scale = min(1.0, WORK_PX_PER_L / length_px)
        k = len(BAND_COLOR_NAMES)
        if x1 - x0 < 2 or y1 - y0 < 2:
            self.empty = True
            self.masks = self.thin = self.loose = np.zeros((k, 1, 1), dtype=bool)
            self.image = np.zeros((1, 1, 3), dtype=np.uint8)
            self.border = np.zeros(k)
            return
        self.empty = False
        crop: ImageBGR = image_bgr[y0:y1, x0:x1]
        if self.scale < 1.0:
            wh = (max(2, round((x1 - x0) * self.scale)), max(2, round((y1 - y0) * self.scale)))
            step = int(0.5 / self.scale)  # skip pixels first: area-averaging a big crop is slow
            if step >= 2:
                crop = crop[::step, ::step]
            crop = np.asarray(cv2.resize(crop, wh, interpolation=cv2.INTER_AREA), np.uint8)
        self.image = np.ascontiguousarray(crop)
        hue, value, chroma = hue_value_chroma(self.image)
        self.masks = classes_from_hsv(hue, value, chroma)
        # Thin: in the class, and neither inside nor touching a region of the loose class
        # that a disc THIN_L wide fits in: not clothing, skin, a mat or a bench, not the
        # slivers along their edges, nor fragments of a garment shaded across two classes.
        size = max(3, round(THIN_L * length_px * self.scale) | 1)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        reach = 2 * max(1, round(TOUCH_L * length_px * self.scale)) + 1
        touch = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach))
        self.loose = classes_from_hsv(hue, value, chroma, loose=True)
        self.thin = np.zeros_like(self.masks)
        for c in np.flatnonzero(self.masks.any(axis=(1, 2))).tolist():  # most are absent
            broad = cv2.dilate(
                cv2.morphologyEx(self.loose[c].view(np.uint8), cv2.MORPH_OPEN, disc), touch
            )
            self.thin[c] = self.masks[c] & ~broad.view(bool)
        ring = np.ones(self.masks.shape[1:], dtype=bool)
        inset = max(1, min(ring.shape) // 20)
        ring[inset:-inset, inset:-inset] = False
        self.border = self.masks[:, ring].mean(axis=1)

    def _index(self, points_px: Float) -> tuple[NDArray[np.intp], NDArray[np.intp], Bool]:
        p = ((points_px.reshape(-1, 2) - self.origin) * self.scale).round()
        h, w = self.masks.shape[1:]
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(p).all(axis=1) & (not self.empty)  # (~ of a bool is an int)
            inside &= (p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)
        xi = np.where(inside, p[:, 0], 0).astype(np.intp)
        yi = np.where(inside, p[:, 1], 0).astype(np.intp)
        return xi, yi, inside

    def classes(
        self,
        points_px: Float,
        thin: bool = False,
        loose: bool = False,
        rows: NDArray[np.intp] | None = None,
    ) -> tuple[Bool, Bool]:
        """(K, ...) class membership at `points_px` (..., 2) (of the thin parts only with
        `thin`; of the loose classes with `loose`; of the classes `rows` only when given),
        and the (...) mask of points inside the frame."""
        shape = points_px.shape[:-1]
        xi, yi, inside = self._index(points_px)
        masks = self.thin if thin else self.loose if loose else self.masks
        if rows is not None:
            masks = masks[rows]
        vals = masks[:, yi, xi] & inside
        return vals.reshape(len(masks), *shape), inside.reshape(shape)

    def colors_lab(self, points_px: Float) -> Float:
        """(..., 3) CIE Lab colours at `points_px` (..., 2); NaN outside the frame."""
        shape = points_px.shape[:-1]
        xi, yi, inside = self._index(points_px)
        lab = bgr_to_lab(self.image[yi, xi])
        lab[~inside] = np.nan
        return lab.reshape(*shape, 3)


# sRGB (D65) to CIE Lab, as OpenCV's COLOR_BGR2Lab does; in numpy, because converting a few
# hundred sampled pixels this way is far cheaper than a cv2 call on an image.
_SRGB_TO_LINEAR = np.array(
    [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in np.arange(256) / 255.0]
)
_RGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
_WHITE_XYZ = np.array([0.950456, 1.0, 1.088754])


def bgr_to_lab(bgr: NDArray[np.uint8]) -> Float:
    """(N, 3) CIE Lab (L in 0-100, a and b about -128..127) of (N, 3) uint8 BGR pixels."""
    rgb = _SRGB_TO_LINEAR[np.asarray(bgr)[:, ::-1]]
    xyz = rgb @ _RGB_TO_XYZ.T / _WHITE_XYZ
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack(
        [
            np.where(xyz[:, 1] > 0.008856, 116.0 * f[:, 1] - 16.0, 903.3 * xyz[:, 1]),
            500.0 * (f[:, 0] - f[:, 1]),
            200.0 * (f[:, 1] - f[:, 2]),
        ],
        axis=1,
    )


def _share(vals: Bool, valid: Bool, axis: int, min_valid: float = _MIN_VALID_SHARE) -> Float:
    """Share of valid samples in the class along `axis` of `valid` (axis + 1 of `vals`);
    NaN where fewer than `min_valid` of the samples are valid."""
    n_valid = valid.sum(axis=axis)
    per_group = valid.shape[axis]
    share = vals.sum(axis=axis + 1) / np.maximum(n_valid, 1)
    return np.where(n_valid >= min_valid * per_group, share, np.nan)


def _nanmedian(x: Float, axis: int) -> Float:
    """The (lower) median along `axis` ignoring NaN; NaN where all are NaN. Faster than
    `np.nanmedian` on the small arrays used here."""
    srt = np.sort(x, axis=axis)  # NaN sorts last
    n = np.isfinite(srt).sum(axis=axis, keepdims=True)
    pick = np.take_along_axis(srt, np.maximum(n - 1, 0) // 2, axis=axis)
    return np.where(n > 0, pick, np.nan).squeeze(axis=axis)


def _distance_to_segment(points: Float, a: Float, b: Float) -> Float:
    """Distance (pixels) of points (..., 2) from the segment a-b."""
    d = b - a
    t = np.clip(((points - a) @ d) / max(float(d @ d), 1e-9), 0.0, 1.0)
    r = points - (a + t[..., None] * d)
    return np.asarray(np.hypot(r[..., 0], r[..., 1]))


def _in_runs(hit: Bool, axis: int = -1) -> Bool:
    """Hits that belong to a run of at least three consecutive hits along `axis`: a band
    strand shows as long stretches, chance coincidences with edges as scattered bits."""
    h = np.moveaxis(hit, axis, -1)
    p = np.pad(h, [(0, 0)] * (h.ndim - 1) + [(2, 2)])
    m2, m1, p1, p2 = p[..., :-4], p[..., 1:-3], p[..., 3:-1], p[..., 4:]
    keep = h & ((m2 & m1) | (m1 & p1) | (p1 & p2))
    return np.moveaxis(keep, -1, axis)


def _on_legs(bf: BodyFrame, points: Float) -> Bool:
    """(...) True for points on either leg: within `LEG_HALF_WIDTH_L` of the thigh or shin
    axis. A strand is judged where it crosses open space; on the legs, clothing of the band's
    colour and the outlines of the limbs would pass for one."""
    length = bf.length_px
    near = np.zeros(points.shape[:-1], dtype=bool)
    for leg in (np.stack([bf.hip, bf.knee, bf.ankle]), bf.far_leg):
        for (a, b), half in zip(
            ((leg[0], leg[1]), (leg[1], leg[2])), LEG_HALF_WIDTH_L, strict=True
        ):
            if np.isfinite(a).all() and np.isfinite(b).all():
                near |= _distance_to_segment(points, a, b) < half * length
    return near


def _line_scores(
    crop: _Crop,
    bf: BodyFrame,
    starts: Float,
    ends: Float,
    skip_legs: Bool,
    colors: NDArray[np.intp] | None = None,
) -> Float:
    """(C, M) strand score of each colour (`colors`, indices into `BAND_COLOR_NAMES`;
    default all) on each line from `starts` to `ends` (M, 2): the share of samples along
    the line (within `_STRAND_WIDTH` of it) on thin parts of the colour, counting runs of
    three or more only. Samples out of frame, on the floor, and (for the colours where
    `skip_legs` (K,) is True) on the legs are left out; NaN when too few are left."""
    cols = np.arange(len(BAND_COLOR_NAMES)) if colors is None else np.asarray(colors)
    length_px = bf.length_px
    d = ends - starts
    normal = (
        np.stack([-d[:, 1], d[:, 0]], axis=1)
        / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    )
    along = starts[:, None, :] + _STRAND_T[None, :, None] * d[:, None, :]  # (M, T, 2)
    across = np.asarray(_STRAND_WIDTH) * length_px
    pts = along[:, :, None, :] + across[None, None, :, None] * normal[:, None, None, :]
    vals, valid = crop.classes(pts, thin=True, rows=cols)  # (C, M, T, W), (M, T, W)
    # Left out: the floor (near the feet's level a mat's edge, the gaps between hands,
    # feet and body on a mat, and shadows lie along it) and, where the person's legs are of
    # the colour, the legs (the outline of a shin in leggings is a thin line too).
    floor_y = bf.foot[1] - FLOOR_CLEAR_L * length_px
    ok = valid.all(axis=-1) & (along[..., 1] < floor_y)  # (M, T)
    skip = skip_legs[cols]
    ok_k = (
        ok[None] & ~(skip[:, None, None] & _on_legs(bf, along)[None])
        if skip.any()
        else (np.broadcast_to(ok, (len(cols), *ok.shape)))
    )  # (C, M, T)
    hits = vals.any(axis=-1) & ok_k
    side = _SIDE_L * length_px * normal[:, None, :]
    chroma = np.flatnonzero(cols != _BLACK)
    if len(chroma) and hits[chroma].any():
        # A strand is a thin line of its colour between surfaces of other colours; a thin
        # sliver with the colour right beside it is a bit of a larger region of that
        # colour (a box or a garment cut by a seam, a gap or an edge), not a strand.
        beside = (
            crop.classes(along + side, loose=True, rows=cols[chroma])[0]
            | crop.classes(along - side, loose=True, rows=cols[chroma])[0]
        )
        hits[chroma] &= ~beside
    black = np.flatnonzero(cols == _BLACK)
    if len(black) and hits[black[0]].any():
        # Black loosely covers every shadow and dim surface, so "black beside it" says
        # little; but a dark line is as often the outline of a limb or a garment, or a
        # shadow along an edge, as a band: a black strand must lie over one surface, the
        # same on both sides.
        de = np.linalg.norm(crop.colors_lab(along + side) - crop.colors_lab(along - side), axis=-1)
        with np.errstate(invalid="ignore"):
            hits[black[0]] &= de < DARK_SIDES_DELTA_E
    hit = _in_runs(np.asarray(hits))
    n_ok = ok_k.sum(axis=-1)  # (C, M)
    enough = n_ok >= _MIN_VALID_SHARE * len(_STRAND_T)
    return np.where(enough, hit.sum(axis=-1) / np.maximum(n_ok, 1), np.nan)


def _strands(crop: _Crop, bf: BodyFrame, skip_legs: Bool) -> tuple[Float, Float, Float]:
    """Per colour: the best strand score (K,), and that line's (K, 2) start and end pixel
    points. A coarse fan of lines from the hip crease to the foot first; then, for each
    colour with some evidence, the lines near its best one (the landmarks are only
    roughly where the band is attached)."""
    length = bf.length_px
    starts = np.repeat(bf.at(_STRAND_STARTS[:, 0], _STRAND_STARTS[:, 1]), len(_STRAND_ENDS), axis=0)
    ends = np.tile(bf.foot + length * _STRAND_ENDS, (len(_STRAND_STARTS), 1))
    score = _line_scores(crop, bf, starts, ends, skip_legs)  # (K, M)
    k = len(BAND_COLOR_NAMES)
    best = np.full(k, np.nan)
    best_start = np.full((k, 2), np.nan)
    best_end = np.full((k, 2), np.nan)
    for c in range(k):
        if not np.isfinite(score[c]).any():
            continue
        m = int(np.nanargmax(score[c]))
        best[c], best_start[c], best_end[c] = score[c, m], starts[m], ends[m]
        if best[c] < _REFINE_FROM:
            continue
        step = _REFINE_STEP_L * length
        s2 = (best_start[c] + step * _REFINE_OFFSETS[:, :2]).reshape(-1, 2)
        e2 = (best_end[c] + step * _REFINE_OFFSETS[:, 2:]).reshape(-1, 2)
        fine = _line_scores(crop, bf, s2, e2, skip_legs, np.array([c]))[0]
        if np.isfinite(fine).any() and np.nanmax(fine) > best[c]:
            m = int(np.nanargmax(fine))
            best[c], best_start[c], best_end[c] = fine[m], s2[m], e2[m]
    return best, best_start, best_end


def _knee_loops(
    crop: _Crop, bf: BodyFrame, clear: list[tuple[Float, Float]], image_bgr: ImageBGR
) -> tuple[Float, Float]:
    """Per colour, the best knee-loop score and its position along the thigh (L).

    A cross-section of the thigh at s is a loop when its colour stands out from the
    thigh just before and just after it (each side: the sample in the `_LOOP_GAP` window
    most like it), and from every mix of those two (a hem, a boundary between two colours
    blurred together, is such a mix), and from the person's shin (below the knee: their
    skin or leggings); or, a loop of the thigh's own colour, when its rims show
    (`knee_rims`). Samples within `_STRAND_CLEAR` of the segments in `clear` (strands
    found) are left out.
    """
    grid_s, grid_c = np.meshgrid(_PROFILE_S, _PROFILE_C, indexing="ij")
    grid = bf.at(grid_s, grid_c)  # (S, C, 2)
    vals, valid = crop.classes(grid)
    lab = crop.colors_lab(grid)
    for a, b in clear:
        near = _distance_to_segment(grid, a, b) <= _STRAND_CLEAR * bf.length_px
        valid &= ~near
        lab[near] = np.nan
    vals &= valid
    share = _share(vals, valid, axis=1, min_valid=0.5)  # (K, S)
    # Rims matter only where the thigh is of a band colour (the loop is of the thigh's).
    rims = (
        knee_rims(image_bgr, bf, clear)
        if np.nan_to_num(share[:, _LOOP_POS]).max() > 0
        else np.full(len(_LOOP_POS), np.nan)
    )
    f = np.linspace(0.3, 0.7, 5)[:, None]
    profile = _nanmedian(lab, axis=1)  # (S, 3)
    shin = _nanmedian(crop.colors_lab(bf.knee + f * (bf.ankle - bf.knee)), axis=0)
    # For each loop position: the sample in each neighbour window most like it (a loop
    # differs from its whole neighbourhood; a long stretch of one colour does not).
    d = np.linalg.norm(profile[:, None, :] - profile[None, :, :], axis=-1)  # (S, S)
    d = np.where(np.isfinite(d), d, np.inf)
    rows = np.arange(len(_LOOP_POS))
    sides = []
    for window in (_LOOP_BEFORE, _LOOP_AFTER):
        de = d[_LOOP_POS[:, None], window]  # (P, W)
        pick = window[rows, np.argmin(de, axis=1)]
        ok = np.isfinite(de.min(axis=1))
        sides.append(np.where(ok[:, None], profile[pick], np.nan))
    here = profile[_LOOP_POS]
    # Distance from the colour segment between the two sides: a hem or a boundary seen
    # through blur is a mix of its two sides, so it lies on that segment; a loop does not.
    stand_out = _off_mix(here, *sides)
    if np.isfinite(shin).all():
        stand_out = np.minimum(stand_out, np.linalg.norm(here - shin, axis=1))
    # A loop of the thigh's own colour does not stand out: its rims do.
    contrast = np.fmax(
        np.clip(stand_out / LOOP_DELTA_E, 0.0, 1.0), np.clip(rims / RIM_DELTA_E, 0.0, 1.0)
    )  # (P,), NaN: not judged
    score = share[:, _LOOP_POS] * contrast[None, :]  # (K, P)
    judged = np.isfinite(score)
    best = np.where(judged.any(axis=1), np.nanmax(np.where(judged, score, -1.0), axis=1), np.nan)
    pos = np.where(
        judged.any(axis=1),
        _PROFILE_S[_LOOP_POS][np.argmax(np.where(judged, score, -1.0), axis=1)],
        np.nan,
    )
    return best, pos


def _off_mix(here: Float, a: Float, b: Float) -> Float:
    """(...) distance (CIE76 delta E) of the colours `here` (..., 3) from the mixes of `a`
    and `b` (..., 3): the segment between them. A blurred edge or a hem between two colours
    lies on it; a line or a loop of its own does not."""
    ab = b - a
    t = np.clip(
        np.sum((here - a) * ab, axis=-1) / np.maximum(np.sum(ab * ab, axis=-1), 1e-9), 0.0, 1.0
    )
    return np.asarray(np.linalg.norm(here - (a + t[..., None] * ab), axis=-1))


def knee_rims(image_bgr: ImageBGR, bf: BodyFrame, clear: list[tuple[Float, Float]]) -> Float:
    """(P,) how clearly the rims of a loop show at each loop position (`_LOOP_POS`), as a
    colour contrast (CIE76 delta E); NaN where not judged.

    The thigh is resampled into a patch at `RIM_PX_PER_L` (rows across it, columns along
    it; one patch per tilt in `_RIM_SHEAR`) and each column summarised by its median Lab
    colour. A rim is a column whose colour is off the mix of the columns `_RIM_GAP_L` to
    either side of it (`_off_mix`); a loop is two rims `_RIM_WIDTH_L` apart whose middle is
    *on* the mix of the colours outside them (the same cloth between and either side: a
    single dark line or a loop of another colour is not this). Its contrast is the weaker
    rim's, less how far its middle is off that mix. Samples within `_STRAND_CLEAR` of the
    segments in `clear` (strands found) are left out.
    """
    s, c, g, n = _RIM_S_L, _RIM_C_L, _RIM_GAP, len(_RIM_S_L)
    shear = np.asarray(_RIM_SHEAR)[:, None, None]
    grids = bf.at(s[None, None, :] + shear * c[None, :, None], c[None, :, None])  # (H, C, S, 2)
    h, w = image_bgr.shape[:2]
    lo = np.floor(grids.reshape(-1, 2).min(axis=0)).astype(int) - 1
    hi = np.ceil(grids.reshape(-1, 2).max(axis=0)).astype(int) + 2
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(w, hi[0]), min(h, hi[1])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.full(len(_LOOP_POS), np.nan)
    inside = (
        (grids[..., 0] >= 0)
        & (grids[..., 0] <= w - 1)
        & (grids[..., 1] >= 0)
        & (grids[..., 1] <= h - 1)
    )
    for a, b in clear:
        inside &= _distance_to_segment(grids, a, b) > _STRAND_CLEAR * bf.length_px
    crop = image_bgr[y0:y1, x0:x1]
    scale = min(1.0, RIM_PX_PER_L / bf.length_px)
    if scale < 0.5:  # area-average a fine frame first: sparse samples would alias
        wh = (max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale)))
        crop = np.asarray(cv2.resize(crop, wh, interpolation=cv2.INTER_AREA), np.uint8)
    else:
        scale = 1.0
    maps = ((grids - np.array([x0, y0])) * scale).astype(np.float32).reshape(-1, n, 2)
    patch = cv2.remap(
        np.ascontiguousarray(crop),
        maps[..., 0],
        maps[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    lab = cv2.cvtColor(patch.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    lab = np.asarray(lab, np.float64).reshape(len(_RIM_SHEAR), len(c), n, 3)
    lab[~inside] = np.nan
    enough = inside.sum(axis=1) >= _MIN_VALID_SHARE * len(c)  # (H, S)
    profile = np.where(enough[..., None], _nanmedian(lab, axis=1), np.nan)  # (H, S, 3)
    rim = np.full((len(_RIM_SHEAR), n), np.nan)
    rim[:, g : n - g] = _off_mix(
        profile[:, g : n - g], profile[:, : n - 2 * g], profile[:, 2 * g :]
    )
    j1, j2, mid = _RIM_J1, _RIM_J2, _RIM_MID
    middle = _off_mix(profile[:, mid], profile[:, j1 - g], profile[:, j2 + g])
    loop = np.fmin(rim[:, j1], rim[:, j2]) - middle  # (H, M)
    by_width = np.full((len(_RIM_SHEAR), len(_RIM_WIDTHS), n), -np.inf)
    by_width[:, _RIM_WIDTH_INDEX, mid] = np.where(np.isfinite(loop), loop, -np.inf)
    best = by_width.max(axis=(0, 1))  # the best loop centred on each column, any tilt
    best = np.where(_RIM_NEAR, best[None, :], -np.inf).max(axis=1)  # near each loop position
    return np.where(np.isfinite(best), np.maximum(best, 0.0), np.nan)


def strand_line_px(bf: BodyFrame, line: tuple[float, float, float, float]) -> tuple[Float, Float]:
    """A strand line (`ColorEvidence.line`: body-frame start, end offset from the ankle)
    as its start and end pixel points in the frame of `bf`."""
    s0, c0, dx, dy = line
    return bf.at(s0, c0), bf.ankle + bf.length_px * np.array([dx, dy])


def measure_frame(
    image_bgr: ImageBGR, pose: PoseFrame, min_visibility: float = MIN_VISIBILITY
) -> FrameEvidence | None:
    """The band evidence of one frame, or None when the lower body is not seen."""
    bf = body_frame(pose, min_visibility)
    if bf is None:
        return None
    length = bf.length_px
    has_shoulder = bool(np.isfinite(bf.shoulder).all())
    anchors = [bf.hip, bf.knee, bf.ankle, bf.foot, bf.at(0.0, 0.5), bf.at(1.35, 0.0)]
    if has_shoulder:
        anchors.append(bf.hip + 0.6 * (bf.shoulder - bf.hip))
    crop = _Crop(image_bgr, np.stack(anchors), length)

    # The person's own colours: the upper thigh, the torso, the shin.
    thigh = _share(*crop.classes(bf.at(_THIGH_REF[:, 0], _THIGH_REF[:, 1])), axis=0)
    f = np.linspace(0.3, 0.7, 5)[:, None]
    shin = _share(*crop.classes(bf.knee + f * (bf.ankle - bf.knee)), axis=0)
    torso = np.full(len(BAND_COLOR_NAMES), np.nan)
    if has_shoulder:
        f = np.linspace(0.25, 0.6, 5)[:, None]
        torso = _share(*crop.classes(bf.hip + f * (bf.shoulder - bf.hip)), axis=0)
    clothing = np.nan_to_num(np.fmax(np.fmax(thigh, shin), torso), nan=0.0)
    # Legs loosely of a colour (shaded or sunlit clothing included) skip that colour's strand.
    on_thigh = crop.classes(bf.at(_THIGH_REF[:, 0], _THIGH_REF[:, 1]), loose=True)
    f = np.linspace(0.3, 0.7, 5)[:, None]
    on_shin = crop.classes(bf.knee + f * (bf.ankle - bf.knee), loose=True)
    legs = np.nan_to_num(np.fmax(_share(*on_thigh, axis=0), _share(*on_shin, axis=0)), nan=0.0)

    strand, starts, ends = _strands(crop, bf, legs >= LEGS_WEAR_SHARE)
    knees_up = bf.foot[1] - bf.knee[1]
    if knees_up <= 0 or bf.foot[1] - bf.hip[1] < MIN_HIP_RISE * knees_up:
        strand[:] = np.nan  # hips on the floor: a strand would lie along it, unseen
    clear = [
        (starts[k], ends[k])
        for k in range(len(BAND_COLOR_NAMES))
        if np.isfinite(strand[k]) and strand[k] >= STRAND_EXCLUDE
    ]
    knee, knee_pos = _knee_loops(crop, bf, clear, image_bgr)

    cvals, cvalid = crop.classes(bf.at(_CREASE[:, 0], _CREASE[:, 1]))
    upper = np.nan_to_num(np.fmax(thigh, torso), nan=0.0)
    crease = np.clip(_share(cvals, cvalid, axis=0) - upper, 0.0, 1.0)

    colors: dict[str, ColorEvidence] = {}
    for k, name in enumerate(BAND_COLOR_NAMES):
        line: tuple[float, float, float, float] | None = None
        if np.isfinite(strand[k]):
            s0, c0 = bf.to_body(starts[k])
            e = (ends[k] - bf.ankle) / length
            line = (float(s0), float(c0), float(e[0]), float(e[1]))
        colors[name] = ColorEvidence(
            strand=_opt(strand[k]),
            knee=_opt(knee[k]),
            crease=_opt(crease[k]),
            clothing=float(clothing[k]),
            background=float(crop.border[k]),
            knee_pos=_opt(knee_pos[k]),
            line=line,
        )
    return FrameEvidence(pose.t_s, bf.side, length, colors)


def _opt(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
