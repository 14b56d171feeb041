"""The `formcheck` command line: thin Typer commands over the library.

Domain errors become one line on stderr and a documented exit code (see `errors.EXIT_CODES`);
progress bars live here, the library only takes callbacks.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from formcheck import __version__
from formcheck.batch.command import batch_bench_command, batch_command
from formcheck.cli_flag import FlagHelpTyper, flag
from formcheck.cli_shared import ConfigOpt, err, exit_codes_help, fail, out
from formcheck.config import Config, config_to_toml, load_config
from formcheck.errors import EXIT_CODES, ConfigError, FormcheckError, NoRepsError
from formcheck.no_reps import NO_REPS
from formcheck.pose.landmarker import NATIVE_LOGS_ENV
from formcheck.server.command import db_app, serve_command, worker_command

app = FlagHelpTyper(
    name="formcheck",
    help="Form checker for the resistance band hip thrust: film a set from the side, get "
    "per-rep feedback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Another PoseLandmarker .task bundle (e.g. the official "
        "lite or heavy one). Default: the bundled full model.",
        dir_okay=False,
    ),
]


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar fed by the library's (done, total) callback."""
    if quiet or not err.is_terminal:
        yield lambda done, total: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done) if total else None)

        yield update


def _settings(config: Path | None, overrides: dict[str, Any]) -> Config:
    return load_config(config).with_overrides(overrides)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"formcheck {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        flag(
            "--version",
            callback=version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    verbose: Annotated[bool, flag("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    """Form checker for the resistance band hip thrust."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if verbose:  # MediaPipe's own log lines too, in worker processes as well
        os.environ[NATIVE_LOGS_ENV] = "1"


@app.command(epilog=exit_codes_help(3, 4, 5, 6, done=EXIT_CODES[0]))
def analyze(
    video: Annotated[
        Path | None, typer.Argument(help="Video of the set, filmed from the side.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report (JSON contract) here.")
    ] = None,
    video_out: Annotated[
        Path | None, typer.Option("--video", help="Write an annotated H.264 MP4 here.")
    ] = None,
    landmarks_out: Annotated[
        Path | None, typer.Option("--landmarks", help="Save the pose track (.npz) here.")
    ] = None,
    html_out: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Write a self-contained HTML report here "
            "(plots, a picture per rep; opens offline).",
            dir_okay=False,
        ),
    ] = None,
    from_landmarks: Annotated[
        Path | None,
        typer.Option("--from-landmarks", help="Re-run the rules on a saved pose track, no model."),
    ] = None,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    stride: Annotated[
        int | None, typer.Option(min=1, max=10, help="Analyse every n-th frame.")
    ] = None,
    no_band: Annotated[
        bool, flag("--no-band", help="A bodyweight set: no band is expected.")
    ] = False,
    band_color: Annotated[
        str | None,
        typer.Option(
            help="The band's colour (red, green, blue, yellow, black, "
            "purple, orange); default: found automatically."
        ),
    ] = None,
    quiet: Annotated[
        bool, flag("--quiet", "-q", help="Only the one-line result: no table, no bar.")
    ] = False,
) -> None:
    """Analyse a recorded set: per-rep findings, cues, and optional JSON, video, landmarks."""
    from formcheck.analyze import analyze_measurement, analyze_video
    from formcheck.measurement import Measurement
    from formcheck.outputs import ClipOutputs, write_outputs
    from formcheck.report.terminal import print_report, summary_line

    try:
        cfg = _settings(
            config,
            {
                "pose.model": str(model) if model else None,
                "pose.stride": stride,
                "rules.band.expected": False if no_band else None,
                "rules.band.color": band_color,
            },
        )
        if from_landmarks is not None:
            analysis = analyze_measurement(Measurement.load(from_landmarks), cfg)
        elif video is not None:
            with _progress("Analysing", quiet) as progress:
                analysis = analyze_video(video, cfg, progress)
        else:
            err.print("error: give a VIDEO, or --from-landmarks PATH", soft_wrap=True)
            raise typer.Exit(2)
        if video_out is not None and video is None:
            err.print("error: --video needs the VIDEO itself, not only --from-landmarks")
            raise typer.Exit(2)
        # With only --from-landmarks the page's pictures are drawn on a plain background.
        with _progress("Rendering", quiet or video_out is None) as progress:
            write_outputs(
                analysis,
                ClipOutputs(json_out, landmarks_out, video_out, html_out),
                video,
                cfg.rules,
                progress,
            )
        if quiet:  # the result in one line, for scripts
            out.print(summary_line(analysis.report), highlight=False, soft_wrap=True)
        else:
            print_report(analysis.report, out)
        if not analysis.reps:
            # What was seen is the report's last warning, printed above unless quiet.
            seen = [w for w in analysis.report.warnings if w.startswith(NO_REPS)]
            raise NoRepsError(seen[-1] if quiet and seen else NO_REPS)
    except FormcheckError as exc:
        raise fail(exc) from None


