"""The time left of a scoring (Evaluate's progress bar, the end of a training) from the pace of its batches, with
the times given, not measured: the first batch's warm-up is no pace, a slowdown is followed, a burst of quick
batches never makes the estimate collapse, and the words never say "0 s" while work remains."""

import pytest

from core.evaluation.time_left import TimeLeft, about_left


def estimates(ends: list[float], batch: int, total: int) -> list[float | None]:
    """What TimeLeft says after each batch of `batch` faces, the batches ending at these times."""
    clock = iter(ends).__next__
    left = TimeLeft(clock)
    return [left.update(min(batch * (number + 1), total), total) for number in range(len(ends))]


def test_the_first_batch_is_no_pace_and_its_warm_up_is_left_out():
    said = estimates([30.0, 31.0, 32.0, 33.0], batch=10, total=100)  # 30 s of warm-up, then 1 s a batch
    assert said[0] is None  # only the warm-up is known
    assert said[1:] == pytest.approx([8.0, 7.0, 6.0])  # a batch (10 faces) a second, 8, 7, 6 batches to go


def test_a_slowdown_is_followed_by_the_pace_of_the_recent_batches():
    ends = [1.0 + 0.1 * n for n in range(10)] + [1.9 + 2.0 * n for n in range(1, 6)]  # 2 s a batch from the 11th
    said = estimates(ends, batch=10, total=300)
    since_the_start = (ends[-1] - ends[0]) / 140 * 150  # the pace since the first batch: too hopeful
    assert said[-1] == pytest.approx(2.0 / 10 * 150) and said[-1] > 2 * since_the_start  # 30 s, the true time


def test_a_burst_of_quick_batches_never_drops_below_the_pace_since_the_first_batch():
    ends = [float(n) for n in range(1, 11)] + [10.01, 10.02, 10.03, 10.04, 10.05, 10.06]  # 1 s a batch, then a burst
    said = estimates(ends, batch=10, total=500)
    for number, estimate in enumerate(said[1:], 1):
        done, elapsed = 10 * (number + 1), ends[number] - ends[0]
        assert estimate >= elapsed / (done - 10) * (500 - done) - 1e-9  # at least what the pace says
    assert said[-1] == pytest.approx(9.06 / 150 * 340)  # not the burst's 0.3 s: 340 faces at the pace so far
    assert estimates([1.0, 2.0, 3.0], batch=10, total=30)[-1] == 0.0  # done: nothing left


def test_the_words_say_about_how_long_and_never_zero_while_work_remains():
    assert about_left(None) == "measuring the pace..."
    assert about_left(0.2) == "about 1 s left"
    assert about_left(43.2) == "about 44 s left"
    assert about_left(200) == "about 4 min left"
    assert about_left(3 * 3600 + 125) == "about 3 h 3 min left"
