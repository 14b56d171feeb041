"""Short clips for the tests that need a real video but not a whole set: a bundled sample
cut to its first rep or two, with a label of its own beside it, made once per test run.

The samples hold three reps over 12-16 s; the batch, server, benchmark and live tests prove
what they prove on one or two, and the pose model's time over video is most of the suite's.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

from edits import cut_window

from formcheck.video import probe

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"
#: Seconds kept after the last rep kept: the hips settle at the bottom, the rep closes
#: (never into the next rep's lift).
TAIL_S = 1.0


@functools.cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="formcheck-short-clips-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@functools.cache
def short_sample(name: str, reps: int = 1) -> Path:
    """The sample `name` (a stem in sample_videos/) cut to its first `reps` reps, as
    `<name>.mp4` with its label `<name>.json` (those reps only) in a folder of its own."""
    label = json.loads((SAMPLES / f"{name}.json").read_text())
    kept = label["reps"][:reps]
    end_s = kept[-1]["end_s"] + TAIL_S
    if reps < len(label["reps"]):
        end_s = min(end_s, label["reps"][reps]["start_s"] - 0.1)
    folder = _folder() / f"{reps}rep"
    folder.mkdir(exist_ok=True)
    out = cut_window(SAMPLES / f"{name}.mp4", folder / f"{name}.mp4", 0.0, end_s)
    info = probe(out)
    video = {
        **label["video"],
        "duration_s": round(info.duration_s, 6),
        "frame_count": info.frame_count,
    }
    faults = sorted({f for r in kept for f in r["faults"]})
    short = {**label, "reps": kept, "rep_count": reps, "faults_seen": faults, "video": video}
    out.with_suffix(".json").write_text(json.dumps(short, indent=1))
    return out
