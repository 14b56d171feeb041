"""The shipped sample clips: coverage of the faults, size limits, and the folder in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formcheck.synth.labels import build_label, spec_faults
from formcheck.synth.samples import SAMPLE_SPECS
from formcheck.synth.spec import ClipSpec

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_videos"
REQUIRED_FAULTS = {
    "under_extension",
    "over_extension",
    "short_pause",
    "fast_lowering",
    "band_at_knees",
    "no_band",
}


def _faults(spec: ClipSpec) -> set[str]:
    return {f for codes in spec_faults(spec) for f in codes}


def test_samples_cover_good_form_and_every_required_fault() -> None:
    assert 5 <= len(SAMPLE_SPECS) <= 8
    seen = set().union(*(_faults(s) for s in SAMPLE_SPECS.values()))
    assert seen >= REQUIRED_FAULTS
    assert any(not _faults(s) for s in SAMPLE_SPECS.values()), "no good-form clip"
    # Each fault clip shows one fault, so a checker's miss is easy to read.
    for name, spec in SAMPLE_SPECS.items():
        assert len(_faults(spec)) <= 1, name


def test_samples_are_short_small_and_varied() -> None:
    facings = set()
    for name, spec in SAMPLE_SPECS.items():
        assert name.endswith(".mp4")
        assert 3 <= len(spec.reps) <= 4, name
        assert 10.0 <= spec.duration_s <= 16.0, name
        assert spec.width * spec.height <= 640 * 360, name
        facings.add(spec.facing)
    assert facings == {"left", "right"}
    assert any(s.portrait and s.height > s.width for s in SAMPLE_SPECS.values())


@pytest.mark.skipif(not SAMPLE_DIR.is_dir(), reason="sample_videos/ not present")
def test_sample_folder_matches_the_specs() -> None:
    """The committed labels are what the specs produce (regenerate with write_samples)."""
    total = 0
    for name, spec in SAMPLE_SPECS.items():
        video = SAMPLE_DIR / name
        label_path = video.with_suffix(".json")
        assert video.is_file() and label_path.is_file(), name
        on_disk = json.loads(label_path.read_text(encoding="utf-8"))
        expected = build_label(spec, name, version=on_disk["generator"]["formcheck_version"])
        on_disk.pop("occlusions"), expected.pop("occlusions")
        on_disk.pop("passers_by"), expected.pop("passers_by")
        assert on_disk == json.loads(json.dumps(expected)), name
        total += video.stat().st_size + label_path.stat().st_size
    assert total <= 10 * 1024 * 1024
