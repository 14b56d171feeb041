"""`formcheck batch`: inputs, atomic writes, resume rules, interruption, index.html, and a
real batch.

The real batch (marked e2e) runs 10 inputs (6 sample clips, a corrupt file, a text file
named .mp4, an empty scene and a missing path) through 2 local worker processes at every
3rd frame, then checks that a rerun does no work and that a changed clip alone is redone.
Runner logic that needs no model (resume, --force, Ctrl-C) uses a fake backend.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from short_clips import short_sample
from typer.testing import CliRunner

from formcheck.atomic import atomic_write_bytes, atomic_write_json
from formcheck.batch.inputs import collect_inputs
from formcheck.batch.outputs import INDEX_HTML, SUMMARY_CSV, SUMMARY_JSON, ClipPaths
from formcheck.batch.runner import Backend, BatchOptions, run_batch
from formcheck.batch.worker import ClipProduct, ClipTask
from formcheck.cli import app
from formcheck.config import Config
from formcheck.errors import BatchFailedError
from formcheck.pose.bundle import default_model_path
from formcheck.report import validate_report
from tests.batch_clips import (
    GOOD_SAMPLES,
    TEST_STRIDE,
    batch_config,
    make_batch_dir,
)

needs_model = pytest.mark.skipif(not default_model_path().is_file(), reason="pose model not found")


# -- inputs ------------------------------------------------------------------------------------


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_inputs_folders_globs_missing_and_duplicates(tmp_path: Path) -> None:
    a = _touch(tmp_path / "in" / "a.mp4")
    _touch(tmp_path / "in" / "sub" / "b.MOV")
    _touch(tmp_path / "in" / "notes.txt")
    _touch(tmp_path / "in" / ".hidden" / "c.mp4")
    _touch(tmp_path / "other" / "a.mp4")
    out = tmp_path / "in" / "out"
    _touch(out / "videos" / "a.mp4")  # the batch's own output is never an input
    clips = collect_inputs(
        [
            str(tmp_path / "in"),
            str(a),
            str(tmp_path / "other" / "*.mp4"),
            str(tmp_path / "nope.mp4"),
            str(tmp_path / "*.avi"),
        ],
        exclude=out,
    )
    keys = [c.key for c in clips]
    assert keys == [
        "in/a",
        "in/sub/b",
        "a",
        tmp_path.relative_to("/").as_posix() + "/nope.mp4",
        tmp_path.relative_to("/").as_posix() + "/*.avi",
    ]
    assert clips[0].path == a.resolve() and clips[0].error is None
    assert clips[2].path == (tmp_path / "other" / "a.mp4").resolve()  # same name, own key
    assert "no such file or folder" in (clips[3].error or "")
    assert "no file matches" in (clips[4].error or "")


def test_inputs_same_stem_twice_gets_distinct_keys(tmp_path: Path) -> None:
    x = _touch(tmp_path / "x" / "set.mp4")
    y = _touch(tmp_path / "y" / "set.mp4")
    clips = collect_inputs([str(x), str(y), str(x)])  # the repeat is dropped
    assert [c.key for c in clips] == ["set", "set-2"]


def test_inputs_explicit_file_is_taken_whatever_its_name(tmp_path: Path) -> None:
    f = _touch(tmp_path / "clip.data")
    assert [c.path for c in collect_inputs([str(f)])] == [f.resolve()]


def test_inputs_a_pipe_and_a_broken_link_are_error_rows_not_a_hang(tmp_path: Path) -> None:
    """A FIFO given as input hung the batch (the decoder waits for a writer for ever); a
    dangling link in a folder was left out of the summary without a word."""
    import os

    fifo = tmp_path / "in" / "pipe.mp4"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    (tmp_path / "in" / "gone.mp4").symlink_to(tmp_path / "deleted.mp4")
    good = _touch(tmp_path / "in" / "set.mp4")
    folder = {c.key: c for c in collect_inputs([str(tmp_path / "in")])}
    assert set(folder) == {"in/pipe", "in/gone", "in/set"}
    assert "not a regular file" in (folder["in/pipe"].error or "")
    assert "broken link" in (folder["in/gone"].error or "")
    assert folder["in/set"].error is None and folder["in/set"].path == good.resolve()
    named = collect_inputs([str(fifo), str(tmp_path / "in" / "gone.mp4")])
    assert [
        "not a regular file" in (named[0].error or ""),
        "broken link" in (named[1].error or ""),
    ] == [True, True]


# -- atomic writes ------------------------------------------------------------------------------


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "r.json"
    atomic_write_json(target, {"v": 1})
    atomic_write_bytes(target, b'{"v": 2}')
    assert json.loads(target.read_text()) == {"v": 2}
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]


def test_atomic_write_failure_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    atomic_write_json(target, {"v": "old"})

    def crash(src: object, dst: object) -> None:  # the process dies before the rename
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_json(target, {"v": "new" * 1000})
    assert json.loads(target.read_text()) == {"v": "old"}  # never half-written
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # the temp file is gone


# -- runner logic with a fake backend ---------------------------------------------------------


class FakeBackend:
    """Returns a fixed tiny report per task (no model), records tasks; can be interrupted."""

    name = "fake"
    workers = 1

    def __init__(self, report: dict[str, object], interrupt_after: int | None = None) -> None:
        self.report = report
        self.interrupt_after = interrupt_after
        self.tasks: list[ClipTask] = []
        self.stopped = self.closed = False

    def results(self, tasks: Sequence[ClipTask]) -> Iterator[ClipProduct]:
        for n, task in enumerate(tasks):
            if self.interrupt_after is not None and n == self.interrupt_after:
                raise KeyboardInterrupt
            self.tasks.append(task)
            html = FAKE_HTML if task.want_html else None
            yield ClipProduct(
                task.index, self.report, html=html, processing_s=0.01, worker="fake:1"
            )

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True


FAKE_REPORT: dict[str, object] = {
    "source": {"duration_s": 1.0},
    "warnings": [],
    "summary": {"rep_count": 2, "faults": {"short_pause": 1}, "cues": ["Hold it"], "score": 90},
}


FAKE_HTML = b"<!DOCTYPE html><title>fake report</title>"


class _Index(HTMLParser):
    """index.html's table rows (cell texts) and every link or source it refers to."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._in_body = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.links += [v for k, v in a.items() if k in ("href", "src", "action") and v]
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def check_index(out: Path, n_rows: int) -> _Index:
    """index.html is there, has `n_rows` rows, every link is a relative path to a file of
    the output folder, and nothing refers to the network."""
    text = (out / INDEX_HTML).read_text("utf-8")
    page = _Index(text)
    assert len(page.rows) == n_rows
    for link in page.links:
        assert not re.match(r"^([a-z]+:|/)", link), link
        assert (out / link).is_file(), link
    assert "http://" not in text and "https://" not in text
    return page


