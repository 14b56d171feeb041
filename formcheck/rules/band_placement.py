"""The band must cross the hips (PureGym): at the knees it adds no resistance to the thrust."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.config import RulesConfig
from formcheck.rules.base import Finding, RepContext, Status, not_judged


@dataclass(frozen=True)
class BandPlacement:
    id: str = "band_placement"
    faults: tuple[str, ...] = ("band_at_knees", "no_band")
    weight: float = 15.0
    label: str = "Band"
    unit: str = ""
    cue_knees: str = (
        "Loop the band under your feet and across your hips: at the knees it adds no"
        " resistance to the thrust"
    )
    cue_none: str = "Add the band: loop it under your feet and across your hip crease"

    def check(self, ctx: RepContext, cfg: RulesConfig) -> Finding:
        target = "across the hips"
        band, conf = ctx.band, ctx.band_confidence
        if band in ("hips", "both"):
            return Finding(self.id, Status.OK, None, band, target, conf, "")
        if band == "knees":
            return Finding(
                self.id, Status.FAULT, "band_at_knees", band, target, conf, self.cue_knees
            )
        if band == "none":
            if not cfg.band.expected:
                return Finding(self.id, Status.OK, None, band, "no band (bodyweight set)", conf, "")
            return Finding(self.id, Status.FAULT, "no_band", band, target, conf, self.cue_none)
        return not_judged(self.id, target, "Band placement not judged", conf, band)


BAND_PLACEMENT = BandPlacement()
