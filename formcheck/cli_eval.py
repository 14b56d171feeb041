"""The terminal tables of `formcheck eval`: per clip, overall, per fault, and per rep."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console, JustifyMethod
from rich.table import Table

from formcheck.evaluate import METRIC_DEFINITIONS, ClipResult, EvalResult
from formcheck.evaluate.labels import RepTimes


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
        ("clip", "left"),
        ("use", "left"),
        ("label", "right"),
        ("pred", "right"),
        ("bound\ns", "right"),
        ("hip°\nMAE", "right"),
        ("pause\ns", "right"),
        ("band", "left"),
    )
    for col, justify in columns:
        # Only the name may wrap, and no figure is cut (a cut "knees 100%" read "knees 10"):
        # the table fits 80 columns; notes follow it, one line each.
        table.add_column(
            col,
            justify=justify,
            overflow="fold",
            no_wrap=col != "clip",
            min_width=12 if col == "clip" else None,
        )
    notes: list[str] = []
    for c in result.clips:
        label = c.label
        m = c.metrics
        name = Path(c.name).stem
        note = f"[red]{c.error}[/]" if c.error else "; ".join(c.warnings)
        if note:
            notes.append(f"{name}: {note}")
        if label is None:
            table.add_row(name, "?", "", "", "", "", "", "")
            continue
        count_style = "green" if len(c.predicted) == len(label.reps) else "bold red"
        table.add_row(
            name,
            "yes" if label.usable else "[yellow]no[/]",
            str(len(label.reps)),
            f"[{count_style}]{'-' if c.error else len(c.predicted)}[/]",
            _f(m.boundary_mae_s),
            _f(m.hip_angle_mae_deg, 1),
            _f(m.pause_mae_s),
            f"{label.band or '-'} {_pct(m.band_accuracy)}",
        )
    console.print(table)
    for line in notes:
        console.print(line, soft_wrap=True, highlight=False)
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
        console.print(
            "[yellow]Left out of the overall figures (usable=false or unreadable "
            f"label):[/] {', '.join(result.excluded)}"
        )
    if o.fault_clips == 0:
        console.print("Faults: no counted clip carries per-rep fault labels.")
        return
    faults = Table(title=f"Faults ({o.fault_clips} fault-labelled clips)")
    for col in ("fault", "TP", "FP", "FN", "precision", "recall"):
        faults.add_column(col, justify="left" if col == "fault" else "right")
    for f in o.faults:
        faults.add_row(f.code, str(f.tp), str(f.fp), str(f.fn), _pct(f.precision), _pct(f.recall))
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
            table.add_row(
                str(i + 1),
                span(r.times_s),
                str(m.pred + 1),
                span(c.predicted[m.pred].times_s),
                f"{m.iou:.2f}",
                errs,
            )
    for j, p in enumerate(c.predicted):
        if j not in matched_preds:
            table.add_row("-", "[red]extra[/]", str(j + 1), span(p.times_s), "", "")
    console.print(table)
