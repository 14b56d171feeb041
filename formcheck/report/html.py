"""The self-contained HTML report of one set, and the index page of a batch.

One file a person can open offline, scroll on a phone, or send to a coach: inline CSS,
inline SVG plots (`plots.py`), base64 JPEG stills (`stills.py`), no script, and no URL of
any kind. The builder works from the report's JSON contract, so the same page comes out
of three doors:

- `build_report_html(report_dict, angle=..., stills=...)`: the core, for any caller that
  already has the data (the server, batch);
- `formcheck.outputs.report_html(analysis, video)`: straight after `analyze_video`;
- `report_html_from_files(report.json, landmarks.npz, video)`: later, from saved files
  (without landmarks there is no per-frame curve and no skeleton; without the video the
  skeleton is drawn on a plain background).

`build_index_html(rows)` is the batch's `index.html`: one sortable table row per clip.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import cv2
import jinja2
import jsonschema
import numpy as np
from markupsafe import Markup

from formcheck import __version__
from formcheck.atomic import atomic_write_text
from formcheck.config import Config, RulesConfig
from formcheck.errors import ReportFileError
from formcheck.no_reps import NO_REPS
from formcheck.report.json_io import validate_report
from formcheck.report.model import view_words
from formcheck.report.plots import COLORS, AngleSeries, angle_timeline_svg, trend_svgs
from formcheck.report.stills import draw_still, encode_jpeg, frames_at, top_time_s
from formcheck.rules import RULES
from formcheck.video import FileSource
from formcheck.video.frames import ImageBGR

if TYPE_CHECKING:
    from formcheck.measurement import Measurement
    from formcheck.track import PoseTrack

# What each rule measures, as the card's row label, and the unit of its value.
_MEASURES: dict[str, tuple[str, str]] = {rule.id: (rule.label, rule.unit) for rule in RULES}
# Score colours: at or above the first a set is good, at or above the second it is fair.
GOOD_SCORE = 85
FAIR_SCORE = 60
JPEG_QUALITY = 76


@cache
def _env() -> jinja2.Environment:
    """The template environment; autoescaping on, so clip names and cues cannot inject HTML."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("formcheck.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _fmt_value(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        return value
    if unit == "deg":
        return f"{value:.0f}°"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:g}"


def _fmt_target(target: str) -> tuple[str, str]:
    """The rule's target text, typeset ("165-195 deg" -> "165–195°", ">=" -> "≥"), split
    into the range and its parenthesised note ("straight line = 180"), which a narrow card
    shows as a tooltip only."""
    text = target.replace(" deg", "°").replace(">=", "≥").replace("<=", "≤").replace("-", "–")
    head, _, note = text.partition(" (")
    return head, note.rstrip(")")


def _score_class(score: int | None) -> str:
    if score is None:
        return "none"
    return "good" if score >= GOOD_SCORE else "fair" if score >= FAIR_SCORE else "poor"


def _card(rep: Mapping[str, Any], still: str | None) -> dict[str, Any]:
    """What one rep's card shows (plain values; the template does the markup)."""
    rows = []
    notes = []
    for f in rep.get("findings", []):
        label, unit = _MEASURES.get(f["rule"], (f["rule"].replace("_", " ").capitalize(), ""))
        status = f["status"]
        target, note = _fmt_target(str(f.get("target", "")))
        why = ""
        if status == "not_judged":
            # The rule's reason, unless it only repeats "not judged".
            reason = str(f.get("cue") or "")
            why = "not judged" + (
                ""
                if not reason or reason.endswith("not judged")
                else f": {reason[:1].lower()}{reason[1:]}"
            )
        rows.append(
            {
                "label": label,
                "value": _fmt_value(f.get("value"), unit),
                "target": target,
                "target_note": note,
                "status": status,
                "fault": (f.get("fault") or "").replace("_", " "),
                "why": why,
            }
        )
        if f.get("cue") and status == "fault":
            notes.append({"status": status, "label": label, "cue": f["cue"]})
    return {
        "index": rep["index"],
        "anchor": f"rep-{rep['index']}",
        "score": rep.get("score"),
        "score_class": _score_class(rep.get("score")),
        "faulty": any(f["status"] == "fault" for f in rep.get("findings", [])),
        "time": f"{_fmt_value(rep.get('start_s'), 's')} – {_fmt_value(rep.get('end_s'), 's')}",
        "lift": _fmt_value(rep.get("concentric_s"), "s"),
        "rows": rows,
        "notes": notes,
        "still": still,
    }


def _data_uri(image_bgr: ImageBGR) -> str:
    data = base64.b64encode(encode_jpeg(image_bgr, JPEG_QUALITY)).decode("ascii")
    return f"data:image/jpeg;base64,{data}"


