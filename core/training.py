"""The training job: one run folder, checkpointed every epoch, cancellable and resumable.

Run it as its own process (`python -m core train ...`); pages start it with
core.runs.start_training_process and follow it through the run folder.
"""

import contextlib
import dataclasses
import io
import json
import math
import os
import platform
import shutil
import signal
import sys
import time
import types
import typing
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from core import distributed
from core.architectures import ARCHITECTURES
from core.augmentation import MIXES
from core.balance import STRATEGIES, class_counts, training_folds
from core.dataset import Dataset, load_dataset
from core.distillation import TARGETS_FILE, check_teachers, teacher_targets
from core.emotions import EMOTIONS
from core.evaluation import card_metrics, evaluate_model
from core.model_store import load_model, model_file, read_card, save_model
from core.recipes import OPTIMIZERS, TrainingModel, build_optimizer, ema_weights_callback
from core.runs import (CHECKPOINT_BEST_ENTRY, CHECKPOINT_STATE_ENTRY, CheckpointError, RunFolder, atomic_path,
                       write_json)
from core.shards import is_shard_folder
from core.streaming import TrainingSource, fit_input, shard_training_data

BATCH_EVENT_SECONDS = 1.0
MAX_SEED = 2**32 - 1  # what NumPy's and Keras' seeding accept


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as config.json)."""

    data: str
    arch: str = "vgg"
    epochs: int = 40
    batch_size: int = 128
    learning_rate: float | None = None  # None: the architecture's own
    weight_decay: float | None = None  # AdamW's decoupled weight decay; None: the architecture's own
    balance: str = "none"
    augment: bool = True
    val_fraction: float = 0.1
    seed: int = 0
    train_split: str = "train"
    test_split: str | None = "test"  # scored once at the end when the data has it
    max_images: int | None = None  # a random subset of the training split, for quick runs
    init_from: str | None = None  # a model of the same architecture whose weights start the run
    teachers: list[str] | None = None  # models whose averaged probabilities the run learns from (distillation)
    teacher_weight: float = 0.5  # targets = (1 - w) * true label + w * teachers' probabilities
    distillation: str = "offline"  # teachers on each unaugmented image once, or "online": on every augmented batch
    optimizer: str | None = None  # adam, adamw or sgd (Nesterov); None: the architecture's own
    mix: str = "none"  # mixup or cutmix, inside the training step
    mix_alpha: float | None = None  # Beta(alpha, alpha) mixing share; None: 0.2 for mixup, 1.0 for cutmix
    ema: float | None = None  # momentum of a moving average of the weights, used for validation and the saved model
    precision: str = "float32"  # or mixed_bfloat16 (the last layer stays float32)

    def __post_init__(self):
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture '{self.arch}': choose one of {', '.join(ARCHITECTURES)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not 0 <= self.val_fraction < 1:
            raise ValueError("the validation fraction must be in [0, 1)")
        if not 0 <= self.teacher_weight <= 1:
            raise ValueError("the teacher weight must be in [0, 1]")
        for name, value, allowed in (("distillation", self.distillation, ("offline", "online")),
                                     ("optimizer", self.optimizer, (None, *OPTIMIZERS)), ("mix", self.mix, MIXES),
                                     ("precision", self.precision, ("float32", "mixed_bfloat16"))):
            if value not in allowed:
                raise ValueError(f"unknown {name} '{value}': choose one of {', '.join(map(str, allowed))}")
        if self.ema is not None and not 0 < self.ema < 1:
            raise ValueError("the EMA momentum must be in (0, 1), e.g. 0.999")
        if self.learning_rate is not None and not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"the learning rate must be a positive number, not {self.learning_rate}")
        if self.weight_decay is not None and not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"the weight decay must be a number >= 0, not {self.weight_decay}")
        if self.balance not in STRATEGIES:
            raise ValueError(f"unknown balance '{self.balance}': choose one of {', '.join(STRATEGIES)}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}, not {self.seed}")
        if self.max_images is not None and self.max_images < 1:
            raise ValueError(f"--max-images must be at least 1, not {self.max_images}")

    @classmethod
    def from_dict(cls, saved, where: str = "config.json") -> "TrainConfig":
        """A config read back from JSON; ValueError naming the first unknown, missing or mistyped setting."""
        if not isinstance(saved, dict):
            raise ValueError(f"{where} is not a JSON object of settings")
        hints = typing.get_type_hints(cls)
        unknown = sorted(set(saved) - set(hints))
        if unknown:
            raise ValueError(f"{where} has an unknown setting '{unknown[0]}'")
        if "data" not in saved:
            raise ValueError(f"{where} lacks the setting 'data'")
        for name, value in saved.items():
            if not _has_type(value, hints[name]):
                raise ValueError(f"{where}: '{name}' must be {_type_name(hints[name])}, not {json.dumps(value)}")
        return cls(**saved)


def _has_type(value, hint) -> bool:
    """Whether a JSON value fits a field's type (bool is not taken for a number, an int is for a float)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_has_type(value, option) for option in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return isinstance(value, list) and all(_has_type(v, typing.get_args(hint)[0]) for v in value)
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):
        return False
    return isinstance(value, (int, float) if hint is float else hint)


