"""The accuracy harness, without the pose model.

Clips here are scripted: a side-view person whose near-side shoulder, hip, knee and ankle
trace a known signed hip angle, saved as `<stem>.landmarks.npz` beside a dummy video (or fed
to a fake estimator frame by frame), with a label file giving the scripted rep times.
Metric tests compare against values worked out by hand in the comments.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
import pytest
from rich.console import Console

from formcheck.analyze import analyze_sequence
from formcheck.cli_eval import print_eval
from formcheck.config import Config
from formcheck.errors import LabelError
from formcheck.evaluate import (
    ClipLabel,
    ClipResult,
    EvalResult,
    Gates,
    LabelRep,
    PredRep,
    aggregate,
    cache_key,
    check_gates,
    compute_metrics,
    evaluate_dir,
    find_clips,
    interval_iou,
    load_label,
    match_reps,
)
from formcheck.geometry import hip_angle_deg
from formcheck.pose.landmarks import N_LANDMARKS, PoseFrame
from formcheck.pose.sequence import PoseSequence
from formcheck.track import SIDE_LANDMARKS
from formcheck.video.frames import Frame

CFG = Config().with_overrides({"pose.models": 1})  # the stand-in models are one model

# -- scripted clips -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptRep:
    """One scripted rep: rest at the bottom, rise, hold, lower (seconds; angles in degrees)."""

    rest_s: float = 1.0
    up_s: float = 0.8
    hold_s: float = 1.0
    down_s: float = 1.2
    top_deg: float = 180.0

    @property
    def duration_s(self) -> float:
        return self.rest_s + self.up_s + self.hold_s + self.down_s


BOTTOM_DEG = 120.0
TAIL_S = 1.0


def script_times(reps: list[ScriptRep]) -> list[tuple[float, float, float, float]]:
    """The true (start, top_start, top_end, end) of each scripted rep."""
    out = []
    t = 0.0
    for r in reps:
        start = t + r.rest_s
        out.append(
            (start, start + r.up_s, start + r.up_s + r.hold_s, start + r.up_s + r.hold_s + r.down_s)
        )
        t += r.duration_s
    return out


def script_angle(reps: list[ScriptRep], t_s: float) -> float:
    """The scripted signed hip angle at `t_s` (cosine easing between bottom and top)."""
    for r, (start, top0, top1, end) in zip(reps, script_times(reps), strict=True):
        if t_s < start:
            return BOTTOM_DEG
        if t_s <= end:
            if t_s < top0:
                u = (t_s - start) / r.up_s
            elif t_s <= top1:
                u = 1.0
            else:
                u = 1.0 - (t_s - top1) / r.down_s
            return BOTTOM_DEG + (r.top_deg - BOTTOM_DEG) * (1 - math.cos(math.pi * u)) / 2
    return BOTTOM_DEG


def joints_px(angle_deg: float, wh: tuple[int, int]) -> dict[str, np.ndarray]:
    """Head on the image's left: shoulder and knee on a horizontal line, the hip placed on
    the perpendicular bisector so that the signed hip angle is `angle_deg` (y down: the
    hip below the line gives < 180)."""
    w, h = wh
    shoulder = np.array([0.2 * w, 0.6 * h])
    knee = np.array([0.7 * w, 0.6 * h])
    half = (knee[0] - shoulder[0]) / 2
    drop = half * math.tan(math.radians((180.0 - angle_deg) / 2))
    hip = np.array([shoulder[0] + half, shoulder[1] + drop])
    ankle = np.array([knee[0], 0.85 * h])
    return {"shoulder": shoulder, "hip": hip, "knee": knee, "ankle": ankle}


def pose_frame(t_s: float, index: int, angle: float, wh: tuple[int, int]) -> PoseFrame:
    """A frame whose left side is clearly visible and whose right side hides behind it."""
    xy = np.full((N_LANDMARKS, 2), np.nan, np.float32)
    vis = np.zeros(N_LANDMARKS, np.float32)
    pres = np.zeros(N_LANDMARKS, np.float32)
    joints = joints_px(angle, wh)
    for landmarks, visibility, offset in (
        (SIDE_LANDMARKS["left"], 0.95, 0.0),
        (SIDE_LANDMARKS["right"], 0.2, 2.0),
    ):
        for name, lm in zip(("shoulder", "hip", "knee", "ankle"), landmarks, strict=True):
            xy[lm] = joints[name] + offset
            vis[lm] = visibility
            pres[lm] = 0.99
    return PoseFrame(
        t_s=t_s, index=index, resolution_wh=wh, xy_px=xy, visibility=vis, presence=pres, people=1
    )


def scripted_sequence(
    reps: list[ScriptRep], fps: float = 30.0, wh: tuple[int, int] = (640, 480)
) -> PoseSequence:
    n = round((sum(r.duration_s for r in reps) + TAIL_S) * fps)
    frames = [pose_frame(i / fps, i, script_angle(reps, i / fps), wh) for i in range(n)]
    return PoseSequence.from_frames(frames, wh, {"source": {"path": "scripted", "fps": fps}})


def write_label(path: Path, reps: list[dict[str, Any]], **top: Any) -> Path:
    path.write_text(json.dumps({"reps": reps, **top}), encoding="utf-8")
    return path


def times_dict(times: tuple[float, float, float, float]) -> dict[str, float]:
    return dict(zip(("start_s", "top_start_s", "top_end_s", "end_s"), times, strict=True))


def add_clip(
    folder: Path,
    stem: str,
    reps: list[ScriptRep],
    extras: list[dict[str, Any]] | None = None,
    **top: Any,
) -> PoseSequence:
    """A dummy video, its saved landmarks beside it, and a label with the true times."""
    seq = scripted_sequence(reps)
    (folder / f"{stem}.mp4").write_bytes(b"not decoded: the landmarks beside it are used")
    seq.save(folder / f"{stem}.landmarks.npz")
    extras = extras or [{} for _ in reps]
    label_reps = [{**times_dict(t), **x} for t, x in zip(script_times(reps), extras, strict=True)]
    write_label(folder / f"{stem}.json", label_reps, **top)
    return seq


class ExplodingEstimator:
    """Stands in for the model where it must not be used."""

    def start_clip(self) -> None:
        raise AssertionError("the pose model was run although landmarks were saved")

    def close(self) -> None:
        raise AssertionError("evaluate_dir closed an estimator it does not own")


@dataclass(frozen=True)
class FakeBundle:
    name: str = "fake.task"
    sha256: str = "0" * 64


class ScriptedEstimator:
    """A fake pose model: returns the scripted pose for each decoded frame's time."""

    def __init__(self, reps: list[ScriptRep]) -> None:
        self.reps = reps
        self.bundle = FakeBundle()
        self.clips = 0
        self.frames = 0

    def start_clip(self) -> None:
        self.clips += 1

    def detect(self, frame: Frame) -> PoseFrame:
        self.frames += 1
        return pose_frame(
            frame.t_s, frame.index, script_angle(self.reps, frame.t_s), frame.resolution_wh
        )

    def close(self) -> None:
        raise AssertionError("evaluate_dir closed an estimator it does not own")


