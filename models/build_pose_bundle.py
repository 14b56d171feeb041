"""Reproducibly build ``models/pose_landmarker_full.task`` from the mediapipe 0.10.14 wheel.

Current MediaPipe wheels (1.x) ship no model files, and the legacy ``mp.solutions``
API is gone, so formcheck uses the Tasks ``PoseLandmarker``, which loads a
*model asset bundle* (``.task``). This script builds that bundle from the two
BlazePose models that the legacy ``mediapipe==0.10.14`` wheel on PyPI contains
(Apache-2.0):

* ``mediapipe/modules/pose_detection/pose_detection.tflite``
  -> ``pose_detector.tflite`` (input scaled to [-1, 1]: mean 127.5, std 127.5)
* ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``
  -> ``pose_landmarks_detector.tflite`` (input scaled to [0, 1]: mean 0, std 255)

The Tasks API refuses a model without TFLite metadata carrying
``NormalizationOptions``, so the script writes that metadata with the metadata
writer of mediapipe 0.10.14 (``mediapipe.tasks.python.metadata.metadata_writers``;
the copy in mediapipe 1.x does not work). The bundle is a zip whose entries are
stored uncompressed with 4-byte aligned data (alignment padding lives in a zip
extra field), fixed timestamps (1980-01-01), fixed permissions and fixed order,
so two builds from the same wheel are byte-identical.

Run it from the repository root with a throw-away venv holding mediapipe 0.10.14
(Python 3.10-3.12; mediapipe 0.10.14 has no wheel for newer CPython)::

    python3 -m venv /tmp/mpbuild
    /tmp/mpbuild/bin/pip install mediapipe==0.10.14
    /tmp/mpbuild/bin/python models/build_pose_bundle.py

Without ``--wheel`` the script runs ``pip download --no-deps mediapipe==0.10.14``
(pinned to the cp311 manylinux x86_64 wheel) into a temporary directory. Pass
``--wheel PATH`` to use a wheel you already have. The sha256 of the two source
models is checked against the values recorded in ``models/README.md``
(``--skip-source-check`` disables that). The bundle's sha256 is printed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

MEDIAPIPE_VERSION = "0.10.14"
# The model files are the same in every platform wheel of 0.10.14; pin one wheel
# anyway so the download (and the provenance recorded in README.md) is exact.
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "pose_landmarker_full.task"

ALIGNMENT = 4
# Zip extra field header id used by Android's zipalign for alignment padding:
# payload = uint16 alignment followed by zero bytes.
ALIGNMENT_EXTRA_ID = 0xD935
ZIP_LOCAL_HEADER_SIZE = 30
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--


@dataclass(frozen=True)
class OutputTensor:
    """Name and description written into the metadata of one output tensor."""

    name: str
    description: str


@dataclass(frozen=True)
class ModelSpec:
    """One model of the bundle: where it comes from and what metadata it gets."""

    bundle_name: str
    wheel_path: str
    source_sha256: str
    model_name: str
    model_description: str
    norm_mean: float
    norm_std: float
    input_description: str
    outputs: tuple[OutputTensor, ...]


# Order here is the order of the entries in the bundle.
MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        bundle_name="pose_detector.tflite",
        wheel_path="mediapipe/modules/pose_detection/pose_detection.tflite",
        source_sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        model_name="BlazePose pose detector",
        model_description=(
            "Detects people in an image (224x224 RGB input): SSD-style regression of "
            "2254 anchors to a box plus 4 keypoints (hips centre, full-body circle, "
            "shoulders centre, upper-body circle) with a score per anchor. From "
            f"mediapipe {MEDIAPIPE_VERSION} pose_detection.tflite."
        ),
        norm_mean=127.5,
        norm_std=127.5,
        input_description="Input RGB image, 224x224, pixel values scaled to [-1, 1].",
        outputs=(
            OutputTensor(
                "raw boxes/keypoints",
                "Undecoded anchor-relative box (4) and 4 keypoints (x, y) per anchor: "
                "[1, 2254, 12].",
            ),
            OutputTensor("scores", "Raw (pre-sigmoid) score per anchor: [1, 2254, 1]."),
        ),
    ),
    ModelSpec(
        bundle_name="pose_landmarks_detector.tflite",
        wheel_path="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        source_sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        model_name="BlazePose GHUM 3D pose landmarks (full)",
        model_description=(
            "Predicts 33 body landmarks (image and world coordinates), a pose presence "
            "flag, a segmentation mask and heatmaps from a 256x256 RGB crop around a "
            f"person. From mediapipe {MEDIAPIPE_VERSION} pose_landmark_full.tflite."
        ),
        norm_mean=0.0,
        norm_std=255.0,
        input_description="Input RGB crop around the person, 256x256, pixel values in [0, 1].",
        outputs=(
            OutputTensor(
                "landmarks",
                "39 landmarks (33 body + 6 auxiliary; 33-34 give the next ROI) x "
                "(x, y, z, visibility logit, presence logit), crop pixels: [1, 195].",
            ),
            OutputTensor("pose flag", "Pose presence score: [1, 1]."),
            OutputTensor("segmentation", "Person segmentation logits: [1, 256, 256, 1]."),
            OutputTensor("heatmap", "Landmark heatmaps used for refinement: [1, 64, 64, 39]."),
            OutputTensor(
                "world landmarks",
                "39 landmarks x (x, y, z) in metres, origin between the hips: [1, 117].",
            ),
        ),
    ),
)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(dest: Path) -> Path:
    """Fetch the pinned mediapipe wheel with pip (no dependencies) into ``dest``."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "--platform",
        "manylinux_2_17_x86_64",
        "--dest",
        str(dest),
        f"mediapipe=={MEDIAPIPE_VERSION}",
    ]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("mediapipe-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one mediapipe wheel in {dest}, found {wheels}")
    return wheels[0]


