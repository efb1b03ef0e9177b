"""core.data.balance: the stratified train/validation split and the imbalance strategies on the training fold."""

import numpy as np
import pytest
from PIL import Image

from core.data.balance import STRATEGIES, balance_indices, class_counts, split_train_val
from core.data.dataset import load_dataset
from core.data.emotions import EMOTIONS

COUNTS = [50, 6, 40, 100, 60, 45, 30]  # imbalanced like FER-2013: disgust rare, happy common


def imbalanced_labels(seed: int = 0) -> np.ndarray:
    labels = np.repeat(np.arange(7), COUNTS)
    return np.random.default_rng(seed).permutation(labels)


def test_class_counts_in_emotion_order():
    assert class_counts(np.array([0, 0, 3, 6])).tolist() == [2, 0, 0, 1, 0, 0, 1]
    assert class_counts(np.array([], dtype=np.int64)).tolist() == [0] * len(EMOTIONS)


def test_split_is_disjoint_complete_and_stratified():
    labels = imbalanced_labels()
    train, val = split_train_val(labels, 0.2, seed=0)
    assert len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(labels)))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert len(val) == pytest.approx(0.2 * len(labels), abs=1)
    for emotion, (count, in_val) in enumerate(zip(COUNTS, class_counts(labels[val]))):
        assert abs(in_val - 0.2 * count) <= 1, EMOTIONS[emotion]  # every class keeps its share
    assert class_counts(labels[val])[1] >= 1  # even the rare class reaches validation


def test_split_depends_on_the_seed_only():
    labels = imbalanced_labels()
    first, again = split_train_val(labels, 0.2, seed=3), split_train_val(labels, 0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], split_train_val(labels, 0.2, seed=4)[1])


def test_zero_validation_fraction_keeps_everything_for_training():
    labels = imbalanced_labels()
    train, val = split_train_val(labels, 0.0, seed=0)
    assert np.array_equal(train, np.arange(len(labels))) and len(val) == 0


def test_too_few_pictures_for_a_validation_fold_say_so_in_words():
    with pytest.raises(ValueError, match=r"^1 picture\(s\) are too few to hold out a validation fraction of 0.1"):
        split_train_val(np.array([3]), 0.1, seed=0)
    train, validation = split_train_val(np.array([3, 4]), 0.1, seed=0)  # one of each side is enough
    assert len(train) == 1 and len(validation) == 1


def test_a_class_with_one_image_still_splits():
    labels = np.array([0] * 10 + [1] + [3] * 10)
    train, val = split_train_val(labels, 0.3, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(labels)


def test_oversample_balances_the_training_fold_only():
    labels = imbalanced_labels()
    train, val = split_train_val(labels, 0.2, seed=0)
    indices, weights = balance_indices(train, labels, "oversample", seed=0)
    assert weights is None
    assert set(indices.tolist()) == set(train.tolist())  # every training image, and nothing else
    assert not np.isin(indices, val).any()
    counts = class_counts(labels[indices])
    assert (counts == class_counts(labels[train]).max()).all()  # all classes raised to the largest
    assert len(indices) == 7 * counts.max()


def test_oversampling_never_copies_a_validation_image(tmp_path):
    """Through a real (synthetic) dataset: no validation picture reaches training, by source or by pixels."""
    rng = np.random.default_rng(0)
    for emotion, count in zip(EMOTIONS, [12, 3, 9, 20, 10, 8, 6]):
        folder = tmp_path / "fer" / "train" / emotion
        folder.mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(folder / f"{i}.png")
    split = load_dataset(tmp_path / "fer", cache_dir=tmp_path / "cache").split("train")
    train, val = split_train_val(split.labels, 0.25, seed=1)
    indices, _ = balance_indices(train, split.labels, "oversample", seed=1)

    sources = np.asarray(split.sources)
    assert set(sources[val]).isdisjoint(sources[indices])
    training_pictures = {split.images[i].tobytes() for i in indices}
    assert not any(split.images[i].tobytes() in training_pictures for i in val)
    assert len(set(sources[indices])) == len(train)  # repeats, but only of training images


def test_class_weights_favour_rarer_classes():
    labels = imbalanced_labels()
    train, _ = split_train_val(labels, 0.2, seed=0)
    indices, weights = balance_indices(train, labels, "class_weights", seed=0)
    assert np.array_equal(indices, train)  # weights change the loss, not the images
    counts = class_counts(labels[train])
    assert set(weights) == set(range(7))
    for rare in range(7):
        for common in range(7):
            if counts[rare] < counts[common]:
                assert weights[rare] > weights[common], (EMOTIONS[rare], EMOTIONS[common])
    assert weights[1] == max(weights.values()) and weights[3] == min(weights.values())
    # "balanced": every class then carries the same total weight
    totals = [weights[c] * counts[c] for c in range(7)]
    assert totals == pytest.approx([len(train) / 7] * 7)


def test_class_weights_only_for_classes_present_in_training():
    labels = np.array([0] * 8 + [3] * 2)
    _, weights = balance_indices(np.arange(10), labels, "class_weights", seed=0)
    assert set(weights) == {0, 3} and weights[3] > weights[0]


def test_none_returns_the_training_fold_unchanged():
    labels = imbalanced_labels()
    train, _ = split_train_val(labels, 0.2, seed=0)
    indices, weights = balance_indices(train, labels, "none", seed=0)
    assert np.array_equal(indices, train) and weights is None


def test_unknown_strategy_is_refused():
    assert STRATEGIES == ("none", "oversample", "class_weights")
    with pytest.raises(ValueError, match="unknown balance strategy 'smote': choose one of none, oversample"):
        balance_indices(np.arange(4), np.array([0, 0, 1, 1]), "smote", seed=0)
