"""End to end on the team's real clips (../shared/real_videos), through the real model.

The clips have no redistribution rights: they are never copied into the repository, and
these tests skip when the folder is absent (as it is on a user's machine). They are
evaluated once per run (`real_eval` in conftest.py) and shared by the tests that need them.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from eval_sets import REAL_DIR, Evaluated
from typer.testing import CliRunner

from formcheck.analyze import analyze_sequence
from formcheck.cli import app
from formcheck.config import Config
from formcheck.evaluate import Gates, cache_key, check_gates, find_clips, load_label
from formcheck.live.coach import Coach
from formcheck.pose.landmarks import PoseFrame
from formcheck.pose.sequence import PoseSequence
from formcheck.video import Frame

pytestmark = [
    pytest.mark.real,
    pytest.mark.e2e,
    pytest.mark.skipif(not REAL_DIR.is_dir(), reason=f"{REAL_DIR} not available"),
]


def test_every_usable_real_clip_is_evaluated_and_counted_exactly(real_eval: Evaluated) -> None:
    usable = sorted(video.name for label, video in find_clips(REAL_DIR) if load_label(label).usable)
    rows = {c.name: c for c in real_eval.result.clips}
    assert sorted(n for n in rows if n in usable) == usable, "a usable clip was not evaluated"
    assert real_eval.result.overall.clips == len(usable)
    failed = {n: rows[n].error for n in usable if rows[n].error}
    assert not failed, f"clips that failed to analyse: {failed}"
    counts = {n: (len(rows[n].predicted), len(load_label(rows[n].label_path).reps)) for n in usable}
    wrong = {n: c for n, c in counts.items() if c[0] != c[1]}
    assert not wrong, f"rep counts (predicted, labelled) that miss: {wrong}"
    # One word, one meaning: a label's side_left is the report's head on the left.
    side_on = {
        n: rows[n].label.view
        for n in usable  # type: ignore[union-attr]
        if (rows[n].label.view or "").startswith("side_")
    }  # type: ignore[union-attr]
    assert side_on, "no side-on real clip"
    heads = {n: f"side_{rows[n].head}" for n in side_on}
    assert heads == side_on


# Two people timing exercise phases from video agree to about +-0.4 s (95% limits); these
# targets sit inside that (issue 17).
REAL_TIMING = Gates(max_boundary_mae_s=0.2, max_pause_mae_s=0.2, max_eccentric_mae_s=0.25)
MAX_PAUSE_BIAS_S = 0.1
MAX_FALSE_FAULT_RATE = 0.1
MIN_VERDICT_AGREEMENT = 0.9


def test_real_reps_are_timed_as_people_time_them(real_eval: Evaluated) -> None:
    """Boundaries, pause and lowering within the targets, and the pause not read short or
    long on the whole (the bias a lifter would feel as a wrong "Hold the top")."""
    o = real_eval.result.overall
    failures = check_gates(real_eval.result, REAL_TIMING)
    assert not failures, failures
    assert o.pause_bias_s is not None and abs(o.pause_bias_s) <= MAX_PAUSE_BIAS_S, o.pause_bias_s


def test_clean_real_reps_get_no_form_fault(real_eval: Evaluated) -> None:
    o = real_eval.result.overall
    assert o.clean_reps >= 20, o.clean_reps
    assert o.false_fault_rate is not None and o.false_fault_rate <= MAX_FALSE_FAULT_RATE


def test_real_pause_verdicts_agree_with_the_labelled_times(real_eval: Evaluated) -> None:
    o = real_eval.result.overall
    assert o.pause_clear_n >= 20
    assert o.pause_agreement is not None and o.pause_agreement >= MIN_VERDICT_AGREEMENT


# 20 of 22 clear real reps agree since two models measure a clip (91%; 82% with one): two
# lowerings within 0.05 s of the 1 s threshold came out on the labels' side. The timing of
# slow-starting lowerings is not fixed (issue 17's closing note): this can flip back.
def test_real_lowering_verdicts_agree_with_the_labelled_times(real_eval: Evaluated) -> None:
    o = real_eval.result.overall
    assert o.eccentric_clear_n >= 20
    assert o.eccentric_agreement is not None and (o.eccentric_agreement >= MIN_VERDICT_AGREEMENT)


# A lift's times as the message quotes them, against a label accurate to about a quarter
# of a second (the clips' README).
PARTIAL_TOL_S = 0.25


def _quoted(pattern: str, text: str) -> list[float]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return [float(g) for g in found.groups()]


def test_a_real_clip_without_a_complete_rep_says_what_was_seen(
    real_eval: Evaluated,
    tmp_path: Path,
) -> None:
    """Each labelled partial rep of the zero-rep clips, in the terminal and on the page: a
    clip that opens at the top (the lift not in the clip), a lift the clip cuts off."""
    zero = [
        (lab, video)
        for lab, video in find_clips(REAL_DIR)
        if (label := load_label(lab)).usable and not label.reps and label.extra.get("partial_reps")
    ]
    assert zero, "no usable real clip labelled with partial reps only"
    for label_path, video in zero:
        poses = real_eval.cache / cache_key(video, Config())
        page = tmp_path / f"{video.stem}.html"
        run = CliRunner().invoke(
            app, ["analyze", "--from-landmarks", str(poses), "--html", str(page)]
        )
        assert run.exit_code == 6, run.output
        text = " ".join(run.output.split())  # rich folds long lines
        shown = " ".join(page.read_text(encoding="utf-8").split())
        for partial in load_label(label_path).extra["partial_reps"]:
            if partial["start_s"] is None:  # opens at the top
                (down,) = _quoted(
                    r"opens with the hips up \(up to \d+°; a full top is \d+°\) "
                    r"and they are down by ([\d.]+) s",
                    text,
                )
                assert down == pytest.approx(partial["end_s"], abs=PARTIAL_TOL_S), text
                assert "the lift to that top is not in the clip" in shown
            if partial["end_s"] is None:  # cut off before the hips are back down
                lift, by = _quoted(
                    r"a lift from ([\d.]+) s reaches \d+° by ([\d.]+) s, but "
                    r"the clip ends",
                    text,
                )
                assert lift == pytest.approx(partial["start_s"], abs=PARTIAL_TOL_S), text
                assert by == pytest.approx(partial["top_start_s"], abs=PARTIAL_TOL_S), text
                assert f"a lift from {lift:.1f} s" in shown
        assert "Good set" not in shown and "reps to fix" in shown


def test_a_real_clip_with_a_jump_cut_is_counted_shot_by_shot(real_eval: Evaluated) -> None:
    """The real clips whose label has several segments (takes joined by a cut): a cut is
    found between each two segments, and the reps of each shot are the label's."""
    edited = [
        (lab, video)
        for lab, video in find_clips(REAL_DIR)
        if len(load_label(lab).extra.get("segments") or ()) > 1
    ]
    assert edited, "no real clip labelled with several segments"
    for label_path, video in edited:
        extra = load_label(label_path).extra
        seq = PoseSequence.load(real_eval.cache / cache_key(video, Config()))
        warnings = analyze_sequence(seq, Config()).report.warnings
        said = [w for w in warnings if w.startswith("the clip is edited")]
        assert len(said) == 1, (video.name, warnings)
        cuts = [float(x) for x in re.findall(r"([\d.]+) s", said[0].split(";")[0])]
        segments = extra["segments"]
        assert len(cuts) == len(segments) - 1, said[0]
        for cut, (before, after) in zip(cuts, itertools.pairwise(segments), strict=True):
            assert before[1] - PARTIAL_TOL_S <= cut <= after[0] + PARTIAL_TOL_S, said[0]
        counts = [int(n) for n in re.findall(r"shot \d+ \([\d.-]+ s\): (\d+) reps?", said[0])]
        assert counts == list(extra["rep_count_by_segment"].values()), said[0]


