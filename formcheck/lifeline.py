"""A worker process's tie to the process it works for: it never outlives it.

A worker left behind by a killed server or batch holds a gigabyte and may finish a job that
the next run hands out again. Two ties, because each covers what the other misses: Linux's
parent-death signal (at once, but only for the direct parent, and only on Linux) and a
watch thread that checks every second that the process it works for is still there (any
POSIX system, and a process further up, such as a batch driver above the forkserver that
starts its workers).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time

_PR_SET_PDEATHSIG = 1
#: How often (s) the watch thread checks that the process worked for is alive.
WATCH_EVERY_S = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere), and exit
    at once if the parent died before the signal was armed.

    Strictly, Linux sends it when the parent *thread* that started this process ends: the
    callers start workers from threads that live as long as the workers should.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(0)


def pid_alive(pid: int) -> bool:
    """Is there a process `pid` (signal 0: nothing is sent)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def exit_when_gone(pid: int) -> threading.Thread:
    """Start a daemon thread that ends this process (`os._exit`) once `pid` is gone."""

    def watch() -> None:
        while pid_alive(pid):
            time.sleep(WATCH_EVERY_S)
        os._exit(0)

    thread = threading.Thread(target=watch, name=f"lifeline-{pid}", daemon=True)
    thread.start()
    return thread
