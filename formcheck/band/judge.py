"""Judging each rep's band placement from the per-frame evidence within the rep.

For each rep the frames near the top hold and near the bottom (the start and the end of the
rep) are used: there the body is still and the band's shape is clearest. The evidence of
each colour is summarised per phase by its median (one odd frame does not decide), then:

- hip band: the strand score, the clearer of the top and the bottom (the strand is not
  measured in frames with the hips on the floor, where it would lie along the floor; see
  `formcheck.band.evidence`). Black needs stronger evidence (`BandConfig.min_strand_black`):
  shadows, dark outlines and seams are thin dark lines as well;
- knee loop: the knee-loop score, averaged over the two phases.

A phase where a colour's strand and knee loop cannot be told apart is left out for that
colour (`ColorScores.unconfounded`): the knee loop is measured clear of any strand found
(`formcheck.band.evidence.STRAND_EXCLUDE`), so a loop read as a strand in one phase (it
crosses the thigh near the knee, in open space at the top of the rep) hides itself there:
a strand and no loop in that phase, a loop of the same colour in the other.

A placement is found when its score reaches the configured minimum (`BandConfig`):
both -> "both", strand only -> "hips", loop only -> "knees", neither -> "none". Too few
usable frames (the lower body not seen near the top or the bottom) -> "unknown"; so is no
view of the strand's path (feet out of frame) unless a knee loop is seen: then "knees".

The confidence (0-1) grows with the distance of the deciding scores from their minimum
and with the number of frames behind them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from formcheck.band.colors import BAND_COLOR_NAMES
from formcheck.band.evidence import STRAND_EXCLUDE, FrameEvidence
from formcheck.config import BandConfig
from formcheck.reps import Rep

Placement = str  # "hips" | "knees" | "both" | "none" | "unknown"
PLACEMENTS: tuple[str, ...] = ("hips", "knees", "both", "none", "unknown")

#: Frames this close (s) to the top hold count as "top".
TOP_PAD_S = 0.2
#: Frames from this long before the lift (s) to just after it, and from just before the
#: end to this long after it, count as "bottom".
BOTTOM_PAD_S = 0.5
#: How far into the rep (s) the "bottom" frames reach. The strand is not measured with the
#: hips all the way down, so the bottom's strand evidence comes from the first and last
#: moments of the movement, when the hips are just off the bottom. Rep boundaries lie where
#: the hips are 5% of the rep's range off the bottom (`formcheck.reps.segment_reps`), about
#: 0.15 s into a 1 s lift; 0.15 s further, the hips have risen a fifth of the range.
BOTTOM_INNER_S = 0.15
#: A phase needs at least this many usable frames to be judged.
MIN_FRAMES_PER_PHASE = 2


@dataclass(frozen=True)
class BandJudgement:
    """The band placement seen during one rep.

    Attributes:
        placement: "hips", "knees", "both", "none" or "unknown".
        confidence: in [0, 1].
        hip_score, knee_score: the aggregated evidence (0-1) of the best colour for each.
        hip_color, knee_color: the colour of the hip band / knee loop found (None: none).
        line_top, line_bottom: the hip band's strand as in `ColorEvidence.line` (body
            frame start (s, c), end offset from the ankle in image axes; units of the thigh
            length), the median over the top and over the bottom frames; None when no hip
            band was found (or not in that phase).
        knee_pos: where along the thigh (thigh lengths from the hip) the loop sits.
        frames: the number of evidence frames behind the judgement.
    """

    placement: Placement
    confidence: float = 0.0
    hip_score: float = 0.0
    knee_score: float = 0.0
    hip_color: str | None = None
    knee_color: str | None = None
    line_top: tuple[float, float, float, float] | None = None
    line_bottom: tuple[float, float, float, float] | None = None
    knee_pos: float | None = None
    frames: int = 0

    @property
    def found(self) -> bool:
        """A band was seen: across the hips, at the knees, or both."""
        return self.placement in ("hips", "knees", "both")

    @classmethod
    def unknown(cls, frames: int = 0) -> BandJudgement:
        return cls("unknown", frames=frames)


def _median(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(vals)) if vals else None


def _phases(
    frames: Sequence[FrameEvidence], rep: Rep
) -> tuple[list[FrameEvidence], list[FrameEvidence]]:
    """The frames near the top hold, and those near the bottom (start and end)."""
    top = [f for f in frames if rep.top_start_s - TOP_PAD_S <= f.t_s <= rep.top_end_s + TOP_PAD_S]
    bottom = [
        f
        for f in frames
        if rep.start_s - BOTTOM_PAD_S <= f.t_s <= rep.start_s + BOTTOM_INNER_S
        or rep.end_s - BOTTOM_INNER_S <= f.t_s <= rep.end_s + BOTTOM_PAD_S
    ]
    return top, bottom


@dataclass(frozen=True)
class ColorScores:
    """One colour's evidence over a rep: per phase medians (None: not measured)."""

    strand_top: float | None
    strand_bottom: float | None
    knee_top: float | None
    knee_bottom: float | None
    background: float

    @property
    def hip(self) -> float | None:
        """Strand evidence: the clearer of the top and the bottom (None: neither seen)."""
        return max(
            (v for v in (self.strand_top, self.strand_bottom) if v is not None), default=None
        )

    @property
    def knee(self) -> float | None:
        """Knee-loop evidence over both phases."""
        vals = [v for v in (self.knee_top, self.knee_bottom) if v is not None]
        return float(np.mean(vals)) if vals else None

    def unconfounded(self, min_loop: float) -> ColorScores:
        """These scores without a phase whose strand may be the knee loop itself.

        The knee loop is measured clear of a strand found (`STRAND_EXCLUDE`). When in one
        phase a strand of this colour was found and no loop (below `min_loop`), while in the
        other phase the loop is seen, that strand is as likely the loop read as a strand
        (and hiding itself) as a hip band hiding the loop: neither the strand nor the
        loop's absence in that phase is evidence, and both are left out (None).
        """

        def confounded(strand: float | None, knee: float | None, other_knee: float | None) -> bool:
            return (
                strand is not None
                and strand >= STRAND_EXCLUDE
                and knee is not None
                and knee < min_loop
                and other_knee is not None
                and other_knee >= min_loop
            )

        top = confounded(self.strand_top, self.knee_top, self.knee_bottom)
        bottom = confounded(self.strand_bottom, self.knee_bottom, self.knee_top)
        if not (top or bottom):  # (both at once cannot be: each needs the other's loop)
            return self
        return replace(
            self,
            strand_top=None if top else self.strand_top,
            knee_top=None if top else self.knee_top,
            strand_bottom=None if bottom else self.strand_bottom,
            knee_bottom=None if bottom else self.knee_bottom,
        )