def write_video(path: Path, seconds: float, fps: int = 20, wh: tuple[int, int] = (96, 64)) -> None:
    """A tiny real video (grey frames) that PyAV can decode."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = wh
        stream.pix_fmt = "yuv420p"
        for i in range(round(seconds * fps)):
            image = np.full((wh[1], wh[0], 3), (i * 3) % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


THREE_REPS = [
    ScriptRep(top_deg=180.0),
    ScriptRep(top_deg=172.0, hold_s=1.5),
    ScriptRep(top_deg=186.0, down_s=0.9),
]


# -- the scripted clip itself ------------------------------------------------------------------


def test_scripted_pose_has_the_scripted_hip_angle() -> None:
    """The fixture is right: the pipeline's own geometry reads back the scripted angles."""
    for angle in (120.0, 172.0, 180.0, 186.0):
        j = joints_px(angle, (640, 480))
        assert float(hip_angle_deg(j["shoulder"], j["hip"], j["knee"])) == pytest.approx(angle)


def test_scripted_clip_segments_into_its_reps() -> None:
    analysis = analyze_sequence(scripted_sequence(THREE_REPS), CFG)
    assert analysis.track.side == "left"
    assert len(analysis.reps) == 3
    for rep, truth in zip(analysis.reps, script_times(THREE_REPS), strict=True):
        assert rep.start_s < truth[1] and rep.end_s > truth[2]  # each rep covers its own top


# -- labels and clip discovery --------------------------------------------------------------------


