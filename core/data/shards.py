"""TFRecord shards: a dataset written once as 48x48 faces in a few files, read back as a stream.

`python -m core shard DATA --out DIR` writes DIR/train-00000-of-00008.tfrecord ..., one
validation and one test file set, and DIR/shards.json (counts, the validation split used, what
was skipped). Folder datasets of any image size are decoded a chunk at a time, so a set larger
than memory can be sharded; the training fold is shuffled before it is dealt into shards, so each
shard holds every emotion. Training reads the training shards as a tf.data stream
(core/data/streaming.py) and keeps only the validation and test splits in memory.

Example: write_shards("../shared/datasets/fer2013", "shards/fer", shards=8)["splits"]["train"]["images"] -> 25838
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from core.data.balance import split_train_val
from core.data.dataset import Dataset, DatasetError, Split, decode_face, labelled_files, load_dataset
from core.vision.imaging import FACE_SIZE
from core.storage.runs import write_json

MANIFEST = "shards.json"
FORMAT = 2  # 2: shards.json names the classes
CHUNK = 2048  # images decoded at once: bounds the memory of sharding a folder dataset

Progress = Callable[[int, int], None]


def is_shard_folder(path: str | Path) -> bool:
    """Whether path is a folder written by write_shards."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(folder: str | Path) -> dict:
    """The folder's shards.json; DatasetError when it is missing or not one this version reads."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(f"{folder} has no readable {MANIFEST}: write it with 'python -m core shard' ({error})") \
            from None
    if manifest.get("format") != FORMAT or manifest.get("image_size") != FACE_SIZE:
        raise DatasetError(f"{path} is format {manifest.get('format')} at {manifest.get('image_size')} px; "
                           f"this version reads format {FORMAT} at {FACE_SIZE} px: shard the data again")
    return manifest


def shard_files(folder: str | Path, split: str) -> list[Path]:
    """The TFRecord files of one split, in order; DatasetError when the split is absent or a file is missing."""
    manifest = read_manifest(folder)
    if split not in manifest["splits"]:
        raise DatasetError(f"{folder} has no '{split}' shards; it has: {', '.join(manifest['splits'])}")
    files = [Path(folder) / name for name in manifest["splits"][split]["files"]]
    missing = [file.name for file in files if not file.is_file()]
    if missing:
        raise DatasetError(f"{folder} lacks {len(missing)} shard file(s), first {missing[0]}: copy them all")
    return files


def write_shards(data: str | Path, out: str | Path, shards: int = 8, val_fraction: float = 0.1, seed: int = 0,
                 progress: Progress | None = None) -> dict:
    """Write a dataset as TFRecord shards into out and return the manifest.

    The "train" split is cut into train and validation (stratified, like training does), and the
    training fold is shuffled with `seed` and dealt into `shards` files.
    """
    out = Path(out)
    if shards < 1:
        raise ValueError("the number of shards must be at least 1")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty: choose a new folder for the shards")
    source, classes = _source(data)
    if "train" not in source:
        raise DatasetError(f"{data} has no 'train' split to shard; it has: {', '.join(source)}")
    out.mkdir(parents=True, exist_ok=True)
    labels = np.asarray([item[1] for item in source["train"]])
    train, validation = split_train_val(labels, val_fraction, seed)
    train = np.random.default_rng(seed).permutation(train)
    plan = {"train": (source["train"], train, shards), "validation": (source["train"], validation, 1)}
    plan |= {name: (items, np.arange(len(items)), 1) for name, items in source.items() if name != "train"}
    manifest = {"format": FORMAT, "image_size": FACE_SIZE, "source": str(data), "classes": classes,
                "val_fraction": val_fraction,
                "seed": seed, "splits": {}, "skipped": []}
    total, done = sum(len(order) for _, order, _ in plan.values()), 0
    for name, (items, order, count) in plan.items():
        if len(order):
            manifest["splits"][name] = _write_split(items, order, out, name, min(count, len(order)), manifest["skipped"],
                                                    lambda n, base=done: progress and progress(base + n, total))
            done += len(order)
    _counts_per_class(manifest)
    write_json(out / MANIFEST, manifest)
    return manifest


def _source(data: str | Path) -> tuple[dict[str, list], list[str]]:
    """Split name -> items (file or pixels, label, name), and the classes the labels index: a folder dataset's
    files are decoded later, a chunk at a time; a CSV file or zip is read whole. Names are as load_dataset
    gives them."""
    path = Path(data).expanduser()
    if path.is_dir():
        try:
            files, _, classes = labelled_files(path)
            return {name: [(file, label, str(file.relative_to(path))) for file, label in pairs]
                    for name, pairs in files.items()}, classes
        except DatasetError:
            pass  # a folder holding fer2013.csv: read it whole below
    dataset: Dataset = load_dataset(path)
    return ({name: list(zip(split.images, split.labels, split.sources)) for name, split in dataset.splits.items()},
            dataset.classes)


def _write_split(items: list, order: np.ndarray, out: Path, name: str, count: int, skipped: list,
                 progress: Progress) -> dict:
    """Write items[order] round-robin into `count` files; return the split's manifest entry."""
    import tensorflow as tf

    files = [f"{name}-{index:05d}-of-{count:05d}.tfrecord" for index in range(count)]
    writers = [tf.io.TFRecordWriter(str(out / file)) for file in files]
    labels, written = [], 0
    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 2) as pool:
        for start in range(0, len(order), CHUNK):
            chunk = [items[i] for i in order[start:start + CHUNK]]
            for item, (pixels, reason) in zip(chunk, pool.map(_pixels, chunk)):
                if pixels is None:
                    skipped.append(f"{item[2]}: {reason}")
                    continue
                writers[written % count].write(_example(pixels, int(item[1]), item[2]))
                labels.append(int(item[1]))
                written += 1
            progress(min(start + CHUNK, len(order)))
    for writer in writers:
        writer.close()
    return {"files": files, "images": written, "counts": np.bincount(np.asarray(labels, dtype=np.int64)).tolist()}


