"""Predicted reps matched one-to-one to labelled reps.

A labelled rep and a predicted rep are compared by the overlap of their [start_s, end_s]
intervals, IoU = |overlap| / |union|. Pairs with IoU >= `min_iou` (default `MIN_MATCH_IOU`)
are candidates; the one-to-one assignment that maximises the summed IoU (Hungarian method)
is kept. Every rep is in at most one match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from formcheck.evaluate.labels import RepTimes
from formcheck.report import RepReport
from formcheck.reps import PhaseDurations

#: Least IoU of the [start, end] intervals for a labelled and a predicted rep to match.
MIN_MATCH_IOU = 0.3


@dataclass(frozen=True)
class PredRep(PhaseDurations):
    """One rep as formcheck reported it (a flat copy of the `RepReport` fields scored here)."""

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    hip_angle_top_deg: float  # NaN when not measured
    knee_angle_top_deg: float  # NaN when not measured
    band: str
    faults: tuple[str, ...]

    @classmethod
    def from_report(cls, rr: RepReport, set_faults: Sequence[str] = ()) -> PredRep:
        """The rep's fields; `set_faults`, said once for the whole set (no band in any
        rep), are every rep's faults for scoring, as a label lists them on every rep."""
        r = rr.rep
        return cls(
            r.start_s,
            r.top_start_s,
            r.top_end_s,
            r.end_s,
            r.hip_angle_top_deg,
            r.knee_angle_top_deg,
            rr.band,
            (*rr.faults, *set_faults),
        )

    @property
    def times_s(self) -> RepTimes:
        return (self.start_s, self.top_start_s, self.top_end_s, self.end_s)


@dataclass(frozen=True)
class RepMatch:
    """A labelled rep matched to a predicted rep (0-based indices into each list).

    `errors_s`: predicted minus labelled time of start, top_start, top_end, end (signed,
    seconds: positive = formcheck is late).
    """

    label: int
    pred: int
    iou: float
    errors_s: RepTimes


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """|a ∩ b| / |a ∪ b| of two [start, end] intervals; 0 when the union is empty."""
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return overlap / union if union > 0 else 0.0


def match_reps(
    labelled: Sequence[RepTimes],
    predicted: Sequence[RepTimes],
    min_iou: float = MIN_MATCH_IOU,
) -> tuple[RepMatch, ...]:
    """One-to-one matches maximising the summed [start, end] IoU, each with IoU >= `min_iou`.

    Returned in labelled order.
    """
    if not labelled or not predicted:
        return ()
    iou = np.array(
        [[interval_iou((lab[0], lab[3]), (p[0], p[3])) for p in predicted] for lab in labelled]
    )
    iou[iou < min_iou] = 0.0
    rows, cols = linear_sum_assignment(iou, maximize=True)
    matches = []
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if iou[i, j] <= 0.0:
            continue
        errors = tuple(float(p - lab) for p, lab in zip(predicted[j], labelled[i], strict=True))
        matches.append(
            RepMatch(i, j, float(iou[i, j]), (errors[0], errors[1], errors[2], errors[3]))
        )
    return tuple(sorted(matches, key=lambda m: m.label))
