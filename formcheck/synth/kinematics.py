"""Kinematics of a hip thrust from a bench: pure functions, no drawing.

Body frame (metres): origin on the floor straight below the shoulder joint; x points from
the head towards the feet, y points up, z points to the person's right (a right-handed
frame: z = x cross y). The person lies face up: the upper back rests on the bench edge
near x = 0, the feet are planted on the floor (y = 0) at x > 0.

Angle conventions (degrees), computed in the sagittal (x, y) plane:
- signed hip angle: the angle at the hip between hip->shoulder and hip->knee; 180 when
  shoulder, hip and knee are collinear, below 180 when the hip lies below the
  shoulder-knee line (sagging), above 180 when it lies above (over-extension);
- knee angle: the unsigned angle at the knee between knee->hip and knee->ankle.

How a pose is solved: the shoulder S is fixed on the bench and the ankle A is planted, so
only one degree of freedom is left, which the signed hip angle fixes. The law of cosines
turns the hip angle into the shoulder-knee distance; the knee K then comes from two-link
inverse kinematics (S -> K -> A, knee bent upwards), and the hip H from a second two-link
solve (S -> H -> K) on the side the sign of the hip angle asks for. Because S and A fix the
knee angle once the hip angle is given, each rep's top (hip angle, knee angle) pair fixes
where the feet are: `solve_ankle` finds that spot, and a clip whose reps ask for different
pairs slides the feet during the rest between them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from formcheck.synth.spec import KNEE_RANGE_DEG, Body, ClipSpec, RepSpec

Vec = NDArray[np.float64]

#: Joints present for each side of the body, with MediaPipe-like names.
SIDE_JOINTS: tuple[str, ...] = (
    "shoulder",
    "elbow",
    "wrist",
    "hand",
    "hip",
    "knee",
    "ankle",
    "heel",
    "toe",
    "eye",
    "ear",
    "mouth",
)
#: Joints on the midline.
MID_JOINTS: tuple[str, ...] = ("neck", "head", "crown", "nose", "chin", "pelvis_front")

#: Landmarks on the head in the head's own frame, in head lengths (crown to chin): (f, h)
#: with f along the face direction and h towards the crown, from the head's centre
#: (about the ear canal). The drawn profile in `draw.py` uses the same frame.
HEAD_POINTS: dict[str, tuple[float, float]] = {
    "crown": (-0.02, 0.52),
    "eye": (0.27, 0.1),
    "nose": (0.47, -0.03),
    "mouth": (0.33, -0.19),
    "chin": (0.3, -0.36),
    "ear": (-0.06, 0.0),
}


class UnreachableError(ValueError):
    """A two-link chain cannot reach its target (too far, or closer than |l1 - l2|)."""


@dataclass(frozen=True)
class IKResult:
    """Solution of a planar two-link chain root -> mid -> end.

    Attributes:
        mid: the middle joint (e.g. the knee), shape (2,).
        end: where the chain's end actually is: the target when reached, else the
            nearest reachable point on the line root -> target.
        reached: False when the target was out of reach and was clamped.
    """

    mid: Vec
    end: Vec
    reached: bool


def _vec(p: ArrayLike) -> Vec:
    v = np.asarray(p, dtype=np.float64)
    if v.shape != (2,):
        raise ValueError(f"expected a 2D point, got shape {v.shape}")
    return v


def rotate(v: ArrayLike, angle_deg: float) -> Vec:
    """Rotate a 2D vector counter-clockwise (x right, y up) by `angle_deg`."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    x, y = _vec(v)
    return np.array([c * x - s * y, s * x + c * y])


def unit(angle_deg: float) -> Vec:
    """Unit vector at `angle_deg` counter-clockwise from +x."""
    a = math.radians(angle_deg)
    return np.array([math.cos(a), math.sin(a)])


