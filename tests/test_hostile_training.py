"""Hostile training input: bad settings refused before a run folder exists, a finished run never
retrained, a damaged run folder named clearly, a diverging loss stopped before it becomes a model."""

import json
import resource
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.data.dataset import load_dataset
from core.storage.runs import CHECKPOINT_STATE_ENTRY, RunFolder
from tests.hostile import command, refused, snapshot
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)

PROJECT = Path(__file__).resolve().parent.parent
TINY = ("--arch", "seed", "--epochs", "1", "--batch-size", "8", "--no-augment")


@pytest.mark.parametrize("flags, match", [
    (("--learning-rate", "nan"), "the learning rate must be a positive number, not nan"),
    (("--learning-rate", "-0.01"), "the learning rate must be a positive number"),
    (("--learning-rate", "inf"), "the learning rate must be a positive number"),
    (("--weight-decay", "-1"), "the weight decay must be a number >= 0"),
    (("--balance", "smote"), "invalid choice: 'smote'"),
    (("--seed", "-1"), "the seed must be a whole number from 0 to 4294967295"),
    (("--seed", str(2**40)), "the seed must be a whole number"),
    (("--max-images", "0"), "--max-images must be at least 1"),
    (("--train-split", "holiday"), "no split 'holiday'"),
])
def test_bad_settings_are_refused_before_a_run_folder_is_written(capsys, tiny_data, tmp_path, flags, match):
    refused(capsys, "train", tiny_data, "--run-dir", tmp_path / "run", *TINY, *flags, match=match)
    assert not (tmp_path / "run").exists()


def test_a_start_model_of_another_network_or_a_damaged_one_is_refused_before_the_run_folder(
        capsys, tiny_data, tiny_model, tmp_path):
    refused(capsys, "train", tiny_data, "--run-dir", tmp_path / "run", *TINY, "--arch", "vgg",
            "--init-from", tiny_model, match="is not a 'vgg' network")
    broken = tmp_path / "broken.keras"
    broken.write_bytes((tiny_model / "model.keras").read_bytes()[:5000])
    refused(capsys, "train", tiny_data, "--run-dir", tmp_path / "run", *TINY, "--init-from", broken,
            match="broken.keras is not a valid .keras file")
    assert not (tmp_path / "run").exists()


def finished_copy(tiny_model, tmp_path):
    run_dir = tmp_path / "finished"
    shutil.copytree(tiny_model, run_dir)
    return RunFolder(run_dir)


@pytest.mark.parametrize("damage", ["none", "state torn", "checkpoint gone", "checkpoint truncated"])
def test_resuming_a_finished_run_says_so_and_changes_nothing(capsys, tiny_model, tmp_path, damage):
    run = finished_copy(tiny_model, tmp_path)
    if damage == "state torn":
        (run.path / "checkpoint.json").write_text('{"epoch": ')
    elif damage == "checkpoint gone":
        run.checkpoint_file.unlink()
    elif damage == "checkpoint truncated":
        run.checkpoint_file.write_bytes(run.checkpoint_file.read_bytes()[:1000])
    before = snapshot(run.path)
    refused(capsys, "train", "--resume", "--run-dir", run.path, match="is finished (its model.keras is there)")
    assert snapshot(run.path) == before
    assert run.status()["state"] == "finished"


def test_resuming_a_folder_without_a_run_creates_nothing(capsys, tmp_path):
    refused(capsys, "train", "--resume", "--run-dir", tmp_path / "nothing", match="holds no run to resume")
    assert not (tmp_path / "nothing").exists()


