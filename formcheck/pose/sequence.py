"""A whole clip's pose frames as stacked arrays, and its file format (`--landmarks`).

Saving landmarks lets the rules be re-run without the model (`analyze --from-landmarks`),
and recorded landmark files make fast, model-free test fixtures.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from formcheck.errors import LandmarksFileError
from formcheck.pose.landmarks import N_LANDMARKS, PoseFrame

FORMAT_VERSION = 1


@dataclass(frozen=True)
class PoseSequence:
    """Stacked per-frame landmarks of one clip (T frames; see `PoseFrame` for units).

    Attributes:
        t_s: (T,) frame times in seconds; index: (T,) decoded-frame indices.
        xy_px, z, visibility, presence, world_xyz_m, people: `PoseFrame` fields stacked
            over time; missing frames are NaN (xy, z, world) and 0 (visibility, presence).
        resolution_wh: frame size in pixels.
        meta: what the file keeps besides the poses: a `Measurement`'s records
            (`Measurement.to_meta`: the source, the model, the band evidence...), read
            back with `Measurement.of`; empty in a `Measurement`'s own poses.
    """

    t_s: NDArray[np.float64]
    index: NDArray[np.int64]
    xy_px: NDArray[np.float32]
    z: NDArray[np.float32]
    visibility: NDArray[np.float32]
    presence: NDArray[np.float32]
    world_xyz_m: NDArray[np.float32]
    people: NDArray[np.int16]
    resolution_wh: tuple[int, int]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.t_s)
        shapes = {
            "index": (n,),
            "xy_px": (n, N_LANDMARKS, 2),
            "z": (n, N_LANDMARKS),
            "visibility": (n, N_LANDMARKS),
            "presence": (n, N_LANDMARKS),
            "world_xyz_m": (n, N_LANDMARKS, 3),
            "people": (n,),
        }
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"PoseSequence.{name}: expected {shape}")

    def __len__(self) -> int:
        return len(self.t_s)

    def part(self, lo: int, hi: int) -> PoseSequence:
        """Frames lo..hi-1 (one shot of an edited clip), with the same meta."""
        return replace(
            self,
            t_s=self.t_s[lo:hi],
            index=self.index[lo:hi],
            xy_px=self.xy_px[lo:hi],
            z=self.z[lo:hi],
            visibility=self.visibility[lo:hi],
            presence=self.presence[lo:hi],
            world_xyz_m=self.world_xyz_m[lo:hi],
            people=self.people[lo:hi],
        )

    @property
    def found(self) -> NDArray[np.bool_]:
        """(T,) True where a pose was found in the frame."""
        return np.asarray(~np.isnan(self.xy_px).all(axis=(1, 2)))

    @classmethod
    def from_frames(
        cls,
        frames: Sequence[PoseFrame],
        resolution_wh: tuple[int, int],
        meta: dict[str, Any] | None = None,
    ) -> PoseSequence:
        def stack(name: str, shape: tuple[int, ...], dtype: Any) -> Any:
            if not frames:
                return np.zeros((0, *shape), dtype=dtype)
            return np.stack([getattr(f, name) for f in frames]).astype(dtype)

        return cls(
            t_s=np.array([f.t_s for f in frames], dtype=np.float64),
            index=np.array([f.index for f in frames], dtype=np.int64),
            xy_px=stack("xy_px", (N_LANDMARKS, 2), np.float32),
            z=stack("z", (N_LANDMARKS,), np.float32),
            visibility=stack("visibility", (N_LANDMARKS,), np.float32),
            presence=stack("presence", (N_LANDMARKS,), np.float32),
            world_xyz_m=stack("world_xyz_m", (N_LANDMARKS, 3), np.float32),
            people=np.array([f.people for f in frames], dtype=np.int16),
            resolution_wh=resolution_wh,
            meta=dict(meta or {}),
        )

    def save(self, path: str | Path) -> None:
        """Write a compressed `.npz` (written to a temp name, then renamed: never half-written)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        with tmp.open("wb") as fh:
            np.savez_compressed(
                fh,
                format_version=np.array(FORMAT_VERSION),
                t_s=self.t_s,
                index=self.index,
                xy_px=self.xy_px,
                z=self.z,
                visibility=self.visibility,
                presence=self.presence,
                world_xyz_m=self.world_xyz_m,
                people=self.people,
                resolution_wh=np.array(self.resolution_wh, dtype=np.int64),
                meta=np.array(json.dumps(self.meta)),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> PoseSequence:
        """Read a file written by `save`.

        Raises:
            LandmarksFileError: missing, unreadable, or not a formcheck landmarks file.
        """
        path = Path(path)
        if not path.is_file():
            raise LandmarksFileError(f"{path}: no such landmarks file")
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["format_version"])
                if version != FORMAT_VERSION:
                    raise LandmarksFileError(
                        f"{path}: landmarks format {version}, this formcheck reads {FORMAT_VERSION}"
                    )
                wh = data["resolution_wh"].tolist()
                return cls(
                    t_s=data["t_s"],
                    index=data["index"],
                    xy_px=data["xy_px"],
                    z=data["z"],
                    visibility=data["visibility"],
                    presence=data["presence"],
                    world_xyz_m=data["world_xyz_m"],
                    people=data["people"],
                    resolution_wh=(int(wh[0]), int(wh[1])),
                    meta=json.loads(str(data["meta"])),
                )
        except LandmarksFileError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise LandmarksFileError(f"{path}: not a formcheck landmarks file ({exc})") from exc
