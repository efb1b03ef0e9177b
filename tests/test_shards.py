"""TFRecord shards: written from folders of any image size, read back as the same faces and split."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.dataset import DatasetError, load_dataset
from core.vision.imaging import to_face_pixels
from core.data.shards import read_manifest, read_split, write_shards
from core.data.streaming import TrainingSource, shard_training_data, worker_batches
from core.training.config import TrainConfig
from core.training.data import prepare_training_data
from tests.synthetic import write_folder_dataset

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """A Kaggle-layout set with some larger colour crops among the 48x48 gray ones, and a broken test file
    (a broken training file would shift the validation slice, which is cut before decoding)."""
    root = write_folder_dataset(tmp_path_factory.mktemp("mixed"), per_class=12)
    rng = np.random.default_rng(1)
    for index in range(3):
        Image.fromarray(rng.integers(0, 255, (90, 80, 3), dtype=np.uint8)).save(root / "train" / "happy" / f"big{index}.jpg")
    (root / "test" / "sad" / "broken.png").write_bytes(b"not a png")
    return root


def test_shard_command_writes_every_face_once_resized_with_trainings_split(mixed, tmp_path):
    out = tmp_path / "shards"
    result = subprocess.run([sys.executable, "-m", "core", "shard", str(mixed), "--out", str(out), "--shards", "3"],
                            cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "train: " in result.stdout and "skipped 1" in result.stdout
    manifest = read_manifest(out)
    assert manifest["skipped"][0].endswith("broken.png: not an image (unrecognised format)")
    assert len(manifest["splits"]["train"]["files"]) == 3

    # The same validation slice and faces as training from the folder itself.
    config = TrainConfig(data=str(mixed), arch="seed")
    dataset = load_dataset(mixed)
    data = prepare_training_data(dataset, config)
    validation = read_split(out, "validation")
    assert sorted(validation.sources) == sorted(data["sources"][i] for i in data["val_indices"])
    train = read_split(out, "train")
    assert len(train) == len(data["train_indices"]) == manifest["splits"]["train"]["images"]
    assert sorted(train.sources) == sorted(data["sources"][i] for i in data["train_indices"])
    by_name = dict(zip(dataset.split("train").sources, dataset.split("train").images))
    for name, pixels in zip(train.sources + validation.sources, np.concatenate([train.images, validation.images])):
        assert np.array_equal(pixels, by_name[name]), name
    big = read_split(out, "train").images[[i for i, s in enumerate(train.sources) if "big" in s]]
    source = np.asarray(Image.open(mixed / "train" / "happy" / "big0.jpg").convert("L"))
    assert any(np.array_equal(face, to_face_pixels(source)) for face in big)
    assert len(read_split(out, "test")) == 7 * 12


def test_streams_cover_the_training_fold_and_workers_split_it(mixed, tmp_path):
    write_shards(mixed, tmp_path / "s", shards=4)
    _, data, source = shard_training_data(TrainConfig(data=str(tmp_path / "s"), arch="seed"))
    assert source.count == len(data["train_indices"])
    whole = next(iter(worker_batches(source, source.count, seed=0)))
    assert whole[0].shape == (source.count, 48, 48, 1) and whole[1].shape == (source.count, 7)
    assert source.part(0, 2)["files"] == ["train-00000-of-00004.tfrecord", "train-00002-of-00004.tfrecord"]
    with pytest.raises(ValueError, match="4 training shard file.* cannot feed 5 workers"):
        worker_batches(source, 8, seed=0, worker=4, workers=5)

    images = np.arange(10 * 48 * 48, dtype=np.float32).reshape(10, 48, 48, 1)
    arrays = TrainingSource(10, images, np.eye(7)[np.arange(10) % 7], [f"f{i}" for i in range(10)])
    parts = [next(iter(worker_batches(arrays, 5, seed=0, worker=w, workers=2)))[0].numpy() for w in (0, 1)]
    firsts = [set(p[:, 0, 0, 0].tolist()) for p in parts]
    assert not firsts[0] & firsts[1] and len(firsts[0] | firsts[1]) == 10


def test_bad_shard_input_is_refused_with_a_reason(mixed, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not empty"):
        write_shards(mixed, tmp_path / "full")
    with pytest.raises(DatasetError, match="no readable shards.json"):
        read_manifest(tmp_path / "full")
    write_shards(mixed, tmp_path / "s", shards=2)
    for settings, reason in (({"balance": "oversample"}, "--balance oversample is not available"),
                             ({"max_images": 10}, "--max-images is not available"),
                             ({"val_fraction": 0.2}, "train with --val-fraction 0.1")):
        with pytest.raises(ValueError, match=reason):
            shard_training_data(TrainConfig(data=str(tmp_path / "s"), arch="seed", **settings))
    (tmp_path / "s" / "train-00001-of-00002.tfrecord").unlink()
    with pytest.raises(DatasetError, match="lacks 1 shard file"):
        shard_training_data(TrainConfig(data=str(tmp_path / "s"), arch="seed"))