def _analysed_at(report: Mapping[str, Any]) -> datetime | None:
    """The report's analysis time (UTC), or None when it has none or an unreadable one."""
    try:
        when = datetime.fromisoformat(str(report["analysed_at"]))
    except (KeyError, ValueError):
        return None
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)


def build_report_html(
    report: Mapping[str, Any],
    *,
    angle: AngleSeries | None = None,
    stills: Mapping[int, ImageBGR] | None = None,
    rules: RulesConfig | None = None,
    generated: datetime | None = None,
    title: str = "Hip thrust report",
) -> str:
    """The whole self-contained page for one set.

    Args:
        report: the JSON contract (`SetReport.to_dict()`, or a loaded report file).
        angle: the per-frame signed hip angle; None draws only the reps' tops.
        stills: rep index -> still image (BGR, skeleton already drawn; see
            `stills.draw_still`); reps without one get a card without a picture.
        rules: the thresholds the plots draw as targets (default: the defaults).
        generated: when the set was analysed (default: the report's `analysed_at`, or now
            for a report from before it was recorded; shown in UTC).
        title: the page title.
    """
    rules = rules or RulesConfig()
    generated = generated or _analysed_at(report) or datetime.now(timezone.utc)
    stills = stills or {}
    reps: list[dict[str, Any]] = list(report.get("reps", []))
    source: Mapping[str, Any] = report.get("source", {})
    summary: Mapping[str, Any] = report.get("summary", {})
    view: Mapping[str, Any] = report.get("view", {})
    clip = PurePath(str(source.get("path") or "")).name or "clip"
    score = summary.get("score")
    faulty = [
        r["index"] for r in reps if any(f["status"] == "fault" for f in r.get("findings", []))
    ]
    cards = [
        _card(r, _data_uri(stills[r["index"]]) if r["index"] in stills else None) for r in reps
    ]
    duration = float(source.get("duration_s") or 0.0)
    warnings = [str(w) for w in report.get("warnings", [])]
    context = {
        "title": title,
        "clip": clip,
        "clip_path": str(source.get("path") or ""),
        "date": generated.strftime("%Y-%m-%d %H:%M %Z").strip(),
        "duration": _fmt_value(duration, "s"),
        "size": f"{source.get('width', '?')}×{source.get('height', '?')}",
        "view_words": view_words(view.get("head"), view.get("side")),
        "view_ok": bool(view.get("ok", True)),
        "view_message": view.get("message", ""),
        "rep_count": summary.get("rep_count", len(reps)),
        "score": score,
        "score_class": _score_class(score),
        "cues": list(summary.get("cues", []))[:3],
        "faulty": faulty,
        "faults": dict(summary.get("faults", {})),
        "warnings": [w for w in warnings if not w.startswith(NO_REPS)],
        # What was seen in a clip without a complete rep: said where the cues would be.
        "no_reps": [w[len(NO_REPS) :].lstrip(": ") for w in warnings if w.startswith(NO_REPS)],
        "timeline": Markup(angle_timeline_svg(reps, rules, angle, duration, "wide")),
        "timeline_compact": Markup(angle_timeline_svg(reps, rules, angle, duration, "compact")),
        "trends": {k: Markup(v) for k, v in trend_svgs(reps, rules).items()},
        "cards": cards,
        "colors": COLORS,
        "top": rules.top_alignment,
        "model": (report.get("model") or {}).get("name", ""),
        "version": __version__,
        "schema_version": report.get("schema_version", ""),
    }
    return _env().get_template("report.html.j2").render(context)


def stills_for(
    reps: Sequence[Mapping[str, Any]],
    track: PoseTrack | None,
    measured: Measurement | None,
    video: str | Path | None,
) -> dict[int, ImageBGR]:
    """One still per rep at the middle of its top hold.

    With the `video`, the frame itself (as `measured` saw it: turned, cut to its panel);
    without it, a plain background. The skeleton needs the `track` (and the whole body, for
    framing and the plain background, the poses the track was built from, `measured`).
    With neither track nor video there are no stills.

    Raises:
        VideoOpenError: `video` cannot be read.
    """
    if track is None and video is None:
        return {}
    times = [top_time_s(r) for r in reps]
    images: list[ImageBGR | None] = (
        frames_at(measured.frames(video) if measured is not None else FileSource(video), times)
        if video is not None
        else [None] * len(times)
    )
    out: dict[int, ImageBGR] = {}
    for rep, t, image in zip(reps, times, images, strict=True):
        joints = body = None
        if track is not None and len(track):
            i = int(np.argmin(np.abs(track.t_s - t)))
            joints = track.joints_xy_px[i]
            if measured is not None and len(measured.poses) == len(track):
                body = measured.poses.xy_px[i].astype(np.float64)
            wh = track.resolution_wh
        elif image is not None:
            wh = (image.shape[1], image.shape[0])
        else:
            continue
        if image is not None and (image.shape[1], image.shape[0]) != wh:
            # A frame from a differently sized file: scale it to the landmarks' size.
            image = np.asarray(cv2.resize(image, wh, interpolation=cv2.INTER_AREA), np.uint8)
        out[int(rep["index"])] = draw_still(image, wh, joints, body)
    return out


