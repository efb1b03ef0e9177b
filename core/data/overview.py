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
    try:
        folds = training_folds(split.labels, val_fraction, strategy, seed, split.people)
    except ValueError:  # scikit-learn's or imbalanced-learn's words for it
        present = len(np.unique(split.labels))
        raise ValueError(f"{len(split.labels):,} picture(s) of {present} class(es) are too few to hold out a "
                         f"validation fold of {val_fraction:g} and balance the rest") from None
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


def agreement(split: Split) -> dict | None:
    """How much the people who voted on a split's faces agreed (None where nobody voted): "top_share" counts faces
    by the share of votes their majority class got ("60%": 512, ...), "mean" is that share on average.

    Example: agreement(load_dataset("ferplus").split("val"))["mean"] -> 0.74
    """
    if split.votes is None or not len(split):
        return None
    totals = np.maximum(split.votes.sum(axis=1), 1)
    shares = np.round(split.votes.max(axis=1) / totals, 2)
    values, counts = np.unique(shares, return_counts=True)
    return {"top_share": {f"{value:.0%}": int(count) for value, count in zip(values, counts)},
            "mean": float(shares.mean())}


def split_votes(dataset: Dataset, split: Split, count: int = 8) -> list[dict]:
    """The faces where people split most (the lowest share for the majority class), each with its votes.

    Returns [{"index", "source", "majority", "votes": {class: votes}}], most split first; [] where nobody voted.
    """
    if split.votes is None:
        return []
    shares = split.votes.max(axis=1) / np.maximum(split.votes.sum(axis=1), 1)
    chosen = np.argsort(shares, kind="stable")[:count]
    return [{"index": int(i), "source": split.sources[i], "majority": dataset.classes[split.labels[i]],
             "votes": {name: int(n) for name, n in zip(dataset.classes, split.votes[i]) if n}} for i in chosen]


def left_out_counts(dataset: Dataset) -> dict[str, dict[str, int]]:
    """Per split, the voted faces left without a majority, by reason (core.data.votes.LEFT_OUT_REASONS)."""
    return {name: {reason: len(sources) for reason, sources in reasons.items()}
            for name, reasons in dataset.left_out.items() if reasons}
