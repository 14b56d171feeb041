"""Live coaching (`formcheck live`): camera -> pose -> reps and rules -> picture and sound.

- `capture`: sources (camera, stream, file played in real time) read on their own thread,
  newest frame only;
- `coach`: the causal per-frame pipeline and the rep verdicts (the offline stages and
  thresholds), setup guidance;
- `window`: the live picture and the end-of-set summary; `display`: the OpenCV window
  (kept free of heavy imports: it must open before PyAV is loaded, see there);
- `sound`: tones and spoken cues (when a player / a text-to-speech engine is installed);
- `session`: one set from start to end: keys, idle end, report, recording, latency;
- (its latency benchmark, `formcheck live-bench`, is `formcheck.bench.live`)

This package's own import loads nothing: import the modules you need.
"""
