"""Classifying prepared 48x48 faces with a model: the one place a face meets a network."""

from typing import Callable

import numpy as np

from core.vision.imaging import in_usual_light

BATCH_SIZE = 256  # images per model call, all views included
SHIFT = 2  # pixels a "shifted" view moves the face
# Test-time views, averaged: the face alone; with its mirror image; with its mirror and both of them
# moved SHIFT pixels left, right, up and down (10 images). More views: more accurate, proportionally slower.
VIEWS = ("single", "mirror", "shifted")
DEFAULT_VIEWS = "shifted"  # photos and evaluation
LIVE_VIEWS = "mirror"  # live webcam frames: a fifth of the work, to keep the frame rate

Progress = Callable[[int, int], None]  # called with (faces done, faces in all) after each model call


def face_probabilities(model, faces: np.ndarray, views: str = DEFAULT_VIEWS,
                       progress: Progress | None = None) -> np.ndarray:
    """Return (N, 7) probabilities for (N, 48, 48) uint8 faces, averaged over the test-time views; faces out of
    the usual light are levelled first (core.vision.imaging.in_usual_light).

    progress(done, total) is called after every model call; an exception it raises stops the work
    there (the Evaluate page's cancel, Ctrl-C on the command line).

    predict_on_batch runs the model's compiled function: ~5 ms a face here, against ~30 ms for an
    eager model(x) call.
    Example: face_probabilities(model, np.zeros((2, 48, 48), np.uint8), "shifted").shape -> (2, 7)
    """
    if views not in VIEWS:
        raise ValueError(f"unknown views '{views}': choose one of {', '.join(VIEWS)}")
    if len(faces) == 0:
        return np.zeros((0, 7), dtype=np.float32)
    faces = in_usual_light(faces)
    count = view_count(views)
    step = max(1, BATCH_SIZE // count)
    chunks = []
    for start in range(0, len(faces), step):
        batch = faces[start:start + step]
        stacked = np.concatenate(face_views(batch, views)).astype(np.float32)[..., None]
        probabilities = np.asarray(model.predict_on_batch(stacked)).reshape(count, len(batch), -1)
        chunks.append(probabilities.mean(axis=0))
        if progress:
            progress(start + len(batch), len(faces))
    return np.concatenate(chunks).astype(np.float32)


def view_count(views: str) -> int:
    """How many pictures of each face a views mode classifies.

    Example: view_count("shifted") -> 10
    """
    return len(face_views(np.zeros((1, 1, 1), np.uint8), views))


def face_views(faces: np.ndarray, views: str) -> list[np.ndarray]:
    """The (N, 48, 48) arrays a views mode classifies; shifted faces repeat their edge pixels."""
    if views == "single":
        return [faces]
    if views == "mirror":
        return [faces, faces[:, :, ::-1]]
    padded = np.pad(faces, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)), mode="edge")
    height, width = faces.shape[1:3]
    moved = [padded[:, SHIFT + dy:SHIFT + dy + height, SHIFT + dx:SHIFT + dx + width]
             for dx, dy in ((0, 0), (SHIFT, 0), (-SHIFT, 0), (0, SHIFT), (0, -SHIFT))]
    return moved + [face[:, :, ::-1] for face in moved]
