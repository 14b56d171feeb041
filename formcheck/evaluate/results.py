"""One clip's row of an evaluation, and the whole evaluation's result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formcheck.evaluate.labels import BOUNDARIES, ClipLabel, RepTimes
from formcheck.evaluate.matching import MIN_MATCH_IOU, PredRep, RepMatch
from formcheck.evaluate.metrics import (
    BOUNDARY_TOLERANCE_S,
    METRIC_DEFINITIONS,
    Metrics,
    VerdictLimits,
    _round,
    compute_metrics,
)


@dataclass(frozen=True)
class ClipResult:
    """One clip's row: its label, what formcheck predicted, the matches, and any error.

    Attributes:
        name: the video's file name.
        label_path, video: the label file and the clip.
        label: the label (None when it could not be read: the row is then an error).
        predicted: formcheck's reps (empty when the analysis failed).
        matches: labelled-to-predicted rep matches.
        landmarks: where the poses came from: "beside" (`<stem>.landmarks.npz`), "cache",
            "model", or None when the clip failed before that.
        warnings: the report's warnings.
        error: the error message, or None.
        elapsed_s: wall time spent on the clip.
        head: where formcheck saw the lifter's head ("left"/"right", the report's
            `view.head`; the label's `view` says it as side_left/side_right), or None.
    """

    name: str
    label_path: Path
    video: Path
    label: ClipLabel | None
    predicted: tuple[PredRep, ...] = ()
    matches: tuple[RepMatch, ...] = ()
    landmarks: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    elapsed_s: float = 0.0
    head: str | None = None

    @property
    def metrics(self) -> Metrics:
        """This clip's own figures (an empty `Metrics` when the label could not be read)."""
        return compute_metrics([self])

    def to_dict(self) -> dict[str, Any]:
        label = self.label
        return {
            "name": self.name,
            "label_path": str(self.label_path),
            "video": str(self.video),
            "usable": None if label is None else label.usable,
            "view": None if label is None else label.view,
            "head": self.head,
            "band": None if label is None else label.band,
            "landmarks": self.landmarks,
            "error": self.error,
            "warnings": list(self.warnings),
            "elapsed_s": round(self.elapsed_s, 3),
            "labelled": [] if label is None else [r.to_dict() for r in label.reps],
            "predicted": [
                {
                    **_times_dict(p.times_s),
                    "hip_angle_top_deg": _round(p.hip_angle_top_deg, 2),
                    "knee_angle_top_deg": _round(p.knee_angle_top_deg, 2),
                    "band": p.band,
                    "faults": list(p.faults),
                }
                for p in self.predicted
            ],
            "matches": [
                {
                    "label": m.label,
                    "pred": m.pred,
                    "iou": round(m.iou, 4),
                    "errors_s": dict(
                        zip(BOUNDARIES, (round(e, 4) for e in m.errors_s), strict=True)
                    ),
                }
                for m in self.matches
            ],
            "metrics": self.metrics.to_dict(),
        }


def _times_dict(times: RepTimes) -> dict[str, float]:
    return {f"{b}_s": round(t, 4) for b, t in zip(BOUNDARIES, times, strict=True)}


@dataclass(frozen=True)
class EvalResult:
    """Every clip's row and the overall figures (usable clips with a readable label)."""

    directory: Path
    clips: tuple[ClipResult, ...]
    overall: Metrics
    min_iou: float = MIN_MATCH_IOU
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def excluded(self) -> tuple[str, ...]:
        """Clips left out of the overall figures: unusable, or with an unreadable label."""
        return tuple(c.name for c in self.clips if c.label is None or not c.label.usable)

    @property
    def unreadable_labels(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.clips if c.label is None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by `formcheck eval --json` (NaN-free)."""
        return {
            "directory": str(self.directory),
            "matching": {"min_iou": self.min_iou, "boundary_tolerance_s": BOUNDARY_TOLERANCE_S},
            "definitions": dict(METRIC_DEFINITIONS),
            "overall": self.overall.to_dict(),
            "excluded_from_overall": list(self.excluded),
            "notes": list(self.notes),
            "clips": [c.to_dict() for c in self.clips],
        }


def aggregate(
    clips: Sequence[ClipResult],
    directory: Path,
    min_iou: float = MIN_MATCH_IOU,
    limits: VerdictLimits | None = None,
) -> EvalResult:
    """An `EvalResult` from rows: overall figures over the usable clips with a label."""
    counted = [c for c in clips if c.label is not None and c.label.usable]
    notes = [
        "clips labelled usable=false are listed but left out of the overall figures",
        "a clip that failed to analyse counts as predicting no rep",
    ]
    return EvalResult(
        directory, tuple(clips), compute_metrics(counted, limits), min_iou, tuple(notes)
    )
