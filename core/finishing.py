"""The end of a run: the best epoch's weights scored on validation and test (as "finish" progress events),
then card.json, then model.keras, written last: its presence marks the run finished."""

import dataclasses
import sys
import time

import keras
import numpy as np

from core.architectures import ARCHITECTURES
from core.balance import class_counts
from core.checkpoints import weights_from_bytes
from core.dataset import Dataset
from core.emotions import EMOTIONS
from core.evaluation import card_metrics, evaluate_model
from core.hardware import backend_version, hardware
from core.model_store import save_model
from core.run_monitor import BATCH_EVENT_SECONDS, RunMonitor
from core.runs import RunFolder, write_json
from core.training_config import TrainConfig, cli_arguments


def finish(run: RunFolder, config: TrainConfig, dataset: Dataset, data: dict, model: keras.Model,
           monitor: RunMonitor, seconds: float) -> dict:
    """Write card.json, then the best-validation weights (the last epoch's without validation) as model.keras,
    in float32 and without optimiser state, last: its presence marks the run finished."""
    state = monitor.state
    if len(data["val_y"]) and monitor.best_weights is not None:
        model.set_weights(weights_from_bytes(monitor.best_weights))
    final = ARCHITECTURES[config.arch].build()
    final.set_weights(model.network.get_weights())
    val_sources = [data["sources"][i] for i in data["val_indices"]]
    validation = evaluate_model(final, data["val_x"], data["val_y"], val_sources,
                                progress=_finishing(run, "scoring the validation images")) if len(data["val_y"]) else {}
    test = {}
    if config.test_split and config.test_split in dataset.splits:
        split = dataset.splits[config.test_split]
        test = evaluate_model(final, split.images, split.labels, split.sources,
                              progress=_finishing(run, f"scoring the '{config.test_split}' split"))
        data["counts"]["test"] = class_counts(split.labels).tolist()
    card = {
        "classes": list(EMOTIONS),
        "architecture": config.arch,
        "parameters": int(final.count_params()),
        "config": dataclasses.asdict(config),
        "data_counts": data["counts"],
        "history": state.get("history") or [e for e in run.events() if e["event"] == "epoch"],
        "steps": state.get("steps"),
        "best_epoch": state.get("best_epoch"),
        "validation": card_metrics(validation),
        "test": card_metrics(test) | ({"split": config.test_split} if test else {}),
        "training_seconds": round(state.get("seconds", seconds), 1),
        "initialised_from": state.get("initialised_from"),
        "hardware": " + ".join(state.get("hardware") or [hardware()]),
        "versions": {"python": sys.version.split()[0], "keras": keras.__version__,
                     "backend": backend_version(), "numpy": np.__version__},
        "command": "python -m core train " + " ".join(cli_arguments(config)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _finishing(run, "saving the model")
    write_json(run.card_file, card)
    save_model(final, run.model_file)  # last: its presence marks the run finished
    return card


def _finishing(run: RunFolder, stage: str):
    """Write a "finish" event for a stage of the end of training (scoring, saving); return a core Progress
    callback that writes its progress as more of them (at most one a BATCH_EVENT_SECONDS, and the last)."""
    started = last = time.time()
    run.append_event("finish", stage=stage, done=0, total=0, eta_s=None)

    def follow(done: int, total: int) -> None:
        nonlocal last
        now = time.time()
        if now - last >= BATCH_EVENT_SECONDS or done == total:
            last = now
            run.append_event("finish", stage=stage, done=done, total=total,
                             eta_s=(now - started) / done * (total - done))
    return follow
