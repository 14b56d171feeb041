"""The rule table: one small object per check, each judging one rep."""

from __future__ import annotations

from collections.abc import Sequence

from formcheck.config import RulesConfig
from formcheck.rules.band_placement import BAND_PLACEMENT
from formcheck.rules.base import Finding, RepContext, Rule, Status, not_judged
from formcheck.rules.lowering_tempo import LOWERING_TEMPO
from formcheck.rules.pause import PAUSE
from formcheck.rules.shin_angle import SHIN_ANGLE
from formcheck.rules.top_alignment import TOP_ALIGNMENT

RULES: tuple[Rule, ...] = (TOP_ALIGNMENT, PAUSE, LOWERING_TEMPO, SHIN_ANGLE, BAND_PLACEMENT)
FAULT_CODES: tuple[str, ...] = tuple(code for rule in RULES for code in rule.faults)


def check_rep(ctx: RepContext, cfg: RulesConfig, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every rule's finding for one rep, in table order."""
    return [rule.check(ctx, cfg) for rule in rules]


def score(findings: Sequence[Finding], rules: Sequence[Rule] = RULES) -> int | None:
    """0-100: the weighted share of judged rules that passed; None when nothing was judged."""
    weights = {rule.id: rule.weight for rule in rules}
    judged = [f for f in findings if f.status is not Status.NOT_JUDGED]
    total = sum(weights[f.rule] for f in judged)
    if total == 0:
        return None
    passed = sum(weights[f.rule] for f in judged if f.status is Status.OK)
    return round(100 * passed / total)


__all__ = [
    "FAULT_CODES",
    "RULES",
    "Finding",
    "RepContext",
    "Rule",
    "Status",
    "check_rep",
    "not_judged",
    "score",
]