def _type_name(hint) -> str:
    return str(hint).replace("<class '", "").replace("'>", "").replace("NoneType", "null")


class RunFinished(ValueError):
    """Raised when a finished run is resumed: its model is kept as it is."""


class TrainingDiverged(ValueError):
    """The loss stopped being a finite number; the run fails and keeps its last good checkpoint."""




class TrainingCancelled(Exception):
    """The run stopped because a cancel was requested; its last checkpoint is kept."""


def train(run_dir: str | Path, config: TrainConfig | None = None, resume: bool = False,
          distributed_run: bool = False, worker_dir: str | Path | None = None) -> dict | None:
    """Train in run_dir (a new run from config, or resume its checkpoint); return the card.

    With distributed_run, this process is one worker of TF_CONFIG's cluster (core/distributed.py):
    worker 0 writes run_dir, the others their worker_dir (a temporary folder when None).
    Returns None when cancelled. Raises RunBusy when the run is already training, WorkerLost when
    another worker stops answering, RunFinished when resuming a finished run (nothing is changed),
    and ValueError for a bad config before anything is written.
    """
    worker = distributed.worker_from_environment() if distributed_run else None
    if not worker or worker.chief:
        return _train_in(RunFolder(run_dir), config, resume, worker)
    private = distributed.private_run_folder(run_dir, worker_dir, resume)
    try:
        return _train_in(private, config, resume, worker)
    finally:
        if worker_dir is None:
            shutil.rmtree(private.path, ignore_errors=True)


def _train_in(run: RunFolder, config: TrainConfig | None, resume: bool, worker: distributed.Worker | None):
    dataset = None
    if resume:
        _check_resumable(run)
    else:
        dataset = _check_new_run(run, config)
    with run.lock():
        if not resume:
            if run.config_file.exists():  # written by another start since the check
                raise ValueError(f"{run.path} already holds a run: resume it or choose a new folder")
            write_json(run.config_file, dataclasses.asdict(config))
        elif run.model_file.exists():
            raise RunFinished(f"{run.path} is finished (its model.keras is there): nothing to resume")
        run.remove_leftovers()
        run.cancel_file.unlink(missing_ok=True)
        previous_handler = signal.signal(signal.SIGTERM, lambda *_: run.request_cancel())
        try:
            if resume:
                config = TrainConfig.from_dict(run.config(), f"{run.config_file}")
            return _train(run, config, worker, dataset)
        except TrainingCancelled:
            run.append_event("end", status="cancelled", message="cancelled; the last finished epoch is kept")
            return None
        except Exception as error:
            if worker and distributed.is_lost_worker(error):
                message = distributed.lost_worker_message(error, _checkpoint_epoch(run))
                run.append_event("end", status="failed", message=message)
                raise distributed.WorkerLost(message) from None
            reason = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
            run.append_event("end", status="failed", message=reason)
            raise
        finally:
            signal.signal(signal.SIGTERM, previous_handler)


