"""From raw landmarks to a clean track: side choice, view check, gaps, smoothing, angles."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from formcheck.config import TrackConfig
from formcheck.filters import (
    derivative,
    despike,
    facing_back,
    far_from,
    fill_gaps,
    jump_share,
    lowpass,
    off_scale,
)
from formcheck.geometry import hip_angle_deg, knee_angle_deg, segment_length_px, shin_tilt_deg
from formcheck.pose.landmarks import Landmark
from formcheck.pose.sequence import PoseSequence
from formcheck.shots import shot_edges

Side = Literal["left", "right"]
Float = NDArray[np.float64]

# The joints formcheck measures, in this order in `PoseTrack.joints_xy_px`.
JOINTS = ("shoulder", "hip", "knee", "ankle")
SIDE_LANDMARKS: dict[Side, tuple[Landmark, ...]] = {
    "left": (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
    "right": (
        Landmark.RIGHT_SHOULDER,
        Landmark.RIGHT_HIP,
        Landmark.RIGHT_KNEE,
        Landmark.RIGHT_ANKLE,
    ),
}
SIDE_VIEW_MESSAGE = "film from the side, whole body in frame"
#: The set-level warning of a view that is not side-on: what is not judged, and what to do.
NOT_SIDE_ON_MESSAGE = (
    "the camera is not side-on: the hip line and the shins are not judged;"
    " film from the side at hip height, whole body in frame"
)
# In a side view the far hip hides behind the near one: the hip-to-hip distance is a small
# fraction of the torso length. Facing the camera it is about half the torso or more.
MAX_SIDE_VIEW_HIP_RATIO = 0.45
# A hip thrust keeps the torso well away from vertical; a standing person's is upright.
MAX_TORSO_INCLINE_DEG = 60.0


@dataclass(frozen=True)
class ViewCheck:
    """Is the camera placed so that formcheck can judge the set?

    `ok`: nothing to change; `side_on`: the camera looks at the body from the side, so the
    angles that need a side view (the knee-hip-shoulder line, the shins) can be read; a
    front or steep oblique view still gives the reps and their timing. `legs_followed`:
    the pose model follows the legs (their knee does not jump about, `filters.jump_share`);
    when it does not, no angle at the top is measured (a small, cluttered picture can
    make the model read the thigh 50 degrees off while the reps still show).
    """

    side: Side | None
    ok: bool
    message: str
    side_on: bool = True
    legs_followed: bool = True


@dataclass(frozen=True)
class PoseTrack:
    """The measured side of one person over a clip (T frames).

    Attributes:
        t_s: (T,) seconds from the start of the clip.
        side: the body side used ("left"/"right": the person's own side facing the camera).
        joints_xy_px: (T, 4, 2) shoulder, hip, knee, ankle of that side in pixels, gaps up
            to `max_gap_s` filled, NaN beyond.
        confidence: (T,) lowest visibility of shoulder, hip and knee in [0, 1] (0 = no pose).
        hip_angle_deg: (T,) signed hip angle (180 straight, <180 sag, >180 over-extension),
            zero-phase smoothed; NaN where the joints are missing.
        knee_angle_deg: (T,) knee angle (180 straight leg), smoothed.
        shin_tilt_deg: (T,) the shin's tilt from vertical (0 vertical, + ankle beyond the
            knee, - ankle towards the hips; `geometry.shin_tilt_deg`), smoothed.
        shin_confidence: (T,) lower visibility of the knee and the ankle in [0, 1].
        hip_speed_deg_s: (T,) time derivative of `hip_angle_deg`.
        people: (T,) people the detector saw in each frame.
        view: where the camera stands relative to the person.
    """

    t_s: Float
    side: Side | None
    joints_xy_px: Float
    confidence: Float
    hip_angle_deg: Float
    knee_angle_deg: Float
    hip_speed_deg_s: Float
    people: NDArray[np.int16]
    view: ViewCheck
    resolution_wh: tuple[int, int]
    shin_tilt_deg: Float
    shin_confidence: Float

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0

    @property
    def head(self) -> Literal["left", "right"] | None:
        """Where the lifter's head is in the picture: "left" on the image's left (the labels'
        `side_left`), from the side of the hip the shoulder is on over the clip; None
        without a pose. Not `side`: a lifter whose head is on the right shows the camera
        their left side."""
        dx = self.joints_xy_px[:, 0, 0] - self.joints_xy_px[:, 1, 0]
        dx = dx[np.isfinite(dx)]
        if len(dx) == 0 or float(np.median(dx)) == 0.0:
            return None
        return "left" if float(np.median(dx)) < 0 else "right"


def choose_side(seq: PoseSequence) -> Side | None:
    """The side whose shoulder, hip, knee and ankle are more visible over the clip."""
    found = seq.found
    if not found.any():
        return None
    scores = {
        side: float(np.mean(seq.visibility[found][:, list(idx)]))
        for side, idx in SIDE_LANDMARKS.items()
    }
    return max(scores, key=lambda s: scores[s])


def check_view(seq: PoseSequence, side: Side | None, cfg: TrackConfig) -> ViewCheck:
    """Side view, whole body in frame, a lying (not standing) person, legs followed."""
    found = seq.found
    if side is None or found.mean() < cfg.min_tracked_fraction:
        return ViewCheck(side, False, "no person found: " + SIDE_VIEW_MESSAGE, side_on=False)
    near = np.asarray(SIDE_LANDMARKS[side])
    view = _check_placement(seq, side, near)
    jumped = _knee_jump_share(seq, near, cfg.max_knee_jump_l)
    if jumped <= cfg.max_knee_jump_share:
        return view
    lost = (
        f"the pose model loses the legs (the knee jumps about in {jumped:.0%} of the frames):"
        " the angles at the top are not judged; film closer, against a plainer background"
    )
    return replace(view, ok=False, message=lost if view.ok else view.message, legs_followed=False)


def _knee_jump_share(seq: PoseSequence, near: NDArray[np.intp], max_jump_l: float) -> float:
    """`filters.jump_share` of the knee of the side used, in thigh lengths (the median's:
    frames without a pose are NaN, so neither count)."""
    hip, knee = seq.xy_px[:, near[1]], seq.xy_px[:, near[2]]
    thigh = float(np.nanmedian(segment_length_px(hip, knee)))
    return jump_share(seq.t_s, knee.astype(np.float64), thigh, max_jump_l)


def _check_placement(seq: PoseSequence, side: Side, near: NDArray[np.intp]) -> ViewCheck:
    """The camera's placement: side view, whole body in frame, a lying person."""
    found = seq.found
    xy = seq.xy_px[found]
    torso = segment_length_px(xy[:, near[0]], xy[:, near[1]])
    hips = segment_length_px(xy[:, Landmark.LEFT_HIP], xy[:, Landmark.RIGHT_HIP])
    ratio = float(np.nanmedian(hips / np.maximum(torso, 1e-6)))
    if ratio > MAX_SIDE_VIEW_HIP_RATIO:
        return ViewCheck(side, False, NOT_SIDE_ON_MESSAGE, side_on=False)
    w, h = seq.resolution_wh
    in_frame = (
        (seq.presence[found][:, near] >= 0.5)
        & (xy[:, near, 0] >= 0)
        & (xy[:, near, 0] < w)
        & (xy[:, near, 1] >= 0)
        & (xy[:, near, 1] < h)
    )
    share = in_frame.mean(axis=0)
    if share.min() < 0.8:
        worst = JOINTS[int(np.argmin(share))]
        return ViewCheck(
            side, False, f"the {worst}s are often out of frame: move back, " + SIDE_VIEW_MESSAGE
        )
    d = xy[:, near[0]] - xy[:, near[1]]
    incline = float(np.nanmedian(np.degrees(np.arctan2(np.abs(d[:, 1]), np.abs(d[:, 0])))))
    if incline > MAX_TORSO_INCLINE_DEG:
        return ViewCheck(side, False, "the torso is upright: this does not look like a hip thrust")
    return ViewCheck(side, True, "side view, whole body in frame")