def _factory(backend: FakeBackend):  # type: ignore[no-untyped-def]
    def make(cfg: Config, opts: BatchOptions, n: int) -> Backend:
        return backend

    return make


def _no_backend(cfg: Config, opts: BatchOptions, n: int) -> Backend:
    raise AssertionError("a rerun with nothing changed must not start any worker")


@needs_model
def test_resume_force_and_changed_input_with_fake_backend(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _touch(tmp_path / "in" / f"{name}.mp4", name)
    cfg, out = batch_config(), tmp_path / "out"
    first = FakeBackend(FAKE_REPORT)
    result = run_batch([str(tmp_path / "in")], cfg, BatchOptions(out), None, _factory(first))
    assert [r.status for r in result.rows] == ["ok"] * 3 and first.closed
    row = result.rows[0]
    assert (row.rep_count, row.score, row.faults, row.top_cue) == (
        2,
        90,
        {"short_pause": 1},
        "Hold it",
    )
    csv_text = (out / SUMMARY_CSV).read_text()
    assert "short_pause=1" in csv_text and csv_text.count("\n") == 4
    assert ClipPaths.of(out, "in/a").html.read_bytes() == FAKE_HTML  # HTML by default
    assert all(t.want_html for t in first.tasks)

    # Nothing changed: no worker at all, every row kept, the index written again.
    (out / INDEX_HTML).unlink()
    again = run_batch([str(tmp_path / "in")], cfg, BatchOptions(out), None, _no_backend)
    assert [r.status for r in again.rows] == ["skipped"] * 3
    assert [r.result for r in again.rows] == ["ok"] * 3 and again.rows[0].score == 90
    assert check_index(out, 3).links == [f"reports/in/{k}.html" for k in "abc"]

    # One input changed (size and mtime): only that one is redone.
    _touch(tmp_path / "in" / "b.mp4", "changed")
    redo = FakeBackend(FAKE_REPORT)
    result = run_batch([str(tmp_path / "in")], cfg, BatchOptions(out), None, _factory(redo))
    assert [t.key for t in redo.tasks] == ["in/b"]
    assert [r.status for r in result.rows] == ["skipped", "ok", "skipped"]

    # Asking for a video that the first run did not write: redone.
    redo = FakeBackend(FAKE_REPORT)
    run_batch([str(tmp_path / "in")], cfg, BatchOptions(out, want_video=True), None, _factory(redo))
    assert len(redo.tasks) == 3 and all(t.want_video for t in redo.tasks)

    # --force: everything again.
    forced = FakeBackend(FAKE_REPORT)
    run_batch([str(tmp_path / "in")], cfg, BatchOptions(out, force=True), None, _factory(forced))
    assert [t.key for t in forced.tasks] == ["in/a", "in/b", "in/c"]

    # A different configuration: its results are not reused.
    other = FakeBackend(FAKE_REPORT)
    run_batch(
        [str(tmp_path / "in")],
        cfg.with_overrides({"pose.stride": 1}),
        BatchOptions(out),
        None,
        _factory(other),
    )
    assert len(other.tasks) == 3


@needs_model
def test_failed_clip_is_kept_as_failed_until_retry_errors(tmp_path: Path) -> None:
    _touch(tmp_path / "in" / "a.mp4")
    cfg, out = batch_config(), tmp_path / "out"
    paths = ClipPaths.of(out, "in/a")
    atomic_write_json(paths.report, {"stale": True})  # from an older version of the clip
    atomic_write_bytes(paths.html, FAKE_HTML)

    class Failing(FakeBackend):
        def results(self, tasks: Sequence[ClipTask]) -> Iterator[ClipProduct]:
            for task in tasks:
                self.tasks.append(task)
                yield ClipProduct(task.index, None, error="a.mp4: not a readable video")

    result = run_batch(
        [str(tmp_path / "in")], cfg, BatchOptions(out), None, _factory(Failing(FAKE_REPORT))
    )
    assert result.rows[0].error == "a.mp4: not a readable video" and result.failed == 1
    assert not paths.report.exists() and not paths.html.exists()  # no stale report
    (row,) = check_index(out, 1).rows
    assert row[1] == "failed: a.mp4: not a readable video"
    kept = run_batch([str(tmp_path / "in")], cfg, BatchOptions(out), None, _no_backend)
    assert (kept.rows[0].status, kept.rows[0].result) == ("skipped", "error")
    retry = Failing(FAKE_REPORT)
    run_batch(
        [str(tmp_path / "in")], cfg, BatchOptions(out, retry_errors=True), None, _factory(retry)
    )
    assert len(retry.tasks) == 1


@needs_model
def test_interrupt_keeps_finished_clips_and_writes_summary(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _touch(tmp_path / "in" / f"{name}.mp4", name)
    backend = FakeBackend(FAKE_REPORT, interrupt_after=1)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [str(tmp_path / "in")], batch_config(), BatchOptions(out), None, _factory(backend)
        )
    assert backend.stopped
    summary = json.loads((out / SUMMARY_JSON).read_text())
    assert summary["interrupted"] is True
    assert [r["key"] for r in summary["rows"]] == ["in/a"]
    assert ClipPaths.of(out, "in/a").report.is_file()
    assert check_index(out, 1).links == ["reports/in/a.html"]
    # The rerun goes on where it stopped.
    rest = FakeBackend(FAKE_REPORT)
    run_batch([str(tmp_path / "in")], batch_config(), BatchOptions(out), None, _factory(rest))
    assert [t.key for t in rest.tasks] == ["in/b", "in/c"]


@needs_model
def test_index_links_every_clip_and_no_html_skips_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from formcheck.batch import runner

    for name in ("a", "b"):
        _touch(tmp_path / "in" / f"{name}.mp4", name)
    out = tmp_path / "out"
    backends: list[FakeBackend] = []
    real_run_batch = runner.run_batch

    def run_with_fake(
        items: Sequence[str], cfg: Config, opts: BatchOptions, progress: Any = None
    ) -> Any:  # the CLI's run_batch, without a model
        backends.append(FakeBackend(FAKE_REPORT))
        return real_run_batch(items, cfg, opts, progress, _factory(backends[-1]))

    monkeypatch.setattr(runner, "run_batch", run_with_fake)
    args = ["batch", str(tmp_path / "in"), str(tmp_path / "missing.mp4"), "--out", str(out), "-q"]
    run = CliRunner().invoke(app, [*args, "--no-html"])
    assert run.exit_code == BatchFailedError.exit_code, run.output
    assert [t.want_html for t in backends[-1].tasks] == [False, False]
    assert not list((out / "reports").rglob("*.html"))
    page = check_index(out, 3)  # the error row too
    assert page.links == ["reports/in/a.json", "reports/in/b.json"]  # the JSON, no page
    cells = {row[0]: row for row in page.rows}
    assert cells["a.mp4"][1:4] == ["ok", "2", "90"] and cells["a.mp4"][4] == "Hold it"
    assert cells["missing.mp4"][1].startswith("failed: ")
    assert "no such file or folder" in cells["missing.mp4"][1]

    # Now with HTML (the default): the clips without a page are redone, the index links it.
    run = CliRunner().invoke(app, args)
    assert run.exit_code == BatchFailedError.exit_code, run.output
    assert [t.want_html for t in backends[-1].tasks] == [True, True]
    assert check_index(out, 3).links == ["reports/in/a.html", "reports/in/b.html"]
    assert ClipPaths.of(out, "in/b").html.read_bytes() == FAKE_HTML

    # Again, either way: no work, the pages kept and linked.
    for extra in ([], ["--no-html"]):
        CliRunner().invoke(app, [*args, *extra])
        assert backends[-1].tasks == []
        assert check_index(out, 3).links == ["reports/in/a.html", "reports/in/b.html"]


# -- a real batch ---------------------------------------------------------------------------


@pytest.mark.e2e
@needs_model
def test_batch_of_ten_with_bad_inputs_then_rerun_does_no_work(tmp_path: Path) -> None:
    clips = make_batch_dir(tmp_path)
    out = tmp_path / "out"
    missing = str(tmp_path / "missing.mp4")
    args = [
        "batch",
        str(clips),
        missing,
        "--out",
        str(out),
        "--jobs",
        "2",
        "--stride",
        str(TEST_STRIDE),
        "--landmarks",
        "-q",
    ]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == BatchFailedError.exit_code, run.output
    assert "4 of 10 clips failed" in run.output

    summary = json.loads((out / SUMMARY_JSON).read_text())
    rows = {Path(r["path"]).name: r for r in summary["rows"]}
    assert len(rows) == 10 and summary["workers"] == 2
    for name in GOOD_SAMPLES:
        row = rows[f"{name}.mp4"]
        assert row["status"] == "ok", row
        label = json.loads(short_sample(name).with_suffix(".json").read_text())
        assert row["rep_count"] == label["rep_count"] == 1
        assert row["score"] is not None and row["duration_s"] > 3
        report = json.loads((out / row["report"]).read_text())
        validate_report(report)
        assert report["source"]["path"] == row["path"]
        assert (out / "landmarks" / f"{row['key']}.npz").is_file()
        page = ClipPaths.of(out, row["key"]).html.read_text("utf-8")
        assert "<svg" in page and row["key"].split("/")[-1] + ".mp4" in page
        assert "http://" not in page and "https://" not in page
    index = check_index(out, 10)
    assert sorted(index.links) == sorted(
        f"reports/{rows[f'{n}.mp4']['key']}.html" for n in GOOD_SAMPLES
    )
    assert rows["short_pause_left.mp4"]["faults"].get("short_pause", 0) >= 1
    assert "not a readable video" in rows["corrupt.mp4"]["error"]
    assert "not a readable video" in rows["not_a_video.mp4"]["error"]
    assert "no person found" in rows["empty_scene.mp4"]["error"]
    assert "no such file or folder" in rows["missing.mp4"]["error"]
    for bad in ("corrupt.mp4", "not_a_video.mp4", "empty_scene.mp4", "missing.mp4"):
        assert rows[bad]["status"] == "error" and rows[bad]["report"] == ""
    workers = {r["worker"] for r in summary["rows"] if r["worker"]}
    assert len(workers) == 2  # both processes took clips
    csv_lines = (out / SUMMARY_CSV).read_text().splitlines()
    assert len(csv_lines) == 11 and csv_lines[0].startswith("path,key,status,result")

    # A rerun does no work: no worker is started, nothing is rewritten.
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "reports").rglob("*.*")}
    again = run_batch(
        [str(clips), missing],
        batch_config(),
        BatchOptions(out, jobs=2, want_landmarks=True),
        None,
        _no_backend,
    )
    assert again.count("skipped") == 9 and again.failed == 4 and again.analysed == 0
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert len(check_index(out, 10).links) == len(GOOD_SAMPLES)

    # A changed clip alone is analysed again (here: replaced by another sample).
    target = clips / "good" / "good_form_right.mp4"
    shutil.copy(clips / "good" / "fast_lowering_right.mp4", target)
    redo = run_batch(
        [str(clips), missing], batch_config(), BatchOptions(out, jobs=2, want_landmarks=True)
    )
    assert redo.analysed == 1 and redo.workers == 1
    assert [r.key for r in redo.rows if r.status == "ok"] == ["clips/good/good_form_right"]


@pytest.mark.e2e
@needs_model
def test_batch_bench_command_reports_rate_and_memory(tmp_path: Path) -> None:
    from tests.batch_clips import write_plain_video

    clip = tmp_path / "empty.mp4"  # quick: the worker loads the model, finds nobody
    write_plain_video(clip, seconds=1.0)
    figures = tmp_path / "bench.json"
    run = CliRunner().invoke(
        app, ["batch-bench", str(clip), "--jobs", "1", "--ray-workers", "0", "--json", str(figures)]
    )
    assert run.exit_code == 0, run.output
    assert "clips/min" in run.output and "private MiB" in run.output
    data = json.loads(figures.read_text())
    (only,) = data["runs"]
    assert only["clips"] == 1 and only["failed"] == 1 and only["clips_per_min"] > 0
    assert only["memory"][0]["clips"] == 1 and only["memory"][0]["peak_rss_mb"] > 0
