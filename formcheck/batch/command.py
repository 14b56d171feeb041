"""The `formcheck batch` and `formcheck batch-bench` commands (registered in `cli.py`).

Thin Typer layers over `runner.run_batch` and `bench.run_batch_bench`: options in, a
progress bar over clips with the failures counted, one line per failed clip, exit code out.
The library is imported inside the commands so that `formcheck --help` stays fast.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from formcheck.cli_flag import flag
from formcheck.cli_shared import err, fail, out
from formcheck.errors import BatchFailedError, FormcheckError, Terminated

if TYPE_CHECKING:
    from formcheck.batch.outputs import ClipRow
    from formcheck.config import Config

# Failed clips listed on the terminal at the end; the summary has them all.
MAX_FAILURES_SHOWN = 10


def _settings(
    config: Path | None,
    model: Path | None,
    stride: int | None,
    no_band: bool,
    band_color: str | None,
) -> Config:
    from formcheck.config import load_config

    return load_config(config).with_overrides(
        {
            "pose.model": str(model) if model else None,
            "pose.stride": stride,
            "rules.band.expected": False if no_band else None,
            "rules.band.color": band_color,
        }
    )


def batch_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="Video files, folders (searched recursively for .mp4, .mov, "
            ".m4v, .mkv, .webm, .avi) or glob patterns (quote them: 'clips/**/*.mp4').",
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output folder: index.html, reports/, videos/, landmarks/, "
            "summary.csv, summary.json.",
            file_okay=False,
        ),
    ],
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Worker processes (each loads the model once). Default: "
            "the CPU count; with --ray, the cluster's CPUs.",
            show_default=False,
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Run on a Ray cluster: 'auto' (the cluster this "
            "machine is in, see `ray start`), an address (host:6379, ray://host:10001), or "
            "'local' to start Ray here. Needs `pip install formcheck\\[ray]`.",
            show_default=False,
        ),
    ] = None,
    video: Annotated[
        bool, flag("--video", help="Also write each clip's annotated video (videos/<clip>.mp4).")
    ] = False,
    landmarks: Annotated[
        bool, flag("--landmarks", help="Also save each clip's pose track (landmarks/<clip>.npz).")
    ] = False,
    html: Annotated[
        bool,
        flag(
            "--html/--no-html",
            help="Write each clip's self-contained HTML report "
            "(reports/<clip>.html); index.html links to it, else to the JSON report.",
        ),
    ] = True,
    force: Annotated[
        bool,
        flag("--force", help="Analyse every clip again, even those with an up-to-date report."),
    ] = False,
    retry_errors: Annotated[
        bool,
        flag("--retry-errors", help="Analyse again the unchanged clips that failed last time."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML configuration file (see `formcheck config`).",
            dir_okay=False,
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Another PoseLandmarker .task bundle.", dir_okay=False),
    ] = None,
    stride: Annotated[
        int | None, typer.Option(min=1, max=10, help="Analyse every n-th frame.")
    ] = None,
    no_band: Annotated[
        bool, flag("--no-band", help="Bodyweight sets: no band is expected.")
    ] = False,
    band_color: Annotated[
        str | None, typer.Option(help="The band's colour; default: found automatically.")
    ] = None,
    quiet: Annotated[bool, flag("--quiet", "-q", help="No bar, no summary.")] = False,
) -> None:
    """Score many clips: one report per clip (JSON and HTML) and a summary table; resumable.

    A rerun keeps every clip whose report exists and whose input is unchanged (size and
    modification time) and analyses only new or changed clips; --force redoes them all.
    Exit 9 when the batch finished but some clips failed (see summary.csv).
    """
    from formcheck.batch.outputs import INDEX_HTML, SUMMARY_CSV
    from formcheck.batch.runner import BatchOptions, run_batch

    try:
        cfg = _settings(config, model, stride, no_band, band_color)
        opts = BatchOptions(out_dir, jobs, ray, video, landmarks, force, retry_errors, html)
        with _clip_bar(quiet) as on_row, _sigterm_stops():
            result = run_batch(inputs, cfg, opts, on_row)
    except FormcheckError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (`Terminated`)
        terminated = isinstance(exc, Terminated)
        err.print(
            f"{'stopped (SIGTERM)' if terminated else 'interrupted'}: finished clips "
            f"kept in {out_dir} (rerun the same command to go on)",
            soft_wrap=True,
        )
        if terminated:
            raise typer.Exit(Terminated.exit_code) from None
        raise
    failed = [r for r in result.rows if r.result == "error"]
    if not quiet:
        ran = result.analysed  # by a worker now (not the inputs that were not found)
        workers = f" on {result.workers} {result.backend} workers" if result.workers else ""
        out.print(
            f"{len(result.rows)} clips: {ran} analysed now{workers} in "
            f"{result.elapsed_s:.1f} s, {result.count('skipped')} kept from an earlier run; "
            f"{len(result.rows) - len(failed)} ok, {len(failed)} failed; summary: "
            f"{out_dir / SUMMARY_CSV}, {out_dir / INDEX_HTML}",
            soft_wrap=True,
            highlight=False,
        )
    for row in failed[:MAX_FAILURES_SHOWN]:
        # formcheck's own messages usually start with the path already
        line = row.error if row.error.startswith(row.path) else f"{row.path}: {row.error}"
        err.print(f"failed: {line}", soft_wrap=True, highlight=False, markup=False)
    if len(failed) > MAX_FAILURES_SHOWN:
        err.print(f"... and {len(failed) - MAX_FAILURES_SHOWN} more (see the summary)")
    if failed:
        raise fail(BatchFailedError(f"{len(failed)} of {len(result.rows)} clips failed"))


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` in the main thread: the batch stops as on
    Ctrl-C (workers ended, finished clips and the summary kept) instead of dying on the
    spot and leaving its workers running."""

    def stop(_signum: int, _frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _clip_bar:  # noqa: N801 - used like a function, as a context manager
    """A progress bar over clips with the failures so far; a no-op when quiet or piped."""

    def __init__(self, quiet: bool) -> None:
        self.bar: Progress | None = None
        if not quiet and err.is_terminal:
            self.bar = Progress(
                TextColumn("Scoring clips"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
        self.failed = 0
        self.task: Any = None

    def __enter__(self) -> Any:
        if self.bar is not None:
            self.bar.__enter__()
            self.task = self.bar.add_task("clips", total=None, failed=0)
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def update(self, row: ClipRow, done: int, total: int) -> None:
        if row.result == "error":
            self.failed += 1
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, failed=self.failed)


def batch_bench_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="The clips to time (files, folders, globs), e.g. a folder "
            "made by `formcheck synth DIR --count 50`.",
        ),
    ],
    jobs: Annotated[
        list[int] | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Local worker counts to time (repeat; default 1 and 2).",
            show_default=False,
        ),
    ] = None,
    ray_workers: Annotated[
        int,
        typer.Option(
            min=0, help="Ray actors for the Ray run (a local Ray instance); 0: no Ray run."
        ),
    ] = 2,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON here.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML configuration file.", dir_okay=False)
    ] = None,
    stride: Annotated[
        int | None, typer.Option(min=1, max=10, help="Analyse every n-th frame.")
    ] = None,
) -> None:
    """Time a batch: clips per minute with 1 and 2 jobs and with Ray, speed-up, memory."""
    from formcheck.bench.batch import run_batch_bench
    from formcheck.report import write_json

    try:
        cfg = _settings(config, None, stride, False, None)
        if ray_workers:
            from formcheck.batch.ray_runner import import_ray

            import_ray()
        with err.status("Timing batches...") as status:
            bench = run_batch_bench(
                inputs,
                cfg,
                tuple(jobs or (1, 2)),
                ray_workers,
                progress=lambda what: status.update(f"Timing: {what}"),
            )
    except FormcheckError as exc:
        raise fail(exc) from None
    for run in bench.runs:
        out.print(
            f"{run.label}: {run.clips} clips ({run.failed} failed) in {run.wall_s:.1f} s"
            f" = {run.clips_per_min:.1f} clips/min",
            highlight=False,
        )
        for m in run.memory:
            w = m.warm_index
            out.print(
                f"  worker {m.worker}: {m.clips} clips, model load {m.model_load_s:.1f} s, "
                f"CPU {m.cpu_s:.0f} s in {m.busy_s:.0f} s busy "
                f"({m.cpu_s / max(m.busy_s, 1e-9):.2f} cores); "
                f"private MiB after clip 1 / {w + 1} / {m.clips}: {m.private_mb[0]:.0f} / "
                f"{m.private_mb[w]:.0f} / {m.private_mb[-1]:.0f} (growth {m.growth_mb:+.0f}, "
                f"trend {m.slope_mb_per_10_clips:+.1f} MiB per 10 clips);"
                f" resident {m.rss_mb[0]:.0f} / {m.rss_mb[w]:.0f} / {m.rss_mb[-1]:.0f}, "
                f"peak {m.peak_rss_mb:.0f}",
                highlight=False,
                soft_wrap=True,
            )
    if bench.speedup is not None:
        out.print(f"speed-up, most jobs vs 1 job: {bench.speedup:.2f}x")
    if bench.ray_vs_local is not None:
        out.print(
            f"Ray vs local processes at the same worker count: {bench.ray_vs_local:.2f}x"
            f" (Ray start-up {bench.ray_start_s:.1f} s, not counted)"
        )
    if json_out is not None:
        write_json(bench.to_dict(), json_out)
