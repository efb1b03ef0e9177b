"""Class counts, the held-out splits (by person where the data says who is who), and the imbalance strategies.

Oversampling is applied to the training fold only, after the split, so no copy of a
validation image can ever reach training (the seed notebook oversampled first and leaked).
"""

from dataclasses import dataclass

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from sklearn.utils.class_weight import compute_class_weight

STRATEGIES = ("none", "oversample", "class_weights")
MIN_PEOPLE = 3  # fewer people than this cannot be split by person: the split is by picture, with a warning


def class_counts(labels: np.ndarray, classes: int = 7) -> np.ndarray:
    """Images per class, in the classes' order (at least `classes` counts).

    Example: class_counts(np.array([0, 0, 3]))[0] -> 2"""
    return np.bincount(labels, minlength=classes)


def split_train_val(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified indices (train, validation) into labels; validation is empty when the fraction is 0."""
    indices = np.arange(len(labels))
    if val_fraction <= 0:
        return indices, indices[:0]
    counts = np.bincount(labels)
    present = int((counts > 0).sum())
    val_size = int(np.ceil(val_fraction * len(labels)))
    if val_size >= len(labels):  # scikit-learn would say only that the training set would be empty
        raise ValueError(f"{len(labels)} picture(s) are too few to hold out a validation fraction of {val_fraction:g} "
                         "and train on the rest: add pictures (or train on more of them), or lower the validation "
                         "fraction")
    stratifiable = counts[counts > 0].min() >= 2 and present <= val_size <= len(labels) - present
    stratify = labels if stratifiable else None
    train, val = train_test_split(indices, test_size=val_fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def balance_indices(train_indices: np.ndarray, labels: np.ndarray, strategy: str, seed: int
                    ) -> tuple[np.ndarray, dict[int, float] | None]:
    """Apply a strategy to the training fold: the (possibly repeated) indices to train on, and
    class weights for "class_weights" (None otherwise).

    Only indices from train_indices are ever returned.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown balance strategy '{strategy}': choose one of {', '.join(STRATEGIES)}")
    train_labels = labels[train_indices]
    if strategy == "oversample":
        sampler = RandomOverSampler(random_state=seed)
        resampled, _ = sampler.fit_resample(train_indices.reshape(-1, 1), train_labels)
        return resampled.ravel(), None
    if strategy == "class_weights":
        present = np.unique(train_labels)
        weights = compute_class_weight("balanced", classes=present, y=train_labels)
        return train_indices, {int(c): float(w) for c, w in zip(present, weights)}
    return train_indices, None


def split_by_person(labels: np.ndarray, people: list[str], fraction: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sorted indices (kept, held out) with about `fraction` held out, stratified by class, and whether it was
    by person: every person's pictures on one side (pictures of nobody known count as a person each). Where
    fewer than MIN_PEOPLE people are known, it is by picture, as split_train_val.

    Example: split_by_person(labels, ["anna", "anna", "ben", ...], 0.1, seed=0)
    """
    known = {person for person in people if person}
    if fraction <= 0 or len(known) < MIN_PEOPLE:
        kept, held = split_train_val(labels, fraction, seed)
        return kept, held, False
    groups = [person or f"#{index}" for index, person in enumerate(people)]
    folds = min(max(2, round(1 / fraction)), len(set(groups)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed % 2**32)
    kept, held = next(splitter.split(np.zeros(len(labels)), labels, groups))
    return np.sort(kept), np.sort(held), True


@dataclass
class Folds:
    """Indices into one split's labels: the training fold before and after balancing, the
    validation fold, and class weights (for "class_weights" only)."""

    train: np.ndarray
    validation: np.ndarray
    balanced: np.ndarray
    class_weight: dict[int, float] | None

    def counts(self, labels: np.ndarray, classes: int = 7) -> dict[str, list[int]]:
        """Images per class in each fold: train, train_balanced and validation."""
        return {"train": class_counts(labels[self.train], classes).tolist(),
                "train_balanced": class_counts(labels[self.balanced], classes).tolist(),
                "validation": class_counts(labels[self.validation], classes).tolist()}


def training_folds(labels: np.ndarray, val_fraction: float, strategy: str, seed: int,
                   people: list[str] | None = None) -> Folds:
    """Split into training and validation folds (by person when people are known), then balance the
    training fold only."""
    if people is not None:
        train, validation, _ = split_by_person(labels, people, val_fraction, seed)
    else:
        train, validation = split_train_val(labels, val_fraction, seed)
    balanced, class_weight = balance_indices(train, labels, strategy, seed)
    return Folds(train, validation, balanced, class_weight)
