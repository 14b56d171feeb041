"""A process's memory, as the benchmarks and the batch workers report it (MiB)."""

from __future__ import annotations

import resource
import sys


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now (MiB): (all of it, its private anonymous part).

    The private part (Linux `RssAnon`) is what a leak grows; the total also counts shared
    pages the process touched, e.g. Ray's shared-memory object store, which the store
    reuses and which is not this process's to leak. Elsewhere both are the peak.
    """
    fields: dict[str, float] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon"):
                    fields[key] = float(value.split()[0]) / 1024  # kB -> MiB
    except (OSError, ValueError, IndexError):
        pass
    peak = peak_rss_mb()
    return fields.get("VmRSS", peak), fields.get("RssAnon", fields.get("VmRSS", peak))
