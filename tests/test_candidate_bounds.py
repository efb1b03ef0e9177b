"""MTCNN within bounds on a picture of many faces (core/vision/candidate_bounds.py): the same overlap pruning as the
`mtcnn` wheel's, in blocks, and a picture tiled with hundreds of small faces found without N x N matrices."""

import tracemalloc

import cv2
import numpy as np
import pytest
from mtcnn.utils.bboxes import smart_nms_from_bboxes
from skimage import data

from core.vision import candidate_bounds
from core.vision.faces import MAX_PICTURE_FACES, locate_faces


@pytest.mark.parametrize("method", ["union", "min"])
@pytest.mark.parametrize("initial_sort", [True, False])
def test_the_pruning_keeps_what_the_wheels_keeps(monkeypatch, method, initial_sort):
    rng = np.random.default_rng(0)
    monkeypatch.setattr(candidate_bounds, "BLOCK_CELLS", 300 * 7)  # 300 boxes: blocks of 7, the last of 6
    for count in (0, 1, 7, 300):
        corners = rng.uniform(0, 200, (count, 2))
        boxes = np.column_stack([rng.integers(0, 2, count), corners, corners + rng.uniform(0, 60, (count, 2)),
                                 rng.uniform(0, 1, count)])
        boxes[::9, 3] = boxes[::9, 1]  # boxes without area
        for threshold in (0.5, 0.7):
            with np.errstate(divide="ignore", invalid="ignore"):
                expected = smart_nms_from_bboxes(boxes, threshold, method=method, initial_sort=initial_sort)
            assert np.array_equal(candidate_bounds.prune_overlaps(boxes, threshold, method=method,
                                                                  initial_sort=initial_sort), expected)


def test_a_picture_tiled_with_small_faces_is_searched_in_bounded_memory(monkeypatch):
    """A 480x480 picture of 320 faces 24 pixels wide: thousands of candidate boxes, which the wheel compared
    all with all (2.7 GB of arrays at once); pruned here at most MAX_CANDIDATES at a time, the faces still found
    (the largest MAX_PICTURE_FACES of them kept)."""
    face = cv2.resize(data.astronaut()[20:200, 150:300], (24, 30), interpolation=cv2.INTER_AREA)
    picture = np.tile(face, (16, 20, 1))
    pruned = []
    unsuppressed = candidate_bounds._unsuppressed
    monkeypatch.setattr(candidate_bounds, "_unsuppressed", lambda corners, *args: (
        pruned.append(len(corners)), unsuppressed(corners, *args))[1])
    locate_faces(picture[:48, :48])  # TensorFlow's graphs built outside the measure
    tracemalloc.start()
    try:
        found = locate_faces(picture)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(found) == MAX_PICTURE_FACES  # of about 280 found: the largest 200 are read
    assert peak < 400 * 2**20, f"{peak / 2**20:.0f} MB of arrays at once"
    assert max(pruned) == candidate_bounds.MAX_CANDIDATES  # more were proposed: the bound was met
