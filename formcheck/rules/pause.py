"""Pause at the top: the hips held still, 1 s being the common cue (365physique)."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.config import RulesConfig
from formcheck.rules.base import Finding, RepContext, Status, not_judged


@dataclass(frozen=True)
class Pause:
    id: str = "pause"
    faults: tuple[str, ...] = ("short_pause",)
    weight: float = 20.0
    cue: str = "Hold the top for a full second before you lower"

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        target = f">= {cfg.pause.min_s:.1f} s"
        conf = ctx.rep.confidence
        if conf < cfg.min_confidence:
            return not_judged(self.id, target, "Hips not visible enough at the top", conf)
        value = ctx.rep.pause_s
        if value < cfg.pause.min_s:
            return Finding(self.id, Status.FAULT, "short_pause", value, target, conf, self.cue)
        return Finding(self.id, Status.OK, None, value, target, conf, "")
