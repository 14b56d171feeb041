"""The report contract: to_dict validates against the shipped schema, NaN -> null, summary."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any, TypedDict

import jsonschema
import pytest

from formcheck.config import RulesConfig
from formcheck.report import (
    SCHEMA_VERSION,
    ModelInfo,
    RepReport,
    SetReport,
    ViewInfo,
    report_schema,
    validate_report,
    write_json,
)
from formcheck.reps import Rep
from formcheck.rules import RULES, RepContext, Status, check_rep, score
from formcheck.video import VideoInfo

CFG = RulesConfig()
SHA = "0123456789abcdef" * 4


def _rep_report(
    index: int = 1,
    hip_deg: float = 180.0,
    knee_deg: float = 90.0,
    pause_s: float = 1.5,
    eccentric_s: float = 2.0,
    band: str = "hips",
    confidence: float = 0.9,
) -> RepReport:
    start = 5.0 * (index - 1)
    rep = Rep(
        index,
        start,
        start + 1.0,
        start + 1.0 + pause_s,
        start + 1.0 + pause_s + eccentric_s,
        hip_deg,
        knee_deg,
        70.0,
        confidence,
    )
    ctx = RepContext(rep, band=band, band_confidence=0.7)
    findings = tuple(check_rep(ctx, CFG))
    return RepReport(rep, band, findings, score(findings))


def _set_report(*reps: RepReport, warnings: tuple[str, ...] = ()) -> SetReport:
    return SetReport(
        source=VideoInfo("clip.mp4", 29.97, 450, 15.015, 1920, 1080),
        model=ModelInfo("pose_landmarker_full.task", SHA),
        view=ViewInfo("left", True, "side view, whole body in frame"),
        reps=reps,
        warnings=warnings,
    )


class _Faulty(TypedDict, total=False):
    hip_deg: float
    pause_s: float


SAG: _Faulty = {"hip_deg": CFG.top_alignment.min_deg - 10}
SHORT: _Faulty = {"pause_s": CFG.pause.min_s / 2}
SAG_AND_SHORT: _Faulty = {**SAG, **SHORT}


def _mixed_set() -> SetReport:
    """Five reps: good, sag, short pause, sag + short pause, sag."""
    return _set_report(
        _rep_report(1),
        _rep_report(2, **SAG),
        _rep_report(3, **SHORT),
        _rep_report(4, **SAG_AND_SHORT),
        _rep_report(5, **SAG),
    )


def test_a_set_report_validates_against_the_schema() -> None:
    data = _mixed_set().to_dict()
    validate_report(data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert len(data["reps"]) == 5
    assert [f["rule"] for f in data["reps"][0]["findings"]] == [r.id for r in RULES]


def test_the_report_is_plain_json() -> None:
    data = _mixed_set().to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_a_rep_dict_holds_its_times_and_findings() -> None:
    rr = _rep_report(2, pause_s=1.25, eccentric_s=1.75, band="knees")
    d = rr.to_dict()
    assert (d["index"], d["start_s"], d["top_start_s"]) == (2, 5.0, 6.0)
    assert (d["pause_s"], d["eccentric_s"], d["concentric_s"]) == (1.25, 1.75, 1.0)
    assert d["band"] == "knees"
    band = next(f for f in d["findings"] if f["rule"] == "band_placement")
    assert (band["status"], band["fault"], band["value"]) == ("fault", "band_at_knees", "knees")
    assert d["score"] == rr.score
    assert rr.faults == ["band_at_knees"]


def test_nan_becomes_null() -> None:
    rr = _rep_report(knee_deg=math.nan, hip_deg=math.nan)
    report = SetReport(
        source=VideoInfo("clip.mp4", math.nan, 0, math.nan, 640, 480),
        model=ModelInfo("m.task", ""),
        view=ViewInfo(None, False, "no person found"),
        reps=(rr,),
    )
    data = report.to_dict()
    validate_report(data)
    assert data["source"]["fps"] is None and data["source"]["duration_s"] is None
    rep = data["reps"][0]
    assert rep["knee_angle_top_deg"] is None and rep["hip_angle_top_deg"] is None
    by_rule = {f["rule"]: f for f in rep["findings"]}
    assert by_rule["top_alignment"]["status"] == "not_judged"
    assert by_rule["top_alignment"]["value"] is None
    json.dumps(data, allow_nan=False)  # raises ValueError if any NaN slipped through


def test_summary_counts_faults_and_orders_cues_by_frequency() -> None:
    report = _mixed_set()
    summary = report.to_dict()["summary"]
    assert summary["rep_count"] == 5
    assert summary["faults"] == {"under_extension": 3, "short_pause": 2}
    sag_cue = _rep_report(**SAG).cue
    pause_cue = _rep_report(**SHORT).cue
    assert sag_cue and pause_cue and sag_cue != pause_cue
    assert summary["cues"] == [sag_cue, pause_cue]
    scores = [rr.score for rr in report.reps]
    assert summary["score"] == round(sum(s for s in scores if s is not None) / len(scores))


def test_cue_ties_keep_the_first_seen_order() -> None:
    report = _set_report(_rep_report(1, **SHORT), _rep_report(2, **SAG))
    assert report.cues == [report.reps[0].cue, report.reps[1].cue]
    assert report.cues[0] != report.cues[1]


def test_a_rep_cue_is_its_first_fault_in_table_order() -> None:
    rr = _rep_report(**SAG_AND_SHORT)
    assert rr.faults == ["under_extension", "short_pause"]
    top = next(f for f in rr.findings if f.rule == "top_alignment")
    assert rr.cue == top.cue
    assert _rep_report().cue == ""


def test_empty_set_has_no_score() -> None:
    report = _set_report(warnings=("no complete hip-thrust rep found",))
    data = report.to_dict()
    validate_report(data)
    assert data["summary"] == {
        "rep_count": 0,
        "faults": {},
        "set_faults": [],
        "cues": [],
        "score": None,
    }
    assert data["warnings"] == ["no complete hip-thrust rep found"]


def test_reps_with_nothing_judged_are_left_out_of_the_set_score() -> None:
    unseen = _rep_report(1, band="unknown", confidence=CFG.min_confidence / 2)
    assert unseen.score is None
    good = _rep_report(2)
    report = _set_report(unseen, good)
    assert report.score == good.score == 100


# --- broken reports fail validation ----------------------------------------------------


def _break(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `data` with the item at `path` replaced, or deleted for `...`."""
    broken = copy.deepcopy(data)
    node = broken
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("summary",), ...),
        (("schema_version",), 2),
        (("reps", 0, "pause_s"), ...),
        (("reps", 0, "pause_s"), -0.5),
        (("reps", 0, "band"), "ankles"),
        (("reps", 0, "index"), 0),
        (("reps", 0, "score"), 101),
        (("reps", 0, "findings", 0, "status"), "bad"),
        (("reps", 0, "findings", 0, "confidence"), 1.5),
        (("reps", 0, "findings", 0, "cue"), ...),
        (("view", "side"), "front"),
        (("model", "sha256"), "not-a-hash"),
        (("source", "width"), -1),
        (("summary", "faults"), {"short_pause": 0}),
        (("warnings",), "one string"),
    ],
)
def test_a_broken_report_fails_validation(path: tuple[Any, ...], value: Any) -> None:
    data = _mixed_set().to_dict()
    validate_report(data)
    with pytest.raises(jsonschema.ValidationError):
        validate_report(_break(data, path, value))


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_every_status_is_allowed_by_the_schema() -> None:
    allowed = report_schema()["$defs"]["finding"]["properties"]["status"]["enum"]
    assert set(allowed) == {s.value for s in Status}


# --- writing ---------------------------------------------------------------------------


def test_write_json_is_atomic_and_reads_back(tmp_path: Path) -> None:
    data = _mixed_set().to_dict()
    out = tmp_path / "nested" / "report.json"
    write_json(data, out)
    assert json.loads(out.read_text(encoding="utf-8")) == data
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.json"]
