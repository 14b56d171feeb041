"""Finding and checking the PoseLandmarker model bundle (a MediaPipe Tasks `.task` file)."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from formcheck.errors import ModelError

DEFAULT_MODEL_NAME = "pose_landmarker_full.task"
MODEL_ENV_VAR = "FORMCHECK_MODEL"
# A Tasks PoseLandmarker bundle is a zip holding exactly these two TFLite models.
REQUIRED_ENTRIES = frozenset({"pose_detector.tflite", "pose_landmarks_detector.tflite"})


@dataclass(frozen=True)
class ModelBundle:
    """A checked model bundle: where it is, its file name and its sha256 (hex)."""

    path: Path
    name: str
    sha256: str


def default_model_path() -> Path:
    """The bundled model: `$FORMCHECK_MODEL`, else `models/` beside the package's source tree."""
    env = os.environ.get(MODEL_ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


@lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_bundle(path: str | Path | None = None) -> ModelBundle:
    """Check that `path` (default: the bundled model) is a PoseLandmarker bundle.

    Raises:
        ModelError: missing file, not a zip, or a zip without the two pose models.
    """
    model = Path(path) if path is not None else default_model_path()
    if not model.is_file():
        hint = "" if path is not None else f" (set --model or ${MODEL_ENV_VAR})"
        raise ModelError(f"pose model not found: {model}{hint}")
    try:
        with zipfile.ZipFile(model) as zf:
            names = {Path(n).name for n in zf.namelist()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{model}: not a PoseLandmarker bundle (not a .task zip)") from exc
    missing = REQUIRED_ENTRIES - names
    if missing:
        raise ModelError(
            f"{model}: not a PoseLandmarker bundle (missing {', '.join(sorted(missing))})"
        )
    stat = model.stat()
    return ModelBundle(model, model.name, _sha256(model.resolve(), stat.st_size, stat.st_mtime_ns))
