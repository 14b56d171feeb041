"""What the band check costs: one clip analysed with and without band detection, in turns.

    .venv/bin/python benchmarks/band_cost.py CLIP                 # 7 rounds
    .venv/bin/python benchmarks/band_cost.py CLIP --rounds 9 --json band_cost.json

One pose model is loaded once; each round analyses the clip (`analyze_video`, the default
pipeline: 1 frame in 2 at 30 fps) three ways, in turn: without band detection
(`detect = false`), with it but without the retake (`retake_frames = 0`: the band check
itself), and the default (detection and the retake of banded tops). Taking the three in turns
within each round keeps a slow spell of the machine from landing on one of them only; the
figure is the median over rounds of each round's ratio, with the range beside it, and the
fastest run of each. Wall time is what a user waits for; on a machine with two cores the
detector's thread competes with the pose model and decoding, so its cost shows there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from formcheck.analyze import analyze_video, open_estimator
from formcheck.config import Config

SETTINGS: dict[str, dict[str, object]] = {
    "no band detection": {"rules.band.detect": False},
    "band check, no retake": {"rules.band.retake_frames": 0},
    "default (band check and retake)": {},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path, help="the clip to analyse (e.g. a generated 720p set)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of three runs (default 7)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.clip.is_file():
        print(f"error: {args.clip}: no such file", file=sys.stderr)
        return 3
    base = Config()
    configs = {name: base.with_overrides(over) for name, over in SETTINGS.items()}
    wall: dict[str, list[float]] = {name: [] for name in configs}
    with open_estimator(base) as est:
        analyze_video(args.clip, base, estimator=est)  # warm up: caches, first inference
        for r in range(args.rounds):
            for name, cfg in configs.items():
                t0 = time.perf_counter()
                analyze_video(args.clip, cfg, estimator=est)
                wall[name].append(time.perf_counter() - t0)
            print(
                f"round {r + 1}/{args.rounds}: "
                + ", ".join(f"{n} {w[-1]:.2f} s" for n, w in wall.items()),
                file=sys.stderr,
            )
    ref = wall["no band detection"]
    result: dict[str, object] = {"clip": str(args.clip), "rounds": args.rounds, "wall_s": wall}
    print(
        f"{args.clip} ({args.rounds} rounds): wall time, and what it adds to the run without "
        "band detection"
    )
    for name, times in wall.items():
        added = [100.0 * (t / r - 1.0) for t, r in zip(times, ref, strict=True)]
        result[name] = {
            "median_s": statistics.median(times),
            "fastest_s": min(times),
            "added_pct_median": statistics.median(added),
            "added_pct_range": [min(added), max(added)],
            "added_pct_fastest": 100.0 * (min(times) / min(ref) - 1.0),
        }
        line = f"  {name:32s} median {statistics.median(times):5.2f} s, fastest {min(times):5.2f} s"
        if times is not ref:
            line += (
                f"; adds {statistics.median(added):+.1f}% (median of rounds; range "
                f"{min(added):+.1f}..{max(added):+.1f}%; fastest runs "
                f"{100.0 * (min(times) / min(ref) - 1.0):+.1f}%)"
            )
        print(line)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
