"""Scripted hip-thrust signals for tests: a hip-angle curve, a PoseTrack, a side-view pose.

The script is piecewise: bottom rest -> eased concentric ramp -> flat top hold -> eased
eccentric ramp -> bottom rest. From its knots a test knows exactly when each rep starts,
holds and ends, as formcheck defines those moments (`RepTimes`). The tracks built from it
go through the same zero-phase low-pass as `formcheck.track.build_track`, so rep
segmentation sees what it sees in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from formcheck.config import RepConfig, TrackConfig
from formcheck.filters import derivative, lowpass
from formcheck.geometry import hip_angle_deg
from formcheck.pose.landmarks import N_LANDMARKS, Landmark
from formcheck.pose.sequence import PoseSequence
from formcheck.reps import PhaseDurations
from formcheck.synth.kinematics import eased_fraction
from formcheck.track import PoseTrack, ViewCheck

Float = NDArray[np.float64]
#: The share of an eased ramp's duration between its knot and formcheck's boundary.
SHARE_FRACTION = eased_fraction(RepConfig().boundary_share)


@dataclass(frozen=True)
class ScriptedRep:
    """One rep of the script: phase durations (s) and the hip angle held at the top (deg)."""

    concentric_s: float = 1.0
    pause_s: float = 1.5
    eccentric_s: float = 2.0
    rest_s: float = 1.0  # at the bottom, after the rep
    top_deg: float = 180.0


@dataclass(frozen=True)
class RepTimes(PhaseDurations):
    """The scripted boundaries of one rep (s): hips leave the bottom, hold, back down; each
    where formcheck places it (the hips within `RepConfig.boundary_share` of the rep's range
    of the level they leave or reach), inside the script's knots by
    `kinematics.eased_fraction` of each eased ramp."""

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float


@dataclass(frozen=True)
class HipScript:
    t_s: Float
    hip_deg: Float
    reps: tuple[RepTimes, ...]
    bottom_deg: float


def script_hip_angle(
    reps: list[ScriptedRep],
    fps: float = 30.0,
    bottom_deg: float = 110.0,
    lead_s: float = 1.0,
) -> HipScript:
    """Sample the hip-angle script at `fps` (frames per second).

    Each ramp (lift, lowering) is eased with a half cosine, as a body accelerates and
    decelerates: piecewise-linear ramps would have corners no lifter makes, and the
    zero-phase low-pass would round them into fake slow phases.
    """
    knots_t, knots_a = [0.0, lead_s], [bottom_deg, bottom_deg]
    t = lead_s
    times = []
    for r in reps:
        start = t
        t += r.concentric_s
        top_start = t
        t += r.pause_s
        top_end = t
        t += r.eccentric_s
        end = t
        t += r.rest_s
        knots_t += [top_start, top_end, end, t]
        knots_a += [r.top_deg, r.top_deg, bottom_deg, bottom_deg]
        rise, fall = SHARE_FRACTION * r.concentric_s, SHARE_FRACTION * r.eccentric_s
        times.append(RepTimes(start + rise, top_start - rise, top_end + fall, end - fall))
    t_s = np.arange(round(t * fps) + 1) / fps
    return HipScript(t_s, _eased_interp(t_s, knots_t, knots_a), tuple(times), bottom_deg)


def _eased_interp(t_s: Float, knots_t: list[float], knots_a: list[float]) -> Float:
    """Like np.interp, but each segment follows a half-cosine ease (zero speed at knots)."""
    kt = np.asarray(knots_t)
    ka = np.asarray(knots_a)
    seg = np.clip(np.searchsorted(kt, t_s, side="right") - 1, 0, len(kt) - 2)
    span = kt[seg + 1] - kt[seg]
    u = np.clip(np.where(span > 0, (t_s - kt[seg]) / np.where(span > 0, span, 1.0), 1.0), 0, 1)
    w = 0.5 - 0.5 * np.cos(np.pi * u)
    return np.asarray(ka[seg] + w * (ka[seg + 1] - ka[seg]), dtype=np.float64)


def track_from_angles(
    t_s: Float,
    hip_deg: Float,
    knee_deg: float | Float = 90.0,
    confidence: float | Float = 0.95,
    smooth: bool = True,
    shin_deg: float | Float = 0.0,
) -> PoseTrack:
    """A PoseTrack whose hip angle is `hip_deg`, smoothed and differentiated like build_track.

    Rep segmentation reads only the angles, the hip speed and the confidence, so the joints
    are left missing (NaN).
    """
    n = len(t_s)
    cfg = TrackConfig()
    hip = lowpass(t_s, hip_deg, cfg.cutoff_hz) if smooth else np.asarray(hip_deg, np.float64)
    return PoseTrack(
        t_s=np.asarray(t_s, np.float64),
        side="left",
        joints_xy_px=np.full((n, 4, 2), np.nan),
        confidence=np.broadcast_to(np.asarray(confidence, np.float64), (n,)).copy(),
        hip_angle_deg=hip,
        knee_angle_deg=np.broadcast_to(np.asarray(knee_deg, np.float64), (n,)).copy(),
        hip_speed_deg_s=derivative(t_s, hip),
        people=np.full(n, -1, np.int16),
        view=ViewCheck("left", True, "side view, whole body in frame"),
        resolution_wh=(1280, 720),
        shin_tilt_deg=np.broadcast_to(np.asarray(shin_deg, np.float64), (n,)).copy(),
        shin_confidence=np.broadcast_to(np.asarray(confidence, np.float64), (n,)).copy(),
    )


# A side view of a person doing a hip thrust, head on the image's left, in a 1280x720 frame.
# The shoulders rest on a bench and the feet on the floor: the torso turns about the
# shoulder, and the knee sits where thigh and shin (fixed lengths) meet. At the top the
# torso and thigh are level and the shin vertical (hip angle 180, knee angle 90).
RESOLUTION_WH = (1280, 720)
SHOULDER_XY = np.array([300.0, 430.0])
ANKLE_XY = np.array([790.0, 650.0])
TORSO_PX, THIGH_PX, SHIN_PX = 250.0, 240.0, 220.0
NEAR_VISIBILITY, FAR_VISIBILITY = 0.95, 0.3
FAR_OFFSET_PX = np.array([6.0, -4.0])  # the far side peeks out just behind the near one


def _hip_knee(torso_deg: Float) -> tuple[Float, Float]:
    """Hip and knee (N, 2) for torso angles below the horizontal (deg, y down)."""
    phi = np.radians(torso_deg)
    hip = SHOULDER_XY + TORSO_PX * np.stack([np.cos(phi), np.sin(phi)], axis=-1)
    d = ANKLE_XY - hip
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    along = (THIGH_PX**2 - SHIN_PX**2 + dist**2) / (2 * dist)
    across = np.sqrt(np.maximum(THIGH_PX**2 - along**2, 0.0))
    perp = np.concatenate([d[:, 1:2], -d[:, 0:1]], axis=-1) / dist
    knee = hip + along * d / dist + across * perp  # the solution above the hip-ankle line
    return hip, knee


_TORSO_GRID_DEG = np.linspace(-15.0, 55.0, 2801)
_HIP_GRID_DEG = hip_angle_deg(SHOULDER_XY, *_hip_knee(_TORSO_GRID_DEG))
assert np.all(np.diff(_HIP_GRID_DEG) < 0), "the body model must be monotonic to invert"


def side_view_xy(hip_deg: Float) -> dict[Landmark, Float]:
    """Pixel positions (N, 2) of the near (left) side's joints for the given hip angles."""
    torso = np.interp(hip_deg, _HIP_GRID_DEG[::-1], _TORSO_GRID_DEG[::-1])
    hip, knee = _hip_knee(torso)
    n = len(hip_deg)
    shoulder = np.broadcast_to(SHOULDER_XY, (n, 2))
    ankle = np.broadcast_to(ANKLE_XY, (n, 2))
    return {
        Landmark.LEFT_SHOULDER: shoulder,
        Landmark.LEFT_HIP: hip,
        Landmark.LEFT_KNEE: knee,
        Landmark.LEFT_ANKLE: ankle,
        Landmark.LEFT_ELBOW: shoulder + (hip - shoulder) * 0.45 + np.array([0.0, -40.0]),
        Landmark.LEFT_WRIST: shoulder + (hip - shoulder) * 0.85 + np.array([0.0, -25.0]),
        Landmark.LEFT_HEEL: ankle + np.array([-15.0, 15.0]),
        Landmark.LEFT_FOOT_INDEX: ankle + np.array([45.0, 20.0]),
        Landmark.LEFT_EAR: shoulder + np.array([-55.0, -20.0]),
        Landmark.LEFT_EYE: shoulder + np.array([-75.0, -35.0]),
        Landmark.NOSE: shoulder + np.array([-85.0, -30.0]),
    }


