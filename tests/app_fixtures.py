"""The page tests' data: a tiny synthetic FER-2013 in the Kaggle layout and two tiny runs trained on it.

conftest.py imports the fixtures: the runs are trained once per session and every test gets its own copy
of them, so what one page writes into its runs folder cannot change another test.
"""

import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import streamlit
from PIL import Image

from core.data.emotions import EMOTIONS


def record_spinners(monkeypatch) -> list:
    """Put a recorder in st.spinner's place: the list it returns gets each spinner's text as its block begins and
    None as it ends, so spinning[-1:] says what is spinning now."""
    spinning = []

    @contextlib.contextmanager
    def spinner(text, **options):
        spinning.append(text)
        yield
        spinning.append(None)

    monkeypatch.setattr(streamlit, "spinner", spinner)
    return spinning


def png(picture: np.ndarray, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format=format)
    return buffer.getvalue()


def make_dataset(root: Path, train_per_class: int = 8, test_per_class: int = 3) -> Path:
    """A tiny FER-2013 in the Kaggle layout; each emotion has its own brightness, so it is learnable.
    One unreadable file is planted to show up in the skipped report."""
    rng = np.random.default_rng(0)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, emotion in enumerate(EMOTIONS):
            folder = root / split / emotion
            folder.mkdir(parents=True)
            for i in range(count):
                face = np.clip(rng.normal(30 + 30 * label, 20, (48, 48)), 0, 255).astype(np.uint8)
                (folder / f"{i}.png").write_bytes(png(face))
    (root / "train" / "happy" / "broken.png").write_bytes(b"not a picture")
    return root


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("fer-synthetic"))


@pytest.fixture(scope="session")
def trained_runs_once(tmp_path_factory, synthetic) -> Path:
    """Two finished one-epoch 'seed' runs, trained once per session; tests get copies (trained_runs)."""
    from core.training.job import train
    from core.training.config import TrainConfig

    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        for name, seed in (("tiny-a", 0), ("tiny-b", 1)):
            train(runs / name, TrainConfig(data=str(synthetic), arch="seed", epochs=1, batch_size=16,
                                           augment=False, val_fraction=0.2, seed=seed))
    return runs


@pytest.fixture
def trained_runs(trained_runs_once, tmp_path_factory) -> Path:
    """A runs folder of this test's own holding the two tiny runs: what a page writes there (stored
    evaluations, the dataset choice, the active model) never reaches another test."""
    runs = tmp_path_factory.mktemp("runs-copy") / "runs"
    shutil.copytree(trained_runs_once, runs)
    return runs