def test_load_label_human_format(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    path = write_label(
        tmp_path / "a.json",
        [
            {"start_s": 0.2, "top_start_s": 0.85, "top_end_s": 1.5, "end_s": 2.05},
            {"start_s": 3.25, "top_start_s": 3.85, "top_end_s": 4.6, "end_s": 5.3},
        ],
        clip="a.mp4",
        usable=True,
        view="side_left",
        band="none",
        rep_count=2,
        partial_reps=[{"start_s": None, "top_start_s": None, "top_end_s": 1.1, "end_s": 1.7}],
        notes="free text",
        source={"licence": "none"},
    )
    label = load_label(path)
    assert label.video == tmp_path / "a.mp4" and label.clip == "a.mp4"
    assert (label.usable, label.view, label.band) == (True, "side_left", "none")
    assert [r.times_s for r in label.reps] == [(0.2, 0.85, 1.5, 2.05), (3.25, 3.85, 4.6, 5.3)]
    assert label.reps[0].hip_angle_top_deg is None and label.reps[0].faults is None
    assert not label.faults_labelled
    # The times give the pause (top_start -> top_end) and the lowering (top_end -> end).
    assert (label.reps[1].pause_s, label.reps[1].eccentric_s) == pytest.approx((0.75, 0.7))
    assert label.faults_seen is None and not label.clean(label.reps[0])  # nothing said


@pytest.mark.parametrize(("faults_seen", "clean"), [([], True), (["hips sag on rep 2"], False)])
def test_a_rep_is_clean_when_nothing_was_seen_wrong(
    tmp_path: Path, faults_seen: list[str], clean: bool
) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    path = write_label(
        tmp_path / "a.json",
        [{"start_s": 0.2, "top_start_s": 0.85, "top_end_s": 1.5, "end_s": 2.05}],
        faults_seen=faults_seen,
    )
    label = load_label(path)
    assert label.faults_seen == tuple(faults_seen)
    assert label.clean(label.reps[0]) is clean


def test_load_label_generated_extras(tmp_path: Path) -> None:
    rep = {
        "start_s": 1,
        "top_start_s": 2,
        "top_end_s": 3.5,
        "end_s": 5,
        "pause_s": 1.5,
        "eccentric_s": 1.5,
        "concentric_s": 1.0,
        "hip_angle_top_deg": 172.5,
        "knee_angle_top_deg": 91,
        "band": "knees",
        "faults": ["under_extension"],
    }
    label = load_label(
        write_label(
            tmp_path / "g.json",
            [
                rep,
                {**rep, "start_s": 6, "top_start_s": 7, "top_end_s": 8, "end_s": 9, "faults": []},
            ],
            band="knees",
        )
    )
    assert label.video is None  # no video beside it
    assert label.usable  # the default
    first = label.reps[0]
    assert (
        first.hip_angle_top_deg,
        first.knee_angle_top_deg,
        first.pause_s,
        first.eccentric_s,
        first.band,
        first.faults,
    ) == (172.5, 91.0, 1.5, 1.5, "knees", ("under_extension",))
    assert label.reps[1].faults == ()
    assert label.faults_labelled


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON label"),
        ('{"clip": "a.mp4"}', "no `reps` list"),
        (
            '{"reps": [{"start_s": 1, "top_start_s": 2, "top_end_s": 3}]}',
            "end_s: expected a number",
        ),
        (
            '{"reps": [{"start_s": 2, "top_start_s": 1, "top_end_s": 3, "end_s": 4}]}',
            "0 <= start <= top_start",
        ),
        (
            '{"reps": [{"start_s": 0, "top_start_s": 1, "top_end_s": 2, "end_s": 4},'
            ' {"start_s": 3, "top_start_s": 5, "top_end_s": 6, "end_s": 7}]}',
            "reps[1] starts before reps[0] ends",
        ),
        (
            '{"rep_count": 2, "reps": [{"start_s": 0, "top_start_s": 1, "top_end_s": 2,'
            ' "end_s": 4}]}',
            "rep_count 2 but 1 reps",
        ),
        ('{"band": "waist", "reps": []}', "'waist' is not one of"),
        ('{"usable": "no", "reps": []}', "usable: expected true or false"),
        (
            '{"reps": [{"start_s": true, "top_start_s": 1, "top_end_s": 2, "end_s": 4}]}',
            "start_s: expected a number",
        ),
        (
            '{"reps": [{"start_s": 0, "top_start_s": 1, "top_end_s": 2, "end_s": 4,'
            ' "faults": "short_pause"}]}',
            "expected a list of fault codes",
        ),
    ],
)
def test_load_label_rejects_malformed_labels(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_label(path)


def test_load_label_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="no such label file"):
        load_label(tmp_path / "nope.json")


def test_find_clips_pairs_labels_with_videos(tmp_path: Path) -> None:
    reps = '{"reps": []}'
    for name, text in [
        ("a.json", reps),
        ("b.json", reps),
        ("c.json", reps),
        ("a.report.json", reps),
        ("meta.json", '{"camera": "phone"}'),
        ("saved.json", '{"schema_version": 1, "summary": {}, "reps": []}'),
        ("broken.json", "{oops"),
    ]:
        (tmp_path / name).write_text(text, encoding="utf-8")
    for video in (
        "a.mp4",
        "a.mov",
        "b.MOV",
        "a.report.mp4",
        "meta.mp4",
        "saved.mp4",
        "broken.webm",
        "d.mp4",
    ):
        (tmp_path / video).write_bytes(b"")
    (tmp_path / "c.landmarks.npz").write_bytes(b"")  # c has no video: not a clip
    pairs = [(label.name, video.name) for label, video in find_clips(tmp_path)]
    # .mp4 is preferred over .mov; the report, the non-label and the unpaired files are not
    # clips; an unparsable label is kept so that its row can say what is wrong with it.
    assert pairs == [("a.json", "a.mp4"), ("b.json", "b.MOV"), ("broken.json", "broken.webm")]


# -- matching --------------------------------------------------------------------------------------


def test_interval_iou() -> None:
    assert interval_iou((0.0, 4.0), (0.5, 4.5)) == pytest.approx(3.5 / 4.5)
    assert interval_iou((0.0, 1.0), (2.0, 3.0)) == 0.0
    assert interval_iou((1.0, 1.0), (1.0, 1.0)) == 0.0


def test_match_reps_one_to_one_with_signed_errors() -> None:
    labelled = [(0.0, 1.0, 2.0, 4.0), (5.0, 6.0, 7.0, 9.0)]
    predicted = [(5.0, 6.2, 6.9, 9.0), (0.5, 1.0, 2.0, 4.5)]
    matches = match_reps(labelled, predicted)
    assert [(m.label, m.pred) for m in matches] == [(0, 1), (1, 0)]
    assert matches[0].iou == pytest.approx(3.5 / 4.5)
    assert matches[0].errors_s == pytest.approx((0.5, 0.0, 0.0, 0.5))
    assert matches[1].iou == pytest.approx(1.0)
    assert matches[1].errors_s == pytest.approx((0.0, 0.2, -0.1, 0.0))