def _mirror(lm: Landmark) -> Landmark:
    name = lm.name
    if name.startswith("LEFT_"):
        return Landmark["RIGHT_" + name[5:]]
    return lm


def side_view_sequence(
    t_s: Float,
    hip_deg: Float,
    found: NDArray[np.bool_] | None = None,
    people: NDArray[np.int16] | None = None,
    noise_px: float = 0.3,
    seed: int = 0,
) -> PoseSequence:
    """A PoseSequence of the side-view body moved through `hip_deg` (one value per frame).

    The person's left side faces the camera (high visibility); the right side hides behind
    it (low visibility). Frames where `found` is False hold no pose. `people` defaults to a
    count of 1 every 2 s of video, like the estimator's counter, -1 in between.
    """
    n = len(t_s)
    found = np.ones(n, bool) if found is None else found
    if people is None:
        people = np.full(n, -1, np.int16)
        people[np.flatnonzero(np.diff(np.floor(np.asarray(t_s) / 2.0), prepend=-1))] = 1
    rng = np.random.default_rng(seed)
    xy = np.full((n, N_LANDMARKS, 2), np.nan)
    vis = np.zeros((n, N_LANDMARKS))
    pres = np.zeros((n, N_LANDMARKS))
    near = side_view_xy(np.asarray(hip_deg, np.float64))
    for lm, pts in near.items():
        xy[:, lm] = pts + rng.normal(0.0, noise_px, (n, 2))
        vis[:, lm] = NEAR_VISIBILITY
        far = _mirror(lm)
        if far is not lm:
            xy[:, far] = pts + FAR_OFFSET_PX + rng.normal(0.0, noise_px, (n, 2))
            vis[:, far] = FAR_VISIBILITY
    # Landmarks not modelled (mouth, inner/outer eyes, hands): near the modelled ones.
    for lm in Landmark:
        if np.isnan(xy[:, lm]).all():
            anchor = Landmark.NOSE if lm < Landmark.LEFT_SHOULDER else Landmark.LEFT_WRIST
            xy[:, lm] = xy[:, anchor] + rng.normal(0.0, 3.0, (n, 2))
            vis[:, lm] = 0.6
    pres[:] = 0.99
    xy[~found] = np.nan
    vis[~found] = 0.0
    pres[~found] = 0.0
    world = np.where(found[:, None, None], 0.0, np.nan) * np.ones((n, N_LANDMARKS, 3))
    z = np.where(found[:, None], 0.0, np.nan) * np.ones((n, N_LANDMARKS))
    return PoseSequence(
        t_s=np.asarray(t_s, np.float64),
        index=np.arange(n, dtype=np.int64),
        xy_px=xy.astype(np.float32),
        z=z.astype(np.float32),
        visibility=vis.astype(np.float32),
        presence=pres.astype(np.float32),
        world_xyz_m=world.astype(np.float32),
        people=np.asarray(people, np.int16),
        resolution_wh=RESOLUTION_WH,
        meta={
            "source": {
                "path": "scripted",
                "fps": 30.0,
                "frame_count": n,
                "duration_s": float(t_s[-1]) if n else 0.0,
                "width": RESOLUTION_WH[0],
                "height": RESOLUTION_WH[1],
            }
        },
    )