def _check_resumable(run: RunFolder) -> None:
    """Refuse, before anything is written, a folder without a run or a finished run."""
    if not run.config_file.exists():
        raise ValueError(f"{run.path} holds no run to resume (no config.json)")
    if run.model_file.exists():
        raise RunFinished(f"{run.path} is finished (its model.keras is there): nothing to resume")


def _check_new_run(run: RunFolder, config: TrainConfig) -> Dataset | None:
    """Refuse a new run's bad settings before its folder is written; return its dataset (None for shards)."""
    if run.config_file.exists():
        raise ValueError(f"{run.path} already holds a run: resume it or choose a new folder")
    if config.init_from:
        _load_initial_weights(ARCHITECTURES[config.arch].build(), config.init_from)
    if config.teachers:
        check_teachers(config.teachers)
    if is_shard_folder(config.data):
        return None
    dataset = load_dataset(config.data)
    dataset.split(config.train_split)
    return dataset


def _checkpoint_epoch(run: RunFolder) -> int:
    try:
        return (run.checkpoint_state() or {}).get("epoch", 0)
    except CheckpointError:
        return 0


def _train(run: RunFolder, config: TrainConfig, worker: distributed.Worker | None = None,
           dataset: Dataset | None = None) -> dict:
    started = time.time()
    strategy = distributed.multi_worker_strategy(config.batch_size, worker) if worker else None
    keras.utils.set_random_seed(config.seed)
    streamed = None
    if is_shard_folder(config.data):
        dataset, data, streamed = shard_training_data(config)
    else:
        dataset = dataset or load_dataset(config.data)
        data = prepare_training_data(dataset, config)
    keras.mixed_precision.set_global_policy(config.precision)  # layers take the policy when they are made
    try:
        with strategy.scope() if strategy else contextlib.nullcontext():  # under a strategy, variables are mirrored
            model, state, resumed = _training_model(run, config, data)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    monitor = _fit(run, config, data, model, state, resumed, strategy, worker, streamed)
    if worker and not worker.chief:
        run.append_event("end", status="finished", message=f"worker {worker.index} done; worker 0 writes the model")
        return {"worker": worker.index}
    card = _finish(run, config, dataset, data, model, monitor, time.time() - started)
    run.append_event("end", status="finished", message=f"validation accuracy {card['validation'].get('accuracy', 0):.3f}")
    return card


def _training_model(run: RunFolder, config: TrainConfig, data: dict) -> tuple[TrainingModel, dict, bool]:
    """The compiled TrainingModel from the run's checkpoint, or a new one; its state; whether it resumed."""
    state = run.checkpoint_state()
    if state is not None:
        model = _load_checkpoint(run)
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
             "initialised_from": _provenance(config.init_from)}
    network = architecture.build()
    if config.init_from:
        _load_initial_weights(network, config.init_from)
    online = config.teachers if config.distillation == "online" else []
    model = TrainingModel(network, config.augment, config.mix, config.mix_alpha,
                          [load_model(spec) for spec in online or []], config.teacher_weight, config.seed)
    optimizer = build_optimizer(config.optimizer or architecture.optimizer, config.learning_rate, architecture.schedule,
                                architecture.learning_rate, config.weight_decay, architecture.weight_decay,
                                config.epochs * steps_per_epoch, steps_per_epoch, config.ema)
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=architecture.label_smoothing))
    return model, state, False