def test_a_merged_prediction_matches_one_labelled_rep_only() -> None:
    # One predicted rep over two labelled ones: IoU 4/8 with the first, 3/8 with the second.
    matches = match_reps([(0.0, 1.0, 2.0, 4.0), (5.0, 6.0, 7.0, 9.0)], [(0.0, 1.0, 6.0, 8.0)])
    assert [(m.label, m.pred, m.iou) for m in matches] == [(0, 0, 0.5)]


def test_match_reps_threshold_just_below_and_above() -> None:
    lab, pred = [(0.0, 1.0, 2.0, 10.0)], [(7.0, 8.0, 9.0, 10.0)]  # IoU 3/10
    assert len(match_reps(lab, pred, min_iou=0.3)) == 1
    assert match_reps(lab, pred, min_iou=0.31) == ()
    assert match_reps([], pred) == () and match_reps(lab, []) == ()


# -- metrics on hand-made rows ------------------------------------------------------------------


def lrep(times: tuple[float, float, float, float], **kw: Any) -> LabelRep:
    return LabelRep(*times, **kw)


def prep(
    times: tuple[float, float, float, float],
    hip: float = math.nan,
    band: str = "unknown",
    faults: tuple[str, ...] = (),
) -> PredRep:
    return PredRep(
        *times, hip_angle_top_deg=hip, knee_angle_top_deg=math.nan, band=band, faults=faults
    )


def row(
    name: str,
    label_reps: list[LabelRep],
    predicted: list[PredRep],
    *,
    usable: bool = True,
    band: str | None = None,
    error: str | None = None,
) -> ClipResult:
    label = ClipLabel(
        tuple(label_reps),
        usable,
        "side_left",
        band,
        path=Path(f"{name}.json"),
        video=Path(f"{name}.mp4"),
    )
    matches = match_reps([r.times_s for r in label_reps], [p.times_s for p in predicted])
    return ClipResult(
        name, label.path, Path(f"{name}.mp4"), label, tuple(predicted), matches, "beside", (), error
    )


def fault_clip() -> ClipResult:
    """Three labelled reps with faults, two of them matched, one extra prediction."""
    return row(
        "faults",
        [
            lrep((0, 1, 2, 3), hip_angle_top_deg=180.0, pause_s=1.0, eccentric_s=1.0, faults=()),
            lrep((4, 5, 6, 7), hip_angle_top_deg=170.0, faults=("under_extension",)),
            lrep((8, 9, 10, 11), faults=("short_pause",)),
        ],
        [
            prep((0.1, 1.2, 2.0, 3.3), hip=176.0, band="hips"),
            prep(
                (4.2, 5.0, 6.1, 7.0),
                hip=160.0,
                band="knees",
                faults=("under_extension", "fast_lowering"),
            ),
            prep((12.0, 12.5, 13.0, 14.0), faults=("short_pause",)),
        ],
        band="hips",
    )


def plain_clip() -> ClipResult:
    """Two labelled reps, one predicted exactly; no extras, no band, no faults labelled."""
    return row("plain", [lrep((0, 1, 2, 3)), lrep((4, 5, 6, 7))], [prep((0, 1, 2, 3))])


def test_metrics_of_one_clip() -> None:
    m = fault_clip().metrics
    assert (m.clips, m.labelled_reps, m.predicted_reps, m.matched_reps) == (1, 3, 3, 2)
    assert m.count_exact_rate == 1.0 and m.count_mae == 0.0
    # Matched errors: rep 1 (0.1, 0.2, 0, 0.3), rep 2 (0.2, 0, 0.1, 0).
    assert m.boundary_mae_s == pytest.approx(0.9 / 8)
    assert (m.start_mae_s, m.top_start_mae_s, m.top_end_mae_s, m.end_mae_s) == pytest.approx(
        (0.15, 0.1, 0.05, 0.15)
    )
    assert m.boundary_within_tol_rate == pytest.approx(7 / 8)  # only the 0.3 s end is out
    assert m.hip_angle_mae_deg == pytest.approx(7.0)  # |176-180|, |160-170|
    assert m.hip_angle_n == 2
    assert m.pause_mae_s == pytest.approx(0.2)  # 2.0-1.2 = 0.8 vs 1.0
    assert m.pause_n == 1
    assert m.eccentric_mae_s == pytest.approx(0.3)  # 3.3-2.0 vs 1.0
    assert m.eccentric_n == 1
    assert (m.knee_angle_mae_deg, m.knee_angle_n) == (None, 0)
    # Band: hips right, knees wrong, unknown not judged.
    assert (m.band_labelled, m.band_judged) == (3, 2)
    assert m.band_accuracy == 0.5 and m.band_coverage == pytest.approx(2 / 3)
    faults = {f.code: (f.tp, f.fp, f.fn, f.precision, f.recall) for f in m.faults}
    assert faults["under_extension"] == (1, 0, 0, 1.0, 1.0)
    assert faults["fast_lowering"] == (0, 1, 0, 0.0, None)
    assert faults["short_pause"] == (0, 1, 1, 0.0, 0.0)  # extra rep's FP, missed rep's FN
    assert faults["over_extension"] == (0, 0, 0, None, None)
    assert m.fault_clips == 1
    assert m.fault_precision == pytest.approx(1 / 3) and m.fault_recall == pytest.approx(1 / 2)


