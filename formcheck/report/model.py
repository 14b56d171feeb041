"""The report types: what `analyze` produces, serialised as the JSON contract (schema v1).

Other tools (batch, the server, HTML reports) read this contract: add fields freely,
rename none.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from formcheck.reps import Rep
from formcheck.rules import Finding, Status
from formcheck.track import PoseTrack
from formcheck.video.frames import VideoInfo

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ModelInfo:
    name: str
    sha256: str


@dataclass(frozen=True)
class ViewInfo:
    """How the lifter was seen.

    side: the lifter's own body side that was measured, the one facing the camera ("left",
        "right"; None without a pose).
    head: where the lifter's head is in the picture ("left": on the image's left, the
        labels' `side_left`; None without a pose). A lifter whose head is on the right
        shows the camera their left side.
    ok, message: whether the view allows judging the form, and what to change if not.
    """

    side: str | None
    ok: bool
    message: str
    head: str | None = None

    @classmethod
    def of(cls, track: PoseTrack) -> ViewInfo:
        """The view of a measured track."""
        return cls(track.side, track.view.ok, track.view.message, track.head)


def view_words(head: str | None, side: str | None) -> str:
    """The view in the words of every output: "head on the right, left side measured"."""
    if side is None:
        return "no side measured"
    where = f"head on the {head}, " if head else ""
    return f"{where}{side} side measured"


@dataclass(frozen=True)
class RepReport:
    """One rep with its findings and its score (0-100, None when nothing was judged)."""

    rep: Rep
    band: str
    findings: tuple[Finding, ...]
    score: int | None

    @property
    def faults(self) -> list[str]:
        return [f.fault for f in self.findings if f.fault is not None]

    @property
    def cue(self) -> str:
        """The cue of the first faulty finding (table order is priority order), or ''."""
        return next((f.cue for f in self.findings if f.status is Status.FAULT), "")

    def to_dict(self) -> dict[str, Any]:
        r = self.rep
        return {
            "index": r.index,
            "start_s": _num(r.start_s),
            "top_start_s": _num(r.top_start_s),
            "top_end_s": _num(r.top_end_s),
            "end_s": _num(r.end_s),
            "concentric_s": _num(r.concentric_s),
            "pause_s": _num(r.pause_s),
            "eccentric_s": _num(r.eccentric_s),
            "hip_angle_top_deg": _num(r.hip_angle_top_deg),
            "knee_angle_top_deg": _num(r.knee_angle_top_deg),
            "shin_tilt_top_deg": _num(r.shin_tilt_top_deg),
            "band": self.band,
            "findings": [_finding_dict(f) for f in self.findings],
            "score": self.score,
        }


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "status": f.status.value,
        "fault": f.fault,
        "value": _num(f.value) if isinstance(f.value, float) else f.value,
        "target": f.target,
        "confidence": _num(f.confidence),
        "cue": f.cue,
    }


def _num(x: float | None, digits: int = 3) -> float | None:
    """JSON has no NaN: missing numbers are null; others rounded for readability."""
    if x is None or math.isnan(x):
        return None
    return round(float(x), digits)


@dataclass(frozen=True)
class SetReport:
    """A whole set: the contract's top level."""

    source: VideoInfo  # the analysed clip (path, nominal fps, frames, duration s, size px)
    model: ModelInfo
    view: ViewInfo
    reps: tuple[RepReport, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: Findings said once for the whole set, not per rep (`judge.once_for_the_set`).
    set_findings: tuple[Finding, ...] = ()
    #: When the set was analysed (UTC; the JSON's `analysed_at`, ISO 8601 to the second).
    analysed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def fault_counts(self) -> dict[str, int]:
        """Reps with each fault (the set's own faults are `set_faults`)."""
        return dict(Counter(code for r in self.reps for code in r.faults))

    @property
    def set_faults(self) -> list[str]:
        """Faults of the whole set, said once (e.g. no band in any rep)."""
        return [f.fault for f in self.set_findings if f.fault is not None]

    @property
    def cues(self) -> list[str]:
        """Distinct cues of faulty findings: the set's first, then the reps' most frequent
        first (ties: first seen)."""
        counts = Counter(f.cue for r in self.reps for f in r.findings if f.status is Status.FAULT)
        said = [f.cue for f in self.set_findings if f.status is Status.FAULT]
        return said + [cue for cue, _ in counts.most_common() if cue not in said]

    @property
    def score(self) -> int | None:
        scores = [r.score for r in self.reps if r.score is not None]
        return round(sum(scores) / len(scores)) if scores else None

    def to_dict(self) -> dict[str, Any]:
        s = self.source
        return {
            "schema_version": SCHEMA_VERSION,
            "source": {
                "path": s.path,
                "fps": _num(s.fps),
                "frame_count": s.frame_count,
                "duration_s": _num(s.duration_s),
                "width": s.width,
                "height": s.height,
            },
            "model": {"name": self.model.name, "sha256": self.model.sha256},
            "view": {
                "side": self.view.side,
                "head": self.view.head,
                "ok": self.view.ok,
                "message": self.view.message,
            },
            "reps": [r.to_dict() for r in self.reps],
            "summary": {
                "rep_count": len(self.reps),
                "faults": self.fault_counts,
                "set_faults": self.set_faults,
                "cues": self.cues,
                "score": self.score,
            },
            "warnings": list(self.warnings),
            "set_findings": [_finding_dict(f) for f in self.set_findings],
            "analysed_at": self.analysed_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
        }
