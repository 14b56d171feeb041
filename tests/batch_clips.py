"""Clip folders for the batch tests: copies of short sample clips plus the bad kinds.

`make_batch_dir` lays out good clips (in a nested folder, so the folder search is tested
too) and one of each bad input the batch must survive: a truncated MP4 (no decodable
stream), a text file named `.mp4`, and a plain-colour video with nobody in it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
from short_clips import short_sample

from formcheck.config import Config, load_config

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"
GOOD_SAMPLES: tuple[str, ...] = (
    "good_form_right",
    "short_pause_left",
    "fast_lowering_right",
    "over_arched_right",
    "sagging_hips_left",
    "band_at_knees_left",
)
# Every 3rd frame (10 fps on the 30 fps samples): enough for the reps, and quick.
TEST_STRIDE = 3


def batch_config() -> Config:
    """The configuration of the batch tests (the defaults, every 3rd frame)."""
    return load_config(None).with_overrides({"pose.stride": TEST_STRIDE})


def write_plain_video(
    path: Path, seconds: float = 2.0, fps: int = 15, size_wh: tuple[int, int] = (320, 240)
) -> None:
    """An H.264 clip of one flat colour: a real video with no person in it."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size_wh
        stream.pix_fmt = "yuv420p"
        image = np.full((size_wh[1], size_wh[0], 3), (90, 140, 60), np.uint8)
        for _ in range(int(seconds * fps)):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_batch_dir(root: Path, good: tuple[str, ...] = GOOD_SAMPLES) -> Path:
    """`root/clips/` with the `good` samples under `clips/good/` and the bad inputs at the top.

    The good clips are the samples cut to their first rep (`short_clips.short_sample`, whose
    label says so). Bad inputs: `corrupt.mp4` (the first 5 kB of a sample: the container
    cannot be read), `not_a_video.mp4` (text), `empty_scene.mp4` (a plain-colour video,
    nobody in it).
    """
    clips = root / "clips"
    (clips / "good").mkdir(parents=True, exist_ok=True)
    for name in good:  # their first rep: the model's time is most of a batch test's
        shutil.copy(short_sample(name), clips / "good" / f"{name}.mp4")
    (clips / "corrupt.mp4").write_bytes((SAMPLES / "no_band_right.mp4").read_bytes()[:5000])
    (clips / "not_a_video.mp4").write_text("this is not a video\n", encoding="utf-8")
    write_plain_video(clips / "empty_scene.mp4")
    (clips / "notes.txt").write_text("not picked up: not a video name\n", encoding="utf-8")
    return clips