def test_overall_pools_clips_and_leaves_out_unusable_ones() -> None:
    unusable = row("cut", [lrep((0, 1, 2, 3))] * 1, [], usable=False)
    result = aggregate([fault_clip(), plain_clip(), unusable], Path("d"))
    o = result.overall
    assert result.excluded == ("cut",)
    assert o.clips == 2 and o.labelled_reps == 5 and o.matched_reps == 3
    assert o.count_exact_rate == 0.5 and o.count_mae == 0.5  # |3-3| and |1-2|
    assert o.boundary_mae_s == pytest.approx(0.9 / 12)  # the plain clip's match is exact
    assert o.hip_angle_n == 2 and o.fault_clips == 1  # the plain clip has no such labels
    assert o.band_labelled == 3  # the plain clip has no band label
    assert unusable.metrics.count_mae == 1.0  # its own row still has its figures


def test_error_rows_count_as_no_rep_predicted() -> None:
    failed = row("broken", [lrep((0, 1, 2, 3))], [], error="no person found")
    o = aggregate([fault_clip(), plain_clip(), failed], Path("d")).overall
    assert o.errors == 1 and o.clips == 3
    assert o.count_exact_rate == pytest.approx(1 / 3)
    assert o.count_mae == pytest.approx(2 / 3)  # 0, 1, 1


def test_signed_biases_say_which_way_the_times_are_off() -> None:
    m = fault_clip().metrics
    # Signed errors: rep 1 (+0.1, +0.2, 0, +0.3), rep 2 (+0.2, 0, +0.1, 0).
    assert (m.start_bias_s, m.top_start_bias_s, m.top_end_bias_s, m.end_bias_s) == (
        pytest.approx(0.15),
        pytest.approx(0.1),
        pytest.approx(0.05),
        pytest.approx(0.15),
    )
    # Rep 1's labelled pause and lowering are 1.0 s; predicted 0.8 s and 1.3 s.
    assert (m.pause_bias_s, m.eccentric_bias_s) == (pytest.approx(-0.2), pytest.approx(0.3))
    lowered = row("low", [lrep((0, 1, 2, 3), pause_s=1.0)], [prep((0, 1.1, 1.9, 3))]).metrics
    assert lowered.pause_bias_s == pytest.approx(-0.2) and lowered.pause_mae_s == pytest.approx(0.2)


def _timed(pause_s: float, lowering_s: float) -> LabelRep:
    return lrep(
        (0, 1, 1 + pause_s, 1 + pause_s + lowering_s),
        pause_s=pause_s,
        eccentric_s=lowering_s,
        faults=(),
    )


def test_verdicts_are_scored_against_the_labelled_times_clear_of_the_limit() -> None:
    """Limits 1.0 s: a labelled 0.5 s pause should be short, 2.0 s not; 1.1 s is too close
    to call (within 0.15 s) and is left out."""
    reps = [_timed(0.5, 2.0), _timed(1.1, 0.4), _timed(2.0, 1.5)]
    starts = (0.0, 10.0, 20.0)
    labelled = [
        replace(
            r,
            start_s=r.start_s + o,
            top_start_s=r.top_start_s + o,
            top_end_s=r.top_end_s + o,
            end_s=r.end_s + o,
        )
        for r, o in zip(reps, starts, strict=True)
    ]
    predicted = [
        prep(r.times_s, faults=f)
        for r, f in zip(
            labelled,
            (("short_pause",), ("short_pause", "fast_lowering"), ("short_pause",)),
            strict=True,
        )
    ]
    m = row("t", labelled, predicted).metrics
    assert (m.pause_agreement, m.pause_clear_n) == (0.5, 2)  # right on 0.5 s, wrong on 2.0 s
    assert (m.eccentric_agreement, m.eccentric_clear_n) == (1.0, 3)


def test_the_false_fault_rate_counts_form_faults_on_clean_reps() -> None:
    labelled = [
        lrep((0, 1, 2, 3), faults=()),
        lrep((4, 5, 6, 7), faults=()),
        lrep((8, 9, 10, 11), faults=("under_extension",)),
    ]
    predicted = [
        prep((0, 1, 2, 3), faults=("feet_too_close",)),
        prep((4, 5, 6, 7), faults=("short_pause", "no_band")),  # not form faults
        prep((8, 9, 10, 11), faults=("under_extension",)),
    ]
    m = row("f", labelled, predicted).metrics
    assert (m.false_fault_rate, m.clean_reps) == (0.5, 2)


def test_metrics_without_data_are_none() -> None:
    for m in (compute_metrics([]), plain_clip().metrics):
        assert m.hip_angle_mae_deg is None and m.pause_mae_s is None
        assert m.eccentric_mae_s is None and m.band_accuracy is None
        assert m.band_coverage is None
        assert m.fault_precision is None and m.fault_recall is None
    empty = compute_metrics([])
    assert empty.count_exact_rate is None and empty.count_mae is None
    assert empty.boundary_mae_s is None and empty.boundary_within_tol_rate is None
    # A band label with every predicted band unknown: coverage 0, accuracy undefined.
    unjudged = row("u", [lrep((0, 1, 2, 3))], [prep((0, 1, 2, 3))], band="none").metrics
    assert unjudged.band_coverage == 0.0 and unjudged.band_accuracy is None


