"""The self-contained HTML report: structure, no external URLs, size, and how it renders.

Three sets are used, each built once per module:
- a bundled sample clip analysed by the real model (the shared `estimator`);
- a 10-rep synthetic clip whose landmarks are the renderer's exact truth (no model), with
  its real video frames for the stills: the size budget is for a set this long;
- the sample's report rebuilt from its saved JSON and landmarks, as `formcheck report` does.

The page is rendered in headless Chromium (Debian package `chromium`, installed by
`.ci/run`) at a phone's and a desktop's width; those tests skip when it is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest
from chromium import SKIP_REASON, chromium_path
from typer.testing import CliRunner

from formcheck.analyze import analyze_sequence
from formcheck.cli import app
from formcheck.config import Config
from formcheck.judge import Analysis
from formcheck.no_reps import HOW_TO, NO_REPS
from formcheck.outputs import report_html
from formcheck.pose.landmarks import N_LANDMARKS, Landmark
from formcheck.pose.sequence import PoseSequence
from formcheck.report import write_json
from formcheck.report.html import (
    build_index_html,
    build_report_html,
    report_html_from_files,
)
from formcheck.synth import ClipRenderer, random_clip_spec
from formcheck.video import VideoSink

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"
SAMPLE = SAMPLES / "sagging_hips_left.mp4"  # three reps, each with a fault
CHROMIUM = chromium_path()
MAX_TEN_REP_BYTES = 2_000_000
CFG = Config()
runner = CliRunner()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sample(sample_analysis: Callable[[str], Analysis]) -> Analysis:
    """The sample clip through the whole pipeline (real model)."""
    return sample_analysis(SAMPLE.stem)


@pytest.fixture(scope="module")
def sample_html(sample: Analysis) -> str:
    return report_html(sample, SAMPLE, CFG.rules)


@pytest.fixture(scope="module")
def saved(sample: Analysis, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample's report JSON and landmarks, saved as `analyze --json --landmarks` does."""
    folder = tmp_path_factory.mktemp("saved")
    report, landmarks = folder / "set.json", folder / "set.npz"
    write_json(sample.report.to_dict(), report)
    sample.measurement.poses.save(landmarks)
    return report, landmarks


# Synth truth names -> BlazePose landmark suffix (near side; "far_*" is the other side).
_TRUTH_NAMES = {
    "shoulder": "SHOULDER",
    "elbow": "ELBOW",
    "wrist": "WRIST",
    "hip": "HIP",
    "knee": "KNEE",
    "ankle": "ANKLE",
    "heel": "HEEL",
    "toe": "FOOT_INDEX",
    "eye": "EYE",
    "ear": "EAR",
}


def _truth_sequence(
    frames: list[tuple[float, int, dict[str, tuple[float, float]]]], near: str, wh: tuple[int, int]
) -> PoseSequence:
    """A PoseSequence holding the renderer's exact landmarks (the near side well seen)."""
    far = "RIGHT" if near == "left" else "LEFT"
    n = len(frames)
    xy = np.full((n, N_LANDMARKS, 2), np.nan, np.float32)
    vis = np.zeros((n, N_LANDMARKS), np.float32)
    for k, (_, _, truth) in enumerate(frames):
        for name, (x, y) in truth.items():
            if name == "nose":
                lm, v = Landmark.NOSE, 0.9
            elif name.startswith("far_"):
                lm, v = Landmark[f"{far}_{_TRUTH_NAMES[name[4:]]}"], 0.3
            else:
                lm, v = Landmark[f"{near.upper()}_{_TRUTH_NAMES[name]}"], 0.95
            xy[k, lm] = (x, y)
            vis[k, lm] = v
    seen = vis > 0
    return PoseSequence(
        t_s=np.array([f[0] for f in frames], np.float64),
        index=np.array([f[1] for f in frames], np.int64),
        xy_px=xy,
        z=np.where(seen, 0.0, np.nan).astype(np.float32),
        visibility=vis,
        presence=np.where(seen, 0.99, 0.0).astype(np.float32),
        world_xyz_m=np.where(seen[..., None], 0.0, np.nan).astype(np.float32)
        * np.ones((n, N_LANDMARKS, 3), np.float32),
        people=np.ones(n, np.int16),
        resolution_wh=wh,
        meta={
            "source": {
                "path": "synth_10_reps.mp4",
                "fps": 30.0,
                "frame_count": n,
                "duration_s": frames[-1][0] if frames else 0.0,
                "width": wh[0],
                "height": wh[1],
            }
        },
    )


