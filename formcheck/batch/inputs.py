"""Which clips a batch covers: files, folders (searched recursively) and glob patterns.

Every INPUT the user named gives at least one `ClipInput`: a path that does not exist, or a
pattern that matches nothing, becomes an input with an `error`, so it gets its own error row
in the summary instead of vanishing silently.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# File name endings (lower case) a folder search takes as videos; a file named explicitly is
# always taken, whatever its name, and fails later if it is not a video.
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class ClipInput:
    """One clip of the batch.

    Attributes:
        key: the clip's name in the outputs (POSIX relative path without suffix, unique in
            the batch, e.g. "clientA/set1"); its report is `reports/<key>.json`.
        path: the file (absolute); for an input in error, what the user typed.
        error: why the input cannot be analysed (missing path, nothing matched), else None.
    """

    key: str
    path: Path
    error: str | None = None


def _is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _problem(path: Path) -> str | None:
    """Why an existing name is not a clip to read: a dangling link, or not a regular file (a
    pipe would block the decoder for ever, a device never ends); None for a regular file."""
    if path.is_symlink() and not path.exists():
        return f"{path}: a broken link (its target is gone)"
    if not path.is_file():
        return f"{path}: not a regular file (a pipe, socket or device)"
    return None


Found = tuple[str, Path, str | None]  # (key, path, why it cannot be read, or None)


def _named(path: Path) -> Found:
    """A file named on the command line (or matched by a glob): keyed by its stem, at its
    resolved path (a link's own, when the link is broken and has nothing to resolve to)."""
    return path.stem, path.absolute() if path.is_symlink() else path.resolve(), _problem(path)


def _walk(folder: Path, exclude: Path | None) -> list[Found]:
    """The videos under `folder` (see `Found`), keys prefixed with the folder's own name so
    that two folders holding `set1.mp4` stay apart; hidden folders and `exclude` are skipped.
    A video name that is a broken link or not a regular file is kept, with its problem."""
    found: list[Found] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts[:-1]) or _inside(path, exclude):
            continue
        if path.is_dir() or not _is_video_name(path):
            continue
        key = (Path(folder.name or "clips") / rel.with_suffix("")).as_posix()
        found.append((key, path, _problem(path)))
    return found


def _expand(item: str, exclude: Path | None) -> list[Found] | str:
    """What one INPUT stands for, or the error message when it gives nothing."""
    path = Path(item).expanduser()
    if path.is_dir():
        found = _walk(path.resolve(), exclude)
        return found or f"{item}: no video files ({', '.join(VIDEO_SUFFIXES)}) in this folder"
    if path.exists() or path.is_symlink():
        return [_named(path)]
    if _GLOB_CHARS & set(item):
        pairs: list[Found] = []
        for match in sorted(glob.glob(str(path), recursive=True)):
            m = Path(match)
            if m.is_dir():
                pairs.extend(_walk(m.resolve(), exclude))
            elif not _inside(m.resolve(), exclude):
                pairs.append(_named(m))
        return pairs or f"{item}: no file matches this pattern"
    return f"{item}: no such file or folder"


def _unique(key: str, taken: set[str]) -> str:
    """`key`, or `key-2`, `key-3`, ... when already used (deterministic for a given input
    order, so a rerun over the same INPUTs maps each clip to the same outputs)."""
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    taken.add(candidate)
    return candidate


def collect_inputs(items: Sequence[str], exclude: Path | None = None) -> list[ClipInput]:
    """The clips named by `items` (files, folders, globs), in the order given, each once.

    Args:
        items: what the user typed; folders are searched recursively for `VIDEO_SUFFIXES`.
        exclude: a folder whose files are never inputs (the batch's own output folder,
            which holds annotated videos when the output lies inside an input folder).
    """
    exclude = exclude.resolve() if exclude is not None else None
    seen: set[Path] = set()
    taken: set[str] = set()
    clips: list[ClipInput] = []
    for item in items:
        expanded = _expand(item, exclude)
        if isinstance(expanded, str):
            clips.append(ClipInput(_unique(_safe_key(item), taken), Path(item), expanded))
            continue
        for key, path, problem in expanded:
            if path in seen:  # the same file through two INPUTs: analyse it once
                continue
            seen.add(path)
            clips.append(ClipInput(_unique(_safe_key(key), taken), path, problem))
    return clips


def _safe_key(text: str) -> str:
    """A relative output name from user text: no leading '/', no '..', no empty parts."""
    parts = [p for p in Path(text).as_posix().split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "clip"


def video_count(clips: Iterable[ClipInput]) -> int:
    """How many of `clips` can be analysed (have no input error)."""
    return sum(1 for c in clips if c.error is None)
