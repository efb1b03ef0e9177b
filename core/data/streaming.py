"""The training fold as a tf.data stream: from in-memory arrays or from TFRecord shards, one part per worker.

A single process trains on the whole stream; under tf.distribute each worker reads its own part
(every n-th shard file, or every n-th image of in-memory arrays) at its share of the global batch.
The stream repeats; an epoch is ceil(training images / global batch) steps on every worker, so all
workers take the same number of steps.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.balance import class_counts
from core.data.dataset import Dataset
from core.data.shards import parse_records, read_manifest, read_split, shard_files

SHUFFLE_BUFFER = 20_000  # records shuffled at once when streaming from shards (~50 MB at 48x48)


@dataclass
class TrainingSource:
    """The training fold: in-memory images (N, 48, 48, 1) with targets (N, 7), or TFRecord files."""

    count: int
    images: np.ndarray | None = None
    targets: np.ndarray | None = None
    sources: list[str] | None = None
    files: list[Path] | None = None
    class_weight: dict[int, float] | None = None
    classes: int = 0  # how many classes the labels index (their one-hot width)

    def part(self, worker: int, workers: int) -> dict:
        """What one worker reads, for its "shard" event: its shard files, or its image count and first images."""
        if self.files is not None:
            return {"files": [file.name for file in self.files[worker::workers]]}
        return {"images": len(range(worker, self.count, workers)), "first": self.sources[worker:worker + 3 * workers:workers]}


def worker_batches(source: TrainingSource, batch_size: int, seed: int, worker: int = 0, workers: int = 1):
    """One worker's endless, shuffled batches: (x (B, 48, 48, 1) float32, y (B, 7)[, class weights (B,)])."""
    import tensorflow as tf

    if source.files is not None:
        files = [str(file) for file in source.files[worker::workers]]
        if not files:
            raise ValueError(f"{len(source.files)} training shard file(s) cannot feed {workers} workers: "
                             f"shard the data into at least {workers}")
        records = tf.data.Dataset.from_tensor_slices(files).shuffle(len(files), seed=seed).interleave(
            tf.data.TFRecordDataset, cycle_length=min(len(files), 4), num_parallel_calls=tf.data.AUTOTUNE)
        batches = records.shuffle(SHUFFLE_BUFFER, seed=seed).repeat().batch(batch_size, drop_remainder=True).map(
            lambda records: _decoded(records, source.classes), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        mine = np.arange(worker, source.count, workers)
        pairs = tf.data.Dataset.from_tensor_slices((source.images[mine], source.targets[mine]))
        batches = pairs.shuffle(len(mine), seed=seed).repeat().batch(batch_size, drop_remainder=True).map(
            lambda x, y: (tf.cast(x, tf.float32), tf.cast(y, tf.float32)))
    if source.class_weight:
        weights = tf.constant([source.class_weight.get(c, 1.0) for c in range(source.classes)], tf.float32)
        batches = batches.map(lambda x, y: (x, y, tf.gather(weights, tf.argmax(y, axis=1))))
    return batches.prefetch(tf.data.AUTOTUNE)


def _decoded(records, classes: int):
    import tensorflow as tf

    images, labels, _ = parse_records(records)
    return tf.cast(images, tf.float32), tf.one_hot(labels, classes)


def fit_input(source: TrainingSource, batch_size: int, seed: int, strategy=None):
    """What model.fit trains a core.training.recipes.TrainingModel on, batches ((x, y), y[, w]), and its steps per
    epoch: one stream, or one per worker under strategy."""
    steps = math.ceil(source.count / batch_size)
    if strategy is None:
        return _with_targets_as_input(worker_batches(source, batch_size, seed)), steps

    def per_worker(context):
        return _with_targets_as_input(worker_batches(source, context.get_per_replica_batch_size(batch_size), seed,
                                                     context.input_pipeline_id, context.num_input_pipelines))

    return strategy.distribute_datasets_from_function(per_worker), steps


def _with_targets_as_input(batches):
    """(x, y[, w]) -> ((x, y), y[, w]): the training step mixes and distils the targets with the faces."""
    return batches.map(lambda x, y, *weights: ((x, y), y, *weights))


def shard_classes(folder) -> list[str]:
    """The classes a shard folder's labels index (its shards.json)."""
    return read_manifest(folder)["classes"]


def shard_training_data(config) -> tuple[Dataset, dict, TrainingSource]:
    """A training config's data from a shard folder: its validation and test splits (in memory), the
    same fields as core.training.data.prepare_training_data gives, and the training shards to stream."""
    manifest = read_manifest(config.data)
    for flag, used in (("--balance oversample", config.balance == "oversample"), ("--teachers", config.teachers),
                       ("--max-images", config.max_images)):
        if used:
            raise ValueError(f"training from shards streams the images, so {flag} is not available: "
                             "use it with the dataset itself")
    if manifest["val_fraction"] != config.val_fraction:
        raise ValueError(f"these shards hold a {manifest['val_fraction']} validation slice: "
                         f"train with --val-fraction {manifest['val_fraction']}")
    train, classes = manifest["splits"]["train"], manifest["classes"]
    validation = read_split(config.data, "validation") if "validation" in manifest["splits"] else None
    splits = {name: read_split(config.data, name) for name in manifest["splits"] if name == config.test_split}
    counts = np.asarray(train["counts"])
    class_weight = None
    if config.balance == "class_weights":  # sklearn's "balanced": n / (classes present * count)
        present = np.flatnonzero(counts)
        class_weight = {int(c): float(counts.sum() / (len(present) * counts[c])) for c in present}
    val_y = validation.labels if validation else np.zeros(0, np.int64)
    data = {"images": None, "labels": None, "targets": None, "voted": False, "sources": validation.sources if validation else [],
            "train_indices": range(train["images"]),  # only its length is read: the images are streamed
            "val_indices": range(len(val_y)), "val_x": validation.images if validation else np.zeros((0, 48, 48), np.uint8),
            "val_y": val_y, "class_weight": class_weight, "classes": classes,
            "test": splits.get(config.test_split), "test_name": config.test_split if splits else None,
            "split": {"train_split": "train", "by": "picture", "warnings": []},
            "counts": {"train": train["counts"], "train_balanced": train["counts"],
                       "validation": class_counts(val_y, len(classes)).tolist()}}
    source = TrainingSource(train["images"], files=shard_files(config.data, "train"), class_weight=class_weight,
                            classes=len(classes))
    return Dataset(str(config.data), splits, classes=classes), data, source