@app.command(epilog=exit_codes_help(3, 4))
def bench(
    video: Annotated[Path, typer.Argument(help="Clip to time (e.g. a bundled sample).")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON here.")
    ] = None,
    repeat: Annotated[
        int,
        typer.Option(min=1, max=10, help="Run each stage this many times; the fastest run counts."),
    ] = 2,
    render: Annotated[
        bool, flag("--render/--no-render", help="Also time writing the annotated video (--video).")
    ] = True,
    config: ConfigOpt = None,
    model: ModelOpt = None,
) -> None:
    """Time decoding, the pose model alone and the whole pipeline on one clip.

    The model alone on every pre-decoded frame is the reference; the pipeline runs with the
    configured settings (by default one model on about 15 frames a second) and again
    with one model on every frame, which shows what the pipeline adds on top of the model
    and whether the two schedules agree (rep count, top angle, pause, lowering).
    """
    from formcheck.bench.clip import run_bench
    from formcheck.report import write_json

    try:
        cfg = _settings(config, {"pose.model": str(model) if model else None})
        with err.status("Benchmarking (pipeline, decode, model alone)..."):
            r = run_bench(video, cfg, repeats=repeat, render=render)
    except FormcheckError as exc:
        raise fail(exc) from None
    table = Table(title=f"{r.clip}: {r.duration_s:.1f} s, {r.width}x{r.height}, {r.fps:.2f} fps")
    for col in ("stage", "frames", "wall s", "frames/s", "x real time"):
        table.add_column(col, justify="right")
    rows = [
        ("decode alone", r.decode),
        ("model alone (ceiling)", r.model_alone),
        (f"pipeline, default (1 frame in {r.analysed_every})", r.pipeline),
        ("pipeline, every frame", r.pipeline_every_frame),
    ]
    if r.annotated_video is not None:
        rows.append(("annotated video", r.annotated_video))
    for name, fig in rows:
        table.add_row(
            name, str(fig.frames), f"{fig.wall_s:.2f}", f"{fig.fps:.1f}", f"{fig.realtime_x:.2f}"
        )
    out.print(table)
    out.print(
        f"pipeline: {r.pipeline.realtime_x:.2f}x real time, "
        f"{r.pipeline_vs_model_pct:+.1f}% wall time vs the model alone; every frame: "
        f"{r.every_frame_overhead_pct:+.1f}% (what the pipeline adds to the model)"
    )
    out.print(
        f"model load {r.model_load_s:.2f} s (not in the figures above; with it the "
        f"pipeline runs at {r.cold_realtime_x:.2f}x real time, {r.cold_ratio:.2f} of the "
        f"model alone); peak memory {r.peak_rss_mb:.0f} MiB"
    )
    out.print(f"the models measured {r.model_frames} of the clip's {r.model_alone.frames} frames")
    a = r.agreement
    if a is not None:

        def diff(x: float | None, unit: str) -> str:
            return "-" if x is None else f"{x:.2f} {unit}"

        out.print(
            f"default vs every-frame schedule: {a.reps} vs {a.reps_every_frame} reps; "
            f"mean difference per rep: top angle {diff(a.top_angle_deg, 'deg')}, pause "
            f"{diff(a.pause_s, 's')}, lowering {diff(a.lowering_s, 's')}"
        )
    for label, stages in (
        ("pipeline stages", r.pipeline_stages_s),
        ("every-frame stages", r.every_frame_stages_s),
    ):
        out.print(f"{label}: " + ", ".join(f"{k} {v:.2f}s" for k, v in stages.items()))
    if json_out is not None:
        write_json(r.to_dict(), json_out)


