"""What a clip shows when it holds no complete rep, said plainly.

A rep is counted bottom -> top -> bottom (`reps.RepStateMachine`). When a clip holds none,
"film from the side" is rarely the reason: the clip starts with the hips up, or ends before
they are back down, or the hips never rise far enough, or the lifter is out of view most of
the time. `explain_no_reps` says which, with the times and how high the hips went, from the
same smoothed signed hip angle (degrees, 180 = a straight knee-hip-shoulder line) and the
same thresholds the rep counter uses. Pure functions of the track.
"""

from __future__ import annotations

import numpy as np

from formcheck.config import RepConfig
from formcheck.reps import Cycle, RepStateMachine, seen_back_down
from formcheck.track import PoseTrack

#: How the set-level warning starts (the report's words: terminal, JSON, HTML, live).
NO_REPS = "no complete hip-thrust rep found"
#: Seen in less than this share of the clip: "out of view most of the time".
MOSTLY_UNSEEN_SHARE = 0.5
#: What every explanation ends with: what a counted rep needs.
HOW_TO = (
    "A rep counts from the hips down, up to the top and back down: start filming "
    "before the first lift and stop after the last lowering."
)


def explain_no_reps(track: PoseTrack, cfg: RepConfig, *, straight_deg: float = 180.0) -> str:
    """The set-level warning for a clip without a complete rep: `NO_REPS`, then what was seen.

    `straight_deg` is the top hip angle a full lockout reaches (the top-alignment target),
    quoted beside how high the hips went.
    """
    a = track.hip_angle_deg
    t = track.t_s
    seen = np.isfinite(a)
    if not seen.any():
        return f"{NO_REPS}: no lifter's hips were seen in any frame"
    said: list[str] = []
    share = float(seen.mean())
    if share < MOSTLY_UNSEEN_SHARE:
        first, last = float(t[seen][0]), float(t[seen][-1])
        said.append(
            f"the lifter is in view for only {share:.0%} of the clip "
            f"(between {first:.1f} s and {last:.1f} s)"
        )
    low, high = float(np.nanmin(a)), float(np.nanmax(a))
    if high - low < cfg.min_range_deg:
        stayed = (
            f"at {low:.0f}°" if round(high) == round(low) else f"between {low:.0f}° and {high:.0f}°"
        )
        said.append(
            f"the hips never rose: the hip angle stayed {stayed} (a lift rises at "
            f"least {cfg.min_range_deg:.0f}° and a full top is {straight_deg:.0f}°)"
        )
    else:
        said.extend(_partial_lifts(track, cfg, straight_deg))
    if not said:  # reps too quick to count, or cut off in a way not described above
        said.append(
            f"the hips moved between {low:.0f}° and {high:.0f}° but never down, up "
            f"and back down in {cfg.min_rep_s:.1f} s or more"
        )
    return f"{NO_REPS}: " + "; ".join(said) + f". {HOW_TO}"


def _partial_lifts(track: PoseTrack, cfg: RepConfig, straight_deg: float) -> list[str]:
    """The lifts the clip shows only in part: a top it starts in, a lift it cuts off."""
    a, t = track.hip_angle_deg, track.t_s
    seen = np.flatnonzero(np.isfinite(a))
    machine = RepStateMachine(cfg)
    first_lift: int | None = None
    last: Cycle | None = None
    for i in seen:
        cycle = machine.update(int(i), float(t[i]), float(a[i]))
        last = cycle or last
        if machine.lifted and first_lift is None:
            first_lift = int(i)
    said: list[str] = []
    # The clip opens with the hips up: they come down by a lift's range or more before the
    # first lift (the state machine never counts that first descent).
    head = seen[seen < first_lift] if first_lift is not None else seen
    if len(head):
        low_i = int(head[np.argmin(a[head])])
        up = head[head <= low_i]
        top_i = int(up[np.argmax(a[up])])
        drop = float(a[top_i] - a[low_i])
        if a[head[0]] - a[low_i] >= cfg.min_range_deg:
            # Down: within boundary_share of the drop of the lowest point, as a rep's end.
            after = head[(head >= top_i) & (a[head] <= a[low_i] + cfg.boundary_share * drop)]
            said.append(
                f"the clip opens with the hips up (up to {a[top_i]:.0f}°; a full top "
                f"is {straight_deg:.0f}°) and they are down by {t[after[0]]:.1f} s: "
                "the lift to that top is not in the clip"
            )
    # The clip ends during a lift: still in the air, or on the way down and still falling
    # (the rep `segment_reps` drops).
    cut: tuple[int, int] | None = machine.lift_under_way
    if cut is None and last is not None and not seen_back_down(a, track.hip_speed_deg_s, last, cfg):
        cut = (last.valley, last.peak)
    if cut is not None:
        valley, peak = cut
        rise = float(a[peak] - a[valley])
        near = cfg.boundary_share * rise  # where a rep's phases start and end (reps.py)
        left = seen[(seen < peak) & (a[seen] <= a[valley] + near)]
        reached = seen[(seen >= valley) & (a[seen] >= a[peak] - near)]
        down = float(a[peak] - a[seen[-1]]) / rise if rise > 0 else 0.0
        said.append(
            f"a lift from {t[left[-1]]:.1f} s reaches {a[peak]:.0f}° by "
            f"{t[reached[0]]:.1f} s, but the clip ends {_how_far_down(down)}"
        )
    return said


def _how_far_down(share: float) -> str:
    """Where the hips are when the clip ends, as a share of the lift's rise lost again."""
    if share < 0.1:
        return "before the hips come down"
    return f"with the hips only {min(share, 0.99):.0%} of the way back down"
