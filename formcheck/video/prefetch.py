"""Run an iterator on a background thread so decoding overlaps with inference."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 4) -> Generator[T, None, None]:
    """Yield `items` while a daemon thread produces up to `depth` of them ahead.

    Exceptions raised by the producer are re-raised in the consumer, in order. When the
    consumer stops early, the producer stops at its next item.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(item)
        except BaseException as exc:  # handed over to the consumer, not swallowed
            q.put(exc)
            return
        q.put(_DONE)

    thread = threading.Thread(target=produce, name="frame-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)