def two_link_ik(
    root: ArrayLike,
    target: ArrayLike,
    l1: float,
    l2: float,
    bend: int = 1,
    strict: bool = False,
) -> IKResult:
    """Planar two-link inverse kinematics: where the middle joint goes.

    Args:
        root: the fixed end of the first link, (x, y) in any planar frame (y up).
        target: where the end of the second link should be.
        l1, l2: link lengths (> 0), same unit as the points.
        bend: +1 puts the middle joint on the left of root->target (counter-clockwise
            side), -1 on the right.
        strict: raise `UnreachableError` instead of clamping an unreachable target.

    Returns:
        The middle joint. An unreachable target is clamped along the line root->target
        to the nearest reachable distance (fully straight when too far, fully folded
        when too near) and `reached` is False.

    Raises:
        ValueError: non-positive link length or bend not +-1.
        UnreachableError: with `strict`, the target is out of reach.
    """
    if l1 <= 0 or l2 <= 0:
        raise ValueError("link lengths must be positive")
    if bend not in (1, -1):
        raise ValueError("bend must be +1 or -1")
    r, t = _vec(root), _vec(target)
    d_vec = t - r
    d = float(np.hypot(*d_vec))
    lo, hi = abs(l1 - l2), l1 + l2
    reached = lo - 1e-12 <= d <= hi + 1e-12
    if not reached and strict:
        raise UnreachableError(
            f"target at distance {d:.4f} is outside the reach [{lo:.4f}, {hi:.4f}]"
        )
    direction = d_vec / d if d > 1e-12 else np.array([1.0, 0.0])
    d_c = min(max(d, lo), hi)
    # Law of cosines: the angle at the root between root->target and root->mid.
    cos_a = (l1 * l1 + d_c * d_c - l2 * l2) / (2.0 * l1 * d_c) if d_c > 1e-12 else 1.0
    a = math.degrees(math.acos(min(1.0, max(-1.0, cos_a))))
    mid = r + l1 * rotate(direction, bend * a)
    end = t if reached else r + d_c * direction
    return IKResult(mid=mid, end=end, reached=bool(reached))


def signed_hip_angle_deg(shoulder: ArrayLike, hip: ArrayLike, knee: ArrayLike) -> float:
    """Signed hip angle in the body frame (x head->feet, y up), degrees in (0, 360).

    180 - (the turn from shoulder->hip to hip->knee, counter-clockwise positive): a hip
    below the shoulder-knee line makes the path turn upwards (counter-clockwise), so the
    angle drops below 180.
    """
    s, h, k = _vec(shoulder), _vec(hip), _vec(knee)
    d1, d2 = h - s, k - h
    turn = math.degrees(math.atan2(d1[0] * d2[1] - d1[1] * d2[0], float(d1 @ d2)))
    return 180.0 - turn


def knee_angle_deg(hip: ArrayLike, knee: ArrayLike, ankle: ArrayLike) -> float:
    """Unsigned angle at the knee between knee->hip and knee->ankle, degrees [0, 180]."""
    h, k, a = _vec(hip), _vec(knee), _vec(ankle)
    u, w = h - k, a - k
    return abs(math.degrees(math.atan2(u[0] * w[1] - u[1] * w[0], float(u @ w))))


def shin_tilt_deg(hip: ArrayLike, knee: ArrayLike, ankle: ArrayLike) -> float:
    """Signed tilt of the shin (knee -> ankle) from vertical in the body frame, degrees: 0
    with the ankle straight below the knee, positive with it further from the hips than the
    knee, negative back towards them; what `formcheck.geometry.shin_tilt_deg` reads in a
    side view from a level camera."""
    h, k, a = _vec(hip), _vec(knee), _vec(ankle)
    away = 1.0 if k[0] >= h[0] else -1.0
    d = a - k
    return math.degrees(math.atan2(away * d[0], -d[1]))


@dataclass(frozen=True)
class Segments:
    """Segment lengths and offsets of one body, metres (Drillis & Contini ratios).

    torso: shoulder joint to hip joint; thigh: hip to knee; shin: knee to ankle;
    ankle_height: ankle joint above the sole; foot: heel to toe; heel_back: heel behind
    the ankle; upper_arm, forearm, hand: shoulder-elbow, elbow-wrist, wrist-fingertip;
    neck: shoulder line to the base of the skull; head_len, head_depth: crown-chin and
    face-back of the head; back_depth: shoulder joint to the back surface (how high the
    shoulder sits above the bench top); limb_z: half the distance between the left and
    right limb planes. The shoulder, hip, knee and ankle of one side lie in one plane
    parallel to the body's mid-plane (shoulders a little narrower than anatomy, feet
    hip-width apart), so a camera square to that plane sees their angles undistorted
    and the labelled angles are what an ideal side-view measurement reads.
    """

    torso: float
    thigh: float
    shin: float
    ankle_height: float
    foot: float
    heel_back: float
    upper_arm: float
    forearm: float
    hand: float
    neck: float
    head_len: float
    head_depth: float
    back_depth: float
    limb_z: float
    girth: float = 1.0


