"""Following faces from one classified frame to the next: each box joins the track it overlaps most.

Example: tracker = FaceTracker(); tracker.update([(10, 10, 50, 50)]) -> [1]; then
tracker.update([(200, 0, 40, 40), (14, 12, 50, 50)]) -> [2, 1]
"""

from core.faces import Box

MIN_OVERLAP = 0.2  # intersection over union a box needs to continue a track
MAX_MISSED = 5  # classified frames a face may go unseen before its track ends


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
