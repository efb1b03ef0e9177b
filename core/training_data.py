"""The arrays a run trains on: the training split cut into a balanced training fold and a validation fold."""

import numpy as np

from core.balance import training_folds
from core.dataset import Dataset
from core.training_config import TrainConfig


def prepare_training_data(dataset: Dataset, config: TrainConfig) -> dict:
    """Split the training split into train/validation, then balance the training fold only."""
    split = dataset.split(config.train_split)
    images, labels, sources = split.images, split.labels, split.sources
    if config.max_images and config.max_images < len(labels):
        keep = np.sort(np.random.default_rng(config.seed).choice(len(labels), config.max_images, replace=False))
        images, labels, sources = images[keep], labels[keep], [sources[i] for i in keep]
    folds = training_folds(labels, config.val_fraction, config.balance, config.seed)
    return {"images": images, "labels": labels, "sources": sources, "train_indices": folds.balanced,
            "val_indices": folds.validation, "val_x": images[folds.validation], "val_y": labels[folds.validation],
            "class_weight": folds.class_weight, "counts": folds.counts(labels)}
