"""The accuracy harness: formcheck's reports against labelled clips.

A folder of clips is evaluated: every `<stem>.json` label with a video `<stem>.<ext>`
beside it (ext one of `VIDEO_SUFFIXES`). Each clip is analysed (from saved landmarks when
present, else with the pose model), its predicted reps are matched one-to-one to the
labelled reps, and the metrics below are computed per clip and over the whole folder.

Label format (shared with the clips `formcheck.synth` generates; see the real clips'
README): a JSON object with `reps`, a list of `{start_s, top_start_s, top_end_s, end_s}`
in seconds from the clip's start, optionally with the per-rep extras `hip_angle_top_deg`
(signed, 180 = straight), `knee_angle_top_deg`, `pause_s`, `eccentric_s`, `band`
(none/hips/knees/both) and `faults` (fault codes as in the report); and at the top level
optionally `usable`, `view`, `band`, `rep_count`.

Matching. A labelled rep and a predicted rep are compared by the overlap of their
[start_s, end_s] intervals, IoU = |overlap| / |union|. Pairs with IoU >= `min_iou` (default
`MIN_MATCH_IOU`) are candidates; the one-to-one assignment that maximises the summed IoU
(Hungarian method) is kept. Every rep is in at most one match.

Metrics (per clip, and "overall" pooled over the clips counted; see `Metrics`):
- count_exact_rate: share of clips whose predicted rep count equals the labelled count.
- count_mae: mean over clips of |predicted count - labelled count|.
- boundary_mae_s: mean over matched reps and the four boundaries (start, top_start,
  top_end, end) of |predicted time - labelled time|, seconds; `*_mae_s` per boundary, and
  boundary_within_tol_rate, the share of those errors <= `BOUNDARY_TOLERANCE_S` (human
  labels are accurate to about a quarter of a second).
- hip_angle_mae_deg, knee_angle_mae_deg, pause_mae_s, eccentric_mae_s: mean over matched
  reps whose label carries the value (and whose prediction is a number) of
  |predicted - labelled|.
- band_accuracy: share of predicted reps with a labelled band (the matched labelled rep's
  `band`, else the clip's `band`) and a predicted band other than "unknown" whose predicted
  band equals the labelled one; band_coverage: share of the predicted reps with a labelled
  band whose predicted band is not "unknown".
- per fault code precision TP / (TP + FP) and recall TP / (TP + FN), on clips whose every
  labelled rep carries `faults`: for a matched pair a code in both is a TP, only predicted
  an FP, only labelled an FN; every code of an unmatched predicted rep is an FP and every
  code of an unmatched labelled rep an FN. fault_precision / fault_recall: the same pooled
  over all codes (micro average).
A metric with nothing to average is None, never 0.

Which clips count. A clip whose analysis failed (a `FormcheckError`: unreadable video,
no person, ...) is an error row and counts as predicting no rep (that is what the user
got). A clip whose label cannot be read is an error row that cannot be scored: it is left
out of every figure (`Metrics.clips` says how many were scored) and `check_gates` fails.
Clips labelled `usable: false` (not a continuous single-camera shot of one person: they
test refusals and warnings) are listed with their own figures but left out of every
overall figure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console, JustifyMethod
from rich.table import Table
from scipy.optimize import linear_sum_assignment

from formcheck.analyze import analyze_sequence, measure_video, open_estimator
from formcheck.band.detector import EVIDENCE_VERSION
from formcheck.band.retake import RETAKE_VERSION
from formcheck.config import Config
from formcheck.errors import FormcheckError, LabelError
from formcheck.pose.sequence import PoseSequence
from formcheck.report import RepReport
from formcheck.rules import FAULT_CODES, RULES
from formcheck.video import FileSource

if TYPE_CHECKING:  # the adapter imports mediapipe: only load it when a model runs
    from formcheck.pose.landmarker import PoseEstimator

log = logging.getLogger(__name__)

#: Video files a label may sit beside (lower or upper case), in order of preference.
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
#: Saved landmarks beside a clip: `<stem>.landmarks.npz`.
LANDMARKS_SUFFIX = ".landmarks.npz"
#: Least IoU of the [start, end] intervals for a labelled and a predicted rep to match.
MIN_MATCH_IOU = 0.3
#: Human labels are accurate to about a quarter of a second (real clips' README).
BOUNDARY_TOLERANCE_S = 0.25
BOUNDARIES: tuple[str, ...] = ("start", "top_start", "top_end", "end")
BANDS: tuple[str, ...] = ("none", "hips", "knees", "both")
VIEWS: tuple[str, ...] = ("side_left", "side_right", "oblique", "front", "mixed")

#: A labelled pause or lowering this close (s) to its rule's limit is too close to call: human
#: timing is good to about a quarter of a second (two people agree within +-0.4 s).
CLEAR_OF_LIMIT_S = 0.15
#: The form faults, those of the body's position at the top (the knee-hip-shoulder line and
#: the shins), which the false-fault rate counts; the pause and the lowering are scored
#: against the labelled times instead (`pause_agreement`, `eccentric_agreement`).
FORM_RULES: tuple[str, ...] = ("top_alignment", "shin_angle")
FORM_FAULTS: tuple[str, ...] = tuple(code for rule in RULES if rule.id in FORM_RULES
                                     for code in rule.faults)

RepTimes = tuple[float, float, float, float]  # start_s, top_start_s, top_end_s, end_s
EvalProgress = Callable[[int, int], None]  # (clips done, clips in all)

METRIC_DEFINITIONS: dict[str, str] = {
    "count_exact_rate": "share of clips whose predicted rep count equals the labelled count",
    "count_mae": "mean over clips of |predicted reps - labelled reps|",
    "boundary_mae_s": "mean |predicted - labelled| over matched reps x 4 boundaries (s)",
    "start_mae_s": "mean |predicted - labelled| start over matched reps (s)",
    "top_start_mae_s": "mean |predicted - labelled| top_start over matched reps (s)",
    "top_end_mae_s": "mean |predicted - labelled| top_end over matched reps (s)",
    "end_mae_s": "mean |predicted - labelled| end over matched reps (s)",
    "boundary_within_tol_rate": f"share of boundary errors <= {BOUNDARY_TOLERANCE_S} s",
    "hip_angle_mae_deg": "mean |predicted - labelled| top hip angle, matched reps with a label",
    "knee_angle_mae_deg": "mean |predicted - labelled| top knee angle, matched reps with a label",
    "pause_mae_s": "mean |predicted - labelled| pause, matched reps with a label (s)",
    "eccentric_mae_s": "mean |predicted - labelled| lowering time, matched reps with a label (s)",
    "band_accuracy": "share correct of predicted reps with a labelled and a judged band",
    "band_coverage": "share of predicted reps with a labelled band whose band was judged",
    "fault_precision": "TP / (TP + FP) pooled over fault codes, fault-labelled clips",
    "start_bias_s": "mean predicted - labelled start, matched reps (s; + = late)",
    "top_start_bias_s": "mean predicted - labelled top_start, matched reps (s; + = late)",
    "top_end_bias_s": "mean predicted - labelled top_end, matched reps (s; + = late)",
    "end_bias_s": "mean predicted - labelled end, matched reps (s; + = late)",
    "pause_bias_s": "mean predicted - labelled pause (s; + = long)",
    "eccentric_bias_s": "mean predicted - labelled lowering time (s; + = long)",
    "false_fault_rate": "share of reps the label calls clean that get a form fault (line, shins)",
    "pause_agreement": f"short_pause verdict agrees with the labelled pause (>= "
                       f"{CLEAR_OF_LIMIT_S} s from the limit)",
    "eccentric_agreement": f"fast_lowering verdict agrees with the labelled lowering (>= "
                           f"{CLEAR_OF_LIMIT_S} s from the limit)",
    "fault_recall": "TP / (TP + FN) pooled over fault codes, fault-labelled clips",
}


# -- labels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRep:
    """One labelled complete rep: times in seconds from the clip's start, and the extras.

    Extras are None when the label does not give them; `faults` is None when the rep's
    faults are not labelled and () when it is labelled as faultless.
    """

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    hip_angle_top_deg: float | None = None
    knee_angle_top_deg: float | None = None
    pause_s: float | None = None
    eccentric_s: float | None = None
    band: str | None = None
    faults: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_s <= self.top_start_s <= self.top_end_s <= self.end_s:
            raise ValueError("rep times must satisfy 0 <= start <= top_start <= top_end <= end")

    @property
    def times_s(self) -> RepTimes:
        return (self.start_s, self.top_start_s, self.top_end_s, self.end_s)


@dataclass(frozen=True)
class ClipLabel:
    """A clip's label file, read and checked.

    Attributes:
        path: the label file.
        clip: the video it labels (None when no such file exists).
        usable: False for clips that are not one continuous shot of one person.
        view: `side_left` (head on the image's left), `side_right`, ... or None.
        band: the clip's band placement (none/hips/knees/both) or None.
        reps: the complete reps, in time order.
        faults_seen: what a person saw wrong in the clip (free text; () when nothing, None
            when the label does not say).
    """

    path: Path
    clip: Path | None
    usable: bool
    view: str | None
    band: str | None
    reps: tuple[LabelRep, ...]
    faults_seen: tuple[str, ...] | None = None

    def clean(self, rep: LabelRep) -> bool:
        """The label calls this rep free of form faults: its `faults` are empty, or it has
        none and nothing was seen wrong in the clip."""
        if rep.faults is not None:
            return not set(rep.faults) & set(FORM_FAULTS)
        return self.faults_seen == ()

    @property
    def faults_labelled(self) -> bool:
        """True when every rep carries its `faults` (the clip counts for fault metrics)."""
        return bool(self.reps) and all(r.faults is not None for r in self.reps)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value):
        raise LabelError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _optional_number(value: Any, where: str) -> float | None:
    return None if value is None else _number(value, where)


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str | None:
    if value is None:
        return None
    if value not in choices:
        raise LabelError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


def _video_beside(path: Path) -> Path | None:
    """The video with the same stem as `path` beside it (`.mp4` or `.MP4`, ...), or None."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    for suffix in VIDEO_SUFFIXES:
        for candidate in (suffix, suffix.upper()):
            video = path.with_name(stem + candidate)
            if video.is_file():
                return video
    return None


def _label_rep(raw: Any, where: str) -> LabelRep:
    if not isinstance(raw, dict):
        raise LabelError(f"{where}: expected an object")
    start, top_start, top_end, end = (
        _number(raw.get(f"{b}_s"), f"{where}.{b}_s") for b in BOUNDARIES
    )

    def extra(key: str) -> float | None:
        return _optional_number(raw.get(key), f"{where}.{key}")

    faults_raw = raw.get("faults")
    faults: tuple[str, ...] | None = None
    if faults_raw is not None:
        if not isinstance(faults_raw, list) or not all(isinstance(f, str) for f in faults_raw):
            raise LabelError(f"{where}.faults: expected a list of fault codes")
        faults = tuple(faults_raw)
    try:
        return LabelRep(
            start, top_start, top_end, end,
            hip_angle_top_deg=extra("hip_angle_top_deg"),
            knee_angle_top_deg=extra("knee_angle_top_deg"),
            # A label that gives the times gives the pause and the lowering: the hold from
            # top_start to top_end, the lowering from top_end to end (the real clips' convention).
            pause_s=extra("pause_s") if raw.get("pause_s") is not None else top_end - top_start,
            eccentric_s=(extra("eccentric_s") if raw.get("eccentric_s") is not None
                         else end - top_end),
            band=_choice(raw.get("band"), BANDS, f"{where}.band"),
            faults=faults,
        )
    except ValueError as exc:
        raise LabelError(f"{where}: {exc}") from exc


def load_label(path: str | Path) -> ClipLabel:
    """Read and check one label file.

    The clip is the video beside the label with the same stem, else the label's `clip`
    entry (relative to the label's folder) when that file exists, else None.

    Raises:
        LabelError: unreadable JSON, no `reps` list, a rep time missing or out of order,
            reps overlapping, `rep_count` disagreeing with `reps`, or an unknown band/view.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LabelError(f"{path}: no such label file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelError(f"{path}: not a readable JSON label ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("reps"), list):
        raise LabelError(f"{path}: not a label (no `reps` list)")
    reps = tuple(_label_rep(r, f"{path}: reps[{i}]") for i, r in enumerate(data["reps"]))
    for i in range(1, len(reps)):
        if reps[i].start_s < reps[i - 1].end_s:
            raise LabelError(f"{path}: reps[{i}] starts before reps[{i - 1}] ends")
    count = data.get("rep_count")
    if count is not None and count != len(reps):
        raise LabelError(f"{path}: rep_count {count} but {len(reps)} reps listed")
    usable = data.get("usable", True)
    if not isinstance(usable, bool):
        raise LabelError(f"{path}: usable: expected true or false, got {usable!r}")
    clip = _video_beside(path)
    if clip is None and isinstance(data.get("clip"), str):
        named = path.parent / data["clip"]
        clip = named if named.is_file() else None
    return ClipLabel(
        path=path,
        clip=clip,
        usable=usable,
        view=_choice(data.get("view"), VIEWS, f"{path}: view"),
        band=_choice(data.get("band"), BANDS, f"{path}: band"),
        reps=reps,
        faults_seen=_faults_seen(data.get("faults_seen"), path),
    )


def _faults_seen(raw: Any, path: Path) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise LabelError(f"{path}: faults_seen: expected a list of text")
    return tuple(raw)


def _is_label(path: Path) -> bool:
    """False for JSON that is plainly not a label: no `reps` list, or a formcheck report.

    Unparsable JSON counts as a (broken) label, so that its row says what is wrong.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return True
    if not isinstance(data, dict) or "reps" not in data:
        return False
    return not ("schema_version" in data and "summary" in data)  # a saved report


def find_clips(directory: str | Path) -> list[tuple[Path, Path]]:
    """(label, video) pairs in `directory` (not its subfolders), sorted by label name.

    Every `*.json` with a video of the same stem beside it, except `*.report.json` files
    and JSON that is not a label (no `reps` list, or a formcheck report under another name).
    """
    directory = Path(directory)
    pairs = []
    for label in sorted(directory.glob("*.json")):
        if label.name.lower().endswith(".report.json") or not label.is_file():
            continue
        video = _video_beside(label)
        if video is None:
            continue
        if not _is_label(label):
            log.info("%s: not a label: skipped", label)
            continue
        pairs.append((label, video))
    return pairs


# -- predictions and matching --------------------------------------------------------------


@dataclass(frozen=True)
class PredRep:
    """One rep as formcheck reported it (a flat copy of the `RepReport` fields scored here)."""

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    hip_angle_top_deg: float  # NaN when not measured
    knee_angle_top_deg: float  # NaN when not measured
    band: str
    faults: tuple[str, ...]

    @classmethod
    def from_report(cls, rr: RepReport) -> PredRep:
        r = rr.rep
        return cls(r.start_s, r.top_start_s, r.top_end_s, r.end_s, r.hip_angle_top_deg,
                   r.knee_angle_top_deg, rr.band, tuple(rr.faults))

    @property
    def times_s(self) -> RepTimes:
        return (self.start_s, self.top_start_s, self.top_end_s, self.end_s)

    @property
    def pause_s(self) -> float:
        return self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float:
        return self.end_s - self.top_end_s


@dataclass(frozen=True)
class RepMatch:
    """A labelled rep matched to a predicted rep (0-based indices into each list).

    `errors_s`: predicted minus labelled time of start, top_start, top_end, end (signed,
    seconds: positive = formcheck is late).
    """

    label: int
    pred: int
    iou: float
    errors_s: RepTimes


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """|a ∩ b| / |a ∪ b| of two [start, end] intervals; 0 when the union is empty."""
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return overlap / union if union > 0 else 0.0


def match_reps(
    labelled: Sequence[RepTimes], predicted: Sequence[RepTimes], min_iou: float = MIN_MATCH_IOU,
) -> tuple[RepMatch, ...]:
    """One-to-one matches maximising the summed [start, end] IoU, each with IoU >= `min_iou`.

    Returned in labelled order.
    """
    if not labelled or not predicted:
        return ()
    iou = np.array([[interval_iou((lab[0], lab[3]), (p[0], p[3])) for p in predicted]
                    for lab in labelled])
    iou[iou < min_iou] = 0.0
    rows, cols = linear_sum_assignment(iou, maximize=True)
    matches = []
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if iou[i, j] <= 0.0:
            continue
        errors = tuple(float(p - lab) for p, lab in zip(predicted[j], labelled[i], strict=True))
        matches.append(RepMatch(i, j, float(iou[i, j]), (errors[0], errors[1], errors[2],
                                                          errors[3])))
    return tuple(sorted(matches, key=lambda m: m.label))


# -- metrics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictLimits:
    """The limits (s) the pause and lowering verdicts are checked against: the defaults of
    the pause and lowering_tempo rules."""

    pause_min_s: float = Config().rules.pause.min_s
    lowering_min_s: float = Config().rules.lowering_tempo.min_s


@dataclass(frozen=True)
class FaultScore:
    """Counts for one fault code; precision and recall are None when undefined."""

    code: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass(frozen=True)
class Metrics:
    """The figures over a set of scored clips (one clip, or all usable clips).

    See the module docstring (and `METRIC_DEFINITIONS`) for each definition. `clips` is the
    number of clips scored, `errors` how many of them failed to analyse (counted as
    predicting no rep); `*_n` the number of values behind each mean absolute error.
    """

    clips: int
    errors: int
    labelled_reps: int
    predicted_reps: int
    matched_reps: int
    count_exact_rate: float | None
    count_mae: float | None
    boundary_mae_s: float | None
    start_mae_s: float | None
    top_start_mae_s: float | None
    top_end_mae_s: float | None
    end_mae_s: float | None
    boundary_within_tol_rate: float | None
    hip_angle_mae_deg: float | None
    hip_angle_n: int
    knee_angle_mae_deg: float | None
    knee_angle_n: int
    pause_mae_s: float | None
    pause_n: int
    eccentric_mae_s: float | None
    eccentric_n: int
    band_accuracy: float | None
    band_coverage: float | None
    band_labelled: int
    band_judged: int
    fault_clips: int
    faults: tuple[FaultScore, ...]
    start_bias_s: float | None = None
    top_start_bias_s: float | None = None
    top_end_bias_s: float | None = None
    end_bias_s: float | None = None
    pause_bias_s: float | None = None
    eccentric_bias_s: float | None = None
    false_fault_rate: float | None = None
    clean_reps: int = 0
    pause_agreement: float | None = None
    pause_clear_n: int = 0
    eccentric_agreement: float | None = None
    eccentric_clear_n: int = 0

    @property
    def fault_precision(self) -> float | None:
        """TP / (TP + FP) pooled over all codes (micro average)."""
        tp = sum(f.tp for f in self.faults)
        fp = sum(f.fp for f in self.faults)
        return tp / (tp + fp) if tp + fp else None

    @property
    def fault_recall(self) -> float | None:
        """TP / (TP + FN) pooled over all codes (micro average)."""
        tp = sum(f.tp for f in self.faults)
        fn = sum(f.fn for f in self.faults)
        return tp / (tp + fn) if tp + fn else None

    def fault(self, code: str) -> FaultScore | None:
        return next((f for f in self.faults if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name != "faults":
                out[name] = _round(getattr(self, name))
        out["fault_precision"] = _round(self.fault_precision)
        out["fault_recall"] = _round(self.fault_recall)
        out["faults"] = {
            f.code: {"tp": f.tp, "fp": f.fp, "fn": f.fn, "precision": _round(f.precision),
                     "recall": _round(f.recall)}
            for f in self.faults
        }
        return out


def _round(x: Any, digits: int = 4) -> Any:
    if isinstance(x, float):
        return None if math.isnan(x) else round(x, digits)
    return x


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _errors(pairs: Iterable[tuple[float | None, float]]) -> list[float]:
    """predicted - labelled for pairs whose label is given and whose prediction is a number."""
    return [p - lab for lab, p in pairs if lab is not None and math.isfinite(p)]


def _abs(values: Sequence[float]) -> list[float]:
    return [abs(v) for v in values]


def _agreement(pairs: Sequence[tuple[float | None, bool]], limit_s: float
               ) -> tuple[float | None, int]:
    """How often a verdict ("under the limit": the fault was given) agrees with the labelled
    value, over the pairs whose labelled value is `CLEAR_OF_LIMIT_S` or more from the limit;
    and how many pairs that is."""
    clear = [(lab < limit_s, faulted) for lab, faulted in pairs
             if lab is not None and abs(lab - limit_s) >= CLEAR_OF_LIMIT_S]
    return _mean([float(a == b) for a, b in clear]), len(clear)


def compute_metrics(clips: Sequence[ClipResult], limits: VerdictLimits | None = None
                    ) -> Metrics:
    """The figures over `clips` (those whose label could be read; see the module docstring).

    `limits`: what the pause and lowering verdicts are checked against (default: the
    rules' default limits)."""
    scored = [(c.label, c.predicted, c.matches) for c in clips if c.label is not None]
    count_errors = [len(pred) - len(label.reps) for label, pred, _ in scored]
    by_point: list[list[float]] = [[], [], [], []]  # signed: predicted - labelled
    hip: list[float] = []
    knee: list[float] = []
    pause: list[float] = []  # signed
    ecc: list[float] = []  # signed
    pause_verdicts: list[tuple[float | None, bool]] = []
    ecc_verdicts: list[tuple[float | None, bool]] = []
    clean: list[float] = []  # 1.0: a form fault on a rep the label calls clean
    limits = limits or VerdictLimits()
    band_labelled = band_judged = band_right = 0
    codes = list(FAULT_CODES)
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    fault_clips = 0
    for label, pred, matches in scored:
        pairs = [(label.reps[m.label], pred[m.pred]) for m in matches]
        for m in matches:
            for k, err in enumerate(m.errors_s):
                by_point[k].append(err)
        hip += _abs(_errors((lab.hip_angle_top_deg, p.hip_angle_top_deg) for lab, p in pairs))
        knee += _abs(_errors((lab.knee_angle_top_deg, p.knee_angle_top_deg)
                             for lab, p in pairs))
        pause += _errors((lab.pause_s, p.pause_s) for lab, p in pairs)
        ecc += _errors((lab.eccentric_s, p.eccentric_s) for lab, p in pairs)
        pause_verdicts += [(lab.pause_s, "short_pause" in p.faults) for lab, p in pairs]
        ecc_verdicts += [(lab.eccentric_s, "fast_lowering" in p.faults) for lab, p in pairs]
        clean += [float(bool(set(p.faults) & set(FORM_FAULTS)))
                  for lab, p in pairs if label.clean(lab)]
        label_of = {m.pred: label.reps[m.label] for m in matches}
        for j, p in enumerate(pred):
            matched = label_of.get(j)
            expected = matched.band if matched is not None and matched.band else label.band
            if expected is None:
                continue
            band_labelled += 1
            if p.band != "unknown":
                band_judged += 1
                band_right += p.band == expected
        if not label.faults_labelled:
            continue
        fault_clips += 1
        fault_pairs: list[tuple[set[str], set[str]]] = [
            (set(lab.faults or ()), set(p.faults)) for lab, p in pairs
        ]
        matched_labels = {m.label for m in matches}
        matched_preds = {m.pred for m in matches}
        fault_pairs += [(set(r.faults or ()), set()) for i, r in enumerate(label.reps)
                        if i not in matched_labels]
        fault_pairs += [(set(), set(p.faults)) for j, p in enumerate(pred)
                        if j not in matched_preds]
        for truth, guess in fault_pairs:
            for code in sorted(truth | guess):
                if code not in codes:
                    codes.append(code)
                if code in truth and code in guess:
                    tp[code] = tp.get(code, 0) + 1
                elif code in guess:
                    fp[code] = fp.get(code, 0) + 1
                else:
                    fn[code] = fn.get(code, 0) + 1
    all_points = [abs(e) for errs in by_point for e in errs]
    pause_agreement, pause_clear_n = _agreement(pause_verdicts, limits.pause_min_s)
    ecc_agreement, ecc_clear_n = _agreement(ecc_verdicts, limits.lowering_min_s)
    return Metrics(
        clips=len(scored),
        errors=sum(1 for c in clips if c.label is not None and c.error is not None),
        labelled_reps=sum(len(label.reps) for label, _, _ in scored),
        predicted_reps=sum(len(pred) for _, pred, _ in scored),
        matched_reps=sum(len(m) for _, _, m in scored),
        count_exact_rate=_mean([float(e == 0) for e in count_errors]),
        count_mae=_mean([float(abs(e)) for e in count_errors]),
        boundary_mae_s=_mean(all_points),
        start_mae_s=_mean(_abs(by_point[0])),
        top_start_mae_s=_mean(_abs(by_point[1])),
        top_end_mae_s=_mean(_abs(by_point[2])),
        end_mae_s=_mean(_abs(by_point[3])),
        boundary_within_tol_rate=_mean(
            [float(e <= BOUNDARY_TOLERANCE_S + 1e-9) for e in all_points]),
        hip_angle_mae_deg=_mean(hip),
        hip_angle_n=len(hip),
        knee_angle_mae_deg=_mean(knee),
        knee_angle_n=len(knee),
        pause_mae_s=_mean(_abs(pause)),
        pause_n=len(pause),
        eccentric_mae_s=_mean(_abs(ecc)),
        eccentric_n=len(ecc),
        band_accuracy=band_right / band_judged if band_judged else None,
        band_coverage=band_judged / band_labelled if band_labelled else None,
        band_labelled=band_labelled,
        band_judged=band_judged,
        fault_clips=fault_clips,
        faults=tuple(FaultScore(c, tp.get(c, 0), fp.get(c, 0), fn.get(c, 0)) for c in codes),
        start_bias_s=_mean(by_point[0]),
        top_start_bias_s=_mean(by_point[1]),
        top_end_bias_s=_mean(by_point[2]),
        end_bias_s=_mean(by_point[3]),
        pause_bias_s=_mean(pause),
        eccentric_bias_s=_mean(ecc),
        false_fault_rate=_mean(clean),
        clean_reps=len(clean),
        pause_agreement=pause_agreement,
        pause_clear_n=pause_clear_n,
        eccentric_agreement=ecc_agreement,
        eccentric_clear_n=ecc_clear_n,
    )


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipResult:
    """One clip's row: its label, what formcheck predicted, the matches, and any error.

    Attributes:
        name: the video's file name.
        label_path, video: the label file and the clip.
        label: the label (None when it could not be read: the row is then an error).
        predicted: formcheck's reps (empty when the analysis failed).
        matches: labelled-to-predicted rep matches.
        landmarks: where the poses came from: "beside" (`<stem>.landmarks.npz`), "cache",
            "model", or None when the clip failed before that.
        warnings: the report's warnings.
        error: the error message, or None.
        elapsed_s: wall time spent on the clip.
    """

    name: str
    label_path: Path
    video: Path
    label: ClipLabel | None
    predicted: tuple[PredRep, ...] = ()
    matches: tuple[RepMatch, ...] = ()
    landmarks: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def metrics(self) -> Metrics:
        """This clip's own figures (an empty `Metrics` when the label could not be read)."""
        return compute_metrics([self])

    def to_dict(self) -> dict[str, Any]:
        label = self.label
        return {
            "name": self.name,
            "label_path": str(self.label_path),
            "video": str(self.video),
            "usable": None if label is None else label.usable,
            "view": None if label is None else label.view,
            "band": None if label is None else label.band,
            "landmarks": self.landmarks,
            "error": self.error,
            "warnings": list(self.warnings),
            "elapsed_s": round(self.elapsed_s, 3),
            "labelled": [] if label is None else [_label_rep_dict(r) for r in label.reps],
            "predicted": [
                {**_times_dict(p.times_s), "hip_angle_top_deg": _round(p.hip_angle_top_deg, 2),
                 "knee_angle_top_deg": _round(p.knee_angle_top_deg, 2), "band": p.band,
                 "faults": list(p.faults)}
                for p in self.predicted
            ],
            "matches": [
                {"label": m.label, "pred": m.pred, "iou": round(m.iou, 4),
                 "errors_s": dict(zip(BOUNDARIES, (round(e, 4) for e in m.errors_s),
                                      strict=True))}
                for m in self.matches
            ],
            "metrics": self.metrics.to_dict(),
        }


def _times_dict(times: RepTimes) -> dict[str, float]:
    return {f"{b}_s": round(t, 4) for b, t in zip(BOUNDARIES, times, strict=True)}


def _label_rep_dict(r: LabelRep) -> dict[str, Any]:
    """The rep's times and whichever extras its label gives."""
    extras = {"hip_angle_top_deg": r.hip_angle_top_deg, "knee_angle_top_deg": r.knee_angle_top_deg,
              "pause_s": r.pause_s, "eccentric_s": r.eccentric_s, "band": r.band,
              "faults": None if r.faults is None else list(r.faults)}
    return {**_times_dict(r.times_s), **{k: v for k, v in extras.items() if v is not None}}


@dataclass(frozen=True)
class EvalResult:
    """Every clip's row and the overall figures (usable clips with a readable label)."""

    directory: Path
    clips: tuple[ClipResult, ...]
    overall: Metrics
    min_iou: float = MIN_MATCH_IOU
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def excluded(self) -> tuple[str, ...]:
        """Clips left out of the overall figures: unusable, or with an unreadable label."""
        return tuple(c.name for c in self.clips if c.label is None or not c.label.usable)

    @property
    def unreadable_labels(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.clips if c.label is None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by `formcheck eval --json` (NaN-free)."""
        return {
            "directory": str(self.directory),
            "matching": {"min_iou": self.min_iou, "boundary_tolerance_s": BOUNDARY_TOLERANCE_S},
            "definitions": dict(METRIC_DEFINITIONS),
            "overall": self.overall.to_dict(),
            "excluded_from_overall": list(self.excluded),
            "notes": list(self.notes),
            "clips": [c.to_dict() for c in self.clips],
        }


def aggregate(clips: Sequence[ClipResult], directory: Path, min_iou: float = MIN_MATCH_IOU,
              limits: VerdictLimits | None = None) -> EvalResult:
    """An `EvalResult` from rows: overall figures over the usable clips with a label."""
    counted = [c for c in clips if c.label is not None and c.label.usable]
    notes = ["clips labelled usable=false are listed but left out of the overall figures",
             "a clip that failed to analyse counts as predicting no rep"]
    return EvalResult(directory, tuple(clips), compute_metrics(counted, limits), min_iou,
                      tuple(notes))


# -- running ------------------------------------------------------------------------------------


def cache_key(video: Path, cfg: Config) -> str:
    """The cache file name for `video`'s landmarks: its name, size, mtime, pose settings and
    the band measurement's settings and record versions.

    A changed clip (size or modification time), other pose settings (model path, stride,
    confidences) or band records of another version give another key, so stale landmarks
    are never reused. A different model file at the same path is not noticed: clear the
    cache after replacing a model.
    """
    st = video.stat()
    band = cfg.rules.band
    basis = json.dumps({"name": video.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                        "pose": cfg.pose.model_dump(mode="json"),
                        "band": [band.detect, band.sample_every_s, band.retake_frames,
                                 EVIDENCE_VERSION, RETAKE_VERSION]}, sort_keys=True)
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]
    return f"{video.stem}.{digest}{LANDMARKS_SUFFIX}"


class _LazyEstimator:
    """Opens the pose model on first use only (a folder of saved landmarks never loads it)."""

    def __init__(self, cfg: Config, given: PoseEstimator | None) -> None:
        self.cfg = cfg
        self.est = given
        self.owned = False
        self.failed: FormcheckError | None = None

    def get(self) -> PoseEstimator:
        if self.est is None:
            if self.failed is not None:
                raise self.failed
            try:
                self.est = open_estimator(self.cfg)
            except FormcheckError as exc:
                self.failed = exc  # e.g. a missing model: every clip that needs it says so
                raise
            self.owned = True
        return self.est

    def close(self) -> None:
        if self.owned and self.est is not None:
            self.est.close()


def _poses(video: Path, cfg: Config, cache_dir: Path | None,
           est: _LazyEstimator) -> tuple[PoseSequence, str]:
    beside = video.with_name(video.stem + LANDMARKS_SUFFIX)
    if beside.is_file():
        return PoseSequence.load(beside), "beside"
    cached = cache_dir / cache_key(video, cfg) if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return PoseSequence.load(cached), "cache"
    # A broken video fails here, before the model loads.
    source = FileSource(video, cfg.pose.stride, cfg.pose.max_fps)
    seq = measure_video(source, cfg, estimator=est.get())
    if cached is not None:
        try:
            seq.save(cached)
        except OSError as exc:
            log.warning("%s: could not cache landmarks (%s)", cached, exc)
    return seq, "model"


def evaluate_clip(label_path: Path, video: Path, cfg: Config, *, cache_dir: Path | None = None,
                  estimator: PoseEstimator | None = None,
                  min_iou: float = MIN_MATCH_IOU) -> ClipResult:
    """One clip's row. A `FormcheckError` becomes the row's error; other exceptions are bugs
    and propagate. `estimator` is used as is (opened with `open_estimator` when None and the
    model is needed, and closed again)."""
    lazy = _LazyEstimator(cfg, estimator)
    try:
        return _evaluate_clip(label_path, video, cfg, cache_dir, lazy, min_iou)
    finally:
        lazy.close()


def _evaluate_clip(label_path: Path, video: Path, cfg: Config, cache_dir: Path | None,
                   est: _LazyEstimator, min_iou: float) -> ClipResult:
    t0 = time.perf_counter()
    try:
        label = load_label(label_path)
    except LabelError as exc:
        return ClipResult(video.name, label_path, video, None, error=str(exc),
                          elapsed_s=time.perf_counter() - t0)
    kind: str | None = None
    try:
        seq, kind = _poses(video, cfg, cache_dir, est)
        analysis = analyze_sequence(seq, cfg)
    except FormcheckError as exc:
        log.info("%s: %s", video.name, exc)
        return ClipResult(video.name, label_path, video, label, landmarks=kind, error=str(exc),
                          elapsed_s=time.perf_counter() - t0)
    predicted = tuple(PredRep.from_report(rr) for rr in analysis.report.reps)
    matches = match_reps([r.times_s for r in label.reps], [p.times_s for p in predicted],
                         min_iou)
    return ClipResult(video.name, label_path, video, label, predicted, matches, kind,
                      analysis.report.warnings, None, time.perf_counter() - t0)


def evaluate_dir(
    directory: str | Path, cfg: Config, *, cache_dir: Path | None = None,
    estimator: PoseEstimator | None = None, progress: EvalProgress | None = None,
    min_iou: float = MIN_MATCH_IOU,
) -> EvalResult:
    """Analyse every labelled clip in `directory` and score it against its label.

    Landmarks come from `<stem>.landmarks.npz` beside the clip, else from `cache_dir`
    (see `cache_key`), else from the pose model, whose landmarks are then written to
    `cache_dir` when given. One estimator serves all clips: `estimator` when given (left
    open), else one opened on the first clip that needs the model and closed at the end.
    `progress(done, total)` is called with 0 done first and after each clip.

    Raises:
        LabelError: `directory` is not a folder or holds no labelled clip.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise LabelError(f"{directory}: no such folder")
    pairs = find_clips(directory)
    if not pairs:
        raise LabelError(
            f"{directory}: no labelled clip (a <name>.json label beside a <name>.mp4/.mov/...)"
        )
    lazy = _LazyEstimator(cfg, estimator)
    rows: list[ClipResult] = []
    if progress:
        progress(0, len(pairs))
    try:
        for label_path, video in pairs:
            rows.append(_evaluate_clip(label_path, video, cfg, cache_dir, lazy, min_iou))
            if progress:
                progress(len(rows), len(pairs))
    finally:
        lazy.close()
    limits = VerdictLimits(cfg.rules.pause.min_s, cfg.rules.lowering_tempo.min_s)
    return aggregate(rows, directory, min_iou, limits)


# -- gates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gates:
    """Accuracy floors and ceilings; None switches a gate off.

    Fault gates apply to each code in `fault_codes`, or, with `pool_faults`, to the
    precision and recall pooled over those codes (micro average); with no codes, to the
    precision and recall pooled over all codes.
    """

    min_count_exact: float | None = None
    max_count_mae: float | None = None
    max_boundary_mae_s: float | None = None
    max_angle_mae_deg: float | None = None
    max_pause_mae_s: float | None = None
    max_eccentric_mae_s: float | None = None
    min_band_accuracy: float | None = None
    min_fault_precision: float | None = None
    min_fault_recall: float | None = None
    fault_codes: tuple[str, ...] | None = None
    pool_faults: bool = False

    @property
    def active(self) -> bool:
        """True when at least one gate is set."""
        return any(getattr(self, name) is not None for name in self.__dataclass_fields__
                   if name not in ("fault_codes", "pool_faults"))


def _gate(name: str, what: str, value: float | None, limit: float | None,
          minimum: bool) -> str | None:
    if limit is None:
        return None
    if value is None:
        return f"{name}: no data for {what} (the gate needs it; none of the clips gives it)"
    if (value < limit) if minimum else (value > limit):
        sign = "<" if minimum else ">"
        return f"{name}: {what} {value:.3g} {sign} {limit:.3g}"
    return None


def check_gates(result: EvalResult, gates: Gates) -> list[str]:
    """Failed gates as readable lines (an empty list: all passed).

    A gate on a metric with no data fails. When any gate is set, unreadable labels fail
    too: they would otherwise shrink the sample silently.
    """
    o = result.overall
    checks: list[tuple[str, str, float | None, float | None, bool]] = [
        ("min_count_exact", "rep count exact-match rate", o.count_exact_rate,
         gates.min_count_exact, True),
        ("max_count_mae", "rep count mean absolute error", o.count_mae, gates.max_count_mae,
         False),
        ("max_boundary_mae_s", "rep boundary mean absolute error (s)", o.boundary_mae_s,
         gates.max_boundary_mae_s, False),
        ("max_angle_mae_deg", "top hip angle mean absolute error (deg)", o.hip_angle_mae_deg,
         gates.max_angle_mae_deg, False),
        ("max_pause_mae_s", "pause mean absolute error (s)", o.pause_mae_s,
         gates.max_pause_mae_s, False),
        ("max_eccentric_mae_s", "lowering time mean absolute error (s)", o.eccentric_mae_s,
         gates.max_eccentric_mae_s, False),
        ("min_band_accuracy", "band placement accuracy", o.band_accuracy,
         gates.min_band_accuracy, True),
    ]
    failures: list[str] = []
    fault_gates = (("min_fault_precision", "precision", gates.min_fault_precision),
                   ("min_fault_recall", "recall", gates.min_fault_recall))
    for name, kind, limit in fault_gates:
        if limit is None:
            continue
        if gates.fault_codes is None:
            value = o.fault_precision if kind == "precision" else o.fault_recall
            checks.append((name, f"fault {kind} (all codes)", value, limit, True))
            continue
        scores = []
        for code in gates.fault_codes:
            score = o.fault(code)
            if score is None:
                failures.append(f"{name}: unknown fault code {code!r}")
            else:
                scores.append(score)
        if gates.pool_faults:
            scores = [FaultScore("+".join(gates.fault_codes), sum(f.tp for f in scores),
                                 sum(f.fp for f in scores), sum(f.fn for f in scores))]
        for score in scores:
            value = score.precision if kind == "precision" else score.recall
            what = f"{kind} pooled over {score.code}" if gates.pool_faults else (
                f"{score.code} {kind}")
            checks.append((name, what, value, limit, True))
    for check in checks:
        line = _gate(*check)
        if line:
            failures.append(line)
    if gates.active and result.unreadable_labels:
        failures.append("unreadable labels: " + ", ".join(result.unreadable_labels))
    return failures


# -- terminal output -----------------------------------------------------------------------------


def _f(x: float | None, digits: int = 2, unit: str = "", signed: bool = False) -> str:
    sign = "+" if signed else ""
    return "-" if x is None or math.isnan(x) else f"{x:{sign}.{digits}f}{unit}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def print_eval(result: EvalResult, console: Console, *, details: bool = False) -> None:
    """Print the per-clip table, the overall figures and the per-fault table.

    `details` adds, per clip, each labelled rep beside its matched prediction.
    """
    table = Table(title=f"Clips in {result.directory}")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("clip", "left"), ("use", "left"), ("label", "right"), ("pred", "right"),
        ("bound s", "right"), ("hip° MAE", "right"), ("pause s", "right"),
        ("band", "left"), ("note", "left"),
    )
    for col, justify in columns:
        table.add_column(col, justify=justify, no_wrap=col != "note", overflow="fold")
    for c in result.clips:
        label = c.label
        m = c.metrics
        note = f"[red]{c.error}[/]" if c.error else "; ".join(c.warnings)
        name = Path(c.name).stem
        if label is None:
            table.add_row(name, "?", "", "", "", "", "", "", note)
            continue
        count_style = "green" if len(c.predicted) == len(label.reps) else "bold red"
        table.add_row(
            name, "yes" if label.usable else "[yellow]no[/]", str(len(label.reps)),
            f"[{count_style}]{'-' if c.error else len(c.predicted)}[/]",
            _f(m.boundary_mae_s), _f(m.hip_angle_mae_deg, 1), _f(m.pause_mae_s),
            f"{label.band or '-'} {_pct(m.band_accuracy)}", note,
        )
    console.print(table)
    if details:
        for c in result.clips:
            _print_details(c, console)
    o = result.overall
    overall = Table(title=f"Overall ({o.clips} clips, {o.errors} errors)")
    for col in ("metric", "value", "n", "definition"):
        overall.add_column(col, justify="right" if col in ("value", "n") else "left")
    rows: list[tuple[str, str, str]] = [
        ("count_exact_rate", _pct(o.count_exact_rate), str(o.clips)),
        ("count_mae", _f(o.count_mae), str(o.clips)),
        ("boundary_mae_s", _f(o.boundary_mae_s), str(4 * o.matched_reps)),
        ("start_mae_s", _f(o.start_mae_s), str(o.matched_reps)),
        ("top_start_mae_s", _f(o.top_start_mae_s), str(o.matched_reps)),
        ("top_end_mae_s", _f(o.top_end_mae_s), str(o.matched_reps)),
        ("end_mae_s", _f(o.end_mae_s), str(o.matched_reps)),
        ("start_bias_s", _f(o.start_bias_s, 2, signed=True), str(o.matched_reps)),
        ("top_start_bias_s", _f(o.top_start_bias_s, 2, signed=True), str(o.matched_reps)),
        ("top_end_bias_s", _f(o.top_end_bias_s, 2, signed=True), str(o.matched_reps)),
        ("end_bias_s", _f(o.end_bias_s, 2, signed=True), str(o.matched_reps)),
        ("boundary_within_tol_rate", _pct(o.boundary_within_tol_rate), str(4 * o.matched_reps)),
        ("hip_angle_mae_deg", _f(o.hip_angle_mae_deg, 1), str(o.hip_angle_n)),
        ("knee_angle_mae_deg", _f(o.knee_angle_mae_deg, 1), str(o.knee_angle_n)),
        ("pause_mae_s", _f(o.pause_mae_s), str(o.pause_n)),
        ("pause_bias_s", _f(o.pause_bias_s, 2, signed=True), str(o.pause_n)),
        ("pause_agreement", _pct(o.pause_agreement), str(o.pause_clear_n)),
        ("eccentric_mae_s", _f(o.eccentric_mae_s), str(o.eccentric_n)),
        ("eccentric_bias_s", _f(o.eccentric_bias_s, 2, signed=True), str(o.eccentric_n)),
        ("eccentric_agreement", _pct(o.eccentric_agreement), str(o.eccentric_clear_n)),
        ("false_fault_rate", _pct(o.false_fault_rate), str(o.clean_reps)),
        ("band_accuracy", _pct(o.band_accuracy), str(o.band_judged)),
        ("band_coverage", _pct(o.band_coverage), str(o.band_labelled)),
        ("fault_precision", _pct(o.fault_precision), str(o.fault_clips)),
        ("fault_recall", _pct(o.fault_recall), str(o.fault_clips)),
    ]
    for name, value, n in rows:
        overall.add_row(name, value, n, METRIC_DEFINITIONS[name])
    console.print(overall)
    console.print(
        f"reps: {o.labelled_reps} labelled, {o.predicted_reps} predicted, {o.matched_reps} "
        f"matched (IoU >= {result.min_iou})"
    )
    if result.excluded:
        console.print("[yellow]Left out of the overall figures (usable=false or unreadable "
                      f"label):[/] {', '.join(result.excluded)}")
    if o.fault_clips == 0:
        console.print("Faults: no counted clip carries per-rep fault labels.")
        return
    faults = Table(title=f"Faults ({o.fault_clips} fault-labelled clips)")
    for col in ("fault", "TP", "FP", "FN", "precision", "recall"):
        faults.add_column(col, justify="left" if col == "fault" else "right")
    for f in o.faults:
        faults.add_row(f.code, str(f.tp), str(f.fp), str(f.fn), _pct(f.precision),
                       _pct(f.recall))
    console.print(faults)


def _print_details(c: ClipResult, console: Console) -> None:
    if c.label is None:
        return
    table = Table(title=f"{c.name}: labelled vs predicted (s)", title_justify="left")
    for col in ("label #", "labelled", "pred #", "predicted", "IoU", "errors"):
        table.add_column(col)
    by_label = {m.label: m for m in c.matches}
    matched_preds = {m.pred for m in c.matches}

    def span(t: RepTimes) -> str:
        return " ".join(f"{x:.2f}" for x in t)

    for i, r in enumerate(c.label.reps):
        m = by_label.get(i)
        if m is None:
            table.add_row(str(i + 1), span(r.times_s), "-", "[red]missed[/]", "", "")
        else:
            errs = " ".join(f"{e:+.2f}" for e in m.errors_s)
            table.add_row(str(i + 1), span(r.times_s), str(m.pred + 1),
                          span(c.predicted[m.pred].times_s), f"{m.iou:.2f}", errs)
    for j, p in enumerate(c.predicted):
        if j not in matched_preds:
            table.add_row("-", "[red]extra[/]", str(j + 1), span(p.times_s), "", "")
    console.print(table)
