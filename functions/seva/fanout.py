"""Independent I/O calls of one invocation made a few at a time (the poller's puts of a page, the notifier's
sends of one event), results in the items' order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def fan_out(fn: Callable[[Item], Result], items: Sequence[Item], workers: int) -> list[Result]:
    """``[fn(item) for item in items]``, up to ``workers`` calls at once. The first call runs alone: it opens the
    connections (botocore creates clients and reads credentials lazily, and that is not thread-safe) that the
    others then share. Every call has finished when this returns; the exception of the earliest item that raised
    is re-raised then (make ``fn`` return its errors when each item's outcome must be kept)."""
    if workers <= 1 or len(items) <= 2:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # only where used: not at cold start

    first = fn(items[0])
    with ThreadPoolExecutor(min(workers, len(items) - 1)) as pool:
        futures = [pool.submit(fn, item) for item in items[1:]]
    return [first, *(future.result() for future in futures)]
