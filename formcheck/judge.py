"""Judging: from a rep and what was seen during it (the band) to its report, and what is
said once for a whole set.

The one place both ways of judging go through: `analyze` over a recorded clip and the live
coach rep by rep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from formcheck.band import BandJudgement
from formcheck.config import RulesConfig
from formcheck.report import RepReport
from formcheck.reps import Rep
from formcheck.rules import Finding, RepContext, Status, check_rep, not_judged, score
from formcheck.rules.band_placement import BAND_PLACEMENT

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
