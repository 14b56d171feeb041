"""What a rule is and what it returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Protocol

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
    """What a rule may look at: the rep, the band placement seen during it, and whether the
    camera looks at the body from the side (`track.ViewCheck.side_on`)."""

    rep: Rep
    band: str = "unknown"
    band_confidence: float = 0.0
    side_on: bool = True


class Rule(Protocol):
    """A small object with an id, the faults it can raise, and a check of one rep."""

    @property
    def id(self) -> str: ...

    @property
    def faults(self) -> tuple[str, ...]: ...

    @property
    def weight(self) -> float:
        """The share of the rep's score this rule carries."""

    @property
    def label(self) -> str:
        """What the rule looks at, as reports show it ("Pause at the top")."""

    @property
    def unit(self) -> str:
        """The unit of its finding's value ("deg", "s"; "" for a word)."""

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding: ...


def check_rep_fields(rule: str, *names: str) -> None:
    """Raise TypeError unless every name is a `Rep` field or property (a rule's table entry
    names them)."""
    known = {f.name for f in fields(Rep)} | {
        name for name in dir(Rep) if isinstance(getattr(Rep, name, None), property)
    }
    for name in names:
        if name not in known:
            raise TypeError(f"rule {rule!r}: Rep has no field {name!r}")


#: Why a side-view rule is not judged on a front or oblique view.
SIDE_VIEW_NEEDED = "Needs a side view: film from the side at hip height"


def not_judged(
    rule: str, target: str, why: str, confidence: float = 0.0, value: float | str | None = None
) -> Finding:
    """A finding for a rep the rule cannot judge; `why` says what was missing."""
    return Finding(rule, Status.NOT_JUDGED, None, value, target, confidence, why)


@dataclass(frozen=True, kw_only=True)
class MeasuredRule:
    """A rule on one measured value of the rep, judged against its `RulesConfig` section
    (`cfg.<id>`); a missing value or an uncertain rep is not judged.

    The table of rules is the one place that says what a rule measures and against what:
    reports and plots take the label, unit, target and accepted range from it. The `Rep`
    fields and the `RulesConfig` section named here are checked when the rule is made (on
    import), so a rename fails at once, not on the first rep judged.

    Attributes:
        id: the rule id, also the name of its `RulesConfig` section.
        measure: the `Rep` field judged (also the key of the report's rep).
        label: what that is, as reports show it ("Pause at the top").
        unit: its unit ("deg" or "s").
        unseen: why the rule cannot judge a rep whose value is missing or uncertain.
        weight: the share of the rep's score the rule carries.
        confidence: the `Rep` attribute that says how well the landmarks the value rests
            on were seen (below `min_confidence`: not judged).
        side_view: the value is an angle only a side view shows truly (not judged when the
            camera is not side-on).
    """

    id: str
    measure: str
    label: str
    unit: str
    unseen: str
    weight: float
    confidence: str = "confidence"
    side_view: bool = False

    def __post_init__(self) -> None:
        check_rep_fields(self.id, self.measure, self.confidence)
        if self.id not in RulesConfig.model_fields:
            raise TypeError(f"rule {self.id!r}: RulesConfig has no section {self.id!r}")

    def section(self, cfg: RulesConfig) -> Any:
        """The rule's settings (`cfg.<id>`)."""
        return getattr(cfg, self.id)

    def target(self, section: Any) -> str:
        """The target, as the report shows it."""
        raise NotImplementedError

    def goal(self, section: Any) -> float:
        """The value aimed at (a plot's target line), in `unit`."""
        raise NotImplementedError

    def accepted(self, section: Any) -> tuple[float, float] | None:
        """The range of values that pass, when it is bounded on both sides."""
        return None

    def verdict(self, value: float, section: Any) -> tuple[str | None, str]:
        """(fault code or None, cue) for a judged `value`."""
        raise NotImplementedError

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        section = self.section(cfg)
        target = self.target(section)
        value = float(getattr(ctx.rep, self.measure))
        conf = float(getattr(ctx.rep, self.confidence))
        if self.side_view and not ctx.side_on:
            return not_judged(self.id, target, SIDE_VIEW_NEEDED, conf)
        if math.isnan(value) or conf < cfg.min_confidence:
            return not_judged(self.id, target, self.unseen, conf)
        fault, cue = self.verdict(value, section)
        status = Status.OK if fault is None else Status.FAULT
        return Finding(self.id, status, fault, value, target, conf, cue)


@dataclass(frozen=True, kw_only=True)
class RangeRule(MeasuredRule):
    """A value (degrees) that must lie within [min_deg, max_deg] of the rule's section,
    which also names the ideal `target_deg`.

    Attributes:
        ideal: what the ideal value means, for the target text ("straight line").
        low_fault, low_cue / high_fault, high_cue: the fault code and cue below / above.
    """

    ideal: str
    low_fault: str
    low_cue: str
    high_fault: str
    high_cue: str

    @property
    def faults(self) -> tuple[str, ...]:
        return (self.low_fault, self.high_fault)

    def target(self, section: Any) -> str:
        return (
            f"{section.min_deg:.0f} to {section.max_deg:.0f} deg "
            f"({self.ideal} = {section.target_deg:.0f})"
        )

    def goal(self, section: Any) -> float:
        return float(section.target_deg)

    def accepted(self, section: Any) -> tuple[float, float] | None:
        return float(section.min_deg), float(section.max_deg)

    def verdict(self, value: float, section: Any) -> tuple[str | None, str]:
        if value < section.min_deg:
            return self.low_fault, self.low_cue
        if value > section.max_deg:
            return self.high_fault, self.high_cue
        return None, ""


@dataclass(frozen=True, kw_only=True)
class MinimumRule(MeasuredRule):
    """A duration (seconds) that must last at least `min_s` of the rule's section.

    Attributes:
        fault, cue: the fault code and cue when the duration is too short.
    """

    fault: str
    cue: str

    @property
    def faults(self) -> tuple[str, ...]:
        return (self.fault,)

    def target(self, section: Any) -> str:
        return f">= {section.min_s:.1f} s"

    def goal(self, section: Any) -> float:
        return float(section.min_s)

    def verdict(self, value: float, section: Any) -> tuple[str | None, str]:
        return (self.fault, self.cue) if value < section.min_s else (None, "")