@app.command("eval", epilog=exit_codes_help(3, 4, 7))
def evaluate(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Folder of clips, each with a <name>.json "
            "label beside it (formcheck synth or real_videos)."
        ),
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write per-clip rows and figures here.")
    ] = None,
    cache: Annotated[
        Path | None, typer.Option(help="Keep landmarks here so a rerun skips the model.")
    ] = None,
    details: Annotated[bool, flag(help="Per-rep labelled vs predicted tables.")] = False,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    min_count_exact: Annotated[
        float | None,
        typer.Option(help="Gate: share of clips whose rep count is exact.", show_default=False),
    ] = None,
    max_count_mae: Annotated[
        float | None, typer.Option(help="Gate: mean absolute rep count error.", show_default=False)
    ] = None,
    max_boundary_mae: Annotated[
        float | None, typer.Option(help="Gate: rep boundary timing error (s).", show_default=False)
    ] = None,
    max_angle_mae: Annotated[
        float | None, typer.Option(help="Gate: top hip angle error (deg).", show_default=False)
    ] = None,
    max_pause_mae: Annotated[
        float | None, typer.Option(help="Gate: pause duration error (s).", show_default=False)
    ] = None,
    max_eccentric_mae: Annotated[
        float | None, typer.Option(help="Gate: lowering duration error (s).", show_default=False)
    ] = None,
    min_band_accuracy: Annotated[
        float | None, typer.Option(help="Gate: band placement accuracy.", show_default=False)
    ] = None,
    min_fault_precision: Annotated[
        float | None,
        typer.Option(
            help="Gate: fault precision (per --fault code, else pooled).", show_default=False
        ),
    ] = None,
    min_fault_recall: Annotated[
        float | None,
        typer.Option(
            help="Gate: fault recall (per --fault code, else pooled).", show_default=False
        ),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Fault code the fault gates apply to (repeat the option).", show_default=False
        ),
    ] = None,
    pooled: Annotated[
        bool,
        flag(
            "--pooled",
            help="The fault gates apply to the precision and recall pooled over the "
            "--fault codes, not to each code.",
        ),
    ] = False,
    quiet: Annotated[bool, flag("--quiet", "-q", help="No tables, no bar.")] = False,
) -> None:
    """Measure accuracy on a folder of labelled clips; exit 7 when a given gate is missed."""
    from formcheck.cli_eval import print_eval
    from formcheck.errors import GateError
    from formcheck.evaluate import Gates, check_gates, evaluate_dir
    from formcheck.report import write_json

    gates = Gates(
        min_count_exact=min_count_exact,
        max_count_mae=max_count_mae,
        max_boundary_mae_s=max_boundary_mae,
        max_angle_mae_deg=max_angle_mae,
        max_pause_mae_s=max_pause_mae,
        max_eccentric_mae_s=max_eccentric_mae,
        min_band_accuracy=min_band_accuracy,
        min_fault_precision=min_fault_precision,
        min_fault_recall=min_fault_recall,
        fault_codes=tuple(fault) if fault else None,
        pool_faults=pooled,
    )
    try:
        cfg = _settings(config, {"pose.model": str(model) if model else None})
        with _progress("Evaluating clips", quiet) as progress:
            result = evaluate_dir(folder, cfg, cache_dir=cache, progress=progress)
        if json_out is not None:
            write_json(result.to_dict(), json_out)
        if not quiet:
            print_eval(result, out, details=details)
        failures = check_gates(result, gates)
        for line in failures:
            err.print(f"gate missed: {line}", soft_wrap=True, highlight=False)
        if failures:
            raise GateError(f"{len(failures)} accuracy gate(s) missed")
    except FormcheckError as exc:
        raise fail(exc) from None


