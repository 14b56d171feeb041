"""Labels: a clip's hand-made or generated truth, one typed model for writing and reading.

Label format (shared by the team's real clips and the clips `formcheck.synth` generates;
see the real clips' README): a JSON object with `reps`, a list of `{start_s, top_start_s,
top_end_s, end_s}` in seconds from the clip's start, optionally with the per-rep extras
`hip_angle_top_deg` (signed, 180 = straight), `knee_angle_top_deg`, `shin_tilt_top_deg`,
`concentric_s`, `pause_s`, `eccentric_s`, `band` (none/hips/knees/both) and `faults` (fault
codes as in the report); and at the top level optionally `clip`, `usable`, `view`, `band`,
`rep_count`, `faults_seen` and any other keys (kept as they are in `extra`). A label that
gives only the times gives the pause (`top_start_s` to `top_end_s`) and the lowering
(`top_end_s` to `end_s`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formcheck.errors import LabelError
from formcheck.rules import RULES

log = logging.getLogger(__name__)

#: Video files a label may sit beside (lower or upper case), in order of preference.
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
BOUNDARIES: tuple[str, ...] = ("start", "top_start", "top_end", "end")
BANDS: tuple[str, ...] = ("none", "hips", "knees", "both")
VIEWS: tuple[str, ...] = ("side_left", "side_right", "oblique", "front", "mixed")
#: The form faults, those of the body's position at the top (the knee-hip-shoulder line and
#: the shins): a rep with none of them is clean; the false-fault rate counts them. The pause
#: and the lowering are scored against the labelled times instead.
FORM_RULES: tuple[str, ...] = ("top_alignment", "shin_angle")
FORM_FAULTS: tuple[str, ...] = tuple(
    code for rule in RULES if rule.id in FORM_RULES for code in rule.faults
)

RepTimes = tuple[float, float, float, float]  # start_s, top_start_s, top_end_s, end_s


#: The per-rep values a label may give (besides the times), in the order a label lists them.
REP_VALUES: tuple[str, ...] = (
    "concentric_s",
    "pause_s",
    "eccentric_s",
    "hip_angle_top_deg",
    "knee_angle_top_deg",
    "shin_tilt_top_deg",
)


@dataclass(frozen=True)
class LabelRep:
    """One labelled complete rep: times in seconds from the clip's start, and the extras.

    Extras are None when the label does not give them; `faults` is None when the rep's
    faults are not labelled and () when it is labelled as faultless; `extra` keeps any
    other key of the rep as written (the generator's `rest_before_s`, a person's notes).
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
    concentric_s: float | None = None
    shin_tilt_top_deg: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_s <= self.top_start_s <= self.top_end_s <= self.end_s:
            raise ValueError("rep times must satisfy 0 <= start <= top_start <= top_end <= end")

    @property
    def times_s(self) -> RepTimes:
        return (self.start_s, self.top_start_s, self.top_end_s, self.end_s)

    def to_dict(self) -> dict[str, Any]:
        """The rep as a label lists it: the times, the values given, band, faults, extra."""
        out: dict[str, Any] = {f"{b}_s": t for b, t in zip(BOUNDARIES, self.times_s, strict=True)}
        out.update({k: getattr(self, k) for k in REP_VALUES if getattr(self, k) is not None})
        if self.band is not None:
            out["band"] = self.band
        if self.faults is not None:
            out["faults"] = list(self.faults)
        return {**out, **self.extra}


@dataclass(frozen=True)
class ClipLabel:
    """A clip's label: what the generator writes and `load_label` reads.

    Attributes:
        reps: the complete reps, in time order.
        usable: False for clips that are not one continuous shot of one person.
        view: `side_left` (head on the image's left), `side_right`, ... or None.
        band: the clip's band placement (none/hips/knees/both) or None.
        faults_seen: what a person saw wrong in the clip (free text; () when nothing, None
            when the label does not say).
        clip: the clip's file name as the label gives it (None: not given).
        extra: the label's other keys, as written (`video`, `segments`, `generator`, ...).
        path: the label file it was read from (None for a label not read from a file).
        video: the video it labels, found beside it (None when there is no such file).
    """

    reps: tuple[LabelRep, ...]
    usable: bool = True
    view: str | None = None
    band: str | None = None
    faults_seen: tuple[str, ...] | None = None
    clip: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None
    video: Path | None = None

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

    def to_dict(self) -> dict[str, Any]:
        """The label's JSON object (`load_label` reads it back to an equal label, but for
        `path` and `video`, which say where it was read)."""
        out: dict[str, Any] = {} if self.clip is None else {"clip": self.clip}
        out["usable"] = self.usable
        for key in ("view", "band"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["reps"] = [r.to_dict() for r in self.reps]
        out["rep_count"] = len(self.reps)
        if self.faults_seen is not None:
            out["faults_seen"] = list(self.faults_seen)
        return {**out, **self.extra}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
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
    values = {k: _optional_number(raw.get(k), f"{where}.{k}") for k in REP_VALUES}
    # A label that gives the times gives the pause and the lowering: the hold from
    # top_start to top_end, the lowering from top_end to end (the real clips' convention).
    if values["pause_s"] is None:
        values["pause_s"] = top_end - top_start
    if values["eccentric_s"] is None:
        values["eccentric_s"] = end - top_end
    faults_raw = raw.get("faults")
    faults: tuple[str, ...] | None = None
    if faults_raw is not None:
        if not isinstance(faults_raw, list) or not all(isinstance(f, str) for f in faults_raw):
            raise LabelError(f"{where}.faults: expected a list of fault codes")
        faults = tuple(faults_raw)
    known = {f"{b}_s" for b in BOUNDARIES} | set(REP_VALUES) | {"band", "faults"}
    try:
        return LabelRep(
            start,
            top_start,
            top_end,
            end,
            **values,
            band=_choice(raw.get("band"), BANDS, f"{where}.band"),
            faults=faults,
            extra={k: v for k, v in raw.items() if k not in known},
        )
    except ValueError as exc:
        raise LabelError(f"{where}: {exc}") from exc


def load_label(path: str | Path) -> ClipLabel:
    """Read and check one label file.

    The video is the one beside the label with the same stem, else the label's `clip`
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
    video = _video_beside(path)
    if video is None and isinstance(data.get("clip"), str):
        named = path.parent / data["clip"]
        video = named if named.is_file() else None
    known = {"clip", "usable", "view", "band", "reps", "rep_count", "faults_seen"}
    return ClipLabel(
        reps=reps,
        usable=usable,
        view=_choice(data.get("view"), VIEWS, f"{path}: view"),
        band=_choice(data.get("band"), BANDS, f"{path}: band"),
        faults_seen=_faults_seen(data.get("faults_seen"), path),
        clip=data["clip"] if isinstance(data.get("clip"), str) else None,
        extra={k: v for k, v in data.items() if k not in known},
        path=path,
        video=video,
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
