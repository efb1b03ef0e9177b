"""Ensembles: several trained networks averaged into one model file.

Networks trained from different starts make different mistakes, so the mean of their probabilities
is more accurate than any one of them. The members must share one validation split: otherwise the
ensemble's validation score would count images that some member trained on.
"""

import dataclasses
import sys
import time
from pathlib import Path

import keras
import numpy as np

from core.data.dataset import Dataset, load_dataset
from core.evaluation.scores import card_metrics, evaluate_model
from core.models.inference import DEFAULT_VIEWS
from core.models.store import load_model, model_classes, model_file, read_card, save_model, training_data_path
from core.storage.protected_paths import check_model_folder
from core.storage.runs import atomic_path, portable_path, write_json
from core.training.config import TrainConfig
from core.training.data import prepare_training_data

# What the members' training configs must agree on for one validation split to fit them all.
SPLIT_KEYS = ("train_split", "val_fraction", "seed", "max_images", "test_split", "test_fraction")


def combine(models: list[keras.Model]) -> keras.Model:
    """One model whose output is the mean of the members' outputs (the members are renamed member_0...)."""
    inputs = keras.Input(models[0].input_shape[1:])
    for index, member in enumerate(models):
        member.name = f"member_{index}"
    return keras.Model(inputs, keras.layers.Average()([member(inputs) for member in models]), name="ensemble")


def shared_classes(specs: list[str]) -> list[str]:
    """The classes every member answers with, in one order; ValueError naming the first member that differs
    (averaging probabilities of other classes would mix up their meanings)."""
    first = model_classes(specs[0])
    for spec in specs[1:]:
        if model_classes(spec) != first:
            raise ValueError(f"{spec} answers with {', '.join(model_classes(spec))} but {specs[0]} with "
                             f"{', '.join(first)}: ensemble members must share their classes, in one order")
    return first


def shared_split(cards: list[dict], names: list[str]) -> dict:
    """The split settings every member was trained with; ValueError naming the first that differs."""
    configs = [card.get("config") or {} for card in cards]
    defaults = {field.name: field.default for field in dataclasses.fields(TrainConfig)}
    for name, config in zip(names, configs):
        if not config:
            raise ValueError(f"{name} has no training config in its card.json, so its validation images are unknown")
        for key in SPLIT_KEYS:
            if config.get(key, defaults[key]) != configs[0].get(key, defaults[key]):
                raise ValueError(f"{name} was trained with {key}={config.get(key, defaults[key])} but {names[0]} "
                                 f"with {configs[0].get(key, defaults[key])}: their validation splits differ")
    return {key: configs[0].get(key, defaults[key]) for key in SPLIT_KEYS} | {"data": configs[0].get("data")}


def build_ensemble(specs: list[str], out_dir: str | Path, data: str | None = None, views: str = DEFAULT_VIEWS) -> dict:
    """Average the models into out_dir/model.keras (float16 weights), score it, write card.json; return the card.

    It is scored as saved (reloaded in safe mode) on the members' shared validation split and on
    the dataset's test split. data defaults to the dataset the first member trained on.
    """
    if len(specs) < 2:
        raise ValueError("an ensemble needs at least two models")
    names = [str(model_file(spec)) for spec in specs]
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, names)
    check_model_folder(out_dir, [*names, data])  # not models/default, a finished model or an input
    cards = [read_card(spec) for spec in specs]
    classes = shared_classes(specs)
    split = shared_split(cards, names)
    config = TrainConfig(data=data or training_data_path(specs[0]), **{key: split[key] for key in SPLIT_KEYS},
                         classes=classes)
    dataset = load_dataset(config.data)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "model.keras") as temporary:  # an old model there is replaced once this one scored
        save_model(combine([load_model(spec) for spec in specs]), temporary, half_precision=True)
        model = load_model(temporary)
        validation, test = _scores(model, dataset, config, views)
    card = {
        "classes": classes,
        "architecture": "ensemble of " + " + ".join(card.get("architecture", "?") for card in cards),
        "parameters": int(model.count_params()),
        "members": [_member(portable_path(name), card) for name, card in zip(names, cards)],
        "config": {"data": portable_path(config.data), "views": views, "half_precision": True}
        | {key: split[key] for key in SPLIT_KEYS},
        "validation": card_metrics(validation),
        "test": card_metrics(test),
        "training_seconds": round(sum(_seconds(card) for card in cards), 1),
        "hardware": " + ".join(dict.fromkeys(card.get("hardware", "?") for card in cards)),
        "versions": {"python": sys.version.split()[0], "keras": keras.__version__, "numpy": np.__version__},
        "command": " ".join(["python -m core ensemble", *map(portable_path, specs), "--out", portable_path(out_dir)]
                            + (["--data", portable_path(data)] if data else [])
                            + (["--views", views] if views != DEFAULT_VIEWS else [])),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(out_dir / "card.json", card)
    return card


def _check_out_dir(out_dir: Path, members: list[str]) -> None:
    """Refuse an output folder whose model.keras is a member's or a training run's (it would be overwritten)."""
    target = (out_dir / "model.keras").resolve()
    for name in members:
        if Path(name).resolve() == target:
            raise ValueError(f"--out {out_dir} holds the member {name}, which the ensemble would overwrite: "
                             "choose another folder")
    if (out_dir / "config.json").exists():
        raise ValueError(f"--out {out_dir} is a training run's folder: choose another folder for the ensemble")


def _scores(model: keras.Model, dataset: Dataset, config: TrainConfig, views: str) -> tuple[dict, dict]:
    """Reports on the validation slice the config defines and on the test split ({} where absent)."""
    held_out = prepare_training_data(dataset, config)
    classes = held_out["classes"]
    validation = evaluate_model(model, held_out["val_x"], held_out["val_y"], views=views, classes=classes) \
        if len(held_out["val_y"]) else {}
    faces = held_out["test"]
    if faces is None or not len(faces):
        return validation, {}
    return validation, evaluate_model(model, faces.images, faces.labels, faces.sources, views=views,
                                      classes=classes) | {"split": held_out["test_name"]}


def _member(name: str, card: dict) -> dict:
    keys = ("architecture", "parameters", "command", "training_seconds", "hardware", "versions", "initialised_from")
    return {"model": name} | {key: card[key] for key in keys if key in card} \
        | {f"{split}_accuracy": card.get(split, {}).get("accuracy") for split in ("validation", "test")}


def _seconds(card: dict) -> float:
    """Training time of a model including the run it continued from."""
    return card.get("training_seconds", 0) + (card.get("initialised_from") or {}).get("training_seconds", 0)