def test_a_matched_reps_own_band_label_wins_over_the_clips() -> None:
    clip = row(
        "b", [lrep((0, 1, 2, 3), band="both")], [prep((0, 1, 2, 3), band="both")], band="hips"
    )
    assert clip.metrics.band_accuracy == 1.0


def test_nan_predictions_are_left_out_of_value_errors() -> None:
    clip = row("n", [lrep((0, 1, 2, 3), hip_angle_top_deg=180.0)], [prep((0, 1, 2, 3))])
    assert (clip.metrics.hip_angle_mae_deg, clip.metrics.hip_angle_n) == (None, 0)


# -- gates -------------------------------------------------------------------------------------


@pytest.fixture
def result() -> EvalResult:
    return aggregate([fault_clip(), plain_clip()], Path("d"))


def test_no_gates_pass(result: EvalResult) -> None:
    assert check_gates(result, Gates()) == []


@pytest.mark.parametrize(
    ("gates", "fails"),
    [
        (Gates(min_count_exact=0.5), None),  # exactly at the floor
        (Gates(min_count_exact=0.51), "min_count_exact: rep count exact-match rate 0.5 < 0.51"),
        (Gates(max_count_mae=0.5), None),
        (Gates(max_count_mae=0.49), "max_count_mae"),
        (Gates(max_boundary_mae_s=0.075), None),
        (Gates(max_boundary_mae_s=0.074), "max_boundary_mae_s"),
        (Gates(max_angle_mae_deg=7.0), None),
        (Gates(max_angle_mae_deg=6.9), "max_angle_mae_deg"),
        (Gates(max_pause_mae_s=0.2), None),
        (Gates(max_pause_mae_s=0.19), "max_pause_mae_s"),
        (Gates(max_eccentric_mae_s=0.3), None),
        (Gates(max_eccentric_mae_s=0.29), "max_eccentric_mae_s"),
        (Gates(min_band_accuracy=0.5), None),
        (Gates(min_band_accuracy=0.6), "min_band_accuracy"),
        (Gates(min_fault_precision=1 / 3), None),  # pooled over all codes
        (Gates(min_fault_precision=0.34), "fault precision (all codes)"),
        (Gates(min_fault_recall=0.5), None),
        (Gates(min_fault_recall=0.5, fault_codes=("under_extension",)), None),
        (
            Gates(min_fault_recall=0.5, fault_codes=("short_pause",)),
            "min_fault_recall: short_pause recall 0 < 0.5",
        ),
        (
            Gates(min_fault_recall=0.5, fault_codes=("over_extension",)),
            "min_fault_recall: no data for over_extension recall",
        ),
        (
            Gates(min_fault_precision=0.5, fault_codes=("no_such_fault",)),
            "unknown fault code 'no_such_fault'",
        ),
        # Pooled over the codes given: under_extension TP 1, short_pause FP 1 and FN 1.
        (
            Gates(
                min_fault_precision=0.5,
                min_fault_recall=0.5,
                pool_faults=True,
                fault_codes=("under_extension", "short_pause"),
            ),
            None,
        ),
        (
            Gates(
                min_fault_precision=0.51,
                pool_faults=True,
                fault_codes=("under_extension", "short_pause"),
            ),
            "min_fault_precision: precision pooled over under_extension+short_pause 0.5 < 0.51",
        ),
        (
            Gates(min_fault_precision=0.5, fault_codes=("under_extension", "short_pause")),
            "min_fault_precision: short_pause precision 0 < 0.5",
        ),  # each code on its own
    ],
)
def test_gates_just_inside_and_outside(result: EvalResult, gates: Gates, fails: str | None) -> None:
    failures = check_gates(result, gates)
    if fails is None:
        assert failures == []
    else:
        assert len(failures) == 1 and fails in failures[0]


def test_a_gate_on_a_metric_without_data_fails() -> None:
    plain = aggregate([plain_clip()], Path("d"))
    failures = check_gates(
        plain, Gates(max_angle_mae_deg=100.0, min_band_accuracy=0.0, min_fault_precision=0.0)
    )
    assert len(failures) == 3
    assert all("no data for" in line for line in failures)
    nothing = aggregate([row("cut", [lrep((0, 1, 2, 3))], [], usable=False)], Path("d"))
    assert check_gates(nothing, Gates(min_count_exact=0.0)) == [
        "min_count_exact: no data for rep count exact-match rate (the gate needs it; none of"
        " the clips gives it)"
    ]


def test_gates_fail_on_unreadable_labels(result: EvalResult) -> None:
    broken = ClipResult("x.mp4", Path("x.json"), Path("x.mp4"), None, error="bad label")
    with_broken = aggregate([*result.clips, broken], Path("d"))
    assert with_broken.overall == result.overall  # it cannot be scored...
    assert check_gates(with_broken, Gates()) == []
    assert check_gates(with_broken, Gates(max_count_mae=1.0)) == ["unreadable labels: x.mp4"]


# -- evaluate_dir on scripted landmark files ----------------------------------------------------


