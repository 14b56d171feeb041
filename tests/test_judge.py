"""Judging reps and the set: one call from a rep and its band to its report; what is said
once for a whole set."""

from __future__ import annotations

from dataclasses import replace

from test_rules import _rep

from formcheck.band import BandJudgement
from formcheck.config import BandConfig, RulesConfig
from formcheck.judge import NO_BAND_SAID_ONCE, once_for_the_set, rep_report
from formcheck.report import ModelInfo, RepReport, SetReport, ViewInfo
from formcheck.report.terminal import summary_line
from formcheck.rules import Status
from formcheck.video import VideoInfo

CFG = RulesConfig()


def _reports(*bands: str, rules: RulesConfig = CFG, pause_s: float = 1.5) -> list[RepReport]:
    return [
        rep_report(replace(_rep(pause_s=pause_s), index=i + 1), BandJudgement(b, 0.8), True, rules)
        for i, b in enumerate(bands)
    ]


def test_a_rep_is_judged_by_every_rule_and_scored() -> None:
    good, knees = _reports("hips", "knees")
    assert good.faults == [] and good.score == 100 and good.band == "hips"
    assert knees.faults == ["band_at_knees"] and knees.score is not None and knees.score < 100


def test_a_set_without_a_band_hears_it_once_for_the_set() -> None:
    reps, said = once_for_the_set(_reports("none", "unknown", "none", pause_s=0.2))
    assert [f.fault for f in said] == ["no_band"] and "band" in said[0].cue
    # Not a fault of any rep, nor in its score; the rep's own faults stay.
    assert all(r.faults == ["short_pause"] for r in reps)
    band = [next(f for f in r.findings if f.rule == "band_placement") for r in reps]
    assert [f.status for f in band] == [Status.NOT_JUDGED] * 3
    assert band[0].cue == NO_BAND_SAID_ONCE
    before = _reports("none", pause_s=0.2)[0]
    assert reps[0].score is not None and before.score is not None
    assert reps[0].score > before.score
    report = SetReport(
        VideoInfo("set.mp4", 30.0, 300, 10.0, 640, 360),
        ModelInfo("m", "0"),
        ViewInfo("left", True, ""),
        reps,
        set_findings=said,
    )
    assert report.cues[0] == said[0].cue and report.cues.count(said[0].cue) == 1
    assert report.fault_counts == {"short_pause": 3}
    assert report.to_dict()["summary"]["set_faults"] == ["no_band"]
    assert "no_band (the set)" in summary_line(report)


def test_a_band_that_slips_off_is_a_fault_of_the_reps_without_it() -> None:
    reps, said = once_for_the_set(_reports("hips", "none", "none"))
    assert said == ()
    assert [r.faults for r in reps] == [[], ["no_band"], ["no_band"]]


def test_a_bodyweight_set_and_a_set_with_nothing_judged_say_nothing() -> None:
    bodyweight = CFG.model_copy(update={"band": BandConfig(expected=False)})
    assert once_for_the_set(_reports("none", "none", rules=bodyweight))[1] == ()
    assert once_for_the_set(_reports("unknown", "unknown"))[1] == ()
    assert once_for_the_set([]) == ((), ())
