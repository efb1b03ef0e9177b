"""Fixtures: a tiny synthetic dataset and a small model trained on it by the project's own job."""

from pathlib import Path

import pytest

from core.training.job import train
from core.training.config import TrainConfig
from tests.synthetic import write_folder_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """ROOT/{train,test}/<emotion>/*.png, 6 images per class and split."""
    return write_folder_dataset(tmp_path_factory.mktemp("tiny-data"), per_class=6)


@pytest.fixture(scope="session")
def tiny_model(tiny_data, tmp_path_factory) -> Path:
    """A finished run folder holding a seed-architecture model trained for 2 epochs."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    train(run_dir, TrainConfig(data=str(tiny_data), arch="seed", epochs=2, batch_size=8, augment=False))
    return run_dir