def color_scores(
    top: Sequence[FrameEvidence], bottom: Sequence[FrameEvidence], color: str
) -> ColorScores:
    """The per-phase summary of `color` over a rep's top and bottom frames."""

    def med(frames: Sequence[FrameEvidence], field: str) -> float | None:
        if len(frames) < MIN_FRAMES_PER_PHASE:
            return None
        return _median([getattr(f.colors[color], field) for f in frames if color in f.colors])

    background = (
        _median([f.colors[color].background for f in (*top, *bottom) if color in f.colors]) or 0.0
    )
    return ColorScores(
        med(top, "strand"), med(bottom, "strand"), med(top, "knee"), med(bottom, "knee"), background
    )


def _confidence(score: float, threshold: float, found: bool, frames: int) -> float:
    """0.5 at the threshold, towards 1 as the score moves away from it (either way),
    scaled down when few frames back it."""
    span = (1.0 - threshold) if found else threshold
    margin = abs(score - threshold) / max(span, 1e-6)
    support = min(1.0, frames / (4 * MIN_FRAMES_PER_PHASE))
    return round(float(np.clip(0.5 + 0.5 * margin, 0.0, 1.0)) * support, 3)


def _median_line(
    frames: Sequence[FrameEvidence], color: str
) -> tuple[float, float, float, float] | None:
    lines = [
        f.colors[color].line
        for f in frames
        if color in f.colors and f.colors[color].line is not None
    ]
    if not lines:
        return None
    med = np.median(np.array(lines, dtype=np.float64), axis=0)
    return (float(med[0]), float(med[1]), float(med[2]), float(med[3]))


def judge_rep(frames: Sequence[FrameEvidence], rep: Rep, cfg: BandConfig) -> BandJudgement:
    """The band placement during `rep` from the evidence `frames` of the whole clip."""
    top, bottom = _phases(frames, rep)
    used = len(top) + len(bottom)
    if len(top) < MIN_FRAMES_PER_PHASE and len(bottom) < MIN_FRAMES_PER_PHASE:
        return BandJudgement.unknown(used)
    colors = (cfg.color,) if cfg.color is not None else BAND_COLOR_NAMES
    scores = {c: color_scores(top, bottom, c).unconfounded(cfg.min_knee_loop) for c in colors}
    # Each colour's strand evidence relative to its own minimum (black needs more).
    minimum = {c: cfg.min_strand_black if c == "black" else cfg.min_strand for c in colors}
    hips = {c: s.hip for c, s in scores.items() if s.hip is not None}
    knees = {c: s.knee for c, s in scores.items() if s.knee is not None}
    hip_color = max(hips, key=lambda c: hips[c] - minimum[c]) if hips else None
    knee_color = max(knees, key=lambda c: knees[c]) if knees else None
    hip = hips[hip_color] if hip_color is not None else None
    hip_min = minimum[hip_color] if hip_color is not None else cfg.min_strand
    knee = knees[knee_color] if knee_color is not None else None
    has_hips = hip is not None and hip >= hip_min
    has_knees = knee is not None and knee >= cfg.min_knee_loop
    if hip is None and not has_knees:  # the strand's path not seen: no band ruled out
        return BandJudgement.unknown(used)
    # The strand's path unseen but a loop found: "knees" (a hip band as well, unseen, would
    # make it "both": two bands at once are rare).
    placement = {
        (True, True): "both",
        (True, False): "hips",
        (False, True): "knees",
        (False, False): "none",
    }[(has_hips, has_knees)]
    confidence = 1.0 if hip is None else _confidence(hip, hip_min, has_hips, used)
    if knee is not None and placement != "hips":  # the loop's presence or absence matters
        confidence = min(confidence, _confidence(knee, cfg.min_knee_loop, has_knees, used))
    return BandJudgement(
        placement=placement,
        confidence=confidence,
        hip_score=round(hip or 0.0, 3),
        knee_score=round(knee or 0.0, 3),
        hip_color=hip_color if has_hips else None,
        knee_color=knee_color if has_knees else None,
        line_top=_median_line(top, hip_color) if has_hips and hip_color else None,
        line_bottom=_median_line(bottom, hip_color) if has_hips and hip_color else None,
        knee_pos=_median([f.colors[knee_color].knee_pos for f in (*top, *bottom)])
        if has_knees and knee_color
        else None,
        frames=used,
    )


def judge_reps(
    frames: Sequence[FrameEvidence] | None, reps: Sequence[Rep], cfg: BandConfig
) -> list[BandJudgement]:
    """One judgement per rep; all "unknown" when there is no evidence (`frames` None)."""
    if frames is None:
        return [BandJudgement.unknown() for _ in reps]
    return [judge_rep(frames, rep, cfg) for rep in reps]
