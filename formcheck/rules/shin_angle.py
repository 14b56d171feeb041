"""Knee angle at the top about 90 deg, shins vertical (Contreras; 365physique)."""

from __future__ import annotations

from formcheck.rules.base import RangeRule

SHIN_ANGLE = RangeRule(
    id="shin_angle",
    measure="knee_angle_top_deg",
    ideal="shins vertical",
    low_fault="feet_too_close",
    low_cue="Walk your feet out a little: shins vertical at the top",
    high_fault="feet_too_far",
    high_cue="Bring your feet in closer: shins vertical at the top",
    unseen="Knees or ankles not visible enough",
    weight=15.0,
)