def load_report_json(path: str | Path) -> dict[str, Any]:
    """A saved report, checked against the contract.

    Raises:
        ReportFileError: missing, not JSON, or not a formcheck report.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportFileError(f"{path}: no such report file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportFileError(f"{path}: not a JSON report ({exc})") from exc
    except RecursionError:  # thousands of nested brackets: a hostile or broken file
        raise ReportFileError(f"{path}: not a formcheck report (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ReportFileError(f"{path}: not a formcheck report")
    try:
        validate_report(data)
    except jsonschema.ValidationError as exc:
        raise ReportFileError(f"{path}: not a formcheck report ({exc.message})") from exc
    except RecursionError:
        raise ReportFileError(f"{path}: not a formcheck report (nested too deeply)") from None
    return data


def report_html_from_files(
    report_json: str | Path,
    landmarks: str | Path | None = None,
    video: str | Path | None = None,
    cfg: Config | None = None,
    generated: datetime | None = None,
) -> str:
    """The page rebuilt from a saved report, its saved landmarks and (optionally) the video.

    The landmarks give the per-frame hip angle and the skeleton; the track is rebuilt with
    `cfg.track` (use the analysis's own configuration for the same curve).

    Raises:
        ReportFileError, LandmarksFileError, VideoOpenError: an input cannot be read.
    """
    from formcheck.measurement import Measurement
    from formcheck.track import build_track

    cfg = cfg or Config()
    report = load_report_json(report_json)
    measured = track = angle = None
    if landmarks is not None:
        measured = Measurement.load(landmarks)
        track = build_track(measured.poses, cfg.track, measured.breaks)
        angle = AngleSeries(track.t_s, track.hip_angle_deg)
    stills = stills_for(report["reps"], track, measured, video)
    return build_report_html(
        report, angle=angle, stills=stills, rules=cfg.rules, generated=generated
    )


def write_html(text: str, path: str | Path) -> None:
    """Write a page atomically (temp file + rename), so a reader never sees half of it."""
    atomic_write_text(path, text)


def _href(link: Any) -> str | None:
    """A relative link, percent-encoded; None for no link.

    Only relative links are kept: the index must open offline, from any folder it is
    copied to with the reports beside it.
    """
    if not link:
        return None
    text = str(link).replace(os.sep, "/")
    if "://" in text or text.startswith(("/", "//")):
        raise ValueError(f"index links must be relative, got {text!r}")
    return quote(text, safe="/#._-~")


def build_index_html(
    rows: Sequence[Mapping[str, Any]],
    title: str = "formcheck batch",
    generated: datetime | None = None,
) -> str:
    """The batch's `index.html`: a sortable table, one row per clip.

    Each row: `path` (the clip), `status` (e.g. "ok", "no reps", "failed: ..."), `reps`
    (int or None), `score` (0-100 or None), `top_cue` (str, "" when nothing to fix) and
    `report` (a link to the clip's report page, relative to the index; optional).
    Click a column head to sort (a few lines of inline script; no library).

    Raises:
        ValueError: a `report` link is absolute or a URL.
    """
    generated = generated or datetime.now(timezone.utc)
    items = []
    for row in rows:
        score = row.get("score")
        reps = row.get("reps")
        status = str(row.get("status", ""))
        items.append(
            {
                "clip": PurePath(str(row.get("path", ""))).name or str(row.get("path", "")),
                "path": str(row.get("path", "")),
                "status": status,
                "status_class": "ok" if status.lower() in ("ok", "done") else "bad",
                "reps": reps,
                "score": score,
                "score_class": _score_class(score if isinstance(score, int) else None),
                "cue": row.get("top_cue") or "",
                "href": _href(row.get("report")),
            }
        )
    scores = [i["score"] for i in items if isinstance(i["score"], (int, float))]
    context = {
        "title": title,
        "date": generated.strftime("%Y-%m-%d %H:%M %Z").strip(),
        "rows": items,
        "clip_count": len(items),
        "rep_total": sum(i["reps"] for i in items if isinstance(i["reps"], int)),
        "mean_score": round(sum(scores) / len(scores)) if scores else None,
        "version": __version__,
    }
    return _env().get_template("index.html.j2").render(context)
