"""The rule table: every threshold just below and just above, cues, codes, not_judged, score.

Thresholds are read from `RulesConfig()`, never copied, so the tests follow the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from formcheck.config import BandConfig, RulesConfig
from formcheck.pose.landmarks import N_LANDMARKS, Landmark
from formcheck.reps import Rep
from formcheck.rules import FAULT_CODES, RULES, Finding, RepContext, Status, check_rep, score
from formcheck.rules.band_placement import BandPlacement
from formcheck.track import JOINTS, SIDE_LANDMARKS

CFG = RulesConfig()
EPS_DEG = 0.1
EPS_S = 0.01
RULE_BY_ID = {rule.id: rule for rule in RULES}


def _rep(
    hip_deg: float = 180.0,
    shin_deg: float = 0.0,
    pause_s: float = 1.5,
    eccentric_s: float = 2.0,
    confidence: float = 0.9,
    shin_confidence: float | None = None,
) -> Rep:
    """A rep that passes every rule unless told otherwise (times from t = 0); the knee and
    ankle seen as well as the rest unless `shin_confidence` says otherwise."""
    top_start = 1.0
    return Rep(
        1,
        0.0,
        top_start,
        top_start + pause_s,
        top_start + pause_s + eccentric_s,
        hip_deg,
        90.0 + shin_deg,
        hip_deg - 100.0,
        confidence,
        shin_deg,
        confidence if shin_confidence is None else shin_confidence,
    )


def _ctx(**rep: float) -> RepContext:
    """A rep (see `_rep`) with the band across the hips."""
    return RepContext(_rep(**rep), band="hips", band_confidence=0.8)


def _band_ctx(band: str) -> RepContext:
    """A rep that passes every other rule, with the band seen at `band`."""
    return RepContext(_rep(), band=band, band_confidence=0.8)


def test_the_default_rep_passes_every_rule() -> None:
    findings = check_rep(_ctx(), CFG)
    assert [f.rule for f in findings] == [r.id for r in RULES]
    assert all(f.status is Status.OK for f in findings), findings
    assert all(f.cue == "" and f.fault is None for f in findings)


# (rule, rep field, threshold, offset, expected fault or None for ok)
Threshold = Callable[[RulesConfig], float]
CASES: list[tuple[str, str, Threshold, float, str | None]] = [
    ("top_alignment", "hip_deg", lambda c: c.top_alignment.min_deg, -EPS_DEG, "under_extension"),
    ("top_alignment", "hip_deg", lambda c: c.top_alignment.min_deg, +EPS_DEG, None),
    ("top_alignment", "hip_deg", lambda c: c.top_alignment.min_deg, 0.0, None),
    ("top_alignment", "hip_deg", lambda c: c.top_alignment.max_deg, -EPS_DEG, None),
    ("top_alignment", "hip_deg", lambda c: c.top_alignment.max_deg, 0.0, None),
    ("top_alignment", "hip_deg", lambda c: c.top_alignment.max_deg, +EPS_DEG, "over_extension"),
    ("pause", "pause_s", lambda c: c.pause.min_s, -EPS_S, "short_pause"),
    ("pause", "pause_s", lambda c: c.pause.min_s, +EPS_S, None),
    ("lowering_tempo", "eccentric_s", lambda c: c.lowering_tempo.min_s, -EPS_S, "fast_lowering"),
    ("lowering_tempo", "eccentric_s", lambda c: c.lowering_tempo.min_s, +EPS_S, None),
    ("shin_angle", "shin_deg", lambda c: c.shin_angle.min_deg, -EPS_DEG, "feet_too_close"),
    ("shin_angle", "shin_deg", lambda c: c.shin_angle.min_deg, +EPS_DEG, None),
    ("shin_angle", "shin_deg", lambda c: c.shin_angle.min_deg, 0.0, None),
    ("shin_angle", "shin_deg", lambda c: c.shin_angle.max_deg, -EPS_DEG, None),
    ("shin_angle", "shin_deg", lambda c: c.shin_angle.max_deg, 0.0, None),
    ("shin_angle", "shin_deg", lambda c: c.shin_angle.max_deg, +EPS_DEG, "feet_too_far"),
]


@pytest.mark.parametrize(
    ("rule_id", "field", "threshold", "offset", "fault"),
    CASES,
    ids=[
        f"{c[0]}-{c[1]}-{'at' if c[3] == 0 else ('below' if c[3] < 0 else 'above')}-{c[4]}-{i}"
        for i, c in enumerate(CASES)
    ],
)
def test_threshold_just_below_and_just_above(
    rule_id: str,
    field: str,
    threshold: Threshold,
    offset: float,
    fault: str | None,
) -> None:
    value = threshold(CFG) + offset
    finding = RULE_BY_ID[rule_id].check(_ctx(**{field: value}), CFG)
    assert finding.rule == rule_id
    if fault is None:
        assert finding.status is Status.OK
        assert finding.fault is None and finding.cue == ""
    else:
        assert finding.status is Status.FAULT
        assert finding.fault == fault
        assert finding.cue
    assert finding.value == pytest.approx(value)
    assert finding.confidence == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("shin_deg", "knee_deg", "fault"),
    [
        (0.0, 55.0, None),  # floor bridge, shins vertical: the thigh slopes, the knee reads 55
        (25.0, 88.0, None),  # floor bridge, knee at 90: the shin leans out 25
        (-30.0, 75.0, None),  # shin back, knee still open: not a cramped set-up
        (30.0, 105.0, None),  # shin out, knee not yet past 110
        (-30.0, 60.0, "feet_too_close"),  # both past their limits
        (30.0, 120.0, "feet_too_far"),
    ],
)
def test_a_feet_fault_needs_both_the_shin_and_the_knee_past_their_limits(
    shin_deg: float, knee_deg: float, fault: str | None
) -> None:
    rep = replace(_rep(shin_deg=shin_deg), knee_angle_top_deg=knee_deg)
    finding = RULE_BY_ID["shin_angle"].check(RepContext(rep, band="hips"), CFG)
    assert finding.fault == fault
    assert finding.status is (Status.OK if fault is None else Status.FAULT)
    assert finding.value == pytest.approx(shin_deg)
    assert bool(finding.cue) is (fault is not None)


def test_the_shin_rule_is_not_judged_when_the_ankle_is_not_seen() -> None:
    """The hips and shoulders seen well, the knee or ankle not: the shins are not judged,
    the line still is."""
    ctx = _ctx(shin_deg=-35.0, shin_confidence=0.2)
    assert RULE_BY_ID["shin_angle"].check(ctx, CFG).status is Status.NOT_JUDGED
    assert RULE_BY_ID["top_alignment"].check(ctx, CFG).status is Status.OK


def test_thresholds_follow_the_config() -> None:
    """A custom threshold moves the verdict: the rules read the config, not a constant."""
    custom = CFG.model_copy(
        update={
            "pause": CFG.pause.model_copy(update={"min_s": 2.0}),
            "top_alignment": CFG.top_alignment.model_copy(update={"min_deg": 178.0}),
        }
    )
    ctx = _ctx(hip_deg=177.0, pause_s=1.5)
    assert RULE_BY_ID["pause"].check(ctx, CFG).status is Status.OK
    assert RULE_BY_ID["pause"].check(ctx, custom).fault == "short_pause"
    assert RULE_BY_ID["top_alignment"].check(ctx, CFG).status is Status.OK
    assert RULE_BY_ID["top_alignment"].check(ctx, custom).fault == "under_extension"


# One context that triggers each fault code: the table must cover every code.
TRIGGERS: dict[str, Callable[[RulesConfig], RepContext]] = {
    "under_extension": lambda c: _ctx(hip_deg=c.top_alignment.min_deg - 10),
    "over_extension": lambda c: _ctx(hip_deg=c.top_alignment.max_deg + 10),
    "short_pause": lambda c: _ctx(pause_s=c.pause.min_s / 2),
    "fast_lowering": lambda c: _ctx(eccentric_s=c.lowering_tempo.min_s / 2),
    "feet_too_close": lambda c: _ctx(shin_deg=c.shin_angle.min_deg - 10),
    "feet_too_far": lambda c: _ctx(shin_deg=c.shin_angle.max_deg + 10),
    "band_at_knees": lambda c: _band_ctx("knees"),
    "no_band": lambda c: _band_ctx("none"),
}


def test_every_fault_code_has_a_trigger_here() -> None:
    assert set(TRIGGERS) == set(FAULT_CODES)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_every_fault_has_a_cue_and_belongs_to_its_rule(code: str) -> None:
    faults = [f for f in check_rep(TRIGGERS[code](CFG), CFG) if f.status is Status.FAULT]
    assert [f.fault for f in faults] == [code]
    finding = faults[0]
    assert code in RULE_BY_ID[finding.rule].faults
    assert len(finding.cue) > 15 and finding.cue[0].isupper(), finding.cue
    assert "\n" not in finding.cue


def test_fault_codes_and_rule_ids_are_unique() -> None:
    assert len(FAULT_CODES) == len(set(FAULT_CODES))
    assert tuple(code for rule in RULES for code in rule.faults) == FAULT_CODES
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.weight > 0 for rule in RULES)


def test_cues_differ_between_faults() -> None:
    cues = {
        code: next(f.cue for f in check_rep(make(CFG), CFG) if f.fault)
        for code, make in TRIGGERS.items()
    }
    assert len(set(cues.values())) == len(cues)


# --- not judged ------------------------------------------------------------------------

JUDGED_ON_THE_REP = ["top_alignment", "pause", "lowering_tempo", "shin_angle"]


@pytest.mark.parametrize("rule_id", JUDGED_ON_THE_REP)
def test_not_judged_below_min_confidence(rule_id: str) -> None:
    rule = RULE_BY_ID[rule_id]
    low = rule.check(_ctx(confidence=CFG.min_confidence - 0.01), CFG)
    assert low.status is Status.NOT_JUDGED
    assert low.fault is None
    assert low.cue, "a not_judged finding says what was missing"
    assert low.confidence == pytest.approx(CFG.min_confidence - 0.01)
    at = rule.check(_ctx(confidence=CFG.min_confidence), CFG)
    assert at.status is Status.OK


@pytest.mark.parametrize(
    ("rule_id", "field"), [("top_alignment", "hip_deg"), ("shin_angle", "shin_deg")]
)
def test_not_judged_when_the_angle_is_missing(rule_id: str, field: str) -> None:
    finding = RULE_BY_ID[rule_id].check(_ctx(**{field: math.nan}), CFG)
    assert finding.status is Status.NOT_JUDGED
    assert finding.value is None


def test_a_low_confidence_rep_with_faulty_values_is_still_not_judged() -> None:
    ctx = _ctx(
        hip_deg=100.0,
        shin_deg=50.0,
        pause_s=0.0,
        eccentric_s=0.1,
        confidence=CFG.min_confidence / 2,
    )
    statuses = {f.rule: f.status for f in check_rep(ctx, CFG)}
    assert all(statuses[r] is Status.NOT_JUDGED for r in JUDGED_ON_THE_REP)


# --- band placement --------------------------------------------------------------------

KNEES_CUE = (
    "Loop the band under your feet and across your hips: at the knees it adds no"
    " resistance to the thrust"
)


@pytest.mark.parametrize("band", ["hips", "both"])
def test_band_across_the_hips_is_ok(band: str) -> None:
    finding = BandPlacement().check(_band_ctx(band), CFG)
    assert finding.status is Status.OK
    assert finding.value == band
    assert finding.confidence == pytest.approx(0.8)


def test_band_at_the_knees_is_a_fault_with_the_exact_cue() -> None:
    finding = BandPlacement().check(_band_ctx("knees"), CFG)
    assert finding.status is Status.FAULT
    assert finding.fault == "band_at_knees"
    assert finding.cue == KNEES_CUE


def test_no_band_is_a_fault_only_when_a_band_is_expected() -> None:
    expected = BandPlacement().check(_band_ctx("none"), CFG)
    assert expected.fault == "no_band"
    assert "hip" in expected.cue
    bodyweight = CFG.model_copy(update={"band": BandConfig(expected=False)})
    finding = BandPlacement().check(_band_ctx("none"), bodyweight)
    assert finding.status is Status.OK
    assert finding.fault is None


@pytest.mark.parametrize("band", ["unknown", "ankles", ""])
def test_unknown_band_is_not_judged(band: str) -> None:
    finding = BandPlacement().check(_band_ctx(band), CFG)
    assert finding.status is Status.NOT_JUDGED
    assert finding.fault is None


# --- Finding ---------------------------------------------------------------------------


def test_finding_requires_a_fault_code_exactly_when_faulty() -> None:
    with pytest.raises(ValueError, match="fault code"):
        Finding("pause", Status.FAULT, None, 0.5, ">= 1 s", 0.9, "Hold")
    with pytest.raises(ValueError, match="fault code"):
        Finding("pause", Status.OK, "short_pause", 1.5, ">= 1 s", 0.9, "")


def test_finding_turns_nan_into_none() -> None:
    assert Finding("pause", Status.NOT_JUDGED, None, math.nan, "", 0.0, "why").value is None


# --- score -----------------------------------------------------------------------------


def _findings(**status: Status) -> list[Finding]:
    """One finding per rule of the table; OK unless named (rule id=status)."""
    out = []
    for rule in RULES:
        st = status.get(rule.id, Status.OK)
        fault = rule.faults[0] if st is Status.FAULT else None
        out.append(Finding(rule.id, st, fault, 1.0, "", 0.9, "cue" if fault else ""))
    return out


def test_score_all_ok_is_100_and_nothing_judged_is_none() -> None:
    assert score(_findings()) == 100
    nothing = {r.id: Status.NOT_JUDGED for r in RULES}
    assert score(_findings(**nothing)) is None
    assert score([]) is None


def test_score_weights_each_rule_by_its_weight() -> None:
    weights = {r.id: r.weight for r in RULES}
    total = sum(weights.values())
    for rule in RULES:
        got = score(_findings(**{rule.id: Status.FAULT}))
        assert got == round(100 * (total - weights[rule.id]) / total)


def test_score_leaves_out_what_was_not_judged() -> None:
    weights = {r.id: r.weight for r in RULES}
    findings = _findings(band_placement=Status.NOT_JUDGED, pause=Status.FAULT)
    judged = sum(w for rid, w in weights.items() if rid != "band_placement")
    assert score(findings) == round(100 * (judged - weights["pause"]) / judged)


@dataclass(frozen=True)
class _FakeRule:
    id: str
    weight: float
    faults: tuple[str, ...] = ("bad",)
    label: str = "fake"
    unit: str = ""

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:  # pragma: no cover
        raise NotImplementedError


def test_score_arithmetic_on_a_small_table() -> None:
    rules = [_FakeRule("light", 1.0), _FakeRule("heavy", 3.0)]
    ok_light = Finding("light", Status.OK, None, 1.0, "", 1.0, "")
    bad_heavy = Finding("heavy", Status.FAULT, "bad", 1.0, "", 1.0, "fix it")
    assert score([ok_light, bad_heavy], rules) == 25
    assert (
        score(
            [
                replace(ok_light, status=Status.FAULT, fault="bad", cue="x"),
                replace(bad_heavy, status=Status.OK, fault=None, cue=""),
            ],
            rules,
        )
        == 75
    )


# --- the landmark table of the measured side -------------------------------------------


def test_side_landmarks_mirror_each_other() -> None:
    left, right = SIDE_LANDMARKS["left"], SIDE_LANDMARKS["right"]
    assert len(left) == len(right) == len(JOINTS)
    for joint, lm_left, lm_right in zip(JOINTS, left, right, strict=True):
        assert lm_left.name == f"LEFT_{joint.upper()}"
        assert lm_right.name == f"RIGHT_{joint.upper()}"


def test_side_landmarks_name_existing_landmarks() -> None:
    for table in SIDE_LANDMARKS.values():
        for lm in table:
            assert Landmark(int(lm)) is lm
            assert 0 <= int(lm) < N_LANDMARKS
    assert [int(lm) for lm in Landmark] == list(range(N_LANDMARKS))


def test_side_view_angles_are_not_judged_from_the_front() -> None:
    """A front or steep oblique view: the line and the shins say what they need; the pause,
    the lowering and the band are judged as ever."""
    ctx = replace(_ctx(hip_deg=150.0, shin_deg=-40.0, pause_s=0.2), side_on=False)
    status = {f.rule: f for f in check_rep(ctx, CFG)}
    for rule_id in ("top_alignment", "shin_angle"):
        assert status[rule_id].status is Status.NOT_JUDGED
        assert "side view" in status[rule_id].cue
    assert status["pause"].fault == "short_pause"
    assert status["lowering_tempo"].status is Status.OK
    assert status["band_placement"].status is Status.OK


def test_a_rule_naming_a_rep_field_or_section_that_does_not_exist_fails_when_made() -> None:
    """The table names what each rule measures and against which settings: a rename of a
    `Rep` field or a config section fails on import, not on the first rep judged."""
    with pytest.raises(TypeError, match="Rep has no field 'pause_seconds'"):
        replace(RULE_BY_ID["pause"], measure="pause_seconds")  # type: ignore[type-var]
    with pytest.raises(TypeError, match="RulesConfig has no section 'pauses'"):
        replace(RULE_BY_ID["pause"], id="pauses")  # type: ignore[type-var]
    with pytest.raises(TypeError, match="Rep has no field 'knee_angle'"):
        replace(RULE_BY_ID["shin_angle"], knee="knee_angle")  # type: ignore[type-var]
    for rule in RULES:
        assert rule.label and rule.unit in ("deg", "s", "")
