"""End to end on the team's real clips (../shared/real_videos), through the real model.

The clips have no redistribution rights: they are never copied into the repository, and
these tests skip when the folder is absent (as it is on a user's machine). They are
evaluated once per run (`real_eval` in conftest.py) and shared by the tests that need them.
"""

from __future__ import annotations

import pytest
from eval_sets import REAL_DIR, Evaluated

from formcheck.evaluate import Gates, check_gates, find_clips, load_label

pytestmark = [
    pytest.mark.real,
    pytest.mark.e2e,
    pytest.mark.skipif(not REAL_DIR.is_dir(), reason=f"{REAL_DIR} not available"),
]


def test_every_usable_real_clip_is_evaluated_and_counted_exactly(real_eval: Evaluated) -> None:
    usable = sorted(video.name for label, video in find_clips(REAL_DIR)
                    if load_label(label).usable)
    rows = {c.name: c for c in real_eval.result.clips}
    assert sorted(n for n in rows if n in usable) == usable, "a usable clip was not evaluated"
    assert real_eval.result.overall.clips == len(usable)
    failed = {n: rows[n].error for n in usable if rows[n].error}
    assert not failed, f"clips that failed to analyse: {failed}"
    counts = {n: (len(rows[n].predicted), len(load_label(rows[n].label_path).reps))
              for n in usable}
    wrong = {n: c for n, c in counts.items() if c[0] != c[1]}
    assert not wrong, f"rep counts (predicted, labelled) that miss: {wrong}"


def test_real_rep_boundaries_within_a_human_labels_tolerance(real_eval: Evaluated) -> None:
    """Human labels are good to about a quarter of a second (the clips' README)."""
    failures = check_gates(real_eval.result, Gates(max_boundary_mae_s=0.25))
    assert not failures, failures