class _Replay:
    """Stands in for the pose model: the poses the session measured for a clip, by frame."""

    def __init__(self, seq: PoseSequence) -> None:
        self.bundle = None
        self._by_index = {int(i): k for k, i in enumerate(seq.index)}
        self._seq = seq

    def start_clip(self) -> None:
        pass

    def detect(self, frame: Frame) -> PoseFrame:
        k, s = self._by_index[frame.index], self._seq
        return PoseFrame(
            float(s.t_s[k]),
            frame.index,
            s.resolution_wh,
            s.xy_px[k],
            s.z[k],
            s.visibility[k],
            s.presence[k],
            s.world_xyz_m[k],
        )


#: Faults a rep's timing and angles decide (the band check needs the pictures).
TIMING_FAULTS = {"short_pause", "fast_lowering", "under_extension", "over_extension"}


def test_the_live_coach_says_of_real_reps_what_analyze_says(real_eval: Evaluated) -> None:
    """The live coach, fed a real clip's frames one at a time as a camera (or the Live page,
    at 15 a second) would, judges each rep as `analyze` does: same count, and the same
    timing and angle faults on 90% of reps or more (judged 0.3 s after each rep's end, the
    lowering came out 0.3-0.7 s short and 7 of 30 reps differed)."""
    cfg = Config().with_overrides({"rules.band.detect": False})
    same = total = 0
    counted = {}
    for row in real_eval.result.clips:
        if row.error or row.video is None:
            continue
        seq = PoseSequence.load(real_eval.cache / cache_key(Path(row.video), Config()))
        coach = Coach(cfg, cast(Any, _Replay(seq)))
        blank = np.zeros((8, 8, 3), np.uint8)
        for t, i in zip(seq.t_s.tolist(), seq.index.tolist(), strict=True):
            coach.step(Frame(blank, t, i))
        coach.finish()
        live = [sorted(set(v.report.faults) & TIMING_FAULTS) for v in coach.verdicts]
        offline = [sorted(set(p.faults) & TIMING_FAULTS) for p in row.predicted]
        counted[row.name] = (len(live), len(offline))
        same += sum(a == b for a, b in zip(live, offline, strict=False))  # counts: below
        total += len(offline)
    assert all(a == b for a, b in counted.values()), counted
    assert total >= 25 and same >= MIN_VERDICT_AGREEMENT * total, (same, total)
