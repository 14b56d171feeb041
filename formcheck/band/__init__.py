"""Band detection from pixels: where does the resistance band sit during each rep?

- `colors`: the named band colours as pixel classes;
- `evidence`: per-frame evidence around the landmarks (hip strand, knee loop, crease,
  the person's clothing and the background);
- `detector`: the streaming hook `BandDetector` that samples frames during pose estimation
  and stores its records in `Measurement.band` (`BandThread` runs it on a thread);
- `judge`: each rep's placement (hips, knees, both, none, unknown) from those records;
- `outline`: the outline of the band found, for the annotated video.
"""

from formcheck.band.colors import BAND_COLOR_NAMES
from formcheck.band.detector import BandDetector, BandThread, evidence_of
from formcheck.band.evidence import ColorEvidence, FrameEvidence, measure_frame
from formcheck.band.judge import BandJudgement, judge_rep, judge_reps
from formcheck.band.outline import band_outline_px

__all__ = [
    "BAND_COLOR_NAMES",
    "BandDetector",
    "BandJudgement",
    "BandThread",
    "ColorEvidence",
    "FrameEvidence",
    "band_outline_px",
    "evidence_of",
    "judge_rep",
    "judge_reps",
    "measure_frame",
]