def segments_of(body: Body) -> Segments:
    """Segment lengths for a `Body` (standing-height ratios, scaled per group)."""
    h = body.height_m
    g = body.girth
    return Segments(
        torso=0.288 * h * body.torso_scale,
        thigh=0.245 * h * body.leg_scale,
        shin=0.246 * h * body.leg_scale,
        ankle_height=0.039 * h,
        foot=0.152 * h,
        heel_back=0.035 * h,
        upper_arm=0.186 * h * body.arm_scale,
        forearm=0.146 * h * body.arm_scale,
        hand=0.108 * h * body.arm_scale,
        neck=0.052 * h,
        head_len=0.13 * h,
        head_depth=0.115 * h,
        back_depth=0.062 * h * g,
        limb_z=0.058 * h * (0.8 + 0.2 * g),
        girth=g,
    )


def shoulder_to_knee_deg(seg: Segments, hip_angle_deg: float) -> float:
    """Shoulder-knee distance (m) for a hip angle: the law of cosines on torso and thigh."""
    c = math.cos(math.radians(hip_angle_deg))
    return math.sqrt(seg.torso**2 + seg.thigh**2 - 2.0 * seg.torso * seg.thigh * c)


def solve_leg(
    shoulder: ArrayLike,
    ankle: ArrayLike,
    seg: Segments,
    hip_angle_deg: float,
    strict: bool = True,
) -> tuple[Vec, Vec]:
    """Hip and knee (body frame, metres) for a fixed shoulder and ankle and a signed hip
    angle. The knee bends upwards (the only way in a hip thrust).

    Raises:
        UnreachableError: (with `strict`) the ankle is out of reach for that hip angle.
    """
    s, a = _vec(shoulder), _vec(ankle)
    sk = shoulder_to_knee_deg(seg, hip_angle_deg)
    # Knee above the shoulder->ankle line: that line points down towards the feet, so
    # "above" is its counter-clockwise side.
    knee = two_link_ik(s, a, sk, seg.shin, bend=1, strict=strict).mid
    # Sagging (< 180): the hip lies below shoulder->knee, its clockwise side.
    bend = -1 if hip_angle_deg < 180.0 else 1
    hip = two_link_ik(s, knee, seg.torso, seg.thigh, bend=bend, strict=False).mid
    return hip, knee


def solve_ankle(
    shoulder: ArrayLike,
    seg: Segments,
    hip_angle_deg: float,
    knee_angle_deg: float,
) -> Vec:
    """Where the ankle must be planted (body frame, metres; at `seg.ankle_height` above
    the floor, in front of the shoulder) for a top position with this signed hip angle
    and knee angle.

    The chain shoulder -> hip -> knee -> ankle has fixed relative angles, so it is one
    rigid shape that may only rotate about the shoulder; the rotation that puts the
    ankle at ankle height is found in closed form.

    Raises:
        UnreachableError: no rotation puts the ankle on the floor in front of the bench.
    """
    s = _vec(shoulder)
    # The chain with the torso along +x: thigh turned by (180 - hip) counter-clockwise,
    # shin turned further by -(180 - knee) (the knee bends upwards, the shin points down).
    thigh_dir = 180.0 - hip_angle_deg
    shin_dir = thigh_dir - (180.0 - knee_angle_deg)
    c = seg.torso * unit(0.0) + seg.thigh * unit(thigh_dir) + seg.shin * unit(shin_dir)
    radius = float(np.hypot(*c))
    dy = seg.ankle_height - s[1]
    if abs(dy) > radius:
        raise UnreachableError("the feet cannot reach the floor for these angles")
    base = math.degrees(math.atan2(c[1], c[0]))
    # Rotate so that the ankle's angle about the shoulder is asin(dy / radius) (the
    # solution in front of the shoulder, x > 0).
    phi = math.degrees(math.asin(dy / radius)) - base
    return s + rotate(c, phi)


