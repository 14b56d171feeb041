"""Video in and out: VideoSink writes browser-playable MP4s that FileSource reads back exactly.

Clips are generated in tmp_path with PyAV (no external ffmpeg): small frames with a red
square moving right by a known step, so a decoded frame can be checked for what it shows.
"""

from __future__ import annotations

import itertools
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from formcheck.errors import EmptyVideoError, VideoOpenError
from formcheck.video import FileSource, VideoSink, probe
from formcheck.video.source import _upright, stride_for

W, H = 160, 120
N = 30
STEP_PX = 4
SQUARE_PX = 24
RED_BGR = (0, 0, 255)


def _image(i: int, width: int = W, height: int = H) -> np.ndarray:
    """Frame i: dark green background, a red square whose left edge is at STEP_PX * i."""
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :, 1] = 60
    x = STEP_PX * i
    img[40 : 40 + SQUARE_PX, x : x + SQUARE_PX] = RED_BGR
    return img


def _red_left_edge(img: np.ndarray) -> float:
    """Column of the red square's left edge in a decoded (lossy) frame."""
    red = (img[:, :, 2] > 160) & (img[:, :, 1] < 120) & (img[:, :, 0] < 120)
    cols = np.flatnonzero(red.any(axis=0))
    return float(cols.min()) if len(cols) else np.nan


def _write_clip(
    path: Path,
    n: int = N,
    fps: float = 30.0,
    t_s: list[float] | None = None,
    size: tuple[int, int] = (W, H),
) -> Path:
    with VideoSink(path, fps, size) as sink:
        for i in range(n):
            sink.write(_image(i, *size), None if t_s is None else t_s[i])
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s constant-frame-rate clip, written once for the module's read-only tests."""
    return _write_clip(tmp_path_factory.mktemp("video") / "clip.mp4")


def test_frame_count_timestamps_and_resolution(clip: Path) -> None:
    frames = list(FileSource(clip))
    assert len(frames) == N
    assert [f.index for f in frames] == list(range(N))
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(N) / 30.0, atol=1e-6)
    assert all(f.resolution_wh == (W, H) for f in frames)
    assert all(f.image_bgr.dtype == np.uint8 and f.image_bgr.flags.c_contiguous for f in frames)


def test_frames_show_what_was_written_in_order(clip: Path) -> None:
    edges = [_red_left_edge(f.image_bgr) for f in FileSource(clip)]
    np.testing.assert_allclose(edges, STEP_PX * np.arange(N), atol=2)


def test_probe_reads_the_container(clip: Path) -> None:
    info = probe(clip)
    assert (info.width, info.height, info.rotation_deg) == (W, H, 0)
    assert info.fps == pytest.approx(30.0)
    assert info.frame_count == N
    assert info.duration_s == pytest.approx(N / 30.0, abs=1e-3)
    assert info.path == str(clip)


def test_output_is_browser_playable_h264_mp4_with_moov_first(clip: Path) -> None:
    with av.open(str(clip)) as container:
        assert "mp4" in container.format.name
        ctx = container.streams.video[0].codec_context
        assert ctx.name == "h264"
        assert ctx.pix_fmt == "yuv420p"
    atoms = _top_level_atoms(clip.read_bytes())
    assert atoms[0] == "ftyp"
    assert "moov" in atoms and "mdat" in atoms
    assert atoms.index("moov") < atoms.index("mdat"), atoms


def _top_level_atoms(data: bytes) -> list[str]:
    """The MP4 (ISO BMFF) top-level box types in file order."""
    out, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        assert size >= 8, f"corrupt box at {offset}"
        out.append(kind.decode("latin-1"))
        offset += size
    assert offset == len(data), "boxes must tile the file"
    return out


