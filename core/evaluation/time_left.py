"""How long a piece of work done in batches (classifying a split's faces) has left, from its pace, and how to
say it. The first batch is no pace: it pays for loading and graph tracing (seconds). Recent batches follow a
machine that slows down (another process on the cores), and the estimate never drops below what the pace since
the first batch says either, so a burst of quick batches cannot make it collapse."""

import math
import time
from collections import deque
from typing import Callable

RECENT_BATCHES = 5  # the pace of the last few batches, against the pace since the first batch


class TimeLeft:
    """Seconds left of work reported as (done, total) after each batch.

    Example: clock = iter([0.0, 5.0, 6.0, 7.0]).__next__; left = TimeLeft(clock)
             [left.update(done, 100) for done in (10, 20, 30, 40)] -> [None, 40.0, 21.0, 14.0]
    Returns None until a pace is measured (after the second batch).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, recent: int = RECENT_BATCHES):
        self.clock = clock
        self.first: tuple[float, int] | None = None  # (time, done) at the end of the first batch
        self.marks: deque[tuple[float, int]] = deque(maxlen=recent + 1)

    def update(self, done: int, total: int) -> float | None:
        """Record that done of total are done now; return the seconds left (None while unknown)."""
        mark = (self.clock(), done)
        if self.first is None:
            self.first = mark
        self.marks.append(mark)
        if done >= total:
            return 0.0
        paces = [pace for pace in (_pace(self.first, mark), _pace(self.marks[0], mark)) if pace is not None]
        return max(paces) * (total - done) if paces else None


def _pace(since: tuple[float, int], now: tuple[float, int]) -> float | None:
    """Seconds a unit between two marks, or None when nothing was done between them."""
    return (now[0] - since[0]) / (now[1] - since[1]) if now[1] > since[1] else None


def about_left(seconds: float | None) -> str:
    """Words for an estimate: "about 44 s left", "about 3 min left", "about 1 h 5 min left"; the pace is still
    being measured for None. Rounded up: work that remains is never "0 s" away.

    Example: about_left(43.2) -> "about 44 s left"; about_left(None) -> "measuring the pace..."
    """
    if seconds is None:
        return "measuring the pace..."
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"about {seconds} s left"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"
