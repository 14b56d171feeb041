"""Lowering (eccentric) under control: 1-2 s or more (ACSM 2009; Schoenfeld 2015)."""

from __future__ import annotations

from formcheck.rules.base import MinimumRule

LOWERING_TEMPO = MinimumRule(
    id="lowering_tempo",
    measure="eccentric_s",
    label="Lowering time",
    unit="s",
    fault="fast_lowering",
    cue="Lower slowly: take at least a second on the way down",
    unseen="Hips not visible enough",
    weight=20.0,
)
