"""The figures of an evaluation, per clip and pooled (see `METRIC_DEFINITIONS`).

- count_exact_rate: share of clips whose predicted rep count equals the labelled count.
- count_mae: mean over clips of |predicted count - labelled count|.
- boundary_mae_s: mean over matched reps and the four boundaries (start, top_start,
  top_end, end) of |predicted time - labelled time|, seconds; `*_mae_s` and `*_bias_s` per
  boundary (signed: + = formcheck late), and boundary_within_tol_rate, the share of those
  errors <= `BOUNDARY_TOLERANCE_S` (human labels are accurate to about a quarter of a second).
- hip_angle_mae_deg, knee_angle_mae_deg, pause_mae_s, eccentric_mae_s: mean over matched
  reps whose label carries the value (and whose prediction is a number) of
  |predicted - labelled|; pause_bias_s, eccentric_bias_s signed.
- pause_agreement, eccentric_agreement: how often the short_pause / fast_lowering verdict
  agrees with the labelled time, over the reps whose labelled time is `CLEAR_OF_LIMIT_S` or
  more from the rule's limit.
- false_fault_rate: share of the reps a label calls clean (`ClipLabel.clean`) that get a
  form fault (`FORM_FAULTS`).
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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from formcheck.config import Config
from formcheck.evaluate.labels import FORM_FAULTS
from formcheck.rules import FAULT_CODES

if TYPE_CHECKING:
    from formcheck.evaluate.results import ClipResult

#: Human labels are accurate to about a quarter of a second (real clips' README).
BOUNDARY_TOLERANCE_S = 0.25
#: A labelled pause or lowering this close (s) to its rule's limit is too close to call: human
#: timing is good to about a quarter of a second (two people agree within +-0.4 s).
CLEAR_OF_LIMIT_S = 0.15

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
            f.code: {
                "tp": f.tp,
                "fp": f.fp,
                "fn": f.fn,
                "precision": _round(f.precision),
                "recall": _round(f.recall),
            }
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


def _agreement(
    pairs: Sequence[tuple[float | None, bool]], limit_s: float
) -> tuple[float | None, int]:
    """How often a verdict ("under the limit": the fault was given) agrees with the labelled
    value, over the pairs whose labelled value is `CLEAR_OF_LIMIT_S` or more from the limit;
    and how many pairs that is."""
    clear = [
        (lab < limit_s, faulted)
        for lab, faulted in pairs
        if lab is not None and abs(lab - limit_s) >= CLEAR_OF_LIMIT_S
    ]
    return _mean([float(a == b) for a, b in clear]), len(clear)


def compute_metrics(clips: Sequence[ClipResult], limits: VerdictLimits | None = None) -> Metrics:
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
        knee += _abs(_errors((lab.knee_angle_top_deg, p.knee_angle_top_deg) for lab, p in pairs))
        pause += _errors((lab.pause_s, p.pause_s) for lab, p in pairs)
        ecc += _errors((lab.eccentric_s, p.eccentric_s) for lab, p in pairs)
        pause_verdicts += [(lab.pause_s, "short_pause" in p.faults) for lab, p in pairs]
        ecc_verdicts += [(lab.eccentric_s, "fast_lowering" in p.faults) for lab, p in pairs]
        clean += [
            float(bool(set(p.faults) & set(FORM_FAULTS))) for lab, p in pairs if label.clean(lab)
        ]
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
        fault_pairs += [
            (set(r.faults or ()), set())
            for i, r in enumerate(label.reps)
            if i not in matched_labels
        ]
        fault_pairs += [
            (set(), set(p.faults)) for j, p in enumerate(pred) if j not in matched_preds
        ]
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
            [float(e <= BOUNDARY_TOLERANCE_S + 1e-9) for e in all_points]
        ),
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