def read_sources(wheel: Path, check: bool) -> dict[str, bytes]:
    """Read the two source tflite files out of the wheel, keyed by bundle name."""
    wheel_data = wheel.read_bytes()
    wheel_hash = sha256_bytes(wheel_data)
    print(f"wheel: {wheel.name}\n  sha256 {wheel_hash}")
    if wheel_hash != WHEEL_SHA256:
        print(f"  (not the wheel recorded in README.md: {WHEEL_NAME})")
    sources: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        for spec in MODELS:
            data = zf.read(spec.wheel_path)
            digest = sha256_bytes(data)
            print(f"  {spec.wheel_path}\n    sha256 {digest} ({len(data)} bytes)")
            if check and digest != spec.source_sha256:
                raise SystemExit(
                    f"{spec.wheel_path}: sha256 {digest} != expected {spec.source_sha256}; "
                    "use --skip-source-check to build anyway"
                )
            sources[spec.bundle_name] = data
    return sources


def check_build_env() -> None:
    """Fail early, before any download, unless mediapipe's metadata writer imports."""
    try:
        import mediapipe
        from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            f"needs mediapipe=={MEDIAPIPE_VERSION} (its metadata writer is broken in 1.x); "
            f"run with a venv that has it, see the docstring of {Path(__file__).name}: {exc}"
        ) from exc
    version = getattr(mediapipe, "__version__", "?")
    if version != MEDIAPIPE_VERSION:
        print(f"warning: built with mediapipe {version}, not {MEDIAPIPE_VERSION}", file=sys.stderr)


def add_metadata(spec: ModelSpec, model: bytes) -> bytes:
    """Return ``model`` with TFLite metadata (input normalization etc.) populated."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as metadata_fb
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(spec.model_name, spec.model_description)
    writer.add_image_input(
        norm_mean=[spec.norm_mean],
        norm_std=[spec.norm_std],
        color_space_type=metadata_fb.ColorSpaceType.RGB,
        name="image",
        description=spec.input_description,
    )
    for out in spec.outputs:
        writer.add_feature_output(name=out.name, description=out.description)
    tflite, _metadata_json = writer.populate()
    return bytes(tflite)


def alignment_extra(header_offset: int, name: bytes) -> bytes:
    """Zip extra field that makes an entry's data start on an ALIGNMENT boundary.

    The data of a zip entry follows its local header (30 bytes), its name and its
    extra field, so the padding depends on where the header starts.
    """
    fixed = struct.calcsize("<HHH")  # id, payload size, alignment
    pad = -(header_offset + ZIP_LOCAL_HEADER_SIZE + len(name) + fixed) % ALIGNMENT
    return struct.pack("<HHH", ALIGNMENT_EXTRA_ID, 2 + pad, ALIGNMENT) + b"\0" * pad


def write_bundle(entries: list[tuple[str, bytes]], output: Path) -> None:
    """Write a zip with STORED, ALIGNMENT-aligned entries and fixed metadata."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    offset = 0  # offset of the next local header; tracked to size the padding
    with open(tmp, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            encoded_name = name.encode("ascii")
            extra = alignment_extra(offset, encoded_name)
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # Unix, whatever the build host is
            info.external_attr = FILE_MODE << 16
            info.extra = extra
            zf.writestr(info, data)
            offset += ZIP_LOCAL_HEADER_SIZE + len(encoded_name) + len(extra) + len(data)
    check_bundle(tmp, entries)
    tmp.replace(output)


def check_bundle(path: Path, entries: list[tuple[str, bytes]]) -> None:
    """Assert that every entry is stored, aligned, in order and holds the right bytes."""
    blob = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if [i.filename for i in infos] != [name for name, _ in entries]:
            raise AssertionError(f"unexpected entries in {path}: {infos}")
        for info, (name, data) in zip(infos, entries, strict=True):
            if info.compress_type != zipfile.ZIP_STORED:
                raise AssertionError(f"{name} is compressed")
            name_len, extra_len = struct.unpack_from("<HH", blob, info.header_offset + 26)
            start = info.header_offset + ZIP_LOCAL_HEADER_SIZE + name_len + extra_len
            if start % ALIGNMENT:
                raise AssertionError(f"{name}: data offset {start} not {ALIGNMENT}-aligned")
            if blob[start : start + len(data)] != data or zf.read(name) != data:
                raise AssertionError(f"{name}: stored bytes differ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--wheel",
        type=Path,
        help=f"path to a mediapipe {MEDIAPIPE_VERSION} wheel (default: pip download it)",
    )
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="bundle to write")
    parser.add_argument(
        "--skip-source-check",
        action="store_true",
        help="do not require the source models' sha256 to match the recorded values",
    )
    args = parser.parse_args(argv)
    check_build_env()

    with tempfile.TemporaryDirectory(prefix="pose_bundle_") as tmp:
        wheel = args.wheel if args.wheel is not None else download_wheel(Path(tmp))
        sources = read_sources(wheel, check=not args.skip_source_check)

    entries: list[tuple[str, bytes]] = []
    for spec in MODELS:
        with_md = add_metadata(spec, sources[spec.bundle_name])
        print(f"{spec.bundle_name}: {len(with_md)} bytes, sha256 {sha256_bytes(with_md)}")
        entries.append((spec.bundle_name, with_md))

    write_bundle(entries, args.output)
    bundle = args.output.read_bytes()
    print(f"wrote {args.output} ({len(bundle)} bytes)")
    print(f"sha256 {sha256_bytes(bundle)}  {args.output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