def test_evaluate_dir_replays_saved_landmarks(tmp_path: Path) -> None:
    extras = [
        {"hip_angle_top_deg": 180.0, "pause_s": 1.0, "eccentric_s": 1.2},
        {"hip_angle_top_deg": 172.0},
        {"hip_angle_top_deg": 186.0, "pause_s": 1.0},
    ]
    seq = add_clip(tmp_path, "three", THREE_REPS, extras, view="side_left", band="hips")
    result = evaluate_dir(tmp_path, CFG, estimator=cast(Any, ExplodingEstimator()))
    (clip,) = result.clips
    assert clip.error is None and clip.landmarks == "beside"
    # Independently: the pipeline's reps on the same landmarks, paired in order.
    predicted = analyze_sequence(seq, CFG).reps
    truth = script_times(THREE_REPS)
    assert [p.times_s for p in clip.predicted] == [
        (r.start_s, r.top_start_s, r.top_end_s, r.end_s) for r in predicted
    ]
    errors = np.array(
        [
            [r.start_s - t[0], r.top_start_s - t[1], r.top_end_s - t[2], r.end_s - t[3]]
            for r, t in zip(predicted, truth, strict=True)
        ]
    )
    m = result.overall
    assert (m.clips, m.matched_reps, m.count_exact_rate) == (1, 3, 1.0)
    assert m.boundary_mae_s == pytest.approx(float(np.abs(errors).mean()))
    assert m.end_mae_s == pytest.approx(float(np.abs(errors[:, 3]).mean()))
    assert m.boundary_mae_s is not None and m.boundary_mae_s < 0.3  # a clean clip: close
    hip = [
        abs(r.hip_angle_top_deg - x["hip_angle_top_deg"])
        for r, x in zip(predicted, extras, strict=True)
    ]
    assert m.hip_angle_mae_deg == pytest.approx(float(np.mean(hip)))
    assert m.hip_angle_n == 3
    assert m.hip_angle_mae_deg is not None and m.hip_angle_mae_deg < 2.0
    # Rep 2 has no pause label: its times give it (top_end - top_start), and the lowering
    # of reps 2 and 3 (end - top_end).
    want_pause = [1.0, truth[1][2] - truth[1][1], 1.0]
    pause = [abs(p.pause_s - w) for p, w in zip(predicted, want_pause, strict=True)]
    assert m.pause_mae_s == pytest.approx(float(np.mean(pause)))
    assert m.pause_n == 3
    want_ecc = [1.2, truth[1][3] - truth[1][2], truth[2][3] - truth[2][2]]
    ecc = [abs(p.eccentric_s - w) for p, w in zip(predicted, want_ecc, strict=True)]
    assert m.eccentric_mae_s == pytest.approx(float(np.mean(ecc)))
    # No band detector yet: every predicted band is "unknown".
    assert (m.band_labelled, m.band_judged, m.band_accuracy) == (3, 0, None)


def test_evaluate_dir_caches_model_landmarks_and_notices_changed_clips(tmp_path: Path) -> None:
    reps = [ScriptRep(rest_s=0.8), ScriptRep(rest_s=0.8, top_deg=175.0)]
    clips, cache = tmp_path / "clips", tmp_path / "cache"
    clips.mkdir()
    video = clips / "real.mp4"
    seconds = sum(r.duration_s for r in reps) + TAIL_S  # 2 x 3.8 + 1 = 8.6 s
    write_video(video, seconds, fps=20)
    write_label(clips / "real.json", [times_dict(t) for t in script_times(reps)])

    model = ScriptedEstimator(reps)
    calls: list[tuple[int, int]] = []
    first = evaluate_dir(
        clips,
        CFG,
        cache_dir=cache,
        estimator=cast(Any, model),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 1), (1, 1)]
    (row1,) = first.clips
    assert row1.error is None and row1.landmarks == "model"
    assert model.clips == 1 and model.frames == 172  # 8.6 s at 20 fps
    assert [p.name for p in cache.iterdir()] == [cache_key(video, CFG)]
    assert len(row1.predicted) == 2 and first.overall.count_exact_rate == 1.0

    second = evaluate_dir(clips, CFG, cache_dir=cache, estimator=cast(Any, ExplodingEstimator()))
    assert second.clips[0].landmarks == "cache"
    assert second.clips[0].predicted == row1.predicted

    st = video.stat()
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # "edited"
    third = evaluate_dir(clips, CFG, cache_dir=cache, estimator=cast(Any, model))
    assert third.clips[0].landmarks == "model" and model.clips == 2
    assert len(list(cache.iterdir())) == 2

    other = CFG.with_overrides({"pose.stride": 2})
    assert cache_key(video, other) != cache_key(video, CFG)


