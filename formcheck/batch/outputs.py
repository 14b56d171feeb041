"""What a batch writes, and how: every file goes to a temp name beside it, then `os.replace`.

A crash (or Ctrl-C, or a full disk) therefore never leaves a half-written report, video,
landmarks file, state sidecar or summary that a rerun could trust: either the old file or the
complete new one is there. Layout under the output folder, per clip key `K`:

    reports/K.json            the report (the `analyze --json` contract)
    reports/K.html            the self-contained HTML report page (unless `--no-html`)
    videos/K.mp4              the annotated video (`--video`)
    landmarks/K.npz           the saved pose track (`--landmarks`; replay with
                              `formcheck analyze --from-landmarks`)
    .state/K.json             what the result was made from (for resuming; see `resume.py`)
    summary.csv, summary.json one row per clip
    index.html                the summary as a sortable page linking every clip's report
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from formcheck.atomic import atomic_write_json, atomic_write_text

Status = Literal["ok", "error", "skipped"]
Result = Literal["ok", "error"]

REPORTS_DIR = "reports"
VIDEOS_DIR = "videos"
LANDMARKS_DIR = "landmarks"
STATE_DIR = ".state"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
INDEX_HTML = "index.html"


@dataclass(frozen=True)
class ClipPaths:
    """Where one clip's outputs go (absolute paths under the batch's output folder)."""

    report: Path
    html: Path
    video: Path
    landmarks: Path
    state: Path

    @classmethod
    def of(cls, out_dir: Path, key: str) -> ClipPaths:
        return cls(
            report=out_dir / REPORTS_DIR / f"{key}.json",
            html=out_dir / REPORTS_DIR / f"{key}.html",
            video=out_dir / VIDEOS_DIR / f"{key}.mp4",
            landmarks=out_dir / LANDMARKS_DIR / f"{key}.npz",
            state=out_dir / STATE_DIR / f"{key}.json",
        )

    def remove_results(self) -> None:
        """Delete this clip's report, HTML page, video, landmarks and state (a stale result
        must not survive a new failure of the same clip)."""
        for p in (self.report, self.html, self.video, self.landmarks, self.state):
            p.unlink(missing_ok=True)


@dataclass(frozen=True)
class ClipRow:
    """One clip's line in the summary.

    Attributes:
        path: the input file (what the user typed, for an input in error).
        key: the clip's output name (see `inputs.ClipInput.key`).
        status: what this run did: "ok" analysed, "error" failed, "skipped" an up-to-date
            result of an earlier run was kept (see `result`).
        result: the clip's outcome, "ok" or "error", this run's or the kept one.
        duration_s: the video's duration (s), when it was read.
        rep_count: complete reps found.
        score: the set's score (0-100), None when no rep was judged.
        faults: fault code -> number of reps with that fault.
        top_cue: the most frequent cue, "" when there is none.
        warnings: the report's warnings.
        error: the one-line reason of a failure, "" when there is none.
        processing_s: wall time the worker spent on the clip (s), 0 for skipped rows when
            the earlier run's time is unknown.
        report: the report file, relative to the output folder ("" without one).
        worker: which worker analysed it (pid or Ray actor), "" when none did.
    """

    path: str
    key: str
    status: Status
    result: Result
    duration_s: float | None = None
    rep_count: int | None = None
    score: int | None = None
    faults: dict[str, int] = field(default_factory=dict)
    top_cue: str = ""
    warnings: tuple[str, ...] = ()
    error: str = ""
    processing_s: float = 0.0
    report: str = ""
    worker: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClipRow:
        return cls(
            path=str(d["path"]),
            key=str(d["key"]),
            status=d["status"],
            result=d["result"],
            duration_s=d.get("duration_s"),
            rep_count=d.get("rep_count"),
            score=d.get("score"),
            faults={str(k): int(v) for k, v in (d.get("faults") or {}).items()},
            top_cue=str(d.get("top_cue", "")),
            warnings=tuple(d.get("warnings") or ()),
            error=str(d.get("error", "")),
            processing_s=float(d.get("processing_s", 0.0)),
            report=str(d.get("report", "")),
            worker=str(d.get("worker", "")),
        )


CSV_COLUMNS: tuple[str, ...] = (
    "path",
    "key",
    "status",
    "result",
    "duration_s",
    "rep_count",
    "score",
    "faults",
    "top_cue",
    "warnings",
    "error",
    "processing_s",
    "report",
    "worker",
)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # fault counts: "code=n; code=n"
        return "; ".join(f"{k}={v}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return " | ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_csv(rows: Sequence[ClipRow]) -> str:
    """The summary as CSV text: a header, then one line per row (lists joined by " | ")."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        d = row.to_dict()
        writer.writerow([_csv_cell(d[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def write_summary(out_dir: Path, rows: Sequence[ClipRow], extra: dict[str, Any]) -> None:
    """Write `summary.csv`, `summary.json` (rows plus `extra`: counts, timing, backend) and
    `index.html`."""
    atomic_write_text(out_dir / SUMMARY_CSV, summary_csv(rows))
    atomic_write_json(out_dir / SUMMARY_JSON, {**extra, "rows": [r.to_dict() for r in rows]})
    write_index(out_dir, rows)


def index_rows(out_dir: Path, rows: Sequence[ClipRow]) -> list[dict[str, Any]]:
    """The rows of `index.html` (see `report.html.build_index_html`): each clip links to its
    HTML page when there is one, else to its JSON report; a failed clip shows its error."""
    items = []
    for row in rows:
        link = ""
        if row.result == "ok":
            html = ClipPaths.of(out_dir, row.key).html
            link = html.relative_to(out_dir).as_posix() if html.is_file() else row.report
            status = "no reps" if row.rep_count == 0 else "ok"
        else:
            status = f"failed: {row.error}" if row.error else "failed"
        items.append(
            {
                "path": row.path,
                "status": status,
                "reps": row.rep_count,
                "score": row.score,
                "top_cue": row.top_cue,
                "report": link,
            }
        )
    return items


def write_index(out_dir: Path, rows: Sequence[ClipRow]) -> None:
    """Write `index.html`: the summary as a sortable page linking every clip's report."""
    from formcheck.report.html import build_index_html  # jinja2 and plots: only when used

    atomic_write_text(out_dir / INDEX_HTML, build_index_html(index_rows(out_dir, rows)))