@pytest.mark.parametrize("edit, match", [
    (lambda config: config | {"colour": "blue"}, "has an unknown setting 'colour'"),
    (lambda config: config | {"epochs": "3"}, "'epochs' must be int, not \"3\""),
    (lambda config: config | {"augment": 1}, "'augment' must be bool, not 1"),
    (lambda config: config | {"epochs": 0}, "epochs and batch size must be at least 1"),
    (lambda config: {key: value for key, value in config.items() if key != "data"}, "lacks the setting 'data'"),
    (lambda config: ["not", "settings"], "is not a JSON object of settings"),
])
def test_a_hand_edited_config_fails_clearly_and_ends_the_run(capsys, tiny_model, tmp_path, edit, match):
    run = finished_copy(tiny_model, tmp_path)
    run.model_file.unlink()  # an unfinished run, to be resumed
    run.config_file.write_text(json.dumps(edit(run.config())))
    refused(capsys, "train", "--resume", "--run-dir", run.path, match=match)
    status = run.status()
    assert status["state"] == "failed" and match in status["message"]  # the page stops offering Resume
    assert not run.model_file.exists()


def test_a_damaged_checkpoint_of_an_unfinished_run_is_named_and_kept(capsys, tiny_model, tmp_path):
    run = finished_copy(tiny_model, tmp_path)
    run.model_file.unlink()
    run.checkpoint_file.write_bytes(run.checkpoint_file.read_bytes()[:3000])
    damaged = run.checkpoint_file.read_bytes()
    refused(capsys, "train", "--resume", "--run-dir", run.path, match="checkpoint.keras is damaged")
    assert run.checkpoint_file.read_bytes() == damaged and not run.model_file.exists()
    run.checkpoint_file.unlink()  # and without it, the logged epochs are not silently trained again
    refused(capsys, "train", "--resume", "--run-dir", run.path, match="is missing but epochs were logged")
    assert run.status()["state"] == "failed"


def test_leftovers_of_a_killed_save_are_removed_at_the_next_start(capsys, tiny_model, tmp_path):
    run = finished_copy(tiny_model, tmp_path)
    run.model_file.unlink()
    with zipfile.ZipFile(run.checkpoint_file) as archive:
        done = json.loads(archive.read(CHECKPOINT_STATE_ENTRY))["epoch"]
    run.config_file.write_text(json.dumps(run.config() | {"epochs": done + 1}))
    for name in (".tmp-999-checkpoint.keras", ".tmp-999-card.json", ".tmp-12-model.keras"):
        (run.path / name).write_bytes(b"half a save")
    code, out, err = command(capsys, "train", "--resume", "--run-dir", run.path)
    assert code == 0, err
    assert not list(run.path.glob(".tmp-*"))
    assert [e["epoch"] for e in run.card()["history"]] == list(range(1, done + 2))


def test_a_diverging_loss_fails_the_run_and_never_becomes_a_model(capsys, tiny_data, tmp_path):
    run = RunFolder(tmp_path / "run")
    line = refused(capsys, "train", tiny_data, "--run-dir", run.path, *TINY, "--epochs", "3",
                   "--learning-rate", "1e30", "--precision", "float32",  # which non-finite value comes is numerics
                   match="the loss became nan in epoch 1")
    assert "lower --learning-rate" in line
    status = run.status()
    assert status["state"] == "failed" and "the loss became nan" in status["message"]
    assert not run.model_file.exists() and not run.checkpoint_file.exists()


def test_a_full_disk_during_a_save_fails_the_run_in_one_line_without_a_crash(tiny_data, tmp_path):
    def small_files():  # every file this process writes stops at 400 kB: a checkpoint does not fit
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
    run = RunFolder(tmp_path / "run")
    load_dataset(tiny_data)  # decoded and cached before the limit applies
    result = subprocess.run([sys.executable, "-m", "core", "train", str(tiny_data), "--run-dir", str(run.path), *TINY],
                            cwd=PROJECT, capture_output=True, text=True, preexec_fn=small_files, timeout=300)
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error", "Traceback", "RuntimeError"))]
    assert result.returncode == 2, result.stderr[-2000:]  # not a segmentation fault (-11)
    assert errors == [errors[0]] and "the checkpoint of epoch 1 could not be written (File too large)" in errors[0]
    assert run.status()["state"] == "failed" and not list(run.path.glob(".tmp-*"))
