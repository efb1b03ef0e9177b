"""Fault test: SIGKILL the training at random moments (inside an epoch and inside each kind of save),
resume after each kill, and check the run never goes backwards and ends like a clean run."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras

from core.storage.runs import RunFolder
from core.training.job import train
from core.training.config import TrainConfig
from tests.synthetic import write_folder_dataset

PROJECT = Path(__file__).resolve().parent.parent
# The clean run's recipe (its TrainConfig below), precision included: not --precision auto.
FLAGS = ("--arch", "seed", "--epochs", "8", "--batch-size", "8", "--no-augment", "--test-split", "none",
         "--seed", "0", "--precision", "float32")
# Where to kill each life: inside an epoch, or the moment a save's temporary file appears.
MOMENTS = ["epoch", "checkpoint.keras", "epoch", "checkpoint.keras", "checkpoint.keras", "card.json", "model.keras"]
WAIT_LIMIT_S = 300  # generous: only a hung process reaches it


def kill_at(process: subprocess.Popen, run: RunFolder, moment: str, rng: random.Random, born: float) -> bool:
    """Wait for the moment in this process's life, SIGKILL it there; False when it finished first."""
    deadline = time.time() + WAIT_LIMIT_S
    temporary = run.path / f".tmp-{process.pid}-{moment}"
    while time.time() < deadline and process.poll() is None:
        if moment == "epoch":
            if any(e["event"] == "start" and e["time"] >= born for e in run.events()):
                time.sleep(rng.uniform(0, 1.0))  # a random moment in the epochs that follow
                break
        elif temporary.exists():
            time.sleep(rng.uniform(0, 0.01))
            break
        time.sleep(0.001)
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait()
    return True


def check_checkpoint(run: RunFolder, steps_per_epoch: int, last_epoch: int) -> int:
    """The checkpoint loads, agrees with its own state, and is no older than before; return its epoch."""
    state = run.checkpoint_state()
    if state is None:
        assert last_epoch == 0
        return 0
    model = keras.saving.load_model(run.checkpoint_file, safe_mode=True)
    assert int(model.optimizer.iterations) == state["steps"] == state["epoch"] * steps_per_epoch
    assert [record["epoch"] for record in state["history"]] == list(range(1, state["epoch"] + 1))
    assert state["epoch"] >= last_epoch, "the checkpoint went back"
    return state["epoch"]


def test_random_kills_never_move_training_backwards(tmp_path):
    data = write_folder_dataset(tmp_path / "data", per_class=8, splits=("train",))
    clean = train(tmp_path / "clean", TrainConfig(data=str(data), arch="seed", epochs=8, batch_size=8,
                                                  augment=False, test_split=None, seed=0, precision="float32"))
    run = RunFolder(tmp_path / "run")
    steps_per_epoch = clean["steps"] // 8
    rng = random.Random(int(os.environ.get("KILL_SEED", "13")))
    kills, epoch = [], 0
    for life, moment in enumerate(MOMENTS):
        arguments = ["--resume"] if life else [str(data), *FLAGS]
        born = time.time()
        process = subprocess.Popen([sys.executable, "-m", "core", "train", "--run-dir", str(run.path), *arguments],
                                   cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if not kill_at(process, run, moment, rng, born):
            assert process.returncode == 0, process.stderr.read()
            break
        kills.append(moment)
        epoch = check_checkpoint(run, steps_per_epoch, epoch)
    else:
        finish = subprocess.run([sys.executable, "-m", "core", "train", "--resume", "--run-dir", str(run.path)],
                                cwd=PROJECT, capture_output=True, text=True, timeout=WAIT_LIMIT_S)
        assert finish.returncode == 0, finish.stderr
    assert len(kills) >= 5, f"the run finished after only {kills}: make it longer"
    card = run.card()
    assert card["steps"] == clean["steps"] == 8 * steps_per_epoch
    assert [record["epoch"] for record in card["history"]] == list(range(1, 9))
    logged = [e["epoch"] for e in run.events() if e["event"] == "epoch"]
    assert logged == sorted(set(logged)), f"an epoch was trained twice: {logged}"
    assert run.status()["state"] == "finished" and not list(run.path.glob(".tmp-*"))
    assert keras.saving.load_model(run.model_file, safe_mode=True).count_params() > 0