def _fit(run: RunFolder, config: TrainConfig, data: dict, model: TrainingModel, state: dict, resumed: bool,
         strategy, worker: distributed.Worker | None, streamed: TrainingSource | None) -> "_RunMonitor":
    """Train the remaining epochs (from arrays, or a stream of shards or a worker's part); return the monitor."""
    _jit_under_jax(model)
    steps_per_epoch = int(np.ceil(len(data["train_indices"]) / config.batch_size))
    here = _hardware() if not worker or worker.count == 1 else f"{worker.count} workers like {_hardware()}"
    if state["epoch"] < config.epochs and here not in state.setdefault("hardware", []):
        state["hardware"].append(here)  # a run resumed elsewhere names every machine it ran on
    run.append_event("start", epochs=config.epochs, initial_epoch=state["epoch"], batches=steps_per_epoch,
                     train_images=len(data["train_indices"]), val_images=len(data["val_y"]))

    if streamed is None:
        # uint8 faces and their targets go in as arrays: the training step casts, augments and mixes them.
        x_train = data["images"][data["train_indices"]][..., None]
        y_train = keras.utils.to_categorical(data["labels"][data["train_indices"]], len(EMOTIONS))
        if config.teachers and config.distillation == "offline":
            targets = teacher_targets(config.teachers, data["images"], data["sources"], run.path / TARGETS_FILE)
            y_train = (1 - config.teacher_weight) * y_train + config.teacher_weight * targets[data["train_indices"]]
    validation = None
    if len(data["val_y"]):
        y_val = keras.utils.to_categorical(data["val_y"], len(EMOTIONS))
        validation = ((data["val_x"][..., None], y_val), y_val)
    monitor = _RunMonitor(run, config, steps_per_epoch, state, _stop_check(run, strategy), _best_weights(run))
    callbacks = [ema_weights_callback(resumed), monitor] if config.ema else [monitor]
    if state["epoch"] < config.epochs and (strategy or streamed):
        source = streamed or TrainingSource(len(y_train), x_train, y_train, [data["sources"][i] for i in data["train_indices"]],
                                            class_weight=data["class_weight"])
        _fit_stream(model, run, config, source, validation, callbacks, strategy, worker)
    elif state["epoch"] < config.epochs:
        model.fit((x_train, y_train), y_train, batch_size=config.batch_size, epochs=config.epochs,
                  initial_epoch=state["epoch"], validation_data=validation,
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


def _stop_check(run: RunFolder, strategy):
    """Under a strategy, what the monitor asks after each batch: is a cancel requested on any worker?"""
    return strategy and (lambda: distributed.any_worker(strategy, run.cancel_file.exists()))


def prepare_training_data(dataset: Dataset, config: TrainConfig) -> dict:
    """Split the training split into train/validation, then balance the training fold only."""
    split = dataset.split(config.train_split)
    images, labels, sources = split.images, split.labels, split.sources
    if config.max_images and config.max_images < len(labels):
        keep = np.sort(np.random.default_rng(config.seed).choice(len(labels), config.max_images, replace=False))
        images, labels, sources = images[keep], labels[keep], [sources[i] for i in keep]
    folds = training_folds(labels, config.val_fraction, config.balance, config.seed)
    return {"images": images, "labels": labels, "sources": sources, "train_indices": folds.balanced,
            "val_indices": folds.validation, "val_x": images[folds.validation], "val_y": labels[folds.validation],
            "class_weight": folds.class_weight, "counts": folds.counts(labels)}


def _load_checkpoint(run: RunFolder) -> keras.Model:
    try:
        return keras.saving.load_model(run.checkpoint_file, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged file
        raise CheckpointError(f"{run.checkpoint_file} cannot be loaded ({type(error).__name__}: {error}): "
                              "the run cannot resume") from None


def _best_weights(run: RunFolder) -> bytes | None:
    """The best epoch's weights (.npz bytes) kept inside the checkpoint, if any."""
    if not run.checkpoint_file.exists():
        return None
    with zipfile.ZipFile(run.checkpoint_file) as archive:
        return archive.read(CHECKPOINT_BEST_ENTRY) if CHECKPOINT_BEST_ENTRY in archive.namelist() else None


def _load_initial_weights(model: keras.Model, spec: str) -> None:
    """Start from another model's weights (continued training, fine-tuning); it must be the same network."""
    source = load_model(spec)
    try:
        model.set_weights(source.get_weights())
    except ValueError as error:
        raise ValueError(f"{spec} is not a '{model.name}' network, so its weights cannot start this run: {error}") \
            from None


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


class _RunMonitor(keras.callbacks.Callback):
    """Writes batch and epoch events, checkpoints each finished epoch, and honours cancel requests."""

    def __init__(self, run: RunFolder, config: TrainConfig, steps_per_epoch: int, state: dict, stop_requested=None,
                 best_weights: bytes | None = None):
        super().__init__()
        self.run, self.config, self.steps = run, config, steps_per_epoch
        self.stop_requested = stop_requested or run.cancel_file.exists  # a callable, collective under a strategy
        self.state = dict(state)
        self.best_weights = best_weights  # .npz bytes of the best epoch's weights so far
        self.cancelled = False
        self.images_per_second = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = self.last_event = time.time()

    def on_train_batch_end(self, batch, logs=None):
        _check_finite(logs, ("loss",), f"epoch {self.state['epoch'] + 1}, batch {batch + 1}")
        if self.stop_requested():
            self.cancelled = True
            self.model.stop_training = True
            return
        now = time.time()
        if batch == 0:
            # The rate is measured from the end of an epoch's first batch, which pays for graph tracing
            # (seconds): counted in, it made a 10-minute run's first estimate 1.5 hours.
            self.rate_started = now
        if now - self.last_event >= BATCH_EVENT_SECONDS or batch + 1 == self.steps:
            self.last_event = now
            if batch > 0:
                self.images_per_second = batch * self.config.batch_size / max(now - self.rate_started, 1e-6)
            self.run.append_event("batch", epoch=self.state["epoch"] + 1, batch=batch + 1, batches=self.steps,
                                  loss=float(logs.get("loss", 0)), accuracy=float(logs.get("accuracy", 0)),
                                  images_per_s=self.images_per_second, eta_s=self._eta(batch + 1))

    def on_epoch_end(self, epoch, logs=None):
        if self.cancelled:
            return  # a partial epoch is never checkpointed
        logs = logs or {}
        _check_finite(logs, ("loss", "val_loss"), f"epoch {epoch + 1}")
        seconds = time.time() - self.epoch_started
        record = dict(epoch=epoch + 1, epochs=self.config.epochs, seconds=seconds,
                      loss=float(logs.get("loss", 0)), accuracy=float(logs.get("accuracy", 0)),
                      val_loss=float(logs.get("val_loss", float("nan"))),
                      val_accuracy=float(logs.get("val_accuracy", float("nan"))),
                      learning_rate=float(np.asarray(self.model.optimizer.learning_rate)))
        state = self.state | {"epoch": epoch + 1, "steps": int(np.asarray(self.model.optimizer.iterations)),
                              "seconds": self.state.get("seconds", 0.0) + seconds,
                              "history": self.state.get("history", []) + [record]}
        val_accuracy = float(logs.get("val_accuracy", logs.get("accuracy", 0)))
        if val_accuracy > state["best_val_accuracy"]:
            state |= {"best_val_accuracy": val_accuracy, "best_epoch": epoch + 1}
            self.best_weights = _weights_bytes(self.model)
        self._save_checkpoint(state)
        self.state = state
        self.run.append_event("epoch", **record, images_per_s=self.images_per_second, eta_s=self._eta(self.steps))

    def _save_checkpoint(self, state: dict) -> None:
        """The model with its optimiser, the best weights and the state as one file, by one rename.

        A full disk fails the run with one line; the previous checkpoint stays whole.
        """
        try:
            with atomic_path(self.run.checkpoint_file) as temporary:
                self.model.save(temporary)
                with zipfile.ZipFile(temporary, "a") as archive:
                    archive.writestr(CHECKPOINT_STATE_ENTRY, json.dumps(state))
                    if self.best_weights is not None:
                        archive.writestr(CHECKPOINT_BEST_ENTRY, self.best_weights)
                with open(temporary, "rb+") as file:
                    os.fsync(file.fileno())
        except OSError as error:
            raise OSError(error.errno, f"the checkpoint of epoch {state['epoch']} could not be written "
                                       f"({os.strerror(error.errno) if error.errno else 'write failed'}): free "
                                       "some disk space, then --resume from the previous epoch") from None

    def _eta(self, batches_done: int) -> float | None:
        """Seconds of training left (None until a rate is measured)."""
        if not self.images_per_second:
            return None
        remaining = (self.config.epochs - self.state["epoch"]) * self.steps - batches_done
        return max(remaining, 0) * self.config.batch_size / self.images_per_second


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


def _check_finite(logs: dict | None, keys: tuple[str, ...], where: str) -> None:
    for key in keys:
        value = (logs or {}).get(key)
        if value is not None and not math.isfinite(float(value)):
            raise TrainingDiverged(f"the {key.replace('_', ' ')} became {float(value)} in {where}: training stopped "
                                   "(try a lower --learning-rate); the last good checkpoint is kept")


def _weights_bytes(model: keras.Model) -> bytes:
    """A model's weights as the bytes of an .npz file (in memory: no disk write can fail half-way)."""
    buffer = io.BytesIO()
    np.savez(buffer, *model.get_weights())
    return buffer.getvalue()


def _weights_from_bytes(data: bytes) -> list[np.ndarray]:
    with np.load(io.BytesIO(data)) as arrays:
        return [arrays[f"arr_{index}"] for index in range(len(arrays.files))]


def _finish(run: RunFolder, config: TrainConfig, dataset: Dataset, data: dict, model: keras.Model,
            monitor: _RunMonitor, seconds: float) -> dict:
    """Write card.json, then the best-validation weights (the last epoch's without validation) as model.keras,
    in float32 and without optimiser state, last: its presence marks the run finished."""
    state = monitor.state
    if len(data["val_y"]) and monitor.best_weights is not None:
        model.set_weights(_weights_from_bytes(monitor.best_weights))
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
        "hardware": " + ".join(state.get("hardware") or [_hardware()]),
        "versions": {"python": sys.version.split()[0], "keras": keras.__version__,
                     "backend": _backend_version(), "numpy": np.__version__},
        "command": "python -m core train " + " ".join(_cli_arguments(config)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _finishing(run, "saving the model")
    write_json(run.card_file, card)
    save_model(final, run.model_file)  # last: its presence marks the run finished
    return card


def _provenance(spec: str | None) -> dict | None:
    """What the starting model's own card says about how it was trained (None for a fresh start)."""
    if not spec:
        return None
    card = read_card(spec)
    keys = ("command", "training_seconds", "hardware", "finished", "initialised_from")
    return {"model": str(model_file(spec))} | {key: card[key] for key in keys if key in card}


def _hardware() -> str:
    """Where the epochs run: "AMD EPYC 7B13, 2 CPU cores", or the GPU first when JAX has one."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        name = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        name = platform.processor() or platform.machine()
    cpu = f"{name}, {os.cpu_count()} CPU cores"
    if keras.backend.backend() == "jax":
        import jax
        device = jax.devices()[0]
        if device.platform != "cpu":
            return f"{device.device_kind} GPU with {cpu}"
    return cpu


def _backend_version() -> str:
    """The Keras backend and its version, e.g. "tensorflow 2.21.0" or "jax 0.11.2"."""
    backend = keras.backend.backend()
    try:
        return f"{backend} {__import__(backend).__version__}"
    except ImportError:
        return backend


def _cli_arguments(config: TrainConfig) -> list[str]:
    """The command-line flags that reproduce a config."""
    defaults = TrainConfig(data=config.data)
    arguments = [config.data]
    for field in dataclasses.fields(TrainConfig)[1:]:
        value = getattr(config, field.name)
        if value != getattr(defaults, field.name):
            flag = "--" + field.name.replace("_", "-")
            if isinstance(value, bool):
                arguments += [flag] if value else ["--no-augment"]
            else:
                arguments += [flag, *value] if isinstance(value, list) else [flag, str(value)]
    return arguments