@pytest.fixture(scope="module")
def ten_reps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, Path]:
    """A 10-rep synthetic set: its video, and its analysis from exact landmarks."""
    spec = random_clip_spec(5, n_reps=10, fps=30.0, occlusion=False, second_person=False)
    renderer = ClipRenderer(spec)
    video = tmp_path_factory.mktemp("ten") / "synth_10_reps.mp4"
    frames = []
    near = "left"
    with VideoSink(video, spec.fps, (spec.width, spec.height)) as sink:
        for f in renderer.frames():
            sink.write(f.image_bgr, f.t_s)
            frames.append((f.t_s, f.index, f.truth_px))
            near = f.near_side
    seq = _truth_sequence(frames, near, (spec.width, spec.height))
    return analyze_sequence(seq, CFG), video


# ---------------------------------------------------------------- helpers


class _Page(HTMLParser):
    """Collects what the structure tests look at: ids, cards, images, links, svgs."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.cards: list[str] = []
        self.card_images: dict[str, str] = {}
        self.urls: list[str] = []
        self.svg_labels: list[str] = []
        self.tags: Counter[str] = Counter()
        self._card: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "article" and "card" in a.get("class", ""):
            self._card = a["id"]
            self.cards.append(a["id"])
        if tag == "img" and self._card:
            self.card_images[self._card] = a.get("src", "")
        if tag == "svg" and "aria-label" in a:
            self.svg_labels.append(a["aria-label"])
        for key in ("src", "href", "action", "poster", "data"):
            if key in a:
                self.urls.append(a[key])


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def assert_self_contained(html: str) -> None:
    """No URL that a browser would fetch or follow off the page."""
    page = _parse(html)
    external = [u for u in page.urls if not u.startswith(("data:", "#"))]
    assert not external, f"external references: {external[:5]}"
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", html)
    assert not re.search(r"url\((?!#)", html), "CSS url() other than a local #id"
    assert "@import" not in html and page.tags["link"] == 0 and page.tags["iframe"] == 0


# Chromium's window is never narrower than 500 px, so a phone's width is emulated with an
# iframe of that width (its media queries and layout see the iframe's width).
MIN_WINDOW_W = 500


def _chromium(page: Path, width: int, height: int, out_png: Path | None, tmp: Path) -> str:
    """Load `page` in an iframe `width` x `height` px: a screenshot, or (no `out_png`) the
    DOM after load, whose body carries the page's scroll width in `data-w` and what the
    page's own script left in its `body.dataset.out` in `data-out`."""
    text = page.read_text(encoding="utf-8")
    frame = tmp / f"frame-{width}.html"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe id="f" srcdoc="{html_escape(text, quote=True)}" '
        f'style="border:0;display:block;width:{width}px;height:{height}px"></iframe>'
        "<script>var f = document.getElementById('f'); f.addEventListener('load', function () {"
        " var d = f.contentDocument; document.body.dataset.w = d.documentElement.scrollWidth;"
        " document.body.dataset.out = d.body.dataset.out || ''; });"
        "</script></body></html>",
        encoding="utf-8",
    )
    profile = tmp / f"profile-{width}-{out_png is None}"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={max(width, MIN_WINDOW_W)},{height}",
    ]
    cmd += [f"--screenshot={out_png}"] if out_png else ["--dump-dom"]
    done = subprocess.run(
        [*cmd, frame.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if out_png is not None:
        image = cv2.imread(str(out_png))
        assert image is not None, done.stderr[-2000:]
        cv2.imwrite(str(out_png), image[:, :width])
    return done.stdout


def _page_width(page: Path, width: int, tmp: Path) -> int:
    """The page's scroll width (px) at `width` px (more than `width`: sideways scrolling)."""
    dom = _chromium(page, width, 900, None, tmp)
    found = re.search(r'data-w="(\d+)"', dom)
    assert found, dom[-500:]
    return int(found.group(1))


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)


# ---------------------------------------------------------------- structure


def test_every_rep_has_a_card_with_its_picture_and_values(
    sample: Analysis, sample_html: str
) -> None:
    reps = sample.report.reps
    assert len(reps) == 3, "the sample clip has three reps"
    page = _parse(sample_html)
    assert page.cards == [f"rep-{rr.rep.index}" for rr in reps]
    for rr in reps:
        assert page.card_images[f"rep-{rr.rep.index}"].startswith("data:image/jpeg;base64,")
        # The measured top angle is on the card, as the page rounds it.
        assert f"{rr.rep.hip_angle_top_deg:.0f}°" in sample_html
    for label in (
        "Hip angle at the top",
        "Shin tilt from vertical at the top",
        "Pause at the top",
        "Lowering time",
        "Band",
    ):
        assert sample_html.count(f"<td>{label}") == len(reps), label


def test_header_plots_and_cues(sample: Analysis, sample_html: str) -> None:
    page = _parse(sample_html)
    assert any(label.startswith("Signed hip angle over time") for label in page.svg_labels)
    trends = [label for label in page.svg_labels if "per rep" in label]
    assert len(trends) == 3  # top angle, pause, lowering time
    for cue in sample.report.cues[:3]:
        assert cue in sample_html
    assert f"<b>{sample.report.score}</b>" in sample_html
    assert "sagging_hips_left.mp4" in sample_html


def test_page_is_self_contained_and_its_ids_unique(sample_html: str) -> None:
    assert_self_contained(sample_html)
    page = _parse(sample_html)
    assert page.tags["script"] == 0, "a report needs no script"
    duplicates = [i for i, n in page.ids.items() if n > 1]
    assert not duplicates, duplicates[:5]


def test_ten_rep_set_stays_under_two_megabytes(
    ten_reps: tuple[Analysis, Path], tmp_path: Path
) -> None:
    analysis, video = ten_reps
    assert len(analysis.reps) == 10
    html = report_html(analysis, video, CFG.rules)
    size = len(html.encode("utf-8"))
    assert size < MAX_TEN_REP_BYTES, f"{size / 1e6:.2f} MB"
    page = _parse(html)
    assert len(page.cards) == 10 and len(page.card_images) == 10
    assert_self_contained(html)


def test_clip_text_is_escaped(sample: Analysis) -> None:
    data = sample.report.to_dict()
    data["source"]["path"] = "/clips/<script>alert(1)</script>.mp4"
    data["reps"][0]["findings"][0]["cue"] = "<img src=x onerror=alert(1)>"
    html = build_report_html(data)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_a_set_without_reps_still_makes_a_page() -> None:
    data = {
        "schema_version": 1,
        "source": {"path": "empty.mp4", "duration_s": 3.0},
        "reps": [],
        "summary": {"rep_count": 0, "faults": {}, "cues": [], "score": None},
        "view": {"side": None, "ok": False, "message": "no person found"},
        "warnings": ["no complete hip-thrust rep found"],
    }
    html = build_report_html(data)
    assert "No complete rep found" in html and "no person found" in html
    assert _parse(html).cards == []
    assert "Rep by rep" not in html


def test_a_set_without_reps_says_what_was_seen_not_a_green_zero() -> None:
    seen = (
        "the clip opens with the hips up (up to 181°; a full top is 180°) and they are "
        "down by 2.2 s: the lift to that top is not in the clip"
    )
    data = {
        "schema_version": 1,
        "source": {"path": "cut.mp4", "duration_s": 6.0},
        "reps": [],
        "summary": {"rep_count": 0, "faults": {}, "cues": [], "score": None},
        "view": {"side": "left", "ok": True, "message": "side view, whole body in frame"},
        "warnings": [f"{NO_REPS}: {seen}. {HOW_TO}"],
    }
    html = build_report_html(data)
    said = html[html.index('id="no-reps"') :]
    assert "The clip opens with the hips up (up to 181°" in said and HOW_TO in said
    # Said once, where the cues go, and no "0 reps to fix" in green.
    assert html.count("the lift to that top is not in the clip") == 1
    assert "Good set" not in html
    assert re.search(r'class="stat good"><b>0</b><span>reps to fix', html) is None


# ---------------------------------------------------------------- from saved files, CLI


def test_rebuilt_from_saved_files_matches(sample: Analysis, saved: tuple[Path, Path]) -> None:
    report, landmarks = saved
    full = report_html_from_files(report, landmarks, SAMPLE, CFG)
    assert _parse(full).cards == [f"rep-{rr.rep.index}" for rr in sample.report.reps]
    # Landmarks without the video: the skeleton on a plain background, still a picture.
    plain = _parse(report_html_from_files(report, landmarks, None, CFG))
    assert len(plain.card_images) == len(sample.report.reps)
    # The report alone: cards without pictures, a timeline of the rep tops only.
    bare_html = report_html_from_files(report, None, None, CFG)
    bare = _parse(bare_html)
    assert len(bare.cards) == len(sample.report.reps) and not bare.card_images
    assert "no landmarks" in bare_html
    for html in (full, bare_html):
        assert_self_contained(html)


def test_report_command(saved: tuple[Path, Path], tmp_path: Path) -> None:
    report, landmarks = saved
    out = tmp_path / "out" / "set.html"
    # A report analysed long ago: its page is dated when the set was analysed, not built.
    data = json.loads(report.read_text(encoding="utf-8"))
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps({**data, "analysed_at": "2026-01-02T03:04:05+00:00"}), encoding="utf-8"
    )
    result = runner.invoke(
        app,
        [
            "report",
            str(old),
            "--landmarks",
            str(landmarks),
            "--video",
            str(SAMPLE),
            "--html",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "rep-3" in page and "Analysed 2026-01-02 03:04 UTC" in page
    missing = runner.invoke(app, ["report", str(tmp_path / "nope.json")])
    assert missing.exit_code == 3
    not_a_report = tmp_path / "x.json"
    not_a_report.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    assert runner.invoke(app, ["report", str(not_a_report)]).exit_code == 3
    # 100,000 nested brackets once ended in a RecursionError, exit 1.
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000, encoding="utf-8")
    deep = runner.invoke(app, ["report", str(nested)])
    assert deep.exit_code == 3 and "nested too deeply" in deep.output


def test_analyze_html_option_from_landmarks(saved: tuple[Path, Path], tmp_path: Path) -> None:
    _, landmarks = saved
    out = tmp_path / "a.html"
    result = runner.invoke(
        app, ["analyze", "--from-landmarks", str(landmarks), "--html", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert len(_parse(out.read_text(encoding="utf-8")).cards) == 3


# ---------------------------------------------------------------- batch index


def test_index_page_lists_and_links_every_clip() -> None:
    rows = [
        {
            "path": "clips/b.mp4",
            "status": "ok",
            "reps": 3,
            "score": 70,
            "top_cue": "Drive your hips higher",
            "report": "b/report.html",
        },
        {
            "path": "clips/a <1>.mp4",
            "status": "ok",
            "reps": 10,
            "score": 95,
            "top_cue": "",
            "report": "a <1>/report.html",
        },
        {
            "path": "clips/c.mp4",
            "status": "failed: no person found",
            "reps": None,
            "score": None,
            "top_cue": "",
            "report": None,
        },
    ]
    html = build_index_html(rows)
    page = _parse(html)
    assert page.tags["tr"] == 1 + len(rows)
    assert "b/report.html" in page.urls and "a%20%3C1%3E/report.html" in page.urls
    assert "a &lt;1&gt;.mp4" in html and "failed: no person found" in html
    assert page.tags["script"] == 1 and "sort" in html  # the sortable table's few lines
    assert "http" not in html
    with pytest.raises(ValueError, match="relative"):
        build_index_html([{"path": "x.mp4", "report": "https://example.com/x.html"}])


# ---------------------------------------------------------------- rendering (Chromium)


@needs_chromium
def test_index_sorts_by_score_in_chromium(tmp_path: Path) -> None:
    rows = [
        {
            "path": f"{name}.mp4",
            "status": "ok",
            "reps": 3,
            "score": score,
            "top_cue": "",
            "report": f"{name}.html",
        }
        for name, score in (("b", 70), ("a", 95), ("c", None), ("d", 80))
    ]
    page = tmp_path / "index.html"
    # Click "Score" twice (ascending, then descending) and read the clip order back.
    page.write_text(
        build_index_html(rows).replace(
            "</body>",
            """<script>
var b = document.querySelectorAll("#clips th button")[3]; b.click(); b.click();
document.body.dataset.out = Array.from(document.querySelectorAll("#clips tbody tr"))
  .map(function (tr) { return tr.cells[0].textContent.trim(); }).join(",");
</script></body>""",
        ),
        encoding="utf-8",
    )
    dom = _chromium(page, 1000, 600, None, tmp_path)
    order = re.search(r'data-out="([^"]*)"', dom)
    assert order and order.group(1) == "a.mp4,d.mp4,b.mp4,c.mp4"  # blanks last


@needs_chromium
@pytest.mark.parametrize(
    ("name", "width", "height"), [("phone", 390, 2400), ("desktop", 1280, 1800)]
)
def test_renders_in_chromium(
    sample_html: str, tmp_path: Path, name: str, width: int, height: int
) -> None:
    page = tmp_path / "report.html"
    page.write_text(sample_html, encoding="utf-8")
    png = tmp_path / f"report_{name}.png"
    _chromium(page, width, height, png, tmp_path)
    image = cv2.imread(str(png))
    assert image is not None and image.shape[:2] == (height, width)
    assert float(image.std()) > 20.0, "a blank screenshot"
    if keep := os.environ.get("FORMCHECK_SCREENSHOTS"):  # a folder to keep them in, to look
        shutil.copy(png, Path(keep) / png.name)
    # Nothing wider than the window: on a phone, cards stack and plots shrink.
    assert _page_width(page, width, tmp_path) <= width


@needs_chromium
def test_ten_rep_set_fits_a_phone(ten_reps: tuple[Analysis, Path], tmp_path: Path) -> None:
    analysis, video = ten_reps
    page = tmp_path / "ten.html"
    page.write_text(report_html(analysis, video, CFG.rules), encoding="utf-8")
    assert _page_width(page, 390, tmp_path) <= 390
