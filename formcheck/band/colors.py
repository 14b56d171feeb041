"""Named band colours as pixel classes: which pixels a person would call "red", "black", ...

Resistance bands come in a handful of strong colours. A pixel belongs to a chromatic class
when its hue falls in the class's hue range and it is vivid enough (chroma, the spread of
its R, G and B values, above a floor); it is "black" when it is dark whatever its hue.
The floors are deliberately loose: what tells a band from clothing, skin, a bench or a mat
of the same colour is the band's *shape* around the body (a thin strand, a narrow loop),
which `formcheck.band.evidence` measures, not the exact shade.

Conventions: images are OpenCV BGR uint8; hue is OpenCV's (0-180 for 0-360 degrees);
chroma and value are fractions of 255.
"""

from __future__ import annotations

from typing import get_args

import cv2
import numpy as np
from numpy.typing import NDArray

from formcheck.config import BandColor
from formcheck.video.frames import ImageBGR

#: The colour names a user may give (`--band-color`), in a fixed order (the class index).
BAND_COLOR_NAMES: tuple[str, ...] = get_args(BandColor)

# Hue ranges in degrees [lo, hi) on the colour wheel; red wraps round 0.
_HUE_DEG: dict[str, tuple[float, float]] = {
    "red": (330.0, 16.0),
    "orange": (16.0, 40.0),
    "yellow": (40.0, 72.0),
    "green": (72.0, 170.0),
    "blue": (170.0, 256.0),
    "purple": (256.0, 330.0),
}
#: Neighbouring hue ranges overlap by this much (degrees) on each side, so that a band
#: whose hue sits near a boundary (a blue-ish purple under a cold light) is in both classes.
HUE_OVERLAP_DEG = 6.0
#: Least chroma (max(R,G,B) - min(R,G,B), fraction of 255) of a chromatic band pixel.
MIN_CHROMA = 0.3
#: Red and orange share their hues with skin (chroma up to about 0.4 on the darker skin
#: tones, and brown clothing): they need a more vivid pixel.
MIN_CHROMA_SKIN_HUES = 0.45
#: Least value (max(R,G,B), fraction of 255) for a hue to mean anything.
MIN_VALUE = 0.2
#: A "black" pixel: value below this (fraction of 255) and chroma below `BLACK_MAX_CHROMA`.
BLACK_MAX_VALUE = 0.33
BLACK_MAX_CHROMA = 0.18


#: The loose version of each class (`color_classes(..., loose=True)`): hue ranges this much
#: wider on each side (degrees), and chroma and darkness limits scaled by `LOOSE_SCALE`.
#: A garment shaded across a class boundary is broad in its loose class, so its fragments
#: are not mistaken for thin band parts.
LOOSE_HUE_DEG = 20.0
LOOSE_SCALE = 0.85


def color_classes(image_bgr: ImageBGR, loose: bool = False) -> NDArray[np.bool_]:
    """(K, H, W) masks, one per name in `BAND_COLOR_NAMES` (same order).

    Chromatic classes overlap by `HUE_OVERLAP_DEG` at their hue boundaries (more with
    `loose`); "black" does not overlap any of them.
    """
    hue, value, chroma = hue_value_chroma(image_bgr)
    return classes_from_hsv(hue, value, chroma, loose)


HVC = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]


def hue_value_chroma(image_bgr: ImageBGR) -> HVC:
    """Per pixel: hue in degrees [0, 360), value and chroma as fractions of 255."""
    hsv = cv2.cvtColor(np.ascontiguousarray(image_bgr), cv2.COLOR_BGR2HSV)
    hue_deg = hsv[..., 0].astype(np.float32) * 2.0
    value = hsv[..., 2].astype(np.float32) / 255.0
    chroma = value * (hsv[..., 1].astype(np.float32) / 255.0)
    return hue_deg, value, chroma


def classes_from_hsv(
    hue_deg: NDArray[np.float32],
    value: NDArray[np.float32],
    chroma: NDArray[np.float32],
    loose: bool = False,
) -> NDArray[np.bool_]:
    """`color_classes` from the output of `hue_value_chroma`."""
    masks = np.zeros((len(BAND_COLOR_NAMES), *hue_deg.shape), dtype=bool)
    widen = HUE_OVERLAP_DEG + (LOOSE_HUE_DEG if loose else 0.0)
    scale = LOOSE_SCALE if loose else 1.0
    bright = value >= MIN_VALUE * scale
    for k, name in enumerate(BAND_COLOR_NAMES):
        if name == "black":
            masks[k] = (value < BLACK_MAX_VALUE / scale) & (chroma < BLACK_MAX_CHROMA / scale)
            continue
        lo, hi = _HUE_DEG[name]
        lo, hi = (lo - widen) % 360.0, (hi + widen) % 360.0
        in_hue = (hue_deg >= lo) & (hue_deg < hi) if lo < hi else (hue_deg >= lo) | (hue_deg < hi)
        floor = MIN_CHROMA_SKIN_HUES if name in ("red", "orange") else MIN_CHROMA
        masks[k] = in_hue & bright & (chroma >= floor * scale)
    return masks