def top_shin_tilt_deg(
    body: Body, bench_height_m: float, hip_angle_deg: float, knee_angle_deg: float
) -> float:
    """The shin tilt (degrees, `shin_tilt_deg`) of a top position with these angles.

    Raises:
        UnreachableError: no such position has the feet on the floor.
    """
    seg = segments_of(body)
    shoulder = (0.0, bench_height_m + seg.back_depth)
    ankle = solve_ankle(shoulder, seg, hip_angle_deg, knee_angle_deg)
    hip, knee = solve_leg(shoulder, ankle, seg, hip_angle_deg, strict=False)
    return shin_tilt_deg(hip, knee, ankle)


#: The knee angles `knee_for_shin_tilt` looks among (degrees): a `RepSpec`'s range.
_KNEE_GRID = np.arange(KNEE_RANGE_DEG[0], KNEE_RANGE_DEG[1] + 0.01, 0.25)


def knee_for_shin_tilt(
    body: Body, bench_height_m: float, hip_angle_deg: float, tilt_deg: float
) -> float:
    """The knee angle (degrees, 45-140) of the top position with this hip angle whose shin
    tilt comes closest to `tilt_deg` (the feet planted where that needs them)."""
    best, best_err = float("nan"), math.inf
    for knee in _KNEE_GRID:
        try:
            err = abs(top_shin_tilt_deg(body, bench_height_m, hip_angle_deg, knee) - tilt_deg)
        except UnreachableError:
            continue
        if err < best_err:
            best, best_err = float(knee), err
    if math.isnan(best):
        raise UnreachableError("no knee angle puts the feet on the floor for this hip angle")
    return best


def ease(u: float) -> float:
    """Cosine ease-in-out on [0, 1]: zero speed at both ends, no jerk in position."""
    u = min(1.0, max(0.0, u))
    return 0.5 - 0.5 * math.cos(math.pi * u)


def eased_fraction(share: float) -> float:
    """The fraction of an eased move's duration (`ease`) by which it has covered `share` of
    its way; by symmetry it covers 1 - `share` at 1 minus that fraction."""
    return math.acos(1.0 - 2.0 * share) / math.pi


@dataclass(frozen=True)
class RepTiming:
    """When one rep happens, seconds from the clip's start.

    start_s: hips leave the bottom; top_start_s / top_end_s: the hold at the top;
    end_s: hips back at the bottom.
    """

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float


def coach_durations(rep: RepSpec, share: float) -> tuple[float, float, float]:
    """(lift, pause, lowering) in seconds of `rep` timed the way formcheck times a rep
    (`formcheck.reps.segment_reps`): the boundaries lie where the hips are within `share`
    of the range of the level they leave or reach, so each eased move gives a little of its
    slow start and end to the rest and the pause around it."""
    f = eased_fraction(share)
    return (
        rep.concentric_s * (1.0 - 2.0 * f),
        rep.pause_s + f * (rep.concentric_s + rep.eccentric_s),
        rep.eccentric_s * (1.0 - 2.0 * f),
    )


def coach_timings(spec: ClipSpec, share: float) -> tuple[RepTiming, ...]:
    """`rep_timings` moved to where formcheck's boundaries lie (see `coach_durations`)."""
    out = []
    for rep, tm in zip(spec.reps, rep_timings(spec), strict=True):
        rise, fall = (
            eased_fraction(share) * rep.concentric_s,
            eased_fraction(share) * (rep.eccentric_s),
        )
        out.append(
            RepTiming(
                tm.start_s + rise, tm.top_start_s - rise, tm.top_end_s + fall, tm.end_s - fall
            )
        )
    return tuple(out)


