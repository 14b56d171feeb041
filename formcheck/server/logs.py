"""The service's log lines: plain text for a terminal, or one JSON object per line
(`--log-json`) for a log collector, each line of a job carrying its `job` and `upload` ids
as fields (the scoring code logs through `job_log`)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

#: Fields a record may carry (`extra=`) that a JSON line keeps.
FIELDS = ("job", "upload", "worker")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time (ISO 8601, UTC), level, logger, message, the job's
    fields, and the traceback of an exception as `error`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(json_lines: bool, label: str = "") -> None:
    """Log formcheck's INFO lines and up to stderr, as text (prefixed by `label`) or JSON
    (with `label` as the `worker` field)."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
        if label:
            handler.addFilter(_WithWorker(label))
    else:
        prefix = f"{label}: " if label else ""
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {prefix}%(message)s"))
    root = logging.getLogger("formcheck")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


class _WithWorker(logging.Filter):
    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "worker"):
            record.worker = self.label
        return True


def job_log(log: logging.Logger, job_id: int, upload_id: str) -> logging.LoggerAdapter[Any]:
    """`log` for one job: its lines carry the job's and the upload's ids."""
    return logging.LoggerAdapter(log, {"job": job_id, "upload": upload_id})
