"""Frames per second of a live video, measured where the frames are processed."""

import threading
import time
from collections import deque

import cv2
import numpy as np

WINDOW_SECONDS = 2.0  # the rate is averaged over the frames of the last two seconds


class FrameRate:
    """A thread-safe frames-per-second meter: the video thread ticks, the page reads fps.

    Example: rate = FrameRate(); rate.tick(); ...; rate.fps -> 14.8
    """

    def __init__(self, window_seconds: float = WINDOW_SECONDS):
        self.window_seconds = window_seconds
        self._times: deque[float] = deque()
        self._last: float | None = None  # the last frame's time, kept after the window empties
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every frame (a new start of the video)."""
        with self._lock:
            self._times.clear()
            self._last = None

    def stalled(self, seconds: float = 5.0, now: float | None = None) -> bool:
        """True when frames came and then none for `seconds`: the video froze. False before the first
        frame, so a slow start is not taken for a freeze."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._last is not None and now - self._last > seconds

    def tick(self, now: float | None = None) -> float:
        """Count one frame (at `now`, default the current time); return the updated rate."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            self._last = now
            while self._times and now - self._times[0] > self.window_seconds:
                self._times.popleft()
            return self._rate(now)

    @property
    def fps(self) -> float:
        """Frames per second over the last window; 0 when no frame arrived in it."""
        now = time.monotonic()
        with self._lock:
            if self._times and now - self._times[-1] > self.window_seconds:
                self._times.clear()  # the video stopped: no frame in the last window
            return self._rate(self._times[-1] if self._times else now)

    def _rate(self, now: float) -> float:
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(now - self._times[0], 1e-6)


def draw_frame_rate(picture: np.ndarray, fps: float) -> np.ndarray:
    """Write "12.3 fps" in the top-left corner of an RGB picture (in place); return it."""
    scale = max(0.5, picture.shape[1] / 900)
    thickness = max(1, round(scale * 2))
    origin = (8, int(28 * scale))
    label = f"{fps:.1f} fps"
    cv2.putText(picture, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(picture, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return picture