@app.command(epilog=exit_codes_help())
def synth(
    out_path: Annotated[
        Path,
        typer.Argument(
            metavar="OUT",
            help="The .mp4 to write (its label goes beside it as .json); with "
            "--count or --samples, a folder.",
        ),
    ],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same clip.")] = 1,
    count: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Write this many varied clips (seeds SEED, SEED+1, ...) into OUT/.",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        bool, flag("--samples", help="Regenerate the bundled sample clips into OUT/.")
    ] = False,
    reps: Annotated[
        int | None, typer.Option(min=1, max=20, help="Number of reps.", show_default=False)
    ] = None,
    band: Annotated[
        str | None,
        typer.Option(help="Band placement: hips, knees, both or none.", show_default=False),
    ] = None,
    band_color: Annotated[
        str | None,
        typer.Option(help="red, green, blue, yellow, black, purple or orange.", show_default=False),
    ] = None,
    facing: Annotated[
        str | None,
        typer.Option(help="left or right: where the head is in the image.", show_default=False),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            metavar="WxH",
            help="Frame size in pixels, e.g. 1280x720 (taller than wide: a phone held upright).",
            show_default=False,
        ),
    ] = None,
    fps: Annotated[
        float | None, typer.Option(min=1, max=240, help="Frame rate.", show_default=False)
    ] = None,
    legs_like_band: Annotated[
        bool,
        flag(
            "--legs-like-band",
            help="Leggings of the band's own colour (the band detector's hardest case).",
        ),
    ] = False,
    quiet: Annotated[bool, flag("--quiet", "-q", help="No bar.")] = False,
) -> None:
    """Render labelled clips of a person doing band hip thrusts (for trying and testing)."""
    from formcheck.synth import random_clip_spec, render_clip, with_legs_like_band, write_samples

    options = {"band": band, "band_color": band_color, "facing": facing, "n_reps": reps, "fps": fps}
    overrides: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    if size is not None:
        try:
            overrides["width"], overrides["height"] = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise fail(
                ConfigError(f"synth: --size {size!r}: expected WxH, e.g. 1280x720")
            ) from None
    try:
        if samples:
            with _progress("Rendering samples", quiet) as progress:
                written = write_samples(out_path, progress=lambda _n, d, t: progress(d, t))
            out.print(f"wrote {len(written)} sample clips to {out_path}")
            return
        seeds = [seed] if count is None else list(range(seed, seed + count))
        for k, clip_seed in enumerate(seeds, start=1):
            target = out_path if count is None else out_path / f"synth_{clip_seed:05d}.mp4"
            spec = random_clip_spec(clip_seed, **overrides)
            if legs_like_band:
                spec = with_legs_like_band(spec)
            with _progress(f"Rendering {target.name} ({k}/{len(seeds)})", quiet) as progress:
                label = render_clip(spec, target, progress=progress)
            faults = sorted({f for r in label["reps"] for f in r.get("faults", [])})
            out.print(
                f"{target}: {label['rep_count']} reps, band {label['band']}, "
                f"faults: {', '.join(faults) or 'none'}"
            )
    except ValueError as exc:
        raise fail(ConfigError(f"synth: {exc}")) from None
    except FormcheckError as exc:
        raise fail(exc) from None


