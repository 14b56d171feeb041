"""Lowering (eccentric) under control: 1-2 s or more (ACSM 2009; Schoenfeld 2015)."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.config import RulesConfig
from formcheck.rules.base import Finding, RepContext, Status, not_judged


@dataclass(frozen=True)
class LoweringTempo:
    id: str = "lowering_tempo"
    faults: tuple[str, ...] = ("fast_lowering",)
    weight: float = 20.0
    cue: str = "Lower slowly: take at least a second on the way down"

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        target = f">= {cfg.lowering_tempo.min_s:.1f} s"
        conf = ctx.rep.confidence
        if conf < cfg.min_confidence:
            return not_judged(self.id, target, "Hips not visible enough", conf)
        value = ctx.rep.eccentric_s
        if value < cfg.lowering_tempo.min_s:
            return Finding(self.id, Status.FAULT, "fast_lowering", value, target, conf, self.cue)
        return Finding(self.id, Status.OK, None, value, target, conf, "")
