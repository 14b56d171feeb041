"""Knee-hip-shoulder line at the top: straight, about 180 deg (PureGym; Contreras)."""

from __future__ import annotations

from formcheck.rules.base import RangeRule

TOP_ALIGNMENT = RangeRule(
    id="top_alignment",
    measure="hip_angle_top_deg",
    label="Hip angle at the top",
    unit="deg",
    ideal="straight line",
    low_fault="under_extension",
    low_cue="Drive your hips higher and squeeze your glutes at the top",
    high_fault="over_extension",
    high_cue="Ribs down and tuck the pelvis: don't arch past a straight line",
    unseen="Hips, knees or shoulders not visible enough",
    side_view=True,
    weight=30.0,
)
