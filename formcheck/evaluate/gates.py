"""Accuracy gates: floors and ceilings on an evaluation's figures, checked from a table.

`Gates` holds the limits a caller sets (None: off); `GATE_TABLE` says, for each limit, which
overall figure it bounds and in which direction; `check_gates` reads the table. The fault
gates apply per fault code or pooled over codes, so they are built from the figures' fault
counts rather than from the table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from formcheck.evaluate.metrics import FaultScore, Metrics
from formcheck.evaluate.results import EvalResult

Direction = Literal["min", "max"]


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
        return any(
            getattr(self, f.name) is not None
            for f in fields(self)
            if f.name not in ("fault_codes", "pool_faults")
        )


@dataclass(frozen=True)
class GateSpec:
    """One row of the table: the `Gates` field, the `Metrics` figure it bounds, what the
    figure is called in a failure line, and whether the limit is a floor or a ceiling."""

    gate: str
    metric: str
    what: str
    direction: Direction


GATE_TABLE: tuple[GateSpec, ...] = (
    GateSpec("min_count_exact", "count_exact_rate", "rep count exact-match rate", "min"),
    GateSpec("max_count_mae", "count_mae", "rep count mean absolute error", "max"),
    GateSpec("max_boundary_mae_s", "boundary_mae_s", "rep boundary mean absolute error (s)", "max"),
    GateSpec(
        "max_angle_mae_deg", "hip_angle_mae_deg", "top hip angle mean absolute error (deg)", "max"
    ),
    GateSpec("max_pause_mae_s", "pause_mae_s", "pause mean absolute error (s)", "max"),
    GateSpec(
        "max_eccentric_mae_s", "eccentric_mae_s", "lowering time mean absolute error (s)", "max"
    ),
    GateSpec("min_band_accuracy", "band_accuracy", "band placement accuracy", "min"),
)


def _missed(
    name: str, what: str, value: float | None, limit: float, direction: Direction
) -> str | None:
    """The failure line of one gate, or None when it holds."""
    if value is None:
        return f"{name}: no data for {what} (the gate needs it; none of the clips gives it)"
    if (value < limit) if direction == "min" else (value > limit):
        sign = "<" if direction == "min" else ">"
        return f"{name}: {what} {value:.3g} {sign} {limit:.3g}"
    return None


def _fault_scores(o: Metrics, gates: Gates) -> tuple[list[tuple[str, FaultScore]], list[str]]:
    """(label, counts) of what the fault gates judge, and the unknown codes asked for."""
    if gates.fault_codes is None:
        pooled = FaultScore(
            "all codes",
            sum(f.tp for f in o.faults),
            sum(f.fp for f in o.faults),
            sum(f.fn for f in o.faults),
        )
        return [("fault {kind} (all codes)", pooled)], []
    known = [s for code in gates.fault_codes if (s := o.fault(code)) is not None]
    unknown = [code for code in gates.fault_codes if o.fault(code) is None]
    if gates.pool_faults:
        name = "+".join(gates.fault_codes)
        pooled = FaultScore(
            name, sum(f.tp for f in known), sum(f.fp for f in known), sum(f.fn for f in known)
        )
        return [(f"{{kind}} pooled over {name}", pooled)], unknown
    return [(f"{s.code} {{kind}}", s) for s in known], unknown


def check_gates(result: EvalResult, gates: Gates) -> list[str]:
    """Failed gates as readable lines (an empty list: all passed).

    A gate on a metric with no data fails. When any gate is set, unreadable labels fail
    too: they would otherwise shrink the sample silently.
    """
    o = result.overall
    failures: list[str] = []
    for spec in GATE_TABLE:
        limit = getattr(gates, spec.gate)
        if limit is not None:
            failures.append(
                _missed(spec.gate, spec.what, getattr(o, spec.metric), limit, spec.direction) or ""
            )
    fault_limits = (
        ("min_fault_precision", "precision", gates.min_fault_precision),
        ("min_fault_recall", "recall", gates.min_fault_recall),
    )
    if any(limit is not None for _, _, limit in fault_limits):
        scored, unknown = _fault_scores(o, gates)
        for name, kind, limit in fault_limits:
            if limit is None:
                continue
            failures += [f"{name}: unknown fault code {code!r}" for code in unknown]
            for what, score in scored:
                value = score.precision if kind == "precision" else score.recall
                failures.append(_missed(name, what.format(kind=kind), value, limit, "min") or "")
    if gates.active and result.unreadable_labels:
        failures.append("unreadable labels: " + ", ".join(result.unreadable_labels))
    return [line for line in failures if line]
