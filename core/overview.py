"""What a dataset looks like to a person: counts per split, the folds training would use,
example faces and the mean face of each emotion."""

import numpy as np

from core.balance import class_counts, training_folds
from core.dataset import Dataset, Split
from core.emotions import EMOTIONS


def split_counts(dataset: Dataset) -> dict[str, dict[str, int]]:
    """Images per emotion in each split. Example: split_counts(d)["train"]["happy"] -> 7215"""
    return {name: dict(zip(EMOTIONS, class_counts(split.labels).tolist())) for name, split in dataset.splits.items()}


def fold_counts(labels: np.ndarray, val_fraction: float, strategy: str, seed: int = 0) -> dict:
    """Images per emotion in the folds training makes of a split, before and after balancing.

    Returns {"train": [...], "train_balanced": [...], "validation": [...]} (EMOTIONS order) and
    "class_weights" ({emotion: weight} for the "class_weights" strategy, else None). The same
    split and balance as core.training_data, so this is what a run with these settings trains on.
    """
    folds = training_folds(labels, val_fraction, strategy, seed)
    weights = folds.class_weight
    return folds.counts(labels) | {"class_weights": {EMOTIONS[c]: w for c, w in weights.items()} if weights else None}


def example_faces(split: Split, per_class: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Up to per_class random (k, 48, 48) faces of each emotion (an empty array for an absent one)."""
    rng = np.random.default_rng(seed)
    examples = {}
    for label, emotion in enumerate(EMOTIONS):
        indices = np.flatnonzero(split.labels == label)
        chosen = rng.choice(indices, min(per_class, len(indices)), replace=False) if len(indices) else indices
        examples[emotion] = split.images[np.sort(chosen)]
    return examples


def mean_faces(split: Split) -> dict[str, np.ndarray | None]:
    """The pixel-wise mean (48, 48) uint8 face of each emotion; None for an emotion with no images."""
    means = {}
    for label, emotion in enumerate(EMOTIONS):
        faces = split.images[split.labels == label]
        means[emotion] = faces.mean(axis=0).round().astype(np.uint8) if len(faces) else None
    return means