def rep_timings(spec: ClipSpec) -> tuple[RepTiming, ...]:
    """The rep's knots that `spec` asks for (each rep's rest comes first): where each eased
    move starts and stops (zero speed)."""
    out = []
    t = 0.0
    for rep in spec.reps:
        start = t + rep.rest_s
        top_start = start + rep.concentric_s
        top_end = top_start + rep.pause_s
        end = top_end + rep.eccentric_s
        out.append(RepTiming(start, top_start, top_end, end))
        t = end
    return tuple(out)


@dataclass(frozen=True)
class BodyPose:
    """The body at one instant.

    Attributes:
        t_s: time, seconds from the clip's start.
        joints: name -> (x, y, z) in the body frame, metres. Side joints are named
            "left_<joint>" / "right_<joint>" (see `SIDE_JOINTS`), midline joints as in
            `MID_JOINTS`.
        hip_angle_deg: signed hip angle (shoulder-hip-knee), degrees.
        knee_angle_deg: knee angle (hip-knee-ankle), degrees.
        head_dir: unit (x, y) from the neck towards the crown.
        face_dir: unit (x, y) the face looks along (perpendicular to head_dir).
        torso_dir: unit (x, y) from shoulder towards hip.
        rep_index: the rep in progress, or during a rest the rep about to start (0 in
            the lead-in; the last rep in the tail).
        phase: "rest", "concentric", "top", "eccentric" or "tail".
    """

    t_s: float
    joints: dict[str, Vec]
    hip_angle_deg: float
    knee_angle_deg: float
    head_dir: Vec
    face_dir: Vec
    torso_dir: Vec
    rep_index: int
    phase: str

    def xy(self, name: str) -> Vec:
        """Sagittal (x, y) of a joint, metres."""
        return self.joints[name][:2]


@dataclass(frozen=True)
class MotionPlan:
    """Everything about the motion of a clip that does not depend on time.

    Built once per clip by `plan_motion`; `pose_at(t)` is then cheap (closed form).

    Attributes:
        seg: segment lengths.
        shoulder: the fixed shoulder joint (x, y), metres: on the bench, above its edge
            by the depth of the upper back.
        ankles: the planted ankle (x, y) for each rep, metres.
        timings: each rep's boundaries.
        top_angles: each rep's (hip, knee) top angles, degrees.
        bottom_hip_angle_deg: hip angle at the bottom.
        bench_height_m, bench_edge_x: the bench top height and where its front edge is
            (x, metres): just under the shoulder blades.
        arm_pose, chin_tuck_deg: arms on the bench or on the hips; how far the head is
            tilted towards the chest from the torso's line.
        duration_s: total length of the motion, seconds.
    """

    seg: Segments
    shoulder: Vec
    ankles: tuple[Vec, ...]
    timings: tuple[RepTiming, ...]
    top_angles: tuple[tuple[float, float], ...]
    bottom_hip_angle_deg: float
    bench_height_m: float
    bench_edge_x: float
    arm_pose: str
    chin_tuck_deg: float
    duration_s: float

    def hip_angle_at(self, t_s: float) -> tuple[float, int, str]:
        """(signed hip angle in degrees, rep index, phase) at time `t_s` seconds."""
        bottom = self.bottom_hip_angle_deg
        for i, tm in enumerate(self.timings):
            top = self.top_angles[i][0]
            if t_s < tm.start_s:
                return bottom, i, "rest"
            if t_s < tm.top_start_s:
                u = (t_s - tm.start_s) / (tm.top_start_s - tm.start_s)
                return bottom + (top - bottom) * ease(u), i, "concentric"
            if t_s < tm.top_end_s:
                return top, i, "top"
            if t_s < tm.end_s:
                u = (t_s - tm.top_end_s) / (tm.end_s - tm.top_end_s)
                return top + (bottom - top) * ease(u), i, "eccentric"
        return bottom, len(self.timings) - 1, "tail"

    def ankle_at(self, t_s: float) -> Vec:
        """Ankle (x, y) at `t_s`: planted during each rep, sliding during the middle
        60 % of the rest before a rep whose top needs the feet elsewhere."""
        for i, tm in enumerate(self.timings):
            if t_s < tm.start_s:
                if i == 0:
                    return self.ankles[0]
                rest0 = self.timings[i - 1].end_s
                span = tm.start_s - rest0
                u = (t_s - rest0 - 0.2 * span) / (0.6 * span) if span > 0 else 1.0
                w = ease(u)
                return (1.0 - w) * self.ankles[i - 1] + w * self.ankles[i]
            if t_s < tm.end_s:
                return self.ankles[i]
        return self.ankles[-1]

    def pose_at(self, t_s: float) -> BodyPose:
        """The body pose at time `t_s` seconds."""
        hip_angle, rep_index, phase = self.hip_angle_at(t_s)
        ankle = self.ankle_at(t_s)
        return build_pose(self, t_s, hip_angle, ankle, rep_index, phase)

    def iter_poses(self, fps: float, frame_count: int) -> Iterator[BodyPose]:
        """Poses at t = i / fps for i in range(frame_count)."""
        for i in range(frame_count):
            yield self.pose_at(i / fps)