def _counts_per_class(manifest: dict) -> None:
    """Every split's counts as long as the class list (bincount stops at the last class present)."""
    for split in manifest["splits"].values():
        split["counts"] += [0] * (len(manifest["classes"]) - len(split["counts"]))


def _pixels(item: tuple) -> tuple[np.ndarray | None, str]:
    if isinstance(item[0], np.ndarray):
        return item[0], ""
    decoded = decode_face(item[0])
    return decoded.pixels, decoded.reason


def _example(pixels: np.ndarray, label: int, source: str) -> bytes:
    import tensorflow as tf

    feature = {"image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels.tobytes()])),
               "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
               "source": tf.train.Feature(bytes_list=tf.train.BytesList(value=[source.encode()]))}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def parse_records(records):
    """Decode a batch of serialized examples into (images (B, 48, 48, 1) uint8, labels (B,) int64, sources)."""
    import tensorflow as tf

    features = tf.io.parse_example(records, {"image": tf.io.FixedLenFeature([], tf.string),
                                             "label": tf.io.FixedLenFeature([], tf.int64),
                                             "source": tf.io.FixedLenFeature([], tf.string)})
    images = tf.reshape(tf.io.decode_raw(features["image"], tf.uint8), [-1, FACE_SIZE, FACE_SIZE, 1])
    return images, features["label"], features["source"]


def read_split(folder: str | Path, split: str) -> Split:
    """One split of a shard folder read whole into memory (for the validation and test splits)."""
    import tensorflow as tf

    images, labels, sources = [], [], []
    for batch in tf.data.TFRecordDataset([str(f) for f in shard_files(folder, split)]).batch(4096):
        x, y, names = parse_records(batch)
        images.append(x.numpy()[..., 0])
        labels.append(y.numpy())
        sources += [name.decode() for name in names.numpy()]
    if not images:
        raise DatasetError(f"the '{split}' shards in {folder} hold no images")
    return Split(np.concatenate(images), np.concatenate(labels), sources)