def build_track(seq: PoseSequence, cfg: TrackConfig, cuts: Sequence[float] = ()) -> PoseTrack:
    """Choose the side, mask low-visibility joints and poses of the wrong size
    (`filters.off_scale`), fill short gaps, smooth, measure angles.

    With `cuts` (s: where the view breaks, at a cut or a camera move's start and end,
    `Measurement.breaks`), each shot is built on its own and the pieces
    joined: a shot may show the lifter's other side, and nothing is filled or smoothed
    across a break. The joined track's side and view are its longest shot's.
    """
    edges = shot_edges(seq.t_s, cuts)
    if len(edges) == 2:
        return _build_shot(seq, cfg)
    parts = [_build_shot(seq.part(lo, hi), cfg) for lo, hi in itertools.pairwise(edges)]
    longest = max(parts, key=len)
    joined: dict[str, Any] = {
        name: np.concatenate([getattr(p, name) for p in parts]) for name in _PER_FRAME
    }
    return replace(longest, **joined)


#: The `PoseTrack` fields that hold one value (or row) per frame.
_PER_FRAME = (
    "t_s",
    "joints_xy_px",
    "confidence",
    "hip_angle_deg",
    "knee_angle_deg",
    "hip_speed_deg_s",
    "people",
    "shin_tilt_deg",
    "shin_confidence",
)


