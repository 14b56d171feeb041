"""Resuming a batch: which clips already have an up-to-date result.

After each clip the driver writes a small state sidecar (`.state/<key>.json`, atomically,
after the clip's other outputs). It records the input's size and modification time, a hash
of the settings the result was made with, which outputs were written, and the clip's summary
row. A rerun keeps a clip's result, and does no work for it, when all of these hold:

- the sidecar is there and readable (it is written last, so its presence means the clip's
  outputs were completely written);
- the input's size and mtime (ns) are unchanged: cheap, and any re-encode, copy-over or
  edit changes at least one of them;
- the settings hash is the same (configuration and model file);
- every output asked for this time exists (a first run without `--video`, or with
  `--no-html`, and a rerun asking for that output analyses again).

A clip that failed is kept as failed on a rerun too (the same file fails the same way);
`--retry-errors` tries those again and `--force` redoes every clip.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from formcheck.atomic import atomic_write_json
from formcheck.batch.outputs import ClipPaths, ClipRow
from formcheck.config import Config
from formcheck.pose.bundle import check_bundle

STATE_VERSION = 1


def settings_hash(cfg: Config) -> str:
    """A short hash of everything that shapes a result: the configuration and the model
    file's content (its sha256), so another model at the same path counts as a change."""
    basis = {
        "config": cfg.model_dump(mode="json"),
        "model_sha256": check_bundle(cfg.pose.model).sha256,
    }
    text = json.dumps(basis, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def input_fingerprint(path: Path) -> dict[str, int]:
    """The input's size (bytes) and modification time (ns)."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def write_state(
    paths: ClipPaths,
    fingerprint: dict[str, int],
    settings: str,
    outputs: dict[str, bool],
    row: ClipRow,
) -> None:
    """Record the clip's result; call after every other output of the clip is written."""
    atomic_write_json(
        paths.state,
        {
            "version": STATE_VERSION,
            "input": fingerprint,
            "settings": settings,
            "outputs": outputs,
            "row": row.to_dict(),
        },
    )


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == STATE_VERSION else None


def kept_result(
    paths: ClipPaths,
    fingerprint: dict[str, int],
    settings: str,
    *,
    want_video: bool,
    want_landmarks: bool,
    retry_errors: bool,
    want_html: bool = False,
) -> ClipRow | None:
    """The earlier result of this clip, as a "skipped" row, when it may be kept; else None."""
    state = _read(paths.state)
    if state is None or state.get("input") != fingerprint or state.get("settings") != settings:
        return None
    try:
        row = ClipRow.from_dict(state["row"])
    except (KeyError, TypeError, ValueError):
        return None
    if row.result == "error":
        return None if retry_errors else replace(row, status="skipped")
    outputs = state.get("outputs") or {}
    needed = [
        ("report", paths.report, True),
        ("html", paths.html, want_html),
        ("video", paths.video, want_video),
        ("landmarks", paths.landmarks, want_landmarks),
    ]
    for name, path, wanted in needed:
        if wanted and not (outputs.get(name) and path.is_file()):
            return None
    return replace(row, status="skipped")
