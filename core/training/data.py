"""The arrays a run trains on: the classes it learns, a test split held out where the data has none, and the
training split cut into a balanced training fold and a validation fold, by person where the data says who is who."""

import numpy as np

from core.data.balance import balance_indices, class_counts, split_by_person
from core.data.classes import ClassError, check_trainable
from core.data.dataset import Dataset, Split
from core.evaluation.scores import labels_for_model, targets_for_model
from core.training.config import TrainConfig

MIN_PICTURES = 2  # a class with fewer pictures in training than this cannot be learned


def training_classes(dataset: Dataset) -> list[str]:
    """The classes a run on this dataset learns: those with a folder (or rows) in it, in the dataset's order.

    Example: training_classes(load_dataset("ck7")) -> ["angry", "contempt", "disgust", ...]
    """
    return [name for name in dataset.classes if name in dataset.present]


def training_split_name(dataset: Dataset, config: TrainConfig) -> str:
    """The split a run trains on: the config's (train), or the only split of a folder of class folders."""
    if config.train_split not in dataset.splits and len(dataset.splits) == 1:
        return next(iter(dataset.splits))
    dataset.split(config.train_split)  # DatasetError naming the splits there are
    return config.train_split


def prepare_training_data(dataset: Dataset, config: TrainConfig) -> dict:
    """The run's classes and folds: a test split held out (by person) where the data has none, the rest split
    into train/validation (by person), then the training fold balanced (only it).

    Returns a dict of arrays and indices (images, labels, targets, sources, train_indices, val_indices, val_x,
    val_y, class_weight, counts), whether people voted ("voted"), the classes, the test split (a Split or None)
    and how it was split ("split"). Labels are majority classes: balancing and folds follow them; targets are
    what the network learns, each face's share of votes (config.targets "votes") or its label one-hot.
    """
    classes = config.classes or training_classes(dataset)
    name = training_split_name(dataset, config)
    source = dataset.split(name)
    labels = labels_for_model(source.labels, dataset.classes, classes)
    voted = source.votes is not None and config.targets == "votes"
    targets = (targets_for_model(source.targets(len(dataset.classes)), dataset.classes, classes) if voted
               else np.eye(len(classes), dtype=np.float32)[labels])
    images, sources, people = source.images, source.sources, source.people
    if config.max_images and config.max_images < len(labels):
        keep = np.sort(np.random.default_rng(config.seed).choice(len(labels), config.max_images, replace=False))
        images, labels, targets = images[keep], labels[keep], targets[keep]
        sources, people = [sources[i] for i in keep], [people[i] for i in keep]
    split = {"train_split": name, "by": "picture", "warnings": []}
    test, test_name = None, config.test_split
    if test_name and test_name in dataset.splits and test_name != name:
        test = _known_classes(dataset.split(test_name), dataset, classes)
    elif test_name and config.test_fraction > 0:
        kept, held, by_person = split_by_person(labels, people, config.test_fraction, config.seed)
        test = Split(images[held], labels[held], [sources[i] for i in held], [people[i] for i in held])
        images, labels, targets = images[kept], labels[kept], targets[kept]
        sources, people = [sources[i] for i in kept], [people[i] for i in kept]
        split |= {"test_split": f"held out of '{name}'", "by": "person" if by_person else "picture"}
    train, validation, by_person = split_by_person(labels, people, config.val_fraction, config.seed)
    split["by"] = "person" if by_person or split["by"] == "person" else "picture"
    _check_classes(classes, labels[train])
    balanced, class_weight = balance_indices(train, labels, config.balance, config.seed)
    split |= _people_counts(people, train, validation, test) | {"warnings": _split_warnings(split, people, classes,
                                                                                           labels, train)}
    counts = {"train": class_counts(labels[train], len(classes)).tolist(),
              "train_balanced": class_counts(labels[balanced], len(classes)).tolist(),
              "validation": class_counts(labels[validation], len(classes)).tolist()}
    return {"images": images, "labels": labels, "targets": targets, "voted": voted, "sources": sources,
            "people": people, "train_indices": balanced,
            "val_indices": validation, "val_x": images[validation], "val_y": labels[validation],
            "class_weight": class_weight, "counts": counts, "classes": classes, "test": test,
            "test_name": test_name if test is not None else None, "split": split}


def _known_classes(split: Split, dataset: Dataset, classes: list[str]) -> Split:
    """A dataset's test split with labels as indices into the run's classes (pictures of other classes left out)."""
    known = np.isin(np.asarray(dataset.classes)[split.labels], classes) if len(split.labels) else np.zeros(0, bool)
    keep = np.flatnonzero(known)
    labels = labels_for_model(split.labels[keep], dataset.classes, classes)
    return Split(split.images[keep], labels, [split.sources[i] for i in keep], [split.people[i] for i in keep])


def _check_classes(classes: list[str], train_labels: np.ndarray) -> None:
    """ClassError for one class only, an empty class, or a class too small to learn."""
    counts = class_counts(train_labels, len(classes)).tolist()
    check_trainable(classes, counts)
    small = [f"{name} ({count})" for name, count in zip(classes, counts) if count < MIN_PICTURES]
    if small:
        raise ClassError(f"too few pictures to learn from in: {', '.join(small)}; each class needs at least "
                         f"{MIN_PICTURES} in training (after validation and test are held out): add pictures")


def _people_counts(people: list[str], train: np.ndarray, validation: np.ndarray, test: Split | None) -> dict:
    def count(names) -> int:
        return len({name for name in names if name})
    return {"people": {"train": count(people[i] for i in train), "validation": count(people[i] for i in validation),
                       "test": count(test.people) if test is not None else 0}}


def _split_warnings(split: dict, people: list[str], classes: list[str], labels: np.ndarray,
                    train: np.ndarray) -> list[str]:
    """Plain words on what the split means for the scores."""
    warnings = []
    known = {person for person in people if person}
    if not known:
        warnings.append("the file names do not say who is in each picture (see core/data/people.py for the patterns), "
                        "so validation and test are split by picture: one person's pictures may be on both sides and "
                        "the scores may flatter the model on new people")
    elif split["by"] == "picture":
        warnings.append(f"only {len(known)} person(s) in the data: validation and test are the same people as "
                        "training, so the scores say little about new people: add other people, or judge it on them")
    return warnings