def test_stride_keeps_every_nth_frame_with_its_own_time(clip: Path) -> None:
    frames = list(FileSource(clip, stride=3))
    assert [f.index for f in frames] == list(range(0, N, 3))
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(0, N, 3) / 30.0, atol=1e-6)
    edges = [_red_left_edge(f.image_bgr) for f in frames]
    np.testing.assert_allclose(edges, STEP_PX * np.arange(0, N, 3), atol=2)
    with pytest.raises(ValueError, match="stride"):
        FileSource(clip, stride=0)


def _write_short_gop_clip(path: Path, n: int, gop: int) -> Path:
    """A 30 fps clip with a key frame every `gop` frames, so that seeking has to be right."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {"keyint_min": str(gop), "sc_threshold": "0"}
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(_image(i % 34), format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_frames_at_gives_exactly_the_frames_asked_for_across_key_frames(tmp_path: Path) -> None:
    path = _write_short_gop_clip(tmp_path / "gop.mp4", n=90, gop=10)
    every = list(FileSource(path))
    assert len(every) == 90
    picks = [2, 3, 41, 40, 69, 85, 89, 3]  # out of order and repeated, across several GOPs
    wanted = [every[i].t_s for i in picks] + [100.0]  # and a time past the end
    got = list(FileSource(path).frames_at(wanted))
    assert [f.index for f in got] == sorted(set(picks))
    for f in got:
        np.testing.assert_array_equal(f.image_bgr, every[f.index].image_bgr)
        assert f.t_s == pytest.approx(every[f.index].t_s, abs=1e-6)
    assert list(FileSource(path).frames_at([])) == []


@pytest.mark.parametrize(
    ("fps", "max_fps", "stride"),
    [
        (30.0, 15.0, 2),
        (29.97, 15.0, 2),
        (60.0, 15.0, 4),
        (59.94, 15.0, 4),
        (50.0, 15.0, 3),
        (25.0, 15.0, 2),
        (24.0, 15.0, 2),
        (20.0, 15.0, 1),
        (15.0, 15.0, 1),
        (30.0, 0.0, 1),
        (0.0, 15.0, 1),
    ],
)
def test_stride_for_keeps_about_max_fps(fps: float, max_fps: float, stride: int) -> None:
    assert stride_for(fps, max_fps) == stride


def test_max_fps_raises_the_stride_never_lowers_it(clip: Path) -> None:
    """The test clip is 30 fps: max_fps 10 analyses every 3rd frame, 15 every 2nd, and an
    explicit stride above that wins."""
    assert FileSource(clip, max_fps=10.0).stride == 3
    assert FileSource(clip, max_fps=15.0).stride == 2
    assert FileSource(clip, stride=5, max_fps=15.0).stride == 5
    frames = list(FileSource(clip, max_fps=15.0))
    assert [f.index for f in frames] == list(range(0, N, 2))


# Presentation times are kept on a 90 kHz clock (the MP4 norm), so a variable-frame-rate
# clip comes back exact to a tick (11 us); 20 us leaves room for rounding either way and
# is still 50x tighter than a millisecond.
VFR_TOL_S = 2e-5


def test_variable_frame_rate_times_survive(tmp_path: Path) -> None:
    gaps = [0.033, 0.017, 0.150, 0.010, 0.040, 0.300, 0.021, 0.033, 0.066, 0.1] * 2
    t_s = np.concatenate([[0.0], np.cumsum(gaps)]).tolist()
    path = _write_clip(tmp_path / "vfr.mp4", n=len(t_s), t_s=t_s)
    frames = list(FileSource(path))
    assert len(frames) == len(t_s)
    got = np.array([f.t_s for f in frames])
    np.testing.assert_allclose(got, t_s, rtol=0, atol=VFR_TOL_S)
    edges = [_red_left_edge(f.image_bgr) for f in frames]
    np.testing.assert_allclose(edges, STEP_PX * np.arange(len(t_s)), atol=2)


def test_fractional_frame_rate_is_kept(tmp_path: Path) -> None:
    ntsc = float(Fraction(30000, 1001))
    path = _write_clip(tmp_path / "ntsc.mp4", n=20, fps=ntsc)
    assert probe(path).fps == pytest.approx(ntsc, rel=1e-4), "29.97 must not become 29 or 30"
    times = [f.t_s for f in FileSource(path)]
    np.testing.assert_allclose(times, np.arange(20) / ntsc, atol=VFR_TOL_S)


@pytest.mark.parametrize(("size", "padded"), [((161, 121), (162, 122)), ((97, 64), (98, 64))])
def test_odd_sizes_are_padded_to_even(
    size: tuple[int, int],
    padded: tuple[int, int],
    tmp_path: Path,
) -> None:
    path = _write_clip(tmp_path / "odd.mp4", n=5, size=size)
    frames = list(FileSource(path))
    assert len(frames) == 5
    assert frames[0].resolution_wh == padded
    # The padding replicates the border: the original picture is where it was.
    np.testing.assert_allclose(
        [_red_left_edge(f.image_bgr) for f in frames], STEP_PX * np.arange(5), atol=2
    )


def test_sink_writes_nothing_on_error_or_without_frames(tmp_path: Path) -> None:
    failed = tmp_path / "failed.mp4"
    with pytest.raises(RuntimeError, match="boom"), VideoSink(failed, 30.0, (W, H)) as sink:
        sink.write(_image(0))
        raise RuntimeError("boom")
    empty = tmp_path / "empty.mp4"
    with VideoSink(empty, 30.0, (W, H)):
        pass
    assert list(tmp_path.iterdir()) == [], "no half-written video, no temp file"


def test_sink_write_outside_with_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="outside its `with` block"):
        VideoSink(tmp_path / "x.mp4", 30.0, (W, H)).write(_image(0))


def test_sink_never_goes_back_in_time(tmp_path: Path) -> None:
    """Repeated or decreasing times still give strictly increasing timestamps."""
    path = _write_clip(tmp_path / "same.mp4", n=4, t_s=[0.0, 0.1, 0.1, 0.05])
    times = [f.t_s for f in FileSource(path)]
    assert len(times) == 4
    assert all(b > a for a, b in itertools.pairwise(times))


# --- broken inputs ---------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.5, 0.2, 0.05, 0.01, 0.001])
def test_truncated_file_gives_fewer_frames_or_a_video_error(
    fraction: float,
    tmp_path: Path,
) -> None:
    """Never a raw PyAV exception: fewer frames, or VideoOpenError (EmptyVideoError)."""
    rng = np.random.default_rng(0)
    full = tmp_path / "full.mp4"
    with VideoSink(full, 30.0, (W, H)) as sink:  # noise: big frames spread over the file
        for _ in range(N):
            sink.write(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * fraction)])
    try:
        frames = list(FileSource(cut))
    except VideoOpenError as exc:  # EmptyVideoError is one too
        assert str(cut) in str(exc)
        return
    assert 0 < len(frames) < N
    assert all(f.resolution_wh == (W, H) for f in frames)


def test_truncated_file_is_reported_as_damaged(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    full = tmp_path / "full.mp4"
    with VideoSink(full, 30.0, (W, H)) as sink:
        for _ in range(N):
            sink.write(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    source = FileSource(cut)
    frames = list(source)
    assert 0 < len(frames) < source.info.frame_count  # the container knew better
    assert source.decode_errors > 0


def test_zero_byte_file_is_a_video_open_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoOpenError, match="not a readable video"):
        FileSource(empty)


def test_a_folder_is_a_video_open_error(tmp_path: Path) -> None:
    with pytest.raises(VideoOpenError, match="is a folder"):
        FileSource(tmp_path)


def test_missing_and_non_video_files_are_video_open_errors(tmp_path: Path) -> None:
    with pytest.raises(VideoOpenError, match="no such file"):
        probe(tmp_path / "nope.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 50)
    with pytest.raises(VideoOpenError):
        FileSource(text)


def test_empty_video_error_is_a_video_open_error() -> None:
    assert issubclass(EmptyVideoError, VideoOpenError)


# --- rotation --------------------------------------------------------------------------
# A portrait phone clip is stored landscape with a display matrix saying how to turn it.
# PyAV (>= 14) can write that matrix, so the real path is tested on a real file; _upright
# is also tested on its own. FFmpeg's convention (as `ffmpeg` applies it on playback): a
# display rotation of -90 means "turn the picture 90 deg clockwise to show it".

_HAS_DISPLAY_ROTATION = hasattr(av.video.stream.VideoStream, "set_display_rotation")
# Where the red top-left quadrant of a 64x32 picture lands once shown upright.
QUADRANT_AFTER = {0: "top-left", -90: "top-right", 90: "bottom-left", 180: "bottom-right"}


def _quadrant_image() -> np.ndarray:
    img = np.zeros((32, 64, 3), np.uint8)
    img[:16, :32] = RED_BGR
    return img


def _red_corner(img: np.ndarray) -> str:
    h, w = img.shape[:2]
    corners = {
        "top-left": (4, 4),
        "top-right": (4, w - 5),
        "bottom-left": (h - 5, 4),
        "bottom-right": (h - 5, w - 5),
    }
    red = [name for name, (y, x) in corners.items() if img[y, x, 2] > 160 and img[y, x, 1] < 100]
    assert len(red) == 1, red
    return red[0]


@pytest.mark.parametrize("rotation", sorted(QUADRANT_AFTER))
def test_upright_turns_by_the_display_rotation(rotation: int) -> None:
    img = _quadrant_image()
    out = _upright(img, rotation)
    turned = rotation % 180 != 0
    assert out.shape == ((64, 32, 3) if turned else (32, 64, 3))
    assert _red_corner(out) == QUADRANT_AFTER[rotation]
    assert out.flags.c_contiguous


def test_upright_treats_270_as_minus_90() -> None:
    img = _quadrant_image()
    np.testing.assert_array_equal(_upright(img, 270), _upright(img, -90))
    np.testing.assert_array_equal(_upright(img, -180), _upright(img, 180))


@pytest.mark.skipif(not _HAS_DISPLAY_ROTATION, reason="PyAV cannot write a display matrix")
@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_a_rotated_clip_is_read_upright(rotation: int, tmp_path: Path) -> None:
    path = tmp_path / f"rot{rotation}.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(rotation)
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(_quadrant_image(), format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    info = probe(path)
    assert info.rotation_deg % 360 == rotation % 360
    turned = rotation % 180 != 0
    assert (info.width, info.height) == ((32, 64) if turned else (64, 32))
    frames = list(FileSource(path))
    assert len(frames) == 5
    assert frames[0].resolution_wh == (info.width, info.height)
    (again,) = FileSource(path).frames_at([frames[2].t_s])
    np.testing.assert_array_equal(again.image_bgr, frames[2].image_bgr)
    assert {_red_corner(f.image_bgr) for f in frames} == {QUADRANT_AFTER[rotation]}


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_a_clip_read_in_parts_gives_the_frames_of_one_read(tmp_path: Path, stride: int) -> None:
    """`frames(start, stop)`: the parts of a clip, the later ones read after a seek, give
    the same frames (index, time, picture) as one read from the start, whether a part starts
    on a key frame or between two (decoded from the key frame before, not handed out)."""
    path = _write_short_gop_clip(tmp_path / "gop.mp4", n=90, gop=25)
    whole = list(FileSource(path, stride))
    keys = FileSource(path).key_frames()
    assert keys == [0, 25, 50, 75]
    for cut in (25, 37, 50, 62):
        first = list(FileSource(path, stride).frames(0, cut))
        second = list(FileSource(path, stride).frames(cut))
        got = first + second
        assert [f.index for f in got] == [f.index for f in whole]
        for a, b in zip(got, whole, strict=True):
            assert a.t_s == pytest.approx(b.t_s, abs=1e-9)
            np.testing.assert_array_equal(a.image_bgr, b.image_bgr)
