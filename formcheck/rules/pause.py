"""Pause at the top: the hips held still, 1 s being the common cue (365physique)."""

from __future__ import annotations

from formcheck.rules.base import MinimumRule

PAUSE = MinimumRule(
    id="pause",
    measure="pause_s",
    label="Pause at the top",
    unit="s",
    fault="short_pause",
    cue="Hold the top for a full second before you lower",
    unseen="Hips not visible enough at the top",
    weight=20.0,
)
