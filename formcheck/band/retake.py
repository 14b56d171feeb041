"""Measure the top of a banded rep again, with the band painted out of the frames.

A band that crosses the leg (a strand from the hip crease to the feet, a loop above the
knees) pulls MediaPipe's knee landmark towards it: on generated clips the knee angle at the
top was off by 15-30 deg on such reps, and by under 10 deg on the same clips rendered without
the band. So once the reps and the band are known, a few frames of each banded rep's top are
decoded again, the band's thin parts near the leg (found by its colour, `band_mask`) are
inpainted from the pixels around them, and the pose model measures those frames afresh,
tracking in from the lift. The medians replace the rep's top hip and knee angles.

The records go into `Measurement.retake` (saved with the landmarks), so
`analyze --from-landmarks` gives the same report without the video.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from formcheck.band.colors import BAND_COLOR_NAMES, color_classes
from formcheck.band.judge import BandJudgement
from formcheck.band.outline import band_outline_px
from formcheck.geometry import hip_angle_deg, knee_angle_deg, shin_tilt_deg
from formcheck.reps import Rep, top_frames
from formcheck.track import SIDE_LANDMARKS, PoseTrack
from formcheck.video import FileSource
from formcheck.video.frames import ImageBGR

if TYPE_CHECKING:  # the adapter imports mediapipe
    from formcheck.pose.landmarker import PoseEstimator


META_KEY = "retake"
#: Version of the records in `Measurement.retake`.
RETAKE_VERSION = 2
#: The band is looked for this far (thigh lengths) around the leg and its outline.
REGION_L = 0.3
#: Pixels of the band's colour are grown by this much (thigh lengths, 2 px at least), to
#: take in their blurred edges.
EDGE_L = 0.03
#: Parts of the band's colour at least this thick (thigh lengths) are clothing: a strand
#: is under a tenth of the thigh length across, a loop seen from the side a seventh along
#: the thigh.
THICK_L = 0.2
#: Frames of each rep's lift fed to the tracker before its top (all of the first rep's):
#: the pose model finds a person lying back on a bench far better by tracking from the lift
#: than from scratch.
LEAD_FRAMES = 4
#: A retake's shoulder, hip and ankle must lie this close (torso lengths) to the first look's.
AGREE_TORSO = 0.2
#: Inpainting radius, pixels (OpenCV's Telea method).
INPAINT_RADIUS_PX = 3
#: A rep's top window must match the record's within this (s) for the record to apply.
WINDOW_TOLERANCE_S = 1e-3


def band_mask(
    image_bgr: ImageBGR,
    joints_xy_px: np.ndarray,
    outline: Sequence[np.ndarray],
    colors: Sequence[str],
) -> NDArray[np.uint8]:
    """Where the band is in a frame: 255 on the band's pixels, 0 elsewhere.

    The thin parts of the band's own colours (`colors`, names from `BAND_COLOR_NAMES`) near
    the leg: inside the hull of the hip, knee, ankle and `outline`, grown by `REGION_L`
    thigh lengths. The outline alone says where the band lies only roughly (it is placed
    from the median geometry of the rep); its colour finds every pixel of it. Parts of that
    colour thicker than `THICK_L` are clothing (a shirt, leggings of the band's colour) and
    are left as they are. `joints_xy_px`: (4, 2) shoulder, hip, knee, ankle.
    """
    h, w = image_bgr.shape[:2]
    legs = np.asarray(joints_xy_px, dtype=np.float64)[1:4]
    thigh = float(np.hypot(*(legs[1] - legs[0])))
    points = np.vstack([legs, *outline]).astype(np.float32)
    hull = np.round(cv2.convexHull(points)).astype(np.int32)
    region = np.zeros((h, w), dtype=np.uint8)
    # A convex polygon grown by r: the polygon, and its outline drawn 2r wide (much faster
    # than dilating the whole frame with a kernel that large).
    cv2.fillConvexPoly(region, hull, 255)
    cv2.polylines(region, [hull], True, 255, 2 * max(1, round(REGION_L * thigh)) + 1)
    x, y, bw, bh = cv2.boundingRect(region)
    classes = color_classes(image_bgr[y : y + bh, x : x + bw])
    colored = np.zeros((bh, bw), dtype=np.uint8)
    for name in colors:
        colored[classes[BAND_COLOR_NAMES.index(name)]] = 255
    thick = cv2.morphologyEx(colored, cv2.MORPH_OPEN, _disk(0.5 * THICK_L * thigh))
    thin = (colored > 0) & (thick == 0) & (region[y : y + bh, x : x + bw] > 0)
    mask = np.zeros((h, w), dtype=np.uint8)
    grown = cv2.dilate(thin.astype(np.uint8) * 255, _disk(max(2.0, EDGE_L * thigh)))
    mask[y : y + bh, x : x + bw] = grown
    return mask


def _disk(radius_px: float) -> NDArray[np.uint8]:
    r = max(1, round(radius_px))
    return np.asarray(
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)), dtype=np.uint8
    )


def paint_out(image_bgr: ImageBGR, mask: NDArray[np.uint8]) -> ImageBGR:
    """`image_bgr` with the `mask` pixels filled in from the pixels around them."""
    if not mask.any():
        return image_bgr
    # Inpainting scans the whole image it is given: give it the mask's surroundings only.
    x, y, w, h = cv2.boundingRect(mask)
    pad = 2 * INPAINT_RADIUS_PX + 1
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(mask.shape[1], x + w + pad), min(mask.shape[0], y + h + pad)
    out: ImageBGR = image_bgr.copy()
    out[y0:y1, x0:x1] = cv2.inpaint(
        image_bgr[y0:y1, x0:x1], mask[y0:y1, x0:x1], INPAINT_RADIUS_PX, cv2.INPAINT_TELEA
    )
    return out


def retake_frames(t: NDArray[np.float64], rep: Rep, per_rep: int) -> list[int]:
    """Indices into `t` (the analysed frames' times, s) of up to `per_rep` frames spread
    over the rep's top (`reps.top_frames`)."""
    held = top_frames(t, rep.top_start_s, rep.top_end_s)
    picks = np.linspace(0, len(held) - 1, min(per_rep, len(held))).round().astype(int)
    return [int(held[i]) for i in picks]


def retake_tops(
    source: FileSource,
    track: PoseTrack,
    reps: Sequence[Rep],
    bands: Sequence[BandJudgement],
    estimator: PoseEstimator,
    per_rep: int,
    min_visibility: float,
) -> dict[str, Any]:
    """Measure the top of every rep with a band outline again, on frames with it painted out.

    Each banded rep's top frames (`retake_frames`) are led in by frames of its lift (all of
    the first rep's, `LEAD_FRAMES` of later ones'), all with the band painted out, through
    `estimator` in time order (reset to a fresh tracker, and left open); a frame whose
    shoulder, hip or ankle strays from the first look is not used. Returns the record for
    `Measurement.retake`: per rep whose joints the model saw in a top frame, its
    top window, the times of those frames and the median hip and knee angles and shin tilt
    (degrees).
    """
    record: dict[str, Any] = {"version": RETAKE_VERSION, "per_rep": per_rep, "reps": []}
    if track.side is None or per_rep <= 0:
        return record
    # time -> (rep k, track index i, band outline, measured?) for the lead-in and top frames
    wanted: dict[float, tuple[int, int, tuple[np.ndarray, ...], bool]] = {}
    for k, (rep, band) in enumerate(zip(reps, bands, strict=True)):
        if not band.found:
            continue
        top = retake_frames(track.t_s, rep, per_rep)
        rise = np.flatnonzero((track.t_s >= rep.start_s) & (track.t_s < track.t_s[top[0]]))
        # The tracker starts on the whole of the first lift; later tops follow on from the
        # one before, and a few frames of their lift are enough.
        n_lead = min(LEAD_FRAMES, len(rise)) if wanted else len(rise)
        lead = rise[np.linspace(0, len(rise) - 1, n_lead).round().astype(int)]
        mid = 0.5 * (rep.top_start_s + rep.top_end_s)
        for i, measured in [(int(i), False) for i in lead] + [(i, True) for i in top]:
            outline = band_outline_px(
                band, track.joints_xy_px[i], near_top=abs(track.t_s[i] - mid) < 1.0
            )
            if outline:
                wanted[float(track.t_s[i])] = (k, i, outline, measured)
    if not any(w[3] for w in wanted.values()):
        return record
    estimator.start_clip()
    idx = list(SIDE_LANDMARKS[track.side])
    angles: dict[int, list[tuple[float, float, float, float]]] = {}
    for frame in source.frames_at(list(wanted)):
        k, i, outline, measured = wanted[min(wanted, key=lambda t: abs(t - frame.t_s))]
        band = bands[k]
        colors = [c for c in (band.hip_color, band.knee_color) if c is not None]
        mask = band_mask(frame.image_bgr, track.joints_xy_px[i], outline, colors)
        clean = replace(frame, image_bgr=paint_out(frame.image_bgr, mask))
        pose = estimator.detect(clean, count_people=False)
        if not measured or pose.is_missing or (pose.visibility[idx] < min_visibility).any():
            continue
        s, h, kn, a = (pose.xy_px[j].astype(np.float64) for j in idx)
        if not _agrees(np.stack([s, h, a]), track.joints_xy_px[i][[0, 1, 3]]):
            continue  # the tracker lost the person: not a better look at the knee
        angles.setdefault(k, []).append(
            (
                frame.t_s,
                float(hip_angle_deg(s, h, kn)),
                float(knee_angle_deg(h, kn, a)),
                float(shin_tilt_deg(h, kn, a)),
            )
        )
    for k, rows in sorted(angles.items()):
        arr = np.array(rows)
        rep = reps[k]
        record["reps"].append(
            {
                "rep": rep.index,
                "top_start_s": rep.top_start_s,
                "top_end_s": rep.top_end_s,
                "t_s": [round(float(x), 4) for x in arr[:, 0]],
                "hip_deg": round(float(np.median(arr[:, 1])), 2),
                "knee_deg": round(float(np.median(arr[:, 2])), 2),
                "shin_deg": round(float(np.median(arr[:, 3])), 2),
            }
        )
    return record


def _agrees(joints: np.ndarray, first: np.ndarray) -> bool:
    """Do a retake's shoulder, hip and ankle (3, 2) lie where the first look put them,
    within `AGREE_TORSO` torso lengths (shoulder to hip)? The band pulls the knee landmark,
    not those; a retake that moved them lost the person (its tracker starts afresh)."""
    torso = float(np.hypot(*(first[1] - first[0])))
    if not np.isfinite(first).all() or torso <= 0:
        return False
    return bool(np.max(np.hypot(*(joints - first).T)) <= AGREE_TORSO * torso)


def apply_retakes(reps: Sequence[Rep], record: Mapping[str, Any] | None) -> list[Rep]:
    """`reps` with the top angles measured again (`retake_tops`) where a record matches the
    rep (same number and top window, so a replay with other settings ignores it)."""
    if not record or record.get("version") != RETAKE_VERSION:
        return list(reps)
    by_index = {r["rep"]: r for r in record.get("reps", [])}
    out = []
    for rep in reps:
        r = by_index.get(rep.index)
        if (
            r is not None
            and abs(r["top_start_s"] - rep.top_start_s) < WINDOW_TOLERANCE_S
            and abs(r["top_end_s"] - rep.top_end_s) < WINDOW_TOLERANCE_S
        ):
            rep = replace(
                rep,
                hip_angle_top_deg=r["hip_deg"],
                knee_angle_top_deg=r["knee_deg"],
                shin_tilt_top_deg=r["shin_deg"],
            )
        out.append(rep)
    return out
