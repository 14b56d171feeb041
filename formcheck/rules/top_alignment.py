"""Knee-hip-shoulder line at the top: straight, about 180 deg (PureGym; Contreras)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from formcheck.config import RulesConfig
from formcheck.rules.base import Finding, RepContext, Status, not_judged


@dataclass(frozen=True)
class TopAlignment:
    id: str = "top_alignment"
    faults: tuple[str, ...] = ("under_extension", "over_extension")
    weight: float = 30.0
    cue_under: str = "Drive your hips higher and squeeze your glutes at the top"
    cue_over: str = "Ribs down and tuck the pelvis: don't arch past a straight line"

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        c = cfg.top_alignment
        target = f"{c.min_deg:.0f}-{c.max_deg:.0f} deg (straight line = {c.target_deg:.0f})"
        value = ctx.rep.hip_angle_top_deg
        conf = ctx.rep.confidence
        if math.isnan(value) or conf < cfg.min_confidence:
            return not_judged(self.id, target, "Hips, knees or shoulders not visible enough", conf)
        if value < c.min_deg:
            return Finding(self.id, Status.FAULT, "under_extension", value, target, conf,
                           self.cue_under)
        if value > c.max_deg:
            return Finding(self.id, Status.FAULT, "over_extension", value, target, conf,
                           self.cue_over)
        return Finding(self.id, Status.OK, None, value, target, conf, "")