def plan_motion(spec: ClipSpec) -> MotionPlan:
    """Solve the fixed parts of the motion for a clip.

    Raises:
        UnreachableError: a rep's top angles cannot be reached with feet on the floor, or
            its bottom position would need the ankle out of the leg's reach or put the
            hips through the floor.
    """
    seg = segments_of(spec.body)
    shoulder = np.array([0.0, spec.bench_height_m + seg.back_depth])
    ankles = []
    for i, rep in enumerate(spec.reps):
        ankle = solve_ankle(shoulder, seg, rep.hip_angle_top_deg, rep.knee_angle_top_deg)
        if ankle[0] < 0.4 * seg.torso:
            raise UnreachableError(f"rep {i}: the feet would be under the bench")
        try:
            hip, _ = solve_leg(shoulder, ankle, seg, spec.bottom_hip_angle_deg, strict=True)
        except UnreachableError as exc:
            raise UnreachableError(
                f"rep {i}: bottom hip angle {spec.bottom_hip_angle_deg} deg is not reachable"
                " with the feet where the top position puts them"
            ) from exc
        if hip[1] < 0.6 * seg.back_depth:
            raise UnreachableError(f"rep {i}: the bottom position puts the hips on the floor")
        ankles.append(ankle)
    timings = rep_timings(spec)
    return MotionPlan(
        seg=seg,
        shoulder=shoulder,
        ankles=tuple(ankles),
        timings=timings,
        top_angles=tuple((r.hip_angle_top_deg, r.knee_angle_top_deg) for r in spec.reps),
        bottom_hip_angle_deg=spec.bottom_hip_angle_deg,
        bench_height_m=spec.bench_height_m,
        bench_edge_x=0.55 * seg.back_depth,
        arm_pose=spec.arm_pose,
        chin_tuck_deg=18.0,
        duration_s=spec.duration_s,
    )


def _lift(xy: Vec, z: float) -> Vec:
    return np.array([xy[0], xy[1], z])


