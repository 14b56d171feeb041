"""What a report says of the whole clip besides its reps: a damaged file, a crowd, the
lifter out of view, turned upright, one panel of a split screen, a view that is not
side-on, cuts and camera moves, and what was seen when no rep was. Shared by `analyze` and
the live coach, so both say the same.
"""

from __future__ import annotations

import numpy as np

from formcheck.config import Config
from formcheck.measurement import Measurement
from formcheck.no_reps import explain_no_reps
from formcheck.reps import Rep
from formcheck.shots import Shot, split_shots
from formcheck.track import PoseTrack

# More than one person in this share of frames earns a warning.
CROWD_WARNING_SHARE = 0.1
# A pose missing for longer than this (s) is reported as the person leaving the frame.
ABSENCE_WARNING_S = 1.0

#: How the lifter looked before that turn.
TURN_WORDS = {90: "on their side", 180: "upside down", 270: "on their side"}


def set_warnings(m: Measurement, track: PoseTrack, reps: list[Rep], cfg: Config) -> list[str]:
    """The set-level warnings of a report (damaged file, crowd, absences, view, and what
    was seen when no rep was); shared by `analyze` and live mode so both say the same."""
    out: list[str] = []
    seq = m.poses
    if m.decode_errors:
        last = float(seq.t_s[-1]) if len(seq) else 0.0
        out.append(f"the video is damaged or truncated: analysed the first {last:.1f} s")
    counted = seq.people[seq.people >= 0]
    crowd = float(np.mean(counted > 1)) if len(counted) else 0.0
    if crowd > CROWD_WARNING_SHARE:
        out.append(
            f"more than one person in view ({crowd:.0%} of the counts): followed the main one;"
            " film one lifter at a time for reliable results"
        )
    found = seq.found
    t = seq.t_s
    start = None
    for i in range(len(found) + 1):
        if i < len(found) and not found[i]:
            start = i if start is None else start
        elif start is not None:
            end_t = t[i - 1] if i - 1 < len(t) else t[-1]
            if end_t - t[start] >= ABSENCE_WARNING_S:
                out.append(f"no person in view from {t[start]:.1f} s to {end_t:.1f} s")
            start = None
    turn = m.turn_deg
    if turn:
        out.append(
            f"the picture showed the lifter {TURN_WORDS[turn]} (a wrong rotation tag?):"
            f" analysed it turned {turn} deg counter-clockwise"
        )
    if m.panel is not None:
        out.append(m.panel.warning)
    if not track.view.ok:
        out.append(track.view.message)
    cuts = m.cuts
    if cuts and len(t):
        out.append(shots_warning(split_shots(cuts, float(t[0]), float(t[-1])), reps))
    out += [
        f"the camera {what} from {a:.1f} s to {b:.1f} s: reps are counted before and"
        " after it, never across it"
        for what, a, b in camera_moves(m)
    ]
    if not reps:
        out.append(
            explain_no_reps(track, cfg.reps, straight_deg=cfg.rules.top_alignment.target_deg)
        )
    return out


def camera_moves(m: Measurement) -> list[tuple[str, float, float]]:
    """The camera's moves (`formcheck.shots.find_moves`) as a report names them: ("moved",
    start s, end s), or ("turned away from the lifter", ...) for a move away and the move
    back, with nobody in view for most of the time between (a phone swung away and back)."""
    moves, seq = m.moves, m.poses
    out: list[tuple[str, float, float]] = []
    k = 0
    while k < len(moves):
        start, end = moves[k]
        if k + 1 < len(moves):
            between = (seq.t_s > end) & (seq.t_s < moves[k + 1][0])
            if between.any() and float(np.mean(seq.found[between])) < 0.5:
                out.append(("turned away from the lifter", start, moves[k + 1][1]))
                k += 2
                continue
        out.append(("moved", start, end))
        k += 1
    return out


def shots_warning(shots: list[Shot], reps: list[Rep]) -> str:
    """What an edited clip is told: where its cuts are, and the reps counted in each shot."""
    cuts = ", ".join(f"{shot.start_s:.1f} s" for shot in shots[1:])
    counts = []
    for shot in shots:
        n = sum(shot.start_s <= rep.start_s < shot.end_s for rep in reps)
        counts.append(
            f"shot {shot.index} ({shot.start_s:.1f}-{shot.end_s:.1f} s): "
            f"{n} rep{'s' if n != 1 else ''}"
        )
    return (
        f"the clip is edited: {len(shots) - 1} cut{'s' if len(shots) > 2 else ''} (at "
        f"{cuts}); reps are counted within each shot, never across a cut: " + ", ".join(counts)
    )
