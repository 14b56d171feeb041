"""The readable terminal summary: one row per rep, the set summary, the top cues."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from formcheck.report.model import SetReport, view_words
from formcheck.rules import Status

_STATUS_STYLE = {Status.OK: "green", Status.FAULT: "bold red", Status.NOT_JUDGED: "dim"}


def _fmt(value: float, unit: str, digits: int = 0, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return "-" if value != value else f"{value:{sign}.{digits}f}{unit}"  # NaN != NaN


def summary_line(report: SetReport) -> str:
    """The set in one line: reps, score and faults (what `analyze --quiet` prints)."""
    score = report.score
    faults = report.fault_counts
    fault_text = (
        ", ".join(
            [
                *(f"{code} (the set)" for code in report.set_faults),
                *(f"{code} x{n}" for code, n in faults.items()),
            ]
        )
        or "none"
    )
    return (
        f"{len(report.reps)} reps, score {'-' if score is None else score}/100, "
        f"faults: {fault_text}"
    )


def print_report(report: SetReport, console: Console) -> None:
    """Print the per-rep table, the summary line and the cues that matter most."""
    src = report.source
    console.print(
        f"[bold]{src.path}[/]  {src.duration_s:.1f} s, {src.width}x{src.height}, {src.fps:.2f} fps",
        soft_wrap=True,
    )
    console.print(view_words(report.view.head, report.view.side).capitalize(), soft_wrap=True)
    if not report.view.ok:
        console.print(f"[yellow]View: {report.view.message}[/]")
    for warning in report.warnings:
        console.print(f"[yellow]Warning: {warning}[/]")
    table = Table(title="Reps (angles at the top)", show_lines=False, pad_edge=False)
    for col in ("#", "time s", "hip", "shin", "pause", "lower", "band", "score", "faults"):
        table.add_column(
            col,
            justify="left" if col in ("faults", "band") else "right",
            overflow="fold",
            no_wrap=col != "faults",
        )
    for rr in report.reps:
        r = rr.rep
        verdict = Text()
        for f in rr.findings:
            if f.status is Status.FAULT and f.fault:
                verdict.append(f.fault + " ", style=_STATUS_STYLE[f.status])
        if not verdict:
            verdict.append("good", style="green")
        table.add_row(
            str(r.index),
            f"{r.start_s:.1f}-{r.end_s:.1f}",
            _fmt(r.hip_angle_top_deg, "°"),
            _fmt(r.shin_tilt_top_deg, "°", signed=True),
            _fmt(r.pause_s, "s", 1),
            _fmt(r.eccentric_s, "s", 1),
            rr.band,
            "-" if rr.score is None else str(rr.score),
            verdict,
        )
    if report.reps:  # no rows: what was seen is in the warnings above
        console.print(table)
    console.print(summary_line(report), style="bold", highlight=False)
    if report.cues:
        console.print("[bold]What to fix:[/]")
        for cue in report.cues[:3]:
            console.print(f"  • {cue}")
    elif report.reps:
        console.print("[green]Good set: nothing to fix.[/]")
