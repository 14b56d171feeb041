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
