"""The epochs of a run: model.fit on arrays, or on a tf.data stream (shards, or a worker's part under a strategy),
watched by a RunMonitor."""

import keras
import numpy as np

from core.training import distribution as distributed
from core.models.architectures import ARCHITECTURES
from core.training.checkpoints import best_weights
from core.training.distillation import TARGETS_FILE, teacher_targets
from core.training.hardware import hardware
from core.models.inference import DEFAULT_VIEWS, view_count
from core.training.recipes import TrainingModel, ema_weights_callback
from core.training.model import compile_model
from core.training.monitor import RunMonitor, TrainingCancelled
from core.storage.runs import RunFolder
from core.data.streaming import TrainingSource, fit_input
from core.training.config import TrainConfig


def fit(run: RunFolder, config: TrainConfig, data: dict, model: TrainingModel, state: dict, resumed: bool,
        strategy, worker: distributed.Worker | None, streamed: TrainingSource | None) -> RunMonitor:
    """Train the remaining epochs (from arrays, or a stream of shards or a worker's part); return the monitor."""
    _jit_under_jax(model)
    steps_per_epoch = int(np.ceil(len(data["train_indices"]) / config.batch_size))
    here = hardware() if not worker or worker.count == 1 else f"{worker.count} workers like {hardware()}"
    if state["epoch"] < config.epochs and here not in state.setdefault("hardware", []):
        state["hardware"].append(here)  # a run resumed elsewhere names every machine it ran on
    run.append_event("start", epochs=config.epochs, initial_epoch=state["epoch"], batches=steps_per_epoch,
                     train_images=len(data["train_indices"]), val_images=len(data["val_y"]))

    if streamed is None:
        # uint8 faces and their targets go in as arrays: the training step casts, augments and mixes them.
        x_train = data["images"][data["train_indices"]][..., None]
        y_train = data["targets"][data["train_indices"]]  # vote shares, or labels one-hot
        if config.teachers and config.distillation == "offline":
            targets = teacher_targets(config.teachers, data["images"], data["sources"], run.path / TARGETS_FILE)
            y_train = (1 - config.teacher_weight) * y_train + config.teacher_weight * targets[data["train_indices"]]
    validation = None
    if len(data["val_y"]):
        y_val = keras.utils.to_categorical(data["val_y"], len(data["classes"]))
        validation = ((data["val_x"][..., None], y_val), y_val)
    monitor = RunMonitor(run, config, steps_per_epoch, state, _stop_check(run, strategy), best_weights(run),
                         scored_views=_scored_views(data), validation_images=len(data["val_y"]))
    callbacks = [ema_weights_callback(resumed), monitor] if config.ema else [monitor]
    if state["epoch"] < config.epochs and (strategy or streamed):
        source = streamed or TrainingSource(len(y_train), x_train, y_train, [data["sources"][i] for i in data["train_indices"]],
                                            class_weight=data["class_weight"], classes=len(data["classes"]))
        _fit_stream(model, run, config, source, validation, callbacks, strategy, worker)
    elif state["epoch"] < config.epochs:
        for end, fine_tune in _phases(config):
            if monitor.state["epoch"] >= end or monitor.cancelled:
                continue
            if ARCHITECTURES[config.arch].pretrained:
                compile_model(model, config, steps_per_epoch, fine_tune, data["voted"])
            model.fit((x_train, y_train), y_train, batch_size=config.batch_size, epochs=end,
                      initial_epoch=monitor.state["epoch"], validation_data=validation,
                      class_weight=data["class_weight"], callbacks=callbacks, verbose=0)
    if monitor.cancelled:
        raise TrainingCancelled
    return monitor


def _fit_stream(model: keras.Model, run: RunFolder, config: TrainConfig, source: TrainingSource, validation,
                callbacks: list, strategy, worker: distributed.Worker | None) -> None:
    """Train on a tf.data stream: the shards, or under a strategy this worker's part of the training fold."""
    inputs, steps = fit_input(source, config.batch_size, config.seed, strategy)
    index, count = (worker.index, worker.count) if worker else (0, 1)
    run.append_event("shard", worker=index, workers=count, **source.part(index, count))
    if strategy and validation:
        label_smoothing = ARCHITECTURES[config.arch].label_smoothing
        (faces, labels), _ = validation
        # after the EMA swap (when used), before the monitor reads val_accuracy
        callbacks = [*callbacks[:-1], distributed.local_validation(faces, labels, label_smoothing, config.batch_size),
                     callbacks[-1]]
        validation = None
    model.fit(inputs, steps_per_epoch=steps, epochs=config.epochs, initial_epoch=callbacks[-1].state["epoch"],
              validation_data=validation, callbacks=callbacks, shuffle=False, verbose=0)


def _scored_views(data: dict) -> int:
    """The face views the end of the run classifies: its validation and test images, each in every view."""
    test = data.get("test")
    images = len(data["val_y"]) + (len(test) if test is not None else 0)
    return images * view_count(DEFAULT_VIEWS)


def _phases(config: TrainConfig) -> list[tuple[int, bool]]:
    """(last epoch, fine-tuning) of each phase: a pretrained network's frozen epochs, then the rest."""
    if ARCHITECTURES[config.arch].pretrained and config.freeze_epochs:
        return [(config.freeze_epochs, False), (config.epochs, True)]
    return [(config.epochs, False)]


def _stop_check(run: RunFolder, strategy):
    """Under a strategy, what the monitor asks after each batch: is a cancel requested on any worker?"""
    return strategy and (lambda: distributed.any_worker(strategy, run.cancel_file.exists()))


def _jit_under_jax(model: keras.Model) -> None:
    """Compile the training step with XLA under JAX too.

    Keras marks its rotation, shift and zoom layers (in teachers trained by older versions) unfit for XLA,
    a TensorFlow limit; under JAX they are plain jax.numpy, and without jit every operation runs on its
    own (~100x slower on a GPU).
    """
    if keras.backend.backend() == "jax":
        for layer in model._flatten_layers():
            layer.supports_jit = True
        model.jit_compile = True