def build_pose(
    plan: MotionPlan, t_s: float, hip_angle: float, ankle: Vec, rep_index: int, phase: str
) -> BodyPose:
    """All joints for one hip angle and ankle position (see `MotionPlan.pose_at`)."""
    seg = plan.seg
    s = plan.shoulder
    hip, knee = solve_leg(s, ankle, seg, hip_angle, strict=False)
    u = (hip - s) / np.hypot(*(hip - s))  # torso direction, shoulder -> hip
    n = rotate(u, 90.0)  # the chest side (the person lies face up)
    # Feet flat on the floor: heel behind and below the ankle, toes ahead.
    heel = np.array([ankle[0] - seg.heel_back, 0.012])
    toe = np.array([ankle[0] - seg.heel_back + seg.foot, 0.01])

    # Head: the neck leaves the top of the trunk; chin tucked (eyes towards the hips)
    # tilts the head axis away from the torso line, towards the chest.
    neck = s - 0.25 * seg.back_depth * u + 0.35 * seg.back_depth * n
    head_dir = rotate(-u, -plan.chin_tuck_deg)
    face_dir = rotate(head_dir, -90.0)  # crown towards -x => face towards +y when flat
    head = neck + (seg.neck + 0.3 * seg.head_len) * head_dir + 0.05 * seg.head_len * face_dir

    def on_head(name: str) -> Vec:
        f, h = HEAD_POINTS[name]
        point: Vec = head + seg.head_len * (f * face_dir + h * head_dir)
        return point

    pelvis_front = hip + 0.75 * seg.back_depth * n + 0.05 * seg.torso * u

    joints: dict[str, Vec] = {
        "neck": _lift(neck, 0.0),
        "head": _lift(head, 0.0),
        "crown": _lift(on_head("crown"), 0.0),
        "nose": _lift(on_head("nose"), 0.0),
        "chin": _lift(on_head("chin"), 0.0),
        "pelvis_front": _lift(pelvis_front, 0.0),
    }
    for side, zs in (("right", 1.0), ("left", -1.0)):
        joints[f"{side}_shoulder"] = _lift(s, zs * seg.limb_z)
        joints[f"{side}_hip"] = _lift(hip, zs * seg.limb_z)
        joints[f"{side}_knee"] = _lift(knee, zs * seg.limb_z)
        joints[f"{side}_ankle"] = _lift(ankle, zs * seg.limb_z)
        joints[f"{side}_heel"] = _lift(heel, zs * seg.limb_z)
        joints[f"{side}_toe"] = _lift(toe, zs * (seg.limb_z + 0.012))
        joints[f"{side}_eye"] = _lift(on_head("eye"), zs * 0.3 * seg.head_depth)
        joints[f"{side}_ear"] = _lift(on_head("ear"), zs * 0.62 * seg.head_depth)
        joints[f"{side}_mouth"] = _lift(on_head("mouth"), zs * 0.2 * seg.head_depth)
        if plan.arm_pose == "bench":
            # Arms out to the sides and down, hands holding the sides of the bench pad:
            # the upper arm leaves the shoulder sideways and downwards (in a side view it
            # hangs almost straight down from the shoulder), the forearm runs back to the
            # side of the pad.
            arm_dir = np.array([-0.15, -0.55, 0.82])
            arm_dir /= np.linalg.norm(arm_dir)
            elbow = s + seg.upper_arm * arm_dir[:2]
            elbow_z = seg.limb_z + seg.upper_arm * arm_dir[2]
            pad_y = plan.bench_height_m - 0.035
            reach = min(seg.forearm, 0.95 * seg.forearm)
            rise = pad_y - elbow[1]
            back = math.sqrt(max(reach**2 - rise**2 - (0.04 * seg.forearm) ** 2, 1e-6))
            wrist = np.array([elbow[0] - back, pad_y])
            wrist_z = elbow_z - 0.04 * seg.forearm
            hand = wrist + np.array([-0.75 * seg.hand, -0.25 * seg.hand])
            hand_z = wrist_z - 0.3 * seg.hand
        else:
            # Hands on the front of the hips (holding the band), elbows out and down:
            # two-link IK in the sagittal plane, the arm shortened by its sideways lean.
            wrist = hip + 0.55 * seg.back_depth * n - 0.1 * seg.torso * u
            wrist_z = seg.limb_z + 0.5 * seg.back_depth
            elbow_z = seg.limb_z + 0.35 * seg.upper_arm
            proj = 0.9
            ik = two_link_ik(s, wrist, proj * seg.upper_arm, proj * seg.forearm, bend=-1)
            wrist = ik.end  # the nearest reachable point when the hips are far
            elbow = ik.mid
            hand = wrist + 0.75 * seg.hand * (u * 0.7 + n * 0.3)
            hand_z = wrist_z
        joints[f"{side}_elbow"] = _lift(elbow, zs * elbow_z)
        joints[f"{side}_wrist"] = _lift(wrist, zs * wrist_z)
        joints[f"{side}_hand"] = _lift(hand, zs * hand_z)
    return BodyPose(
        t_s=t_s,
        joints=joints,
        hip_angle_deg=signed_hip_angle_deg(s, hip, knee),
        knee_angle_deg=knee_angle_deg(hip, knee, ankle),
        head_dir=head_dir,
        face_dir=face_dir,
        torso_dir=u,
        rep_index=rep_index,
        phase=phase,
    )
