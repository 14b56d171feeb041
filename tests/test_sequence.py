"""PoseSequence: stacking frames, the landmarks file round trip, and bad files."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from formcheck.errors import LandmarksFileError
from formcheck.pose.landmarks import N_LANDMARKS, PoseFrame
from formcheck.pose.sequence import FORMAT_VERSION, PoseSequence

RES = (640, 480)
MISSING = (2, 3, 6)


def _frame(i: int, rng: np.random.Generator) -> PoseFrame:
    t = i / 30.0
    if i in MISSING:
        return PoseFrame.missing(t, i, RES)
    return PoseFrame(
        t_s=t,
        index=i,
        resolution_wh=RES,
        xy_px=rng.uniform(0, 480, (N_LANDMARKS, 2)).astype(np.float32),
        z=rng.normal(0, 0.1, N_LANDMARKS).astype(np.float32),
        visibility=rng.uniform(0, 1, N_LANDMARKS).astype(np.float32),
        presence=rng.uniform(0, 1, N_LANDMARKS).astype(np.float32),
        world_xyz_m=rng.normal(0, 0.5, (N_LANDMARKS, 3)).astype(np.float32),
        people=1 if i % 4 == 0 else -1,
    )


@pytest.fixture
def frames() -> list[PoseFrame]:
    rng = np.random.default_rng(7)
    return [_frame(i, rng) for i in range(10)]


META: dict[str, Any] = {"source": {"path": "clip.mp4", "fps": 29.97}, "model": {"name": "m"}}


def _assert_same(a: PoseSequence, b: PoseSequence) -> None:
    for name in ("t_s", "index", "xy_px", "z", "visibility", "presence", "world_xyz_m", "people"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.resolution_wh == b.resolution_wh
    assert a.meta == b.meta


def test_from_frames_stacks_and_keeps_missing_frames(frames: list[PoseFrame]) -> None:
    seq = PoseSequence.from_frames(frames, RES, META)
    assert len(seq) == 10
    assert seq.xy_px.shape == (10, N_LANDMARKS, 2)
    assert seq.world_xyz_m.shape == (10, N_LANDMARKS, 3)
    assert seq.xy_px.dtype == np.float32 and seq.t_s.dtype == np.float64
    assert np.flatnonzero(~seq.found).tolist() == list(MISSING)
    assert (seq.visibility[list(MISSING)] == 0).all()
    np.testing.assert_array_equal(seq.xy_px[4], frames[4].xy_px)
    np.testing.assert_array_equal(seq.people, [f.people for f in frames])
    np.testing.assert_allclose(seq.t_s, np.arange(10) / 30.0)


def test_save_load_round_trip(frames: list[PoseFrame], tmp_path: Path) -> None:
    seq = PoseSequence.from_frames(frames, RES, META)
    path = tmp_path / "sub" / "set.npz"
    seq.save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["set.npz"], "no temp file left"
    loaded = PoseSequence.load(path)
    _assert_same(seq, loaded)
    assert np.flatnonzero(~loaded.found).tolist() == list(MISSING)
    assert np.isnan(loaded.xy_px[list(MISSING)]).all()


def test_empty_sequence_round_trips(tmp_path: Path) -> None:
    seq = PoseSequence.from_frames([], RES)
    assert len(seq) == 0 and seq.xy_px.shape == (0, N_LANDMARKS, 2)
    seq.save(tmp_path / "empty.npz")
    _assert_same(seq, PoseSequence.load(tmp_path / "empty.npz"))


def test_shapes_are_checked(frames: list[PoseFrame]) -> None:
    seq = PoseSequence.from_frames(frames, RES)
    with pytest.raises(ValueError, match="xy_px"):
        PoseSequence(
            seq.t_s,
            seq.index,
            seq.xy_px[:, :10],
            seq.z,
            seq.visibility,
            seq.presence,
            seq.world_xyz_m,
            seq.people,
            RES,
        )
    with pytest.raises(ValueError, match="people"):
        PoseSequence(
            seq.t_s,
            seq.index,
            seq.xy_px,
            seq.z,
            seq.visibility,
            seq.presence,
            seq.world_xyz_m,
            seq.people[:-1],
            RES,
        )


# --- bad files -------------------------------------------------------------------------


def _npz_bytes(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _arrays(seq: PoseSequence) -> dict[str, Any]:
    return dict(
        format_version=np.array(FORMAT_VERSION),
        t_s=seq.t_s,
        index=seq.index,
        xy_px=seq.xy_px,
        z=seq.z,
        visibility=seq.visibility,
        presence=seq.presence,
        world_xyz_m=seq.world_xyz_m,
        people=seq.people,
        resolution_wh=np.array(seq.resolution_wh, dtype=np.int64),
        meta=np.array(json.dumps(seq.meta)),
    )


def test_a_valid_hand_made_file_loads(frames: list[PoseFrame], tmp_path: Path) -> None:
    """The bad-file cases below break one thing each in this otherwise valid file."""
    seq = PoseSequence.from_frames(frames, RES, META)
    path = tmp_path / "ok.npz"
    path.write_bytes(_npz_bytes(**_arrays(seq)))
    _assert_same(seq, PoseSequence.load(path))


def _broken(seq: PoseSequence, case: str) -> bytes:
    arrays = _arrays(seq)
    if case == "missing key":
        del arrays["xy_px"]
    elif case == "wrong version":
        arrays["format_version"] = np.array(FORMAT_VERSION + 1)
    elif case == "wrong shape":
        arrays["xy_px"] = arrays["xy_px"][:, :5]
    elif case == "pickled meta":
        arrays["meta"] = np.array([{"a": 1}], dtype=object)
    elif case == "meta not json":
        arrays["meta"] = np.array("{not json")
    else:
        raise AssertionError(case)
    return _npz_bytes(**arrays)


@pytest.mark.parametrize(
    "case",
    ["missing key", "wrong version", "wrong shape", "pickled meta", "meta not json"],
)
def test_a_wrong_file_raises_landmarks_file_error(
    case: str,
    frames: list[PoseFrame],
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(_broken(PoseSequence.from_frames(frames, RES, META), case))
    with pytest.raises(LandmarksFileError) as info:
        PoseSequence.load(path)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 3
    if case == "wrong version":
        assert f"format {FORMAT_VERSION + 1}" in str(info.value)


def test_a_corrupt_file_raises_landmarks_file_error(
    frames: list[PoseFrame],
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.npz"
    PoseSequence.from_frames(frames, RES, META).save(good)
    data = good.read_bytes()
    cases = {
        "truncated.npz": data[: len(data) // 2],
        "garbage.npz": b"\x00\x01 this is not a zip file " * 20,
        "empty.npz": b"",
        "text.npz": b"t_s,x,y\n0,1,2\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(LandmarksFileError, match="not a formcheck landmarks file"):
            PoseSequence.load(path)


def test_a_zip_of_something_else_raises_landmarks_file_error(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(LandmarksFileError):
        PoseSequence.load(path)


def test_a_missing_file_or_a_folder_raises_landmarks_file_error(tmp_path: Path) -> None:
    with pytest.raises(LandmarksFileError, match="no such landmarks file"):
        PoseSequence.load(tmp_path / "nope.npz")
    with pytest.raises(LandmarksFileError):
        PoseSequence.load(tmp_path)
