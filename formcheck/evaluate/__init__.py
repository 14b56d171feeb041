"""The accuracy harness: formcheck's reports against labelled clips.

A folder of clips is evaluated: every `<stem>.json` label with a video `<stem>.<ext>`
beside it. Each clip is analysed (from saved landmarks when present, else with the pose
model), its predicted reps are matched one-to-one to the labelled reps, and figures are
computed per clip and over the whole folder; gates turn figures into a pass or a fail.

One job a module:
- `labels`: the label model (written by `formcheck.synth`, read here) and finding clips;
- `matching`: predicted reps matched to labelled reps;
- `metrics`: the figures and their definitions;
- `results`: a clip's row and the evaluation's result (JSON form for `--json`);
- `runner`: running an evaluation (landmark cache, model, analysis);
- `gates`: floors and ceilings on the figures, as a table.
The terminal tables of `formcheck eval` are the CLI's (`formcheck.cli_eval`).
"""

from formcheck.evaluate.gates import GATE_TABLE, Gates, check_gates
from formcheck.evaluate.labels import (
    BANDS,
    BOUNDARIES,
    FORM_FAULTS,
    VIDEO_SUFFIXES,
    VIEWS,
    ClipLabel,
    LabelRep,
    find_clips,
    load_label,
)
from formcheck.evaluate.matching import MIN_MATCH_IOU, PredRep, RepMatch, interval_iou, match_reps
from formcheck.evaluate.metrics import (
    BOUNDARY_TOLERANCE_S,
    CLEAR_OF_LIMIT_S,
    METRIC_DEFINITIONS,
    FaultScore,
    Metrics,
    VerdictLimits,
    compute_metrics,
)
from formcheck.evaluate.results import ClipResult, EvalResult, aggregate
from formcheck.evaluate.runner import LANDMARKS_SUFFIX, cache_key, evaluate_clip, evaluate_dir

__all__ = [
    "BANDS",
    "BOUNDARIES",
    "BOUNDARY_TOLERANCE_S",
    "CLEAR_OF_LIMIT_S",
    "FORM_FAULTS",
    "GATE_TABLE",
    "LANDMARKS_SUFFIX",
    "METRIC_DEFINITIONS",
    "MIN_MATCH_IOU",
    "VIDEO_SUFFIXES",
    "VIEWS",
    "ClipLabel",
    "ClipResult",
    "EvalResult",
    "FaultScore",
    "Gates",
    "LabelRep",
    "Metrics",
    "PredRep",
    "RepMatch",
    "VerdictLimits",
    "aggregate",
    "cache_key",
    "check_gates",
    "compute_metrics",
    "evaluate_clip",
    "evaluate_dir",
    "find_clips",
    "interval_iou",
    "load_label",
    "match_reps",
]
