"""What a rule is and what it returns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from formcheck.config import RulesConfig
from formcheck.reps import Rep


class Status(str, Enum):
    OK = "ok"
    FAULT = "fault"
    NOT_JUDGED = "not_judged"


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one rep.

    `value` and `target` are in the rule's unit (degrees or seconds; a string for the band);
    `confidence` is in [0, 1]; `fault` is a fault code when status is FAULT, else None;
    `cue` is one plain sentence for the lifter (empty when there is nothing to fix).
    """

    rule: str
    status: Status
    fault: str | None
    value: float | str | None
    target: str
    confidence: float
    cue: str

    def __post_init__(self) -> None:
        if (self.status is Status.FAULT) != (self.fault is not None):
            raise ValueError(f"{self.rule}: a fault code goes with status 'fault' only")
        if isinstance(self.value, float) and math.isnan(self.value):
            object.__setattr__(self, "value", None)


@dataclass(frozen=True)
class RepContext:
    """What a rule may look at: the rep, and the band placement seen during it."""

    rep: Rep
    band: str = "unknown"
    band_confidence: float = 0.0


class Rule(Protocol):
    """A small object with an id, the faults it can raise, and a check of one rep."""

    @property
    def id(self) -> str: ...

    @property
    def faults(self) -> tuple[str, ...]: ...

    @property
    def weight(self) -> float:
        """The share of the rep's score this rule carries."""

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding: ...


def not_judged(rule: str, target: str, why: str, confidence: float = 0.0,
               value: float | str | None = None) -> Finding:
    """A finding for a rep the rule cannot judge; `why` says what was missing."""
    return Finding(rule, Status.NOT_JUDGED, None, value, target, confidence, why)


@dataclass(frozen=True)
class RangeRule:
    """A measured value of the rep that must lie within [min_deg, max_deg] of its config
    section (`cfg.<section>`, which also names the ideal `target_deg`).

    Attributes:
        id: the rule id, also the name of its `RulesConfig` section.
        measure: the `Rep` attribute judged (degrees).
        ideal: what the ideal value means, for the target text ("straight line").
        low_fault, low_cue / high_fault, high_cue: the fault code and cue below / above.
        unseen: why the rule cannot judge a rep whose value is missing or uncertain.
        weight: the share of the rep's score the rule carries.
    """

    id: str
    measure: str
    ideal: str
    low_fault: str
    low_cue: str
    high_fault: str
    high_cue: str
    unseen: str
    weight: float

    @property
    def faults(self) -> tuple[str, ...]:
        return (self.low_fault, self.high_fault)

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        c = getattr(cfg, self.id)
        target = f"{c.min_deg:.0f}-{c.max_deg:.0f} deg ({self.ideal} = {c.target_deg:.0f})"
        value = float(getattr(ctx.rep, self.measure))
        conf = ctx.rep.confidence
        if math.isnan(value) or conf < cfg.min_confidence:
            return not_judged(self.id, target, self.unseen, conf)
        if value < c.min_deg:
            return Finding(self.id, Status.FAULT, self.low_fault, value, target, conf,
                           self.low_cue)
        if value > c.max_deg:
            return Finding(self.id, Status.FAULT, self.high_fault, value, target, conf,
                           self.high_cue)
        return Finding(self.id, Status.OK, None, value, target, conf, "")


@dataclass(frozen=True)
class MinimumRule:
    """A measured duration of the rep that must last at least `min_s` of its config
    section (`cfg.<id>`).

    Attributes:
        id: the rule id, also the name of its `RulesConfig` section.
        measure: the `Rep` attribute judged (seconds).
        fault, cue: the fault code and cue when the duration is too short.
        unseen: why the rule cannot judge a rep whose value is missing or uncertain.
        weight: the share of the rep's score the rule carries.
    """

    id: str
    measure: str
    fault: str
    cue: str
    unseen: str
    weight: float

    @property
    def faults(self) -> tuple[str, ...]:
        return (self.fault,)

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        min_s = getattr(cfg, self.id).min_s
        target = f">= {min_s:.1f} s"
        value = float(getattr(ctx.rep, self.measure))
        conf = ctx.rep.confidence
        if math.isnan(value) or conf < cfg.min_confidence:
            return not_judged(self.id, target, self.unseen, conf)
        if value < min_s:
            return Finding(self.id, Status.FAULT, self.fault, value, target, conf, self.cue)
        return Finding(self.id, Status.OK, None, value, target, conf, "")