def test_evaluate_dir_turns_clip_errors_into_rows(tmp_path: Path) -> None:
    add_clip(tmp_path, "a_good", THREE_REPS)
    (tmp_path / "b_not_a_video.mp4").write_text("this is not a video")
    write_label(tmp_path / "b_not_a_video.json", [times_dict((1, 2, 3, 4))])
    add_clip(tmp_path, "c_bad_landmarks", [ScriptRep()])
    (tmp_path / "c_bad_landmarks.landmarks.npz").write_bytes(b"garbage")
    add_clip(tmp_path, "d_bad_label", [ScriptRep()])
    (tmp_path / "d_bad_label.json").write_text('{"reps": [{"start_s": 1}]}')
    add_clip(tmp_path, "e_nobody", [ScriptRep()])
    empty = scripted_sequence([ScriptRep()])
    replace_xy = np.full_like(empty.xy_px, np.nan)
    replace(empty, xy_px=replace_xy).save(tmp_path / "e_nobody.landmarks.npz")

    result = evaluate_dir(tmp_path, CFG, estimator=cast(Any, ExplodingEstimator()))
    rows = {c.name: c for c in result.clips}
    assert list(rows) == [
        "a_good.mp4",
        "b_not_a_video.mp4",
        "c_bad_landmarks.mp4",
        "d_bad_label.mp4",
        "e_nobody.mp4",
    ]
    assert rows["a_good.mp4"].error is None and len(rows["a_good.mp4"].predicted) == 3
    assert "not a readable video" in str(rows["b_not_a_video.mp4"].error)
    assert rows["b_not_a_video.mp4"].landmarks is None
    assert "not a formcheck landmarks file" in str(rows["c_bad_landmarks.mp4"].error)
    assert rows["d_bad_label.mp4"].label is None
    assert "top_start_s: expected a number" in str(rows["d_bad_label.mp4"].error)
    assert "no person found" in str(rows["e_nobody.mp4"].error)
    assert rows["e_nobody.mp4"].landmarks == "beside"
    o = result.overall
    # Scored: a (3/3), b (0/1), c (0/1), e (0/1); d's label is unreadable.
    assert (o.clips, o.errors) == (4, 3)
    assert o.count_exact_rate == 0.25 and o.count_mae == 0.75
    assert result.unreadable_labels == ("d_bad_label.mp4",)


def test_a_missing_model_fails_the_clips_that_need_it_only(tmp_path: Path) -> None:
    add_clip(tmp_path, "a_saved", THREE_REPS)
    for stem in ("b_needs_model", "c_needs_model"):
        write_video(tmp_path / f"{stem}.mp4", 0.5)
        write_label(tmp_path / f"{stem}.json", [])
    cfg = CFG.with_overrides({"pose.model": str(tmp_path / "missing.task")})
    result = evaluate_dir(tmp_path, cfg)
    errors = [c.error for c in result.clips]
    assert errors[0] is None
    assert all("pose model not found" in str(e) for e in errors[1:])


def test_evaluate_dir_needs_labelled_clips(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="no such folder"):
        evaluate_dir(tmp_path / "missing", CFG)
    (tmp_path / "x.json").write_text('{"reps": []}')
    with pytest.raises(LabelError, match="no labelled clip"):
        evaluate_dir(tmp_path, CFG)


# -- output ------------------------------------------------------------------------------------


def test_to_dict_is_strict_json(result: EvalResult) -> None:
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["overall"]["count_exact_rate"] == 0.5
    assert data["overall"]["hip_angle_mae_deg"] == 7.0
    assert data["overall"]["knee_angle_mae_deg"] is None
    assert data["overall"]["faults"]["short_pause"] == {
        "tp": 0,
        "fp": 1,
        "fn": 1,
        "precision": 0.0,
        "recall": 0.0,
    }
    faults_row = data["clips"][0]
    assert faults_row["labelled"][0] == {
        "start_s": 0,
        "top_start_s": 1,
        "top_end_s": 2,
        "end_s": 3,
        "hip_angle_top_deg": 180.0,
        "pause_s": 1.0,
        "eccentric_s": 1.0,
        "faults": [],
    }
    assert faults_row["labelled"][2] == {
        "start_s": 8,
        "top_start_s": 9,
        "top_end_s": 10,
        "end_s": 11,
        "faults": ["short_pause"],
    }
    assert faults_row["predicted"][0]["hip_angle_top_deg"] == 176.0
    assert faults_row["predicted"][2]["hip_angle_top_deg"] is None  # NaN -> null
    assert faults_row["matches"][0]["errors_s"] == {
        "start": 0.1,
        "top_start": 0.2,
        "top_end": 0.0,
        "end": 0.3,
    }
    assert set(data["definitions"]) >= {"count_exact_rate", "boundary_mae_s", "band_accuracy"}


def test_print_eval_shows_clips_overall_and_faults(result: EvalResult) -> None:
    console = Console(record=True, width=220)
    unusable = row("cut_clip", [lrep((0, 1, 2, 3))], [], usable=False)
    print_eval(aggregate([*result.clips, unusable], Path("d")), console, details=True)
    text = console.export_text()
    for expected in (
        "faults",
        "plain",
        "cut_clip",
        "count_exact_rate",
        "under_extension",
        "missed",
        "extra",
        "Left out of the overall figures",
    ):
        assert expected in text


def test_print_eval_fits_80_columns_without_cutting_a_figure(result: EvalResult) -> None:
    """At 80 columns the clip table cut names and figures ('knees 100%' read 'knees 10')."""
    long_name = row("banded_bridge_knees_pexels", [lrep((0, 1, 2, 3))], [])
    console = Console(record=True, width=80)
    print_eval(aggregate([*result.clips, long_name], Path("d")), console)
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= 80
    table = text.split("Overall", 1)[0]
    cells = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]
    assert "banded_bridge_knees_pexels" in "".join(cells)  # folded, never cut
    bands = [
        line.split("│")[-2].strip()
        for line in table.splitlines()
        if line.startswith("│") and line.split("│")[-2].strip()
    ]
    assert bands and all(
        re.fullmatch(r"(hips|knees|both|none|-) (\d{1,3}%|-)", b) for b in bands
    ), bands
