"""Domain exceptions raised at the input boundary.

Each carries the process exit code the CLI uses for it, so the mapping lives in one place
(the README's table of exit codes is generated from the same numbers).
"""

from __future__ import annotations


class FormcheckError(Exception):
    """Base class: a problem the user can act on; printed as one line, never a traceback."""

    exit_code: int = 1


class ConfigError(FormcheckError):
    """The configuration file or an option value is invalid."""

    exit_code = 2


class VideoOpenError(FormcheckError):
    """The input is missing, unreadable, not a video, or truncated before any frame."""

    exit_code = 3


class EmptyVideoError(VideoOpenError):
    """The file opens as a video but holds no decodable frame."""

    exit_code = 3


class ModelError(FormcheckError):
    """The pose model bundle is missing or is not a PoseLandmarker bundle."""

    exit_code = 4


class NoPersonError(FormcheckError):
    """No person was found in (enough of) the video to analyse it."""

    exit_code = 5


class NoRepsError(FormcheckError):
    """The clip was analysed but holds no complete hip-thrust rep (the report is still written)."""

    exit_code = 6


class LandmarksFileError(FormcheckError):
    """A saved landmarks file is missing or malformed."""

    exit_code = 3


class ReportFileError(FormcheckError):
    """A saved report JSON is missing, unreadable, or breaks the report contract."""

    exit_code = 3


class LabelError(FormcheckError):
    """A label file, or a folder of labelled clips, is missing or malformed."""

    exit_code = 3


class GateError(FormcheckError):
    """`formcheck eval` measured accuracy below a --min-*/--max-* gate."""

    exit_code = 7


class CameraError(FormcheckError):
    """`formcheck live`: the camera or stream is missing, busy, or sends no frame."""

    exit_code = 8


class BatchFailedError(FormcheckError):
    """`formcheck batch` finished, but some clips failed (their rows in the summary say why)."""

    exit_code = 9


class DataBusyError(FormcheckError):
    """`formcheck serve`: another server already runs on the data folder."""

    exit_code = 10


class OutputError(FormcheckError):
    """`formcheck batch`: the output folder cannot be written (read-only, full disk)."""

    exit_code = 11


class DatabaseError(FormcheckError):
    """`formcheck serve`, `worker` and `db`: the database cannot be reached, or its schema is
    newer than this formcheck."""

    exit_code = 12


class StoreError(FormcheckError):
    """`formcheck serve` and `worker`: the clip store (`--store`) cannot be reached or used."""

    exit_code = 13


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so a batch stops as on Ctrl-C (the finished clips
    and the summary kept), then exits 143."""

    exit_code = 143


EXIT_CODES: dict[int, str] = {
    0: "analysis done (a report may still say what it could not judge)",
    1: "unexpected internal error (a bug: please report it)",
    2: "bad command-line option or configuration file",
    3: "input video, landmarks or report file missing, unreadable, not a video, or empty",
    4: "pose model bundle missing or invalid",
    5: "no person found in the video",
    6: "analysed, but no complete hip-thrust rep found (reports are still written)",
    7: "formcheck eval: an accuracy gate was missed (live-bench --check: a latency target)",
    8: "formcheck live: camera or stream missing, busy, or sending no frame",
    9: "formcheck batch: finished, but some clips failed (see the summary's error rows)",
    10: "formcheck serve: another server already uses the data folder",
    11: "formcheck batch: the output folder cannot be written (read-only, or the disk is full)",
    12: "formcheck serve, worker, db: the database cannot be reached, or is newer than formcheck",
    13: "formcheck serve, worker: the clip store (--store) cannot be reached",
    130: "interrupted (Ctrl-C)",
    143: "formcheck batch: stopped by SIGTERM (finished clips and the summary kept)",
}