@app.command("band-overlay", epilog=exit_codes_help(3, 4))
def band_overlay(
    source_dir: Annotated[
        Path,
        typer.Argument(
            metavar="REAL_DIR",
            help="Labelled real clips (<name>.mp4 with <name>.json).",
            file_okay=False,
        ),
    ],
    out_dir: Annotated[Path, typer.Argument(metavar="OUT", help="Folder for the copies.")],
    placement: Annotated[
        list[str] | None,
        typer.Option(
            help="Band placement to draw (repeat): hips, knees, both, or none (the clip encoded "
            "again, no band). Default: all four.",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Draw a band on the lifters of real clips, along their own tracked landmarks, to measure the band detector on real bodies (`formcheck eval OUT`).

    Each usable clip with complete reps and no band gets a copy per placement (a clip with a knee band gets a hip band too: both), with its label saying the band it now shows. The clip's light, blur and grain are given to the band, and every copy is encoded again (the `none` copy too, so that all share the same compression).
    """  # noqa: E501 - typer keeps a docstring's line breaks in --help
    from formcheck.synth.band_overlay import PLACEMENTS, band_overlay_set

    chosen = tuple(placement or PLACEMENTS)
    bad = [p for p in chosen if p not in PLACEMENTS]
    if bad:
        raise fail(
            ConfigError(f"band-overlay: --placement {bad[0]!r}: expected hips, knees, both or none")
        )
    try:
        written = band_overlay_set(
            source_dir,
            out_dir,
            load_config(config),
            chosen,  # type: ignore[arg-type]
            progress=lambda name: out.print(f"drawing {name}"),
        )
    except FormcheckError as exc:
        raise fail(exc) from None
    out.print(f"wrote {len(written)} banded clips to {out_dir}")


@app.command("report", epilog=exit_codes_help(3))
def report_cmd(
    report_json: Annotated[
        Path,
        typer.Argument(
            metavar="REPORT.json",
            help="A report written by `formcheck analyze --json`.",
            dir_okay=False,
        ),
    ],
    html_out: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="The HTML file to write. Default: REPORT.html beside the JSON.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    landmarks: Annotated[
        Path | None,
        typer.Option(
            help="The set's saved landmarks (`analyze --landmarks`): hip-angle curve and skeleton.",
            dir_okay=False,
        ),
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option(
            "--video", help="The set's video: real pictures at the top of each rep.", dir_okay=False
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Build the self-contained HTML report from a saved report (+ landmarks, + video)."""
    from formcheck.report.html import report_html_from_files, write_html

    target = html_out or report_json.with_suffix(".html")
    try:
        cfg = _settings(config, {})
        write_html(report_html_from_files(report_json, landmarks, video, cfg), target)
    except FormcheckError as exc:
        raise fail(exc) from None
    out.print(f"wrote {target}")


@app.command(
    epilog=exit_codes_help(3, 4, 8),
    short_help="Coach a set live from a camera: reps, phase, a cue after every rep.",
    help=(
        "Coach a set live: rep count, phase and a cue after every rep, on screen and aloud. "
        "Keys in the window: q ends the set, r resets the count, space pauses. The set also "
        "ends after live.idle_end_s without movement, or when the source ends. The latency "
        "from capture to feedback is printed at the end."
    ),
)
def live(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="Camera index (0, 1, ...), a video file, or a stream URL "
            "(rtsp://, http://: e.g. a phone used as a webcam).",
        ),
    ] = "0",
    no_window: Annotated[
        bool, flag("--no-window", help="Headless: no window (tests; a phone streaming to a box).")
    ] = False,
    realtime: Annotated[
        bool,
        flag("--realtime", help="With a file: play it at its own frame rate, as a camera would."),
    ] = False,
    mute: Annotated[bool, flag("--mute", help="No tones, no spoken cues.")] = False,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the set's report here (the JSON contract of analyze)."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Write the annotated picture as an H.264 MP4 here."),
    ] = None,
    mirror: Annotated[
        bool | None,
        flag(
            "--mirror/--no-mirror",
            help="Show the picture mirrored. Default: for a camera "
            "index yes, for files and streams no.",
            show_default=False,
        ),
    ] = None,
    no_band: Annotated[
        bool, flag("--no-band", help="A bodyweight set: no band is expected.")
    ] = False,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    quiet: Annotated[bool, flag("--quiet", "-q", help="No per-rep lines, no table.")] = False,
) -> None:
    """Coach a set live (see the command's help); the work is in `formcheck.live`."""
    window = None
    if not no_window:  # first: the window hangs if PyAV is loaded before it opens
        from formcheck.live.display import LiveWindow

        try:
            window = LiveWindow()
        except FormcheckError as exc:
            raise fail(exc) from None
    from formcheck.live.session import LiveOptions, run_live_source
    from formcheck.report.terminal import print_report

    def said(v: Any) -> None:
        out.print(v.text, highlight=False)

    try:
        cfg = _settings(
            config,
            {
                "pose.model": str(model) if model else None,
                "rules.band.expected": False if no_band else None,
                "live.mirror": mirror,
            },
        )
        opts = LiveOptions(
            window=not no_window,
            mute=mute,
            json_out=json_out,
            record=record,
            on_verdict=None if quiet else said,
        )
        result = run_live_source(source, cfg, opts, realtime=realtime, window=window)
    except FormcheckError as exc:
        raise fail(exc) from None
    finally:
        if window is not None:
            window.close()
    if not quiet:
        out.print(f"set ended: {result.end_reason}", highlight=False)
        print_report(result.report, out)
    out.print(result.latency.line(), highlight=False)


