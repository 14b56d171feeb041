"""Knee angle at the top about 90 deg, shins vertical (Contreras; 365physique)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from formcheck.config import RulesConfig
from formcheck.rules.base import Finding, RepContext, Status, not_judged


@dataclass(frozen=True)
class ShinAngle:
    id: str = "shin_angle"
    faults: tuple[str, ...] = ("feet_too_close", "feet_too_far")
    weight: float = 15.0
    cue_close: str = "Walk your feet out a little: shins vertical at the top"
    cue_far: str = "Bring your feet in closer: shins vertical at the top"

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        c = cfg.shin_angle
        target = f"{c.min_deg:.0f}-{c.max_deg:.0f} deg (shins vertical = {c.target_deg:.0f})"
        value = ctx.rep.knee_angle_top_deg
        conf = ctx.rep.confidence
        if math.isnan(value) or conf < cfg.min_confidence:
            return not_judged(self.id, target, "Knees or ankles not visible enough", conf)
        if value < c.min_deg:
            return Finding(self.id, Status.FAULT, "feet_too_close", value, target, conf,
                           self.cue_close)
        if value > c.max_deg:
            return Finding(self.id, Status.FAULT, "feet_too_far", value, target, conf,
                           self.cue_far)
        return Finding(self.id, Status.OK, None, value, target, conf, "")
