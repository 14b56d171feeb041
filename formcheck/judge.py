"""Judging: from a clip's measurement to its track, reps and band judgements; from a rep and
what was seen during it (the band) to its report; and what is said once for a whole set.

The one place both ways of judging go through: `analyze` over a recorded clip and the live
coach rep by rep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from formcheck.band import BandJudgement
from formcheck.band import judge_reps as judge_bands
from formcheck.band.retake import apply_retakes
from formcheck.config import Config, RulesConfig
from formcheck.errors import NoPersonError
from formcheck.measurement import Measurement
from formcheck.report import RepReport, SetReport
from formcheck.reps import Rep, segment_reps
from formcheck.rules import Finding, RepContext, Status, check_rep, not_judged, score
from formcheck.rules.band_placement import BAND_PLACEMENT
from formcheck.track import PoseTrack, ViewCheck, build_track


@dataclass(frozen=True)
class Analysis:
    """Everything one analysis produced: the report, and the data behind it."""

    report: SetReport
    measurement: Measurement
    track: PoseTrack
    reps: tuple[Rep, ...]
    timings_s: dict[str, float] = field(default_factory=dict)
    bands: tuple[BandJudgement, ...] = ()  # one per rep: where the band was seen

    def named(self, path: str) -> Analysis:
        """A copy whose report and landmarks name `path` as the clip: what a worker that
        analysed its own copy of a user's file (batch, server) hands back."""
        report = replace(self.report, source=replace(self.report.source, path=path))
        return replace(self, report=report, measurement=self.measurement.named(path))


#: Why a rep's band is not judged when the set has none (the set's summary says it once).
NO_BAND_SAID_ONCE = "No band in the whole set: said once, for the set"
#: Faults said once for a set, not on every rep (the live coach says them on the first).
SAID_ONCE: tuple[str, ...] = ("no_band",)


def rep_report(rep: Rep, band: BandJudgement, side_on: bool, rules: RulesConfig) -> RepReport:
    """Every rule on one rep: band judgement -> rule context -> findings -> score.

    Args:
        side_on: whether the camera sees the body from the side (`track.ViewCheck.side_on`):
            side-view rules are not judged otherwise.
    """
    ctx = RepContext(rep=rep, band=band.placement, band_confidence=band.confidence, side_on=side_on)
    findings = tuple(check_rep(ctx, rules))
    return RepReport(rep, ctx.band, findings, score(findings))


def once_for_the_set(
    reports: Sequence[RepReport],
) -> tuple[tuple[RepReport, ...], tuple[Finding, ...]]:
    """The reps as reported, and the findings said once for the set rather than per rep.

    A set in which no rep shows a band (every rep whose band could be judged has none) is a
    bodyweight set, or one filmed without the band on: "Add the band" is said once, for the
    set, and each rep's band finding says why it is not judged there (it no longer weighs on
    the rep's score). A band missing from some reps only (it slipped off) stays a fault of
    those reps.
    """
    band = [next(f for f in r.findings if f.rule == BAND_PLACEMENT.id) for r in reports]
    judged = [f for f in band if f.status is not Status.NOT_JUDGED]
    if not judged or any(f.fault not in SAID_ONCE for f in judged):
        return tuple(reports), ()
    out = []
    for report in reports:
        findings = tuple(
            not_judged(f.rule, f.target, NO_BAND_SAID_ONCE, f.confidence, f.value)
            if f.rule == BAND_PLACEMENT.id and f.fault in SAID_ONCE
            else f
            for f in report.findings
        )
        out.append(replace(report, findings=findings, score=score(findings)))
    return tuple(out), (judged[0],)


def as_measured(reps: Sequence[Rep], view: ViewCheck) -> list[Rep]:
    """`reps` as far as the view lets their angles be read: where the pose model did not
    follow the legs (`ViewCheck.legs_followed`), no angle at the top is measured (NaN), so
    the rules on them are not judged rather than judged on a misread thigh."""
    if view.legs_followed:
        return list(reps)
    nan = math.nan
    return [
        replace(r, hip_angle_top_deg=nan, knee_angle_top_deg=nan, shin_tilt_top_deg=nan)
        for r in reps
    ]


def judge_measurement(
    m: Measurement, cfg: Config, timings: dict[str, float]
) -> tuple[PoseTrack, list[Rep], list[BandJudgement]]:
    """A clip's track, its reps (with any retaken tops) and each rep's band judgement:
    what both the analysis and the measuring half's retake (which tops to measure again)
    judge from a measurement.

    Raises:
        NoPersonError: a pose was found in too few frames to analyse the set.
    """
    seq = m.poses
    found_share = float(seq.found.mean()) if len(seq) else 0.0
    if found_share < cfg.track.min_tracked_fraction:
        raise NoPersonError(
            f"no person found in {1 - found_share:.0%} of the frames: film from the side,"
            " whole body in frame"
        )
    t0 = time.perf_counter()
    breaks = m.breaks
    track = build_track(seq, cfg.track, breaks)
    t1 = time.perf_counter()
    reps = as_measured(apply_retakes(segment_reps(track, cfg.reps, breaks), m.retake), track.view)
    t2 = time.perf_counter()
    evidence = m.band_evidence if cfg.rules.band.detect else None
    bands = judge_bands(evidence, reps, cfg.rules.band)
    # Judging the band counts with the rules, as the band_placement rule's input.
    timings.update(track=t1 - t0, reps=t2 - t1, rules=time.perf_counter() - t2)
    return track, reps, bands
