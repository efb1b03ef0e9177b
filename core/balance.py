"""Class counts, the train/validation split, and the imbalance strategies.

Oversampling is applied to the training fold only, after the split, so no copy of a
validation image can ever reach training (the seed notebook oversampled first and leaked).
"""

from dataclasses import dataclass

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

from core.emotions import EMOTIONS

STRATEGIES = ("none", "oversample", "class_weights")


def class_counts(labels: np.ndarray) -> np.ndarray:
    """Images per emotion, in EMOTIONS order. Example: class_counts(np.array([0, 0, 3]))[0] -> 2"""
    return np.bincount(labels, minlength=len(EMOTIONS))


def split_train_val(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified indices (train, validation) into labels; validation is empty when the fraction is 0."""
    indices = np.arange(len(labels))
    if val_fraction <= 0:
        return indices, indices[:0]
    counts = class_counts(labels)
    present = int((counts > 0).sum())
    val_size = int(np.ceil(val_fraction * len(labels)))
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


@dataclass
class Folds:
    """Indices into one split's labels: the training fold before and after balancing, the
    validation fold, and class weights (for "class_weights" only)."""

    train: np.ndarray
    validation: np.ndarray
    balanced: np.ndarray
    class_weight: dict[int, float] | None

    def counts(self, labels: np.ndarray) -> dict[str, list[int]]:
        """Images per emotion in each fold: train, train_balanced and validation."""
        return {"train": class_counts(labels[self.train]).tolist(),
                "train_balanced": class_counts(labels[self.balanced]).tolist(),
                "validation": class_counts(labels[self.validation]).tolist()}


def training_folds(labels: np.ndarray, val_fraction: float, strategy: str, seed: int) -> Folds:
    """Split into training and validation folds, then balance the training fold only."""
    train, validation = split_train_val(labels, val_fraction, seed)
    balanced, class_weight = balance_indices(train, labels, strategy, seed)
    return Folds(train, validation, balanced, class_weight)
