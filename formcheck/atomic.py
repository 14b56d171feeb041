"""Atomic file writes: a temp file beside the target, fsynced, then `os.replace`.

A crash, Ctrl-C or a full disk therefore never leaves a half-written report, page,
summary or state file that a reader (or a resumed batch) could trust: either the old file
or the complete new one is there. Used by every writer of outputs in formcheck.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a unique temp file in the same folder and a rename.

    The temp file is in the same folder so that `os.replace` is a rename on one file system
    (atomic on POSIX and Windows); it is fsynced first so the rename never publishes a file
    whose bytes are still only in the page cache. On any failure the temp file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would, so
        # reports in a shared or served folder stay readable.
        if hasattr(os, "fchmod"):  # POSIX only
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> None:
    """`atomic_write_bytes` for JSON (indented, trailing newline)."""
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
