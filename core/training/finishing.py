"""The end of a run: the best epoch's weights scored on validation and test (as "finish" progress events),
then card.json, then model.keras, written last: its presence marks the run finished."""

import dataclasses
import sys
import time

import keras
import numpy as np

from core.models.architectures import ARCHITECTURES
from core.data.balance import class_counts
from core.training.checkpoints import weights_from_bytes
from core.data.dataset import Dataset
from core.evaluation.scores import baseline_of, card_metrics, evaluate_model
from core.evaluation.time_left import TimeLeft
from core.training.hardware import backend_version, hardware
from core.models.store import save_model
from core.training.monitor import BATCH_EVENT_SECONDS, RunMonitor
from core.storage.runs import RunFolder, portable_path, write_json
from core.training.config import TrainConfig, cli_arguments

LEARNED_LITTLE_MARGIN = 0.05  # a run within 5 points of the majority-class baseline has learned little


def finish(run: RunFolder, config: TrainConfig, dataset: Dataset, data: dict, model: keras.Model,
           monitor: RunMonitor, seconds: float) -> dict:
    """Write card.json, then the best-validation weights (the last epoch's without validation) as model.keras,
    in float32 and without optimiser state, last: its presence marks the run finished."""
    state = monitor.state
    if len(data["val_y"]) and monitor.best_weights is not None:
        model.set_weights(weights_from_bytes(monitor.best_weights))
    classes = data["classes"]
    final = ARCHITECTURES[config.arch].build(len(classes))
    final.set_weights(model.network.get_weights())
    val_sources = [data["sources"][i] for i in data["val_indices"]]
    validation = evaluate_model(final, data["val_x"], data["val_y"], val_sources, classes=classes,
                                progress=_finishing(run, "scoring the validation images")) if len(data["val_y"]) else {}
    test, split = {}, data.get("test")
    if split is not None and len(split):
        test = evaluate_model(final, split.images, split.labels, split.sources, classes=classes,
                              progress=_finishing(run, f"scoring the '{data['test_name']}' split"))
        data["counts"]["test"] = class_counts(split.labels, len(classes)).tolist()
    _write_split(run, data)
    portable = dataclasses.replace(config, data=portable_path(config.data),
                                   init_from=config.init_from and portable_path(config.init_from),
                                   teachers=config.teachers and [portable_path(spec) for spec in config.teachers])
    card = {
        "classes": list(classes),
        "architecture": config.arch,
        "parameters": int(final.count_params()),
        "config": dataclasses.asdict(portable),
        "data_counts": data["counts"],
        "split": data["split"],
        "history": state.get("history") or [e for e in run.events() if e["event"] == "epoch"],
        "steps": state.get("steps"),
        "best_epoch": state.get("best_epoch"),
        "validation": card_metrics(validation),
        "test": card_metrics(test) | ({"split": data["test_name"]} if test else {}),
        "learned_little": learned_little(validation or test),
        "training_seconds": round(state.get("seconds", seconds), 1),
        "initialised_from": state.get("initialised_from"),
        "hardware": " + ".join(state.get("hardware") or [hardware()]),
        "versions": {"python": sys.version.split()[0], "keras": keras.__version__,
                     "backend": backend_version(), "numpy": np.__version__},
        "command": "python -m core train " + " ".join(cli_arguments(portable)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _finishing(run, "saving the model")
    write_json(run.card_file, card)
    save_model(final, run.model_file)  # last: its presence marks the run finished
    return card


def learned_little(metrics: dict) -> str | None:
    """Said when a run ends within a few points of always answering its commonest class (each place that shows
    it adds what to try there); else None."""
    baseline = baseline_of(metrics)
    if baseline is None or "accuracy" not in metrics or metrics["accuracy"] > baseline[0] + LEARNED_LITTLE_MARGIN:
        return None
    return (f"it learned little: {metrics['accuracy']:.1%} against {baseline[0]:.1%} for always answering "
            f"'{baseline[1]}'.")


def _write_split(run: RunFolder, data: dict) -> None:
    """split.json in the run folder: which pictures (and people) went to training, validation and test."""
    test = data.get("test")
    if data.get("images") is None:  # streamed from shards: the shards hold the split
        write_json(run.path / "split.json", data["split"])
        return
    folds = {"train": sorted(set(data["train_indices"].tolist())), "validation": list(data["val_indices"])}
    listing = {name: [data["sources"][i] for i in indices] for name, indices in folds.items()}
    listing["test"] = list(test.sources) if test is not None else []
    people = {name: sorted({data["people"][i] for i in indices} - {""}) for name, indices in folds.items()} \
        if data.get("people") else {}
    if people:
        people["test"] = sorted(set(test.people) - {""}) if test is not None else []
    write_json(run.path / "split.json", data["split"] | {"pictures": listing, "people": people})


def _finishing(run: RunFolder, stage: str):
    """Write a "finish" event for a stage of the end of training (scoring, saving); return a core Progress
    callback that writes its progress as more of them (at most one a BATCH_EVENT_SECONDS, and the last), with
    the time left of core.evaluation.time_left (None until a pace is measured)."""
    last, left = time.time(), TimeLeft()
    run.append_event("finish", stage=stage, done=0, total=0, eta_s=None)

    def follow(done: int, total: int) -> None:
        nonlocal last
        seconds_left = left.update(done, total)  # the pace of the recent batches, the first one's warm-up left out
        now = time.time()
        if now - last >= BATCH_EVENT_SECONDS or done == total:
            last = now
            run.append_event("finish", stage=stage, done=done, total=total, eta_s=seconds_left)
    return follow
