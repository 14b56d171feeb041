"""What the measuring half hands the judging half: one clip's `Measurement`.

The pose model, the band detector, the shot watcher and the panel search each leave a record
of what they saw in a clip; `formcheck.measure.measure_clip` gathers them here, typed, and
the judging half (track, reps, rules, report, overlays) reads them from here and from
nowhere else. On disk a measurement is a landmarks `.npz` (`PoseSequence.save`) whose
`meta` holds the records under the keys `to_meta` names; `Measurement.of` reads them back,
from files of earlier versions too (a record they lack is simply absent).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from formcheck.band.detector import META_KEY as BAND_KEY
from formcheck.band.detector import evidence_of
from formcheck.band.evidence import FrameEvidence
from formcheck.band.retake import META_KEY as RETAKE_KEY
from formcheck.panels import Panel, PanelSample
from formcheck.pose.sequence import PoseSequence
from formcheck.report import ModelInfo
from formcheck.shots import cuts_of, moves_of, view_breaks
from formcheck.video import FileSource, VideoInfo

Record = Mapping[str, Any]
#: Where the file's `meta` keeps the turn the clip was measured with (`FileSource.turn_deg`).
TURN_KEY = "turn_deg"


@dataclass(frozen=True)
class Measurement:
    """Everything the model and the pixel watchers measured in one clip.

    Attributes:
        poses: the pose of every analysed frame (missing frames kept as missing); its own
            `meta` is empty: the records are the fields below.
        video: the clip as measured: its path, frame rate, frame count and duration; width
            and height those of the measured picture (the panel kept, when cut to one).
        model: the pose model bundle used.
        decode_errors: frames the decoder could not read.
        schedule: which frames the models saw (`formcheck.schedule`): the grid stride, the
            parts ([start, stop, keep_from] in decoded frames), the grid frames and the
            frames the models ran on.
        shots: the shot watcher's record of picture changes (`formcheck.shots`); None when
            not watched.
        band: the band detector's record (`BandDetector.meta()`); None without the detector.
        retake: the tops measured again with the band painted out (`band.retake`); None
            when none were.
        turn_deg: quarter turns (deg, counter-clockwise) the frames were turned upright
            (a wrong rotation tag); 0 when none.
        panel: the panel of a split screen the clip was measured in; None: the whole picture.
        panel_candidates: the split-screen panels the first pass saw (`formcheck.panels`).
        panel_samples: frames the first pass kept for the split-screen check
            (`PanelWatch.kept_samples`); not saved (the check is made before saving).
    """

    poses: PoseSequence
    video: VideoInfo
    model: ModelInfo
    decode_errors: int = 0
    schedule: Record = field(default_factory=dict)
    shots: Record | None = None
    band: Record | None = None
    retake: Record | None = None
    turn_deg: int = 0
    panel: Panel | None = None
    panel_candidates: tuple[Panel, ...] = ()
    panel_samples: tuple[PanelSample, ...] = field(default=(), repr=False, compare=False)

    @functools.cached_property
    def band_evidence(self) -> list[FrameEvidence] | None:
        """The band detector's per-frame evidence; None without it (or from a detector of
        another version: its records mean something else)."""
        return evidence_of(self.band)

    @functools.cached_property
    def cuts(self) -> list[float]:
        """The cuts (s) in the shot record (`shots.cuts_of`)."""
        return cuts_of(self.shots)

    @functools.cached_property
    def moves(self) -> list[tuple[float, float]]:
        """The camera's moves (start, end s) in the shot record (`shots.moves_of`)."""
        return moves_of(self.shots)

    @property
    def breaks(self) -> list[float]:
        """Where the view breaks (s): the cuts and the moves' ends (`shots.view_breaks`)."""
        return view_breaks(self.cuts, self.moves)

    @classmethod
    def of(cls, seq: PoseSequence) -> Measurement:
        """The measurement a pose sequence carries in its `meta` (a loaded landmarks file)."""
        meta = seq.meta
        src = meta.get("source", {})
        model = meta.get("model", {})
        return cls(
            poses=replace(seq, meta={}),
            video=VideoInfo(
                path=str(src.get("path", "")),
                fps=float(src.get("fps", 0.0)),
                frame_count=int(src.get("frame_count", len(seq))),
                duration_s=float(src.get("duration_s", 0.0)),
                width=seq.resolution_wh[0],
                height=seq.resolution_wh[1],
            ),
            model=ModelInfo(str(model.get("name", "")), str(model.get("sha256", ""))),
            decode_errors=int(meta.get("decode_errors", 0)),
            schedule=meta.get("schedule", {}),
            shots=meta.get("shots"),
            band=meta.get(BAND_KEY),
            retake=meta.get(RETAKE_KEY),
            turn_deg=int(meta.get(TURN_KEY, 0)),
            panel=Panel.from_meta(meta),
            panel_candidates=tuple(Panel.from_dict(d) for d in meta.get("panel_candidates", [])),
        )

    @classmethod
    def load(cls, path: str | Path) -> Measurement:
        """Read a landmarks file (`save`, or `--landmarks` of any version that `PoseSequence`
        reads).

        Raises:
            LandmarksFileError: missing, unreadable, or not a formcheck landmarks file.
        """
        return cls.of(PoseSequence.load(path))

    def to_meta(self) -> dict[str, Any]:
        """The records as the landmarks file's `meta` keeps them (read back by `of`)."""
        v = self.video
        meta: dict[str, Any] = {
            "source": {
                "path": v.path,
                "fps": v.fps,
                "frame_count": v.frame_count,
                "duration_s": v.duration_s,
                "width": v.width,
                "height": v.height,
            },
            "model": {"name": self.model.name, "sha256": self.model.sha256},
            "decode_errors": self.decode_errors,
            "schedule": dict(self.schedule),
        }
        optional: dict[str, Any] = {
            "shots": self.shots,
            TURN_KEY: self.turn_deg or None,
            "panel_candidates": [p.to_meta() for p in self.panel_candidates] or None,
            BAND_KEY: self.band,
            RETAKE_KEY: self.retake,
            "panel": self.panel.to_meta() if self.panel is not None else None,
        }
        meta.update({k: v for k, v in optional.items() if v is not None})
        return meta

    def sequence(self) -> PoseSequence:
        """The poses with the records in their `meta`, as saved."""
        return replace(self.poses, meta=self.to_meta())

    def save(self, path: str | Path) -> None:
        """Write the landmarks file (atomically, as `PoseSequence.save`)."""
        self.sequence().save(path)

    def frames(self, path: str | Path) -> FileSource:
        """The frames of the clip at `path` as they were measured: turned upright by
        `turn_deg` and cut to `panel` (for the annotated video and the page's stills)."""
        crop = self.panel.box if self.panel is not None else None
        return FileSource(path, crop=crop, turn_deg=self.turn_deg)

    def named(self, path: str) -> Measurement:
        """A copy that names `path` as the clip measured."""
        return replace(self, video=replace(self.video, path=path))