@app.command("live-bench", epilog=exit_codes_help(3, 4, 7))
def live_bench(
    video: Annotated[Path, typer.Argument(help="Clip to play in real time (e.g. 30 fps).")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON here.")
    ] = None,
    window: Annotated[bool, flag("--window", help="Also draw the window.")] = False,
    check: Annotated[bool, flag("--check", help="Exit 7 when a latency target is missed.")] = False,
    config: ConfigOpt = None,
    model: ModelOpt = None,
) -> None:
    """Live latency: a clip played at its own rate through the live loop."""
    from formcheck.bench.live import TARGET_MAX_AGE_MS, TARGET_P95_MS, run_live_bench
    from formcheck.errors import GateError
    from formcheck.report import write_json

    try:
        cfg = _settings(config, {"pose.model": str(model) if model else None})
        with err.status("Playing the clip in real time through the live loop..."):
            r = run_live_bench(video, cfg, window=window)
    except FormcheckError as exc:
        raise fail(exc) from None
    lat = r.latency
    out.print(
        f"{r.clip}: {r.duration_s:.1f} s, {r.width}x{r.height}, {r.fps:.2f} fps, "
        f"{r.cpus} CPUs; {r.reps} reps",
        highlight=False,
    )
    out.print(lat.line(), highlight=False)
    out.print(
        f"p95 {lat.p95_ms:.1f} ms (target < {TARGET_P95_MS:.0f}): "
        f"{'ok' if r.p95_ok else 'MISSED'}; oldest frame {lat.oldest_age_ms:.1f} ms "
        f"(target <= {TARGET_MAX_AGE_MS:.0f}): {'ok' if r.age_ok else 'MISSED'}",
        highlight=False,
    )
    if json_out is not None:
        write_json(r.to_dict(), json_out)
    if check and not (r.p95_ok and r.age_ok):
        raise fail(GateError("a live latency target was missed"))


@app.command("config")
def show_config(config: ConfigOpt = None) -> None:
    """Print the effective configuration (defaults overlaid with --config) as TOML."""
    try:
        cfg = load_config(config)
    except FormcheckError as exc:
        raise fail(exc) from None
    sys.stdout.write(config_to_toml(cfg))


# `formcheck serve`, `worker` and `db` live in formcheck/server/command.py (the server's room).
app.command("serve", epilog=exit_codes_help(4, 10, 12, 13))(serve_command)
app.command("worker", epilog=exit_codes_help(4, 12, 13))(worker_command)
app.add_typer(db_app, name="db")

# `formcheck batch` and `batch-bench` live in formcheck/batch/command.py (their own room).
app.command("batch", epilog=exit_codes_help(4, 9, 11, 143))(batch_command)
app.command("batch-bench", epilog=exit_codes_help(3, 4))(batch_bench_command)


def main() -> None:
    """Console-script entry point: one line and an exit code for any failure, no traceback."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --verbose
        logging.getLogger("formcheck").debug("internal error", exc_info=True)
        err.print(
            f"internal error: {exc.__class__.__name__}: {exc}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        sys.exit(1)
