"""What a dataset looks like to a person: counts per split and class, the folds training would use,
the pictures skipped for want of one face, example faces and the mean face of each class."""

import numpy as np

from core.data.balance import class_counts, training_folds
from core.data.dataset import Dataset, Split


def shown_classes(dataset: Dataset) -> list[str]:
    """The classes to show: those with a folder (or rows) in the data, in the dataset's order."""
    return [name for name in dataset.classes if name in dataset.present]


def split_counts(dataset: Dataset) -> dict[str, dict[str, int]]:
    """Images per class in each split. Example: split_counts(d)["train"]["happy"] -> 7215"""
    shown = shown_classes(dataset)
    return {name: {c: n for c, n in zip(dataset.classes, class_counts(split.labels, len(dataset.classes)).tolist())
                   if c in shown}
            for name, split in dataset.splits.items()}


def skipped_faces(dataset: Dataset) -> dict[str, dict[str, list[str]]]:
    """Per class, the pictures skipped because no face or several faces were found in them.

    Example: skipped_faces(d)["contempt"] -> {"no_face": ["contempt/S010_002.png"], "several_faces": []}
    """
    report = dataset.faces or {}
    classes = sorted(set(report.get("no_face", {})) | set(report.get("several_faces", {})))
    return {name: {kind: report.get(kind, {}).get(name, []) for kind in ("no_face", "several_faces")}
            for name in classes}


def fold_counts(dataset: Dataset, split: Split, val_fraction: float, strategy: str, seed: int = 0) -> dict:
    """Images per class in the folds training makes of a split (by person where known), before and after
    balancing.

    Returns {"train": [...], "train_balanced": [...], "validation": [...]} (the dataset's classes' order) and
    "class_weights" ({class: weight} for the "class_weights" strategy, else None). The same
    split and balance as core.training.data, so this is what a run with these settings trains on.
    """
    folds = training_folds(split.labels, val_fraction, strategy, seed, split.people)
    weights = folds.class_weight
    return folds.counts(split.labels, len(dataset.classes)) \
        | {"class_weights": {dataset.classes[c]: w for c, w in weights.items()} if weights else None}


def example_faces(dataset: Dataset, split: Split, per_class: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Up to per_class random (k, 48, 48) faces of each class (an empty array for an absent one)."""
    rng = np.random.default_rng(seed)
    examples = {}
    for label, emotion in enumerate(dataset.classes):
        if emotion not in dataset.present:
            continue
        indices = np.flatnonzero(split.labels == label)
        chosen = rng.choice(indices, min(per_class, len(indices)), replace=False) if len(indices) else indices
        examples[emotion] = split.images[np.sort(chosen)]
    return examples


def mean_faces(dataset: Dataset, split: Split) -> dict[str, np.ndarray | None]:
    """The pixel-wise mean (48, 48) uint8 face of each class; None for a class with no images."""
    means = {}
    for label, emotion in enumerate(dataset.classes):
        if emotion not in dataset.present:
            continue
        faces = split.images[split.labels == label]
        means[emotion] = faces.mean(axis=0).round().astype(np.uint8) if len(faces) else None
    return means
