"""The model a run trains: resumed from its checkpoint, or built new (optionally from another model's weights)
and compiled with the architecture's optimiser and loss."""

import keras
import numpy as np

from core.models.architectures import ARCHITECTURES, set_features_trainable
from core.training.checkpoints import load_checkpoint
from core.models.store import load_model, model_classes, model_file, read_card
from core.training.recipes import TrainingModel, build_optimizer
from core.storage.runs import CheckpointError, RunFolder, portable_path
from core.training.config import TrainConfig


def training_model(run: RunFolder, config: TrainConfig, data: dict) -> tuple[TrainingModel, dict, bool]:
    """The compiled TrainingModel from the run's checkpoint, or a new one; its state; whether it resumed."""
    state = run.checkpoint_state()
    if state is not None:
        model = load_checkpoint(run)
        if not isinstance(model, TrainingModel):
            raise ValueError(f"{run.checkpoint_file} was written by an older version and cannot be resumed; "
                             "start a new run from it with --init-from")
        return model, state, True
    if any(event["event"] == "epoch" for event in run.events()):
        raise CheckpointError(f"{run.checkpoint_file} is missing but epochs were logged: resuming would repeat them")
    architecture = ARCHITECTURES[config.arch]
    steps_per_epoch = int(np.ceil(len(data["train_indices"]) / config.batch_size))
    # Provenance is read now and kept with the checkpoints: the source may be replaced before the end.
    state = {"epoch": 0, "steps": 0, "best_val_accuracy": -1.0, "seconds": 0.0, "history": [],
             "initialised_from": _provenance(config.init_from, config.init_member)}
    network = architecture.build(len(data["classes"]))
    if config.init_from:
        load_initial_weights(network, config.init_from, data["classes"], config.init_member)
    online = config.teachers if config.distillation == "online" else []
    model = TrainingModel(network, config.augment, config.mix, config.mix_alpha,
                          [load_model(spec) for spec in online or []], config.teacher_weight, config.seed)
    compile_model(model, config, steps_per_epoch, voted=data["voted"])
    return model, state, False


def compile_model(model: TrainingModel, config: TrainConfig, steps_per_epoch: int, fine_tune: bool = False,
                  voted: bool = False) -> None:
    """Compile with the architecture's optimiser and loss. A pretrained architecture trains its new head alone
    (features frozen) before config.freeze_epochs, then everything but BatchNormalization (fine_tune) at a
    tenth of the rate. Vote shares (voted data, config.targets "votes") are learned as they are: no label
    smoothing, the cross-entropy against each face's distribution of votes."""
    architecture = ARCHITECTURES[config.arch]
    rate = config.learning_rate
    if architecture.pretrained:
        set_features_trainable(model.network, fine_tune or not config.freeze_epochs)
        rate = (rate or architecture.learning_rate) / (10 if fine_tune else 1)
    optimizer = build_optimizer(config.optimizer or architecture.optimizer, rate, architecture.schedule,
                                architecture.learning_rate, config.weight_decay, architecture.weight_decay,
                                config.epochs * steps_per_epoch, steps_per_epoch, config.ema)
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.CategoricalCrossentropy(
                      label_smoothing=0.0 if voted and config.targets == "votes" else architecture.label_smoothing))


def load_initial_weights(model: keras.Model, spec: str, classes: list[str], member: str | None = None) -> None:
    """Start from another model's weights (continued training, fine-tuning): the same network, or one network
    of an ensemble (member). When the classes differ, every layer but the last is copied, and the last layer's
    columns for the classes both know (matched by name); the others keep their fresh start."""
    source = load_model(spec)
    members = [layer.name for layer in source.layers if isinstance(layer, keras.Model)]
    if member:
        if member not in members:
            raise ValueError(f"{spec} has no network '{member}'" + (f": it has {', '.join(members)}" if members else ""))
        source = source.get_layer(member)
    elif members:
        raise ValueError(f"{spec} is an ensemble of {len(members)} networks: name the one to start from with "
                         f"--init-member ({', '.join(members)})")
    weights, own = source.get_weights(), model.get_weights()
    if len(weights) != len(own) or any(a.shape != b.shape for a, b in zip(weights[:-2], own[:-2])):
        raise ValueError(f"{spec} is not a '{model.name}' network, so its weights cannot start this run")
    known = model_classes(spec)
    kernel, bias = own[-2].copy(), own[-1].copy()
    for column, name in enumerate(classes):
        if name in known and known.index(name) < weights[-1].shape[0]:
            kernel[:, column], bias[column] = weights[-2][:, known.index(name)], weights[-1][known.index(name)]
    model.set_weights(weights[:-2] + [kernel, bias])


def _provenance(spec: str | None, member: str | None = None) -> dict | None:
    """What the starting model's own card says about how it was trained (None for a fresh start)."""
    if not spec:
        return None
    card = read_card(spec)
    keys = ("command", "training_seconds", "hardware", "finished", "initialised_from")
    return ({"model": portable_path(model_file(spec))} | ({"member": member} if member else {})
            | {key: card[key] for key in keys if key in card})
