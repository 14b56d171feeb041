"""The HTML report's plots: matplotlib figures rendered to inline SVG strings.

Every plot works from the report's JSON contract (one dict per rep, as written by
`SetReport.to_dict`), plus the per-frame hip angle when it is known, so a report rebuilt
from a saved JSON file looks the same as one made straight after the analysis.

The figures are built with `matplotlib.figure.Figure` and no pyplot: no GUI backend is
ever selected and no global figure list grows, so a server can draw reports safely. Text
stays text in the SVG (`svg.fonttype = "none"`): the page's font draws it and the file
stays small.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from formcheck.config import RulesConfig
from formcheck.rules.base import MeasuredRule
from formcheck.rules.lowering_tempo import LOWERING_TEMPO
from formcheck.rules.pause import PAUSE
from formcheck.rules.top_alignment import TOP_ALIGNMENT

# Phase colours, shared with the page's legend (report.css uses the same values).
COLORS = {
    "concentric": "#cfe3fa",
    "pause": "#c8ecd0",
    "eccentric": "#fde2c4",
    "angle": "#1f2933",
    "target": "#2f6f3e",
    "ok_band": "#eef2f5",
    "fault": "#cf222e",
    "ok": "#1a7f37",
    "muted": "#6b7785",
}
# Largest number of points drawn for the angle curve: more adds bytes, not detail.
MAX_CURVE_POINTS = 1500


@dataclass(frozen=True)
class AngleSeries:
    """The signed hip angle over the clip.

    Attributes:
        t_s: (T,) seconds from the start of the clip.
        hip_angle_deg: (T,) signed hip angle in degrees (180 = straight knee-hip-shoulder
            line, below sags, above over-extends); NaN where the joints were not seen.
    """

    t_s: NDArray[np.float64]
    hip_angle_deg: NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.t_s.shape != self.hip_angle_deg.shape or self.t_s.ndim != 1:
            raise ValueError("AngleSeries: t_s and hip_angle_deg must be 1-D of one length")


@contextmanager
def _style(salt: str) -> Iterator[None]:
    """Plot style; `salt` seeds the SVG's hashed ids, so the same data gives the same file."""
    with mpl.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": salt,
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
            "font.size": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#9aa5b1",
            "axes.labelcolor": "#3e4c59",
            "xtick.color": "#3e4c59",
            "ytick.color": "#3e4c59",
            "axes.grid": True,
            "grid.color": "#e4e7eb",
            "grid.linewidth": 0.8,
            "legend.frameon": False,
        }
    ):
        yield


_SVG_ROOT = re.compile(r"<svg\b[^>]*>")