def _not_the_lifter(
    t_s: NDArray[np.float64], near_xy: NDArray[np.float64], cfg: TrackConfig
) -> NDArray[np.bool_]:
    """Frames of one shot whose near-side pose (shoulder, hip, ... in px; NaN missing) is not
    the lifter's but the model's guess at something else: a torso that faces the other way
    (`filters.facing_back`), one of another size than the shot's lifter's
    (`filters.far_from`) or than in the seconds around (`filters.off_scale`)."""
    torso = segment_length_px(near_xy[:, 0], near_xy[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        lean = (near_xy[:, 0, 0] - near_xy[:, 1, 0]) / torso
    wrong = facing_back(lean, cfg.min_torso_lean, cfg.min_facing_share)
    facing = np.isfinite(lean) & (np.abs(lean) >= cfg.min_torso_lean) & ~wrong
    wrong |= far_from(torso, facing, cfg.max_shot_scale_ratio)
    # The seconds-around median is taken without the poses already found wrong: a wrong
    # guess that lasts seconds would otherwise be its own reference.
    wrong |= off_scale(t_s, np.where(wrong, np.nan, torso), cfg.scale_window_s, cfg.max_scale_ratio)
    return wrong


def _build_shot(seq: PoseSequence, cfg: TrackConfig) -> PoseTrack:
    """`build_track` of one continuous shot."""
    side = choose_side(seq)
    view = check_view(seq, side, cfg)
    t = seq.t_s.astype(np.float64)
    n = len(t)
    joints = np.full((n, len(JOINTS), 2), np.nan)
    confidence = np.zeros(n)
    shin_confidence = np.zeros(n)
    if side is not None:
        idx = list(SIDE_LANDMARKS[side])
        vis = seq.visibility[:, idx].astype(np.float64)
        raw = seq.xy_px[:, idx].astype(np.float64)
        raw[vis < cfg.min_visibility] = np.nan
        raw[_not_the_lifter(t, raw, cfg)] = np.nan
        for j in range(len(JOINTS)):
            for c in range(2):
                joints[:, j, c] = fill_gaps(t, raw[:, j, c], cfg.max_gap_s)
        confidence = vis[:, :3].min(axis=1)
        shin_confidence = vis[:, 2:4].min(axis=1)
    hip = hip_angle_deg(joints[:, 0], joints[:, 1], joints[:, 2])
    knee = knee_angle_deg(joints[:, 1], joints[:, 2], joints[:, 3])
    hip_s = lowpass(t, despike(t, hip, cfg.despike_s), cfg.cutoff_hz)
    knee_s = lowpass(t, despike(t, knee, cfg.despike_s), cfg.cutoff_hz)
    shin = shin_tilt_deg(joints[:, 1], joints[:, 2], joints[:, 3])
    shin_s = lowpass(t, despike(t, shin, cfg.despike_s), cfg.cutoff_hz)
    return PoseTrack(
        t_s=t,
        side=side,
        joints_xy_px=joints,
        confidence=confidence,
        hip_angle_deg=hip_s,
        knee_angle_deg=knee_s,
        hip_speed_deg_s=derivative(t, hip_s),
        people=seq.people.copy(),
        view=view,
        resolution_wh=seq.resolution_wh,
        shin_tilt_deg=shin_s,
        shin_confidence=shin_confidence,
    )
