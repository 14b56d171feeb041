"""Feet placed for vertical shins at the top (Contreras; 365physique).

A feet fault needs the shin tilted past its limit *and* the knee angle past its own: on a
bench the thigh is level at the top and the two say the same (a tilt of -20 deg is a knee
angle of 70), but from the floor (a glute bridge) the thigh slopes up to the knee, so
vertical shins make a knee angle of 50-70 deg and a knee at 90 deg leans the shin out by
20-30 deg; coaches accept both set-ups (`ShinConfig`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from formcheck.config import RulesConfig
from formcheck.rules.base import Finding, RangeRule, RepContext, Status, check_rep_fields


@dataclass(frozen=True, kw_only=True)
class ShinRule(RangeRule):
    """A `RangeRule` on the shin tilt whose fault stands only when the knee angle (`knee`,
    a `Rep` attribute) is past `knee_min_deg` / `knee_max_deg` too."""

    knee: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_rep_fields(self.id, self.knee)

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        finding = super().check(ctx, cfg)
        if finding.status is not Status.FAULT:
            return finding
        section = self.section(cfg)
        knee = float(getattr(ctx.rep, self.knee))
        past = (
            knee < section.knee_min_deg
            if finding.fault == self.low_fault
            else knee > section.knee_max_deg
        )
        if past or math.isnan(knee):
            return finding
        return replace(finding, status=Status.OK, fault=None, cue="")


SHIN_ANGLE = ShinRule(
    id="shin_angle",
    measure="shin_tilt_top_deg",
    label="Shin tilt from vertical at the top",
    unit="deg",
    knee="knee_angle_top_deg",
    confidence="shin_confidence",
    ideal="shins vertical",
    low_fault="feet_too_close",
    low_cue="Walk your feet out a little: shins vertical at the top",
    high_fault="feet_too_far",
    high_cue="Bring your feet in closer: shins vertical at the top",
    unseen="Knees or ankles not visible enough",
    side_view=True,
    weight=15.0,
)