def figure_to_svg(fig: Figure, label: str, prefix: str) -> str:
    """The figure as an inline `<svg>` element that scales with its container.

    `label` is its accessible name; `prefix` starts each of its element ids (unique per
    figure on a page).

    The XML prologue, the metadata block and the namespace declarations go (an inline SVG
    in HTML needs none of them, and they are the only URLs matplotlib writes); the fixed
    width and height go too, so CSS sizes the plot while the viewBox keeps its shape.
    """
    buf = io.StringIO()
    fig.savefig(
        buf,
        format="svg",
        bbox_inches="tight",
        pad_inches=0.05,
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    text = text.replace("xlink:href=", "href=")
    # Several plots share one page: give every id (and each reference to it) the figure's
    # own prefix, so that matplotlib's "axes_1", "line2d_1"... never repeat.
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    root = _SVG_ROOT.search(text)
    assert root is not None  # savefig(format="svg") always writes a root element
    view_box = re.search(r'viewBox="([^"]+)"', root.group(0))
    attrs = f'viewBox="{view_box.group(1)}" ' if view_box else ""
    safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    new_root = f'<svg {attrs}role="img" aria-label="{safe_label}" class="plot">'
    return text[: root.start()] + new_root + text[root.end() :].strip()


def _num(x: Any) -> float:
    """A JSON number (or null) as a float; null is NaN."""
    return float(x) if isinstance(x, (int, float)) else math.nan


def _faulty(rep: dict[str, Any]) -> bool:
    return any(f.get("status") == "fault" for f in rep.get("findings", []))


def _thin(
    t: NDArray[np.float64], a: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """At most `MAX_CURVE_POINTS` samples (every k-th): a 4K-wide curve is not needed."""
    step = max(1, math.ceil(len(t) / MAX_CURVE_POINTS))
    return t[::step], a[::step]


# Timeline shapes (inches, font points): wide for a desktop, compact for a phone's width,
# where a wide plot scaled down would make its text too small to read.
TIMELINE_SIZES: dict[str, tuple[tuple[float, float], float]] = {
    "wide": ((10.0, 3.2), 10.5),
    "compact": ((4.6, 3.5), 11.0),
}


def angle_timeline_svg(
    reps: Sequence[dict[str, Any]],
    rules: RulesConfig,
    angle: AngleSeries | None,
    duration_s: float,
    shape: str = "wide",
) -> str:
    """Signed hip angle over time, each rep shaded by phase, the target line, faults marked.

    `reps` are the contract's rep dicts (times in s, angles in degrees); without `angle`
    (no landmarks), only the reps' phases and top angles are drawn. `shape` is a key of
    `TIMELINE_SIZES`.
    """
    top = rules.top_alignment
    figsize, font = TIMELINE_SIZES[shape]
    with _style(f"timeline-{shape}"), mpl.rc_context({"font.size": font}):
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
        end = duration_s
        lows: list[float] = []
        highs: list[float] = [top.max_deg]
        for rep in reps:
            t0, t1, t2, t3 = (
                _num(rep[k]) for k in ("start_s", "top_start_s", "top_end_s", "end_s")
            )
            ax.axvspan(t0, t1, color=COLORS["concentric"], lw=0, zorder=0)
            ax.axvspan(t1, max(t2, t1 + 0.04), color=COLORS["pause"], lw=0, zorder=0)
            ax.axvspan(t2, t3, color=COLORS["eccentric"], lw=0, zorder=0)
            end = max(end, t3)
        # The accepted range as thin dotted lines: a shaded band would hide the phases.
        for edge in (top.min_deg, top.max_deg):
            ax.axhline(edge, color=COLORS["muted"], ls=":", lw=1.0, zorder=1)
        ax.axhline(
            top.target_deg,
            color=COLORS["target"],
            ls="--",
            lw=1.4,
            zorder=1,
            label=f"target {top.target_deg:.0f}°",
        )
        if angle is not None and len(angle.t_s):
            t, a = _thin(angle.t_s, angle.hip_angle_deg)
            ax.plot(t, a, color=COLORS["angle"], lw=1.6, zorder=3, label="hip angle")
            finite = a[np.isfinite(a)]
            if len(finite):
                lows.append(float(np.percentile(finite, 1)))
                highs.append(float(np.max(finite)))
            end = max(end, float(angle.t_s[-1]))
        for rep in reps:
            mid = 0.5 * (_num(rep["top_start_s"]) + _num(rep["top_end_s"]))
            deg = _num(rep["hip_angle_top_deg"])
            if math.isnan(deg):
                continue
            bad = _faulty(rep)
            color = COLORS["fault"] if bad else COLORS["ok"]
            ax.plot(
                [mid], [deg], marker="v" if bad else "o", ms=7, color=color, zorder=4, ls="none"
            )
            ax.annotate(
                f"{rep['index']}",
                (mid, deg),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=font - 1,
                color=color,
                fontweight="bold",
            )
            highs.append(deg)
            lows.append(deg)
        low = min(lows, default=top.min_deg - 40.0)
        ax.set_ylim(min(low, top.min_deg) - 8.0, max(highs) + 12.0)
        ax.set_xlim(0.0, max(end, 1e-3))
        ax.set_xlabel("time (s)")
        ax.set_ylabel("hip angle (°)")
        if angle is None:
            ax.text(
                0.01,
                0.03,
                "no landmarks: rep tops only",
                transform=ax.transAxes,
                fontsize=font - 2,
                color=COLORS["muted"],
            )
        return figure_to_svg(
            fig, "Signed hip angle over time, reps shaded by phase", f"timeline-{shape}"
        )


def _trend(
    ax: Any,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    bad: NDArray[np.bool_],
    title: str,
    unit: str,
) -> None:
    ax.plot(x, y, color=COLORS["angle"], lw=1.4, zorder=2)
    ok = ~bad
    ax.plot(x[ok], y[ok], "o", color=COLORS["ok"], ms=6, zorder=3)
    ax.plot(x[bad], y[bad], "v", color=COLORS["fault"], ms=7, zorder=3)
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color="#1f2933")
    ax.set_xlabel("rep")
    ax.set_ylabel(unit)
    ax.set_xticks(x if len(x) <= 12 else x[:: math.ceil(len(x) / 12)])
    if len(x):
        ax.set_xlim(float(x[0]) - 0.5, float(x[-1]) + 0.5)


def _rule_fault(rep: dict[str, Any], rule: str) -> bool:
    return any(
        f.get("rule") == rule and f.get("status") == "fault" for f in rep.get("findings", [])
    )


#: The trend plots, by name, and the rule each follows (what it measures, its target).
TRENDS: tuple[tuple[str, MeasuredRule], ...] = (
    ("top_angle", TOP_ALIGNMENT),
    ("pause", PAUSE),
    ("lowering", LOWERING_TEMPO),
)
_UNIT_WORDS = {"deg": "degrees", "s": "seconds"}


def trend_svgs(reps: Sequence[dict[str, Any]], rules: RulesConfig) -> dict[str, str]:
    """Top hip angle (deg), pause (s) and lowering time (s) rep by rep, against the targets.

    Fatigue shows as later reps getting lower and shorter. Returns {name: svg} for the
    names "top_angle", "pause" and "lowering"; empty when there are no reps.
    """
    if not reps:
        return {}
    x = np.array([float(r["index"]) for r in reps])
    out: dict[str, str] = {}
    for name, rule in TRENDS:
        section = rule.section(rules)
        title, unit = rule.label, _UNIT_WORDS[rule.unit]
        line, band = rule.goal(section), rule.accepted(section)
        y = np.array([_num(r[rule.measure]) for r in reps])
        bad = np.array([_rule_fault(r, rule.id) for r in reps], dtype=bool)
        with _style(f"trend-{name}"):
            fig = Figure(figsize=(4.0, 2.7), layout="constrained")
            ax = fig.add_subplot()
            if band is not None:
                ax.axhspan(*band, color=COLORS["ok_band"], lw=0, zorder=0)
            ax.axhline(line, color=COLORS["target"], ls="--", lw=1.2, zorder=1)
            _trend(ax, x, y, bad, title, unit)
            finite = y[np.isfinite(y)]
            if band is None:  # a minimum (a duration): from zero, so shorter reads as shorter
                top_y = max([line, *finite.tolist()]) * 1.2
                ax.set_ylim(0.0, max(top_y, 0.5))
            elif len(finite):
                ax.set_ylim(
                    min(band[0], float(finite.min())) - 5.0, max(band[1], float(finite.max())) + 5.0
                )
            target = (
                f" (target {line:g} {'°' if rule.unit == 'deg' else rule.unit})"
                if band is not None
                else f" (target ≥ {line:g} {rule.unit})"
            )
            out[name] = figure_to_svg(fig, f"{title} per rep{target}", f"trend-{name}")
    return out
