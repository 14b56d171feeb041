"""Batch-scoring many clips: local worker processes or Ray actors, resumable, atomic.

`runner.run_batch(items, cfg, BatchOptions(out_dir=...))` analyses every clip named by
`items` (files, folders, globs) and writes one report per clip (JSON, and HTML unless
turned off) plus `summary.csv`, `summary.json` and `index.html`; `formcheck batch`
(`command.py`) is a thin layer over it. Rooms:

- `inputs.py`     files, folders and globs -> `ClipInput`s (missing ones as error inputs)
- `resume.py`     which clips already have an up-to-date result (state sidecars)
- `outputs.py`    the output layout, atomic writes, summary rows and files
- `worker.py`     one clip in a worker that loaded the model once -> `ClipProduct`
- `runner.py`     the driver and the local process pool
- `ray_runner.py` the Ray actors backend (optional: `pip install formcheck[ray]`)
- (its benchmark, `formcheck batch-bench`, is `formcheck.bench.batch`)

Nothing is imported here, so that loading the CLI does not load the pipeline.
"""
