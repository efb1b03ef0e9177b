"""Following faces from one classified frame to the next: each box joins the track it overlaps most, and a
scene cut ends every track (two people filmed in turn at the same place are two faces, not one).

Example: tracker = FaceTracker(); tracker.update([(10, 10, 50, 50)]) -> [1]; then
tracker.update([(200, 0, 40, 40), (14, 12, 50, 50)]) -> [2, 1]
"""

import cv2
import numpy as np

from core.vision.faces import Box

MIN_OVERLAP = 0.2  # intersection over union a box needs to continue a track
MAX_MISSED = 5  # classified frames a face may go unseen before its track ends
# A cut changes both what a frame's brightness histogram holds and where things are; ordinary motion changes one:
# a pan, a zoom or a moving face the layout but hardly the histogram, an exposure change the histogram but not
# the layout. Measured by bench/scene_cuts.py (docs/benchmarks.md).
CUT_BRIGHTNESS = 0.15  # share of the pixels that moved to another of 16 brightness bins
CUT_LAYOUT = 0.2  # 1 - the correlation of the two frames' 16x9 thumbnails


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, width, height) boxes, 0 to 1."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    shared = max(0, width) * max(0, height)
    return shared / (a[2] * a[3] + b[2] * b[3] - shared) if shared else 0.0


class FaceTracker:
    """Numbers faces 1, 2, ... and keeps each number on the same face while it moves (greedy IoU matching)."""

    def __init__(self, min_overlap: float = MIN_OVERLAP, max_missed: int = MAX_MISSED):
        self.min_overlap, self.max_missed = min_overlap, max_missed
        self.tracks: dict[int, tuple[Box, int]] = {}  # number -> (last box, frames missed since)
        self.next_number = 1

    def update(self, boxes: list[Box]) -> list[int]:
        """The face number of each box of the next frame, in order; a box that continues no track starts one."""
        pairs = sorted(((overlap(box, last), index, number) for index, box in enumerate(boxes)
                        for number, (last, _) in self.tracks.items()), reverse=True)
        numbers: list[int | None] = [None] * len(boxes)
        for shared, index, number in pairs:
            if shared < self.min_overlap:
                break
            if numbers[index] is None and number not in numbers:
                numbers[index] = number
        for index, number in enumerate(numbers):
            if number is None:
                numbers[index], self.next_number = self.next_number, self.next_number + 1
        unseen = {number: (box, missed + 1) for number, (box, missed) in self.tracks.items()
                  if number not in numbers and missed < self.max_missed}
        self.tracks = unseen | {number: (box, 0) for number, box in zip(numbers, boxes)}
        return numbers

    def end_all(self) -> None:
        """A scene cut: every face seen so far is gone; the next faces get new numbers."""
        self.tracks = {}


def scene_change(previous: np.ndarray, current: np.ndarray) -> float:
    """How much an RGB or gray frame looks like a new shot after the previous one: 1 or more is a cut.

    Example: scene_change(frame, frame) -> 0.0
    """
    return _change(_look(previous), _look(current))


class SceneCuts:
    """Called with each sampled frame in turn: whether it starts a new shot (a scene cut) after the last one."""

    def __init__(self):
        self.last = None

    def __call__(self, picture: np.ndarray) -> bool:
        look, last = _look(picture), self.last
        self.last = look
        return last is not None and _change(last, look) >= 1


def _look(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A frame's 16-bin brightness histogram (shares) and its 16x9 gray thumbnail, centred."""
    gray = cv2.resize(picture, (64, 36), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY) if gray.ndim == 3 else gray
    histogram = np.bincount(gray.ravel() // 16, minlength=16) / gray.size
    thumbnail = cv2.resize(gray, (16, 9), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
    return histogram, thumbnail - thumbnail.mean()


def _change(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    brightness = 0.5 * np.abs(a[0] - b[0]).sum()
    spread = np.sqrt((a[1] @ a[1]) * (b[1] @ b[1]))
    layout = 1 - (a[1] @ b[1]) / spread if spread > 0 else float(np.any(a[1] != b[1]))  # a flat frame: no layout
    return float(min(brightness / CUT_BRIGHTNESS, layout / CUT_LAYOUT))
