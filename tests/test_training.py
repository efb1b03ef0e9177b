"""The training job from the command line: runs, logs, cancel, kill and resume, busy runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from core.storage.runs import portable_path  # cards name models without the machine's folders
from core.training import distillation
from core.models.architectures import ARCHITECTURES
from core.data.dataset import load_dataset
from core.training.distillation import TARGETS_FILE, teacher_targets
from core.models.inference import face_probabilities
from core.models.store import ModelError, load_model, read_card
from core.storage.runs import RunFolder
from core.training.job import train
from core.training.config import TrainConfig
from core.training.data import prepare_training_data
from core.training.precision import automatic_precision
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import write_folder_dataset

PROJECT = Path(__file__).resolve().parent.parent


def start_training(data: Path, run_dir: Path, *flags: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "core", "train", str(data), "--run-dir", str(run_dir), *flags]
    return subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_epoch(run: RunFolder, epoch: int, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e["event"] == "epoch" and e["epoch"] >= epoch for e in run.events()):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError(f"no epoch {epoch} within {timeout} s")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_folder_dataset(tmp_path_factory.mktemp("data"), per_class=30)


def test_tiny_run_produces_model_card_and_counting_log(data, tmp_path):
    run_dir = tmp_path / "run"
    process = start_training(data, run_dir, "--arch", "seed", "--epochs", "3", "--batch-size", "16", "--no-augment")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    run = RunFolder(run_dir)
    epochs = [e["epoch"] for e in run.events() if e["event"] == "epoch"]
    assert epochs == [1, 2, 3]
    assert run.status()["state"] == "finished"
    card = run.card()
    assert card["classes"][0] == "angry" and card["config"]["epochs"] == 3
    assert card["test"]["images"] == 7 * 30 and 0 <= card["test"]["accuracy"] <= 1
    assert card["validation"]["images"] == sum(card["data_counts"]["validation"])
    model = load_model(run_dir)
    assert model(np.zeros((1, 48, 48, 1), np.float32)).shape == (1, 7)
    assert not list(run_dir.glob(".tmp-*")), "a temporary file was left behind"
    assert card["versions"]["backend"].startswith("tensorflow") and "CPU cores" in card["hardware"]
    assert card["config"]["precision"] == automatic_precision()  # the default, resolved for this machine


def test_kill_mid_run_then_resume_finishes_from_checkpoint(data, tmp_path):
    run_dir = tmp_path / "run"
    run = RunFolder(run_dir)
    process = start_training(data, run_dir, "--arch", "seed", "--epochs", "30", "--batch-size", "8")
    wait_for_epoch(run, 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert run.status()["state"] == "interrupted"
    kept = run.checkpoint_state()["epoch"]
    assert kept >= 2 and keras.saving.load_model(run.checkpoint_file, safe_mode=True) is not None

    # Fewer epochs left makes the resumed run quick: edit the saved config as a user could.
    config = run.config() | {"epochs": kept + 2}
    run.config_file.write_text(json.dumps(config))
    resumed = subprocess.run([sys.executable, "-m", "core", "train", "--resume", "--run-dir", str(run_dir)],
                             cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    starts = [e for e in run.events() if e["event"] == "start"]
    assert starts[-1]["initial_epoch"] == kept
    epochs = [e["epoch"] for e in run.events() if e["event"] == "epoch"]
    assert epochs[-2:] == [kept + 1, kept + 2]
    assert run.status()["state"] == "finished" and run.model_file.exists()


def test_cancel_keeps_last_checkpoint_and_second_start_is_refused(data, tmp_path):
    run_dir = tmp_path / "run"
    run = RunFolder(run_dir)
    # Far more epochs than the two commands below take to start, however fast training is: the cancel ends it.
    process = start_training(data, run_dir, "--arch", "seed", "--epochs", "1000", "--batch-size", "8")
    wait_for_epoch(run, 1, process)
    assert run.is_running()

    second = subprocess.run([sys.executable, "-m", "core", "train", "--resume", "--run-dir", str(run_dir)],
                            cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and "already running" in second.stderr

    cancel = subprocess.run([sys.executable, "-m", "core", "cancel", str(run_dir)],
                            cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert cancel.returncode == 0, cancel.stderr
    process.communicate(timeout=120)
    assert process.returncode == 3
    status = run.status()
    assert status["state"] == "cancelled" and "kept" in status["message"]
    state = run.checkpoint_state()
    assert state["epoch"] == status["epoch"]["epoch"] < 1000
    assert not run.model_file.exists()


def test_oversampled_training_never_sees_a_validation_image(data):
    dataset = load_dataset(data)
    config = TrainConfig(data=str(data), balance="oversample", val_fraction=0.2, seed=3)
    prepared = prepare_training_data(dataset, config)
    train_sources = {prepared["sources"][i] for i in prepared["train_indices"]}
    val_sources = {prepared["sources"][i] for i in prepared["val_indices"]}
    assert val_sources and not train_sources & val_sources
    counts = prepared["counts"]["train_balanced"]
    assert len(set(counts)) == 1 and counts[0] == max(prepared["counts"]["train"])


def test_init_from_starts_with_the_given_models_weights_and_records_where_they_came_from(tiny_data, tiny_model,
                                                                                       tmp_path):
    # A vanishing learning rate leaves the weights where they started, so the result shows the start.
    config = TrainConfig(data=str(tiny_data), arch="seed", epochs=1, batch_size=8, augment=False,
                         learning_rate=1e-12, init_from=str(tiny_model))
    card = train(tmp_path / "continued", config)
    continued, source = load_model(tmp_path / "continued"), load_model(tiny_model)
    for mine, theirs in zip(continued.trainable_weights, source.trainable_weights, strict=True):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), atol=1e-6)
    fresh = train(tmp_path / "fresh", TrainConfig(**(config.__dict__ | {"init_from": None})))
    assert fresh["initialised_from"] is None
    assert not np.allclose(np.asarray(load_model(tmp_path / "fresh").trainable_weights[0]),
                           np.asarray(source.trainable_weights[0]), atol=1e-6)
    assert card["initialised_from"]["command"] == read_card(tiny_model)["command"]
    assert card["command"].endswith(f"--init-from {portable_path(tiny_model)}")

    with pytest.raises(ValueError, match="is not a 'vgg' network"):
        train(tmp_path / "other", TrainConfig(**(config.__dict__ | {"arch": "vgg"})))
    with pytest.raises(ModelError, match="no model"):
        train(tmp_path / "missing", TrainConfig(**(config.__dict__ | {"init_from": str(tmp_path / "none")})))
    assert not (tmp_path / "missing").exists()


def test_distillation_learns_the_teachers_probabilities_and_caches_them(tiny_data, tiny_model, tmp_path,
                                                                         monkeypatch):
    config = TrainConfig(data=str(tiny_data), arch="seed", epochs=1, batch_size=8, augment=False,
                         teachers=[str(tiny_model)], teacher_weight=1.0)
    card = train(tmp_path / "student", config)
    split = load_dataset(tiny_data).split("train")
    expected = face_probabilities(load_model(tiny_model), split.images, "mirror")
    cache = tmp_path / "student" / TARGETS_FILE
    with np.load(cache) as saved:
        np.testing.assert_allclose(saved["probabilities"], expected, atol=1e-5)
    assert card["command"].endswith(f"--teachers {portable_path(tiny_model)} --teacher-weight 1.0")

    # The cache answers for the same teachers and images without loading a model; other images recompute.
    monkeypatch.setattr(distillation, "load_model", lambda spec: (_ for _ in ()).throw(AssertionError(spec)))
    np.testing.assert_array_equal(teacher_targets([str(tiny_model)], split.images, split.sources, cache),
                                  np.load(cache)["probabilities"])
    with pytest.raises(AssertionError):
        teacher_targets([str(tiny_model)], split.images[:5], split.sources[:5], cache)
    with pytest.raises(ModelError, match="no model"):
        train(tmp_path / "missing", TrainConfig(**(config.__dict__ | {"teachers": [str(tmp_path / "none")]})))
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("classes", [7, 3])
def test_every_architecture_maps_faces_to_class_probabilities_within_the_size_budget(name, classes):
    model = ARCHITECTURES[name].build(classes)
    probabilities = np.asarray(model(np.full((2, 48, 48, 1), 128, np.float32), training=False))
    assert probabilities.shape == (2, classes) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    # "features" holds the three shipped FER-2013 networks (8.8M weights, shipped as 16 MB in float16) under a head
    bytes_a_weight = 2 if name == "features" else 4
    assert model.count_params() * bytes_a_weight < 20e6, "the weights must fit a 20 MB model file"


def test_bad_config_and_missing_data_are_clear_errors(tmp_path):
    result = subprocess.run([sys.executable, "-m", "core", "train", str(tmp_path / "nowhere"),
                             "--run-dir", str(tmp_path / "run")], cwd=PROJECT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "no dataset at" in result.stderr
    with pytest.raises(ValueError, match="unknown architecture"):
        TrainConfig(data="x", arch="resnet9000")
