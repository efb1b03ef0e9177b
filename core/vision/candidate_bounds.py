"""MTCNN within bounds on a picture of many faces. The `mtcnn` wheel (1.0.0) compares every candidate box with
every other through whole N x N matrices, and runs its second and third networks on all candidates at once: a
picture tiled with small faces (3,136 candidates in 320x320 pixels, 12,000 in 640x640) took 1.5 GB, then 14 GB,
and the server was killed. Here the same pruning rule compares a block of boxes at a time with all those
before it (BLOCK_CELLS pairs at once, whatever N) on at most MAX_CANDIDATES boxes, the most confident, and the
networks see at most PATCH_BATCH candidates at a time. A photo
has at most a few hundred candidates (407 on the press photos) and a few dozen patches: what is found there
does not change (docs/benchmarks.md).
"""

import numpy as np

MAX_CANDIDATES = 2000  # the most confident boxes kept for each pruning, of a picture tiled with faces
BLOCK_CELLS = 1 << 21  # pairs compared at once (about 16 MB a matrix)
PATCH_BATCH = 256  # candidates the refining networks see at once (ONet: about 0.4 MB of activations each)


def bound(detector) -> None:
    """Make an MTCNN detector prune overlaps with prune_overlaps and refine candidates PATCH_BATCH at a time."""
    from mtcnn.stages import stage_onet, stage_pnet, stage_rnet

    for module in (stage_pnet, stage_rnet, stage_onet):
        module.smart_nms_from_bboxes = prune_overlaps
    for stage in detector.stages:
        if isinstance(stage, (stage_rnet.StageRNet, stage_onet.StageONet)):
            stage._model = _in_batches(stage._model)


def _in_batches(network):
    """The network called on at most PATCH_BATCH patches at a time, its outputs joined as one call's."""
    import tensorflow as tf

    def call(patches):
        if len(patches) <= PATCH_BATCH:
            return network(patches)
        parts = [network(patches[start:start + PATCH_BATCH]) for start in range(0, len(patches), PATCH_BATCH)]
        return tuple(tf.concat(outputs, axis=0) for outputs in zip(*parts))

    return call


def prune_overlaps(bboxes: np.ndarray, threshold: float, column_image_id: int = 0,
                   columns_bbox: slice = slice(1, 5, None), column_confidence: int = 5, method: str = "union",
                   initial_sort: bool = True) -> np.ndarray:
    """mtcnn.utils.bboxes.smart_nms_from_bboxes's result in bounded memory, for at most MAX_CANDIDATES boxes an
    image: per image, the boxes (most confident first) less any that overlaps a more confident one, kept or not,
    by more than threshold ("union": intersection over union; "min": over the smaller box). Over MAX_CANDIDATES,
    the result for the most confident MAX_CANDIDATES (the rule looks only at more confident boxes, so these
    lose nothing to the others). Unsorted boxes (initial_sort False: PNet's per-scale call) come sorted by
    confidence already."""
    if initial_sort:
        bboxes = bboxes[np.argsort(bboxes[:, column_confidence])[::-1]]
    kept = []
    for image_id in np.unique(bboxes[:, column_image_id]):
        boxes = bboxes[bboxes[:, column_image_id] == image_id][:MAX_CANDIDATES]
        kept.append(boxes[_unsuppressed(boxes[:, columns_bbox].astype(np.float64), threshold, method)])
    return np.concatenate(kept, axis=0) if kept else np.empty((0, 6))


def _unsuppressed(corners: np.ndarray, threshold: float, method: str) -> np.ndarray:
    """Indices of the boxes (x1, y1, x2, y2 rows, in order) that overlap no earlier box by more than threshold."""
    if method not in ("union", "min"):
        raise ValueError("Method should be either 'union' or 'min'.")
    count = len(corners)
    areas = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    suppressed = np.zeros(count, bool)
    step = max(1, BLOCK_CELLS // max(1, count))
    for start in range(0, count, step):
        stop = min(count, start + step)
        earlier, block = corners[:stop, None, :], corners[None, start:stop, :]
        inter = (np.maximum(0, np.minimum(earlier[..., 2], block[..., 2]) - np.maximum(earlier[..., 0], block[..., 0]))
                 * np.maximum(0, np.minimum(earlier[..., 3], block[..., 3]) - np.maximum(earlier[..., 1], block[..., 1])))
        if method == "union":
            denominator = areas[:stop, None] + areas[None, start:stop] - inter
        else:
            denominator = np.minimum(areas[:stop, None], areas[None, start:stop])
        with np.errstate(divide="ignore", invalid="ignore"):
            overlapping = inter / denominator > threshold
        overlapping &= np.arange(stop)[:, None] < np.arange(start, stop)[None, :]  # only more confident boxes count
        suppressed[start:stop] = overlapping.any(axis=0)
    return np.flatnonzero(~suppressed)
