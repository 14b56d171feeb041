"""Where to draw the band found in a rep: outlines in pixels for the annotated video.

The judgement keeps the band's shape in body coordinates (`BandJudgement.line`,
`BandJudgement.knee_pos`), so the outline follows the body in every frame: it is rebuilt
from that frame's shoulder, hip, knee and ankle (`PoseTrack.joints_xy_px`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from formcheck.band.judge import BandJudgement

Polygon = NDArray[np.float64]  # (N, 2) pixels, x right, y down, closed implicitly

#: Half-width of the drawn strand and half-length of the drawn loop (thigh lengths).
STRAND_HALF_WIDTH_L = 0.06
LOOP_HALF_LENGTH_L = 0.07
LOOP_HALF_WIDTH_L = 0.2


def _frame(
    hip: NDArray[np.float64], knee: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    d = knee - hip
    length = float(math.hypot(d[0], d[1]))
    u = d / max(length, 1e-9)
    n = np.array([u[1], -u[0]])
    if n[1] > 0:
        n = -n
    return length, u, n


def band_outline_px(
    judgement: BandJudgement, joints_xy_px: NDArray[np.float64], near_top: bool = True
) -> tuple[Polygon, ...]:
    """Outlines of the hip strand and the knee loop found, for one frame.

    `joints_xy_px`: (4, 2) shoulder, hip, knee, ankle of the side used (NaN: missing);
    `near_top`: the frame is near the top of the rep (the strand seen at the top is drawn,
    else the one seen at the bottom; either when only one was seen).
    Returns () when nothing was found or the joints needed are missing.
    """
    joints = np.asarray(joints_xy_px, dtype=np.float64)
    hip, knee, ankle = joints[1], joints[2], joints[3]
    if not np.isfinite(np.concatenate([hip, knee])).all():
        return ()
    length, u, n = _frame(hip, knee)
    if length < 1.0:
        return ()
    out: list[Polygon] = []
    lines = (judgement.line_top, judgement.line_bottom)
    line = (lines if near_top else lines[::-1])[0] or lines[0] or lines[1]
    if line is not None and np.isfinite(ankle).all():
        s0, c0, dx, dy = line
        a = hip + length * (s0 * u + c0 * n)
        b = ankle + length * np.array([dx, dy])
        d = b - a
        perp = np.array([-d[1], d[0]]) / max(float(math.hypot(d[0], d[1])), 1e-9)
        w = STRAND_HALF_WIDTH_L * length * perp
        out.append(np.stack([a + w, b + w, b - w, a - w]))
    if judgement.knee_pos is not None:
        c = hip + judgement.knee_pos * length * u
        along = LOOP_HALF_LENGTH_L * length * u
        across = LOOP_HALF_WIDTH_L * length * n
        out.append(
            np.stack(
                [c - along + across, c + along + across, c + along - across, c - along - across]
            )
        )
    return tuple(out)
