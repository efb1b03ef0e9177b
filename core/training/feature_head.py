"""A run of the "features" network (the quick preset): a logistic regression on the shipped networks' features,
scored on people it was not taught (each person left out in turn, core.evaluation.new_people), its probabilities
calibrated there (a temperature), then taught on every example, so the kept model learns from everyone. Seconds
to a minute on two cores for a few hundred faces; no epochs, so nothing to resume.

The run folder holds what any run's does (config.json, progress events, card.json, split.json, model.keras);
the card's "validation" is the score on people not taught (distinct faces only, "split" says so) and its
"new_people" the full report (per person, what to add when there is too little to score).
"""

import dataclasses
import sys
import time

import keras
import numpy as np

from core.data.balance import class_counts
from core.data.classes import check_trainable
from core.data.dataset import Dataset
from core.evaluation.new_people import dense_weights, distinct_faces, scored_new_people
from core.evaluation.scores import card_metrics, labels_for_model, score_predictions
from core.models.architectures import ARCHITECTURES, HEAD_LAYERS
from core.models.features import face_features
from core.models.store import save_model
from core.storage.runs import RunFolder, portable_path, write_json
from core.training.config import TrainConfig, cli_arguments
from core.training.data import training_classes, training_split_name
from core.training.finishing import learned_little
from core.training.hardware import backend_version, hardware

HELD_OUT = "people not taught (each left out in turn)"


def train_feature_head(run: RunFolder, config: TrainConfig, dataset: Dataset) -> dict:
    """Score, calibrate and teach the head on every example of the training split; write the card and model."""
    started = time.time()
    classes = config.classes or training_classes(dataset)
    source = dataset.split(training_split_name(dataset, config))
    labels = labels_for_model(source.labels, dataset.classes, classes)
    check_trainable(classes, class_counts(labels, len(classes)).tolist())
    images, people = source.images, [person or "" for person in source.people]
    run.append_event("start", epochs=1, initial_epoch=0, batches=1, train_images=len(labels), val_images=0)
    network = ARCHITECTURES["features"].build(len(classes))
    features_of = keras.Model(network.inputs, network.get_layer(HEAD_LAYERS[1]).input)
    _stage(run, "reading the faces' features", len(labels))
    features, mirrored = face_features(features_of, images), face_features(features_of, images, mirrored=True)
    _stage(run, "scoring on each person left out", len(labels))
    distinct = distinct_faces(images, labels, people)
    report, scored, held = scored_new_people(features, labels, people, classes, distinct, mirrored)
    validation, temperature = {}, 1.0
    if report["scored"]:
        temperature = report["temperature"]
        validation = card_metrics(score_predictions(labels[scored], held[scored],
                                                    [source.sources[i] for i in np.flatnonzero(scored)],
                                                    classes=classes)) | {"split": HELD_OUT}
    _stage(run, "teaching the head on every example", len(labels))
    network.get_layer(HEAD_LAYERS[1]).set_weights(dense_weights(
        np.concatenate([features, mirrored]), np.concatenate([labels, labels]), len(classes), temperature))
    counts = {"train": class_counts(labels, len(classes)).tolist(), "validation": [], "test": []}
    split = {"train_split": "all", "by": "person" if report["scored"] else "picture",
             "people": {"train": len(report["people"]), "validation": 0, "test": 0},
             "warnings": [] if report["scored"] else report["to_add"]}
    write_json(run.path / "split.json", split | {"pictures": {"train": list(source.sources), "validation": [], "test": []},
                                                 "people": {"train": report["people"], "validation": [], "test": []}})
    portable = dataclasses.replace(config, data=portable_path(config.data))
    card = {
        "classes": list(classes), "architecture": config.arch, "parameters": int(network.count_params()),
        "config": dataclasses.asdict(portable), "data_counts": counts, "split": split, "history": [],
        "steps": 0, "best_epoch": None, "validation": validation, "test": {}, "new_people": report,
        "temperature": temperature, "learned_little": learned_little(validation),
        "training_seconds": round(time.time() - started, 1), "initialised_from": None, "hardware": hardware(),
        "versions": {"python": sys.version.split()[0], "keras": keras.__version__, "backend": backend_version(),
                     "numpy": np.__version__},
        "command": "python -m core train " + " ".join(cli_arguments(portable)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _stage(run, "saving the model", len(labels))
    write_json(run.card_file, card)
    # float16, as the networks under the head ship: 35 MB in float32
    save_model(network, run.model_file, half_precision=True)  # last: its presence marks the run finished
    accuracy = f"{validation['accuracy']:.3f} on people not taught" if validation else "no score on new people"
    run.append_event("end", status="finished", message=accuracy)
    return card


def _stage(run: RunFolder, stage: str, total: int) -> None:
    run.append_event("finish", stage=stage, done=0, total=total, eta_s=None)
