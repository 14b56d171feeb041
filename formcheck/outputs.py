"""The files one analysed clip is written to: the report (the JSON contract), its landmarks,
the annotated video and the HTML page.

`write_outputs` is the one call that `formcheck analyze`, a batch worker and the server's
scoring worker make once a clip is analysed; each says only where the files go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formcheck.annotate import write_annotated_video
from formcheck.config import RulesConfig
from formcheck.errors import FormcheckError
from formcheck.judge import Analysis
from formcheck.report import validate_report, write_json
from formcheck.report.html import build_report_html, stills_for, write_html
from formcheck.report.plots import AngleSeries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipOutputs:
    """Where an analysed clip's files go (None: that file is not made).

    json: the report; landmarks: the pose sequence (`.npz`, replayed by `analyze
    --from-landmarks`); video: the annotated H.264 MP4; html: the self-contained page.
    """

    json: Path | None = None
    landmarks: Path | None = None
    video: Path | None = None
    html: Path | None = None


def report_html(
    analysis: Analysis,
    video: str | Path | None = None,
    rules: RulesConfig | None = None,
    report: dict[str, Any] | None = None,
) -> str:
    """The HTML page of an analysed clip, its stills taken from `video` (None: the skeleton
    on a plain background). Should a frame not be readable again, the page is made with the
    plain background rather than lose the clip's report. `report`: the analysis's report in
    the JSON contract, when the caller has made it already."""
    report = report if report is not None else analysis.report.to_dict()
    track = analysis.track
    angle = AngleSeries(track.t_s, track.hip_angle_deg)
    try:
        stills = stills_for(report["reps"], track, analysis.measurement, video)
    except FormcheckError as exc:
        log.warning(
            "%s: no pictures in the HTML report (%s)",
            analysis.report.source.path,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
        stills = stills_for(report["reps"], track, analysis.measurement, None)
    return build_report_html(report, angle=angle, stills=stills, rules=rules)


def write_outputs(
    analysis: Analysis,
    outputs: ClipOutputs,
    video: str | Path | None,
    rules: RulesConfig,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Check the report against the contract, then write the files `outputs` asks for, each
    atomically (a temp file renamed: never half-written), the report first (the cheapest,
    and the one a failure later must not lose).

    Args:
        video: the analysed clip (the annotated video and the page's stills are drawn on
            its frames); None when analysed from landmarks alone (no annotated video).
        progress: (frames done, total) while the annotated video is written.

    Returns:
        The report as written (the JSON contract).

    Raises:
        ValueError: an annotated video is asked for without the clip.
        jsonschema.ValidationError: the report breaks the contract (a bug).
    """
    if outputs.video is not None and video is None:
        raise ValueError("the annotated video needs the clip itself")
    data = analysis.report.to_dict()
    validate_report(data)
    if outputs.json is not None:
        write_json(data, outputs.json)
    if outputs.landmarks is not None:
        analysis.measurement.save(outputs.landmarks)
    if outputs.video is not None and video is not None:
        write_annotated_video(video, analysis, outputs.video, progress)
    if outputs.html is not None:
        write_html(report_html(analysis, video, rules, data), outputs.html)
    return data
