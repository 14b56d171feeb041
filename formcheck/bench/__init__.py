"""Speed and memory, measured: the product's benchmarks, one module per way of using it.

- `clip`: one recorded set through `analyze` against the bare model (`formcheck bench`);
- `batch`: clips per minute and memory per worker (`formcheck batch-bench`);
- `live`: capture-to-feedback latency of live coaching (`formcheck live-bench`).

The scripts that drive a running server (load, soak) and the band's cost study are in the
repository's `benchmarks/` folder; the figures measured are in `BENCHMARKS.md`.
"""
