"""The Keras callback that watches a run's epochs: progress events, the NaN/inf check, cancel, checkpoints."""

import math
import time

import keras
import numpy as np

from core.training.checkpoints import save_checkpoint, weights_bytes
from core.storage.runs import RunFolder
from core.training.config import TrainConfig

BATCH_EVENT_SECONDS = 1.0


class TrainingDiverged(ValueError):
    """The loss stopped being a finite number; the run fails and keeps its last good checkpoint."""


class TrainingCancelled(Exception):
    """The run stopped because a cancel was requested; its last checkpoint is kept."""


class RunMonitor(keras.callbacks.Callback):
    """Writes batch and epoch events, checkpoints each finished epoch, and honours cancel requests."""

    def __init__(self, run: RunFolder, config: TrainConfig, steps_per_epoch: int, state: dict, stop_requested=None,
                 best_weights: bytes | None = None, scored_views: int = 0, validation_images: int = 0):
        """scored_views: the face views the end of the run classifies (its images times the test-time views);
        validation_images: the images of each epoch's validation pass, whose speed times that scoring."""
        super().__init__()
        self.run, self.config, self.steps = run, config, steps_per_epoch
        self.scored_views, self.validation_images = scored_views, validation_images
        self.views_per_second = 0.0  # classification speed, measured on the validation passes
        self.stop_requested = stop_requested or run.cancel_file.exists  # a callable, collective under a strategy
        self.state = dict(state)
        self.best_weights = best_weights  # .npz bytes of the best epoch's weights so far
        self.cancelled = False
        self.images_per_second = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = self.last_event = time.time()

    def on_train_batch_end(self, batch, logs=None):
        check_finite(logs, ("loss",), f"epoch {self.state['epoch'] + 1}, batch {batch + 1}")
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

    def on_test_begin(self, logs=None):
        self.validation_started = time.time()

    def on_test_end(self, logs=None):
        seconds = time.time() - self.validation_started
        if self.validation_images and seconds > 0:
            self.views_per_second = self.validation_images / seconds

    def on_epoch_end(self, epoch, logs=None):
        if self.cancelled:
            return  # a partial epoch is never checkpointed
        logs = logs or {}
        check_finite(logs, ("loss", "val_loss"), f"epoch {epoch + 1}")
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
            self.best_weights = weights_bytes(self.model)
        save_checkpoint(self.run, self.model, state, self.best_weights)
        self.state = state
        self.run.append_event("epoch", **record, images_per_s=self.images_per_second, eta_s=self._eta(0))

    def _eta(self, batches_done: int) -> float | None:
        """Seconds left: the training's, the validation passes' still to run (this epoch's included) and the
        final scoring's (None until a rate is measured). Classifying runs at the validation passes' speed, or at
        the training's (an over-estimate) before one is measured."""
        if not self.images_per_second:
            return None
        epochs_left = self.config.epochs - self.state["epoch"]
        remaining = epochs_left * self.steps - batches_done
        classifying = (epochs_left * self.validation_images + self.scored_views) / (
            self.views_per_second or self.images_per_second)
        return max(remaining, 0) * self.config.batch_size / self.images_per_second + classifying


def check_finite(logs: dict | None, keys: tuple[str, ...], where: str) -> None:
    """TrainingDiverged when one of these logged values is NaN or infinite."""
    for key in keys:
        value = (logs or {}).get(key)
        if value is not None and not math.isfinite(float(value)):
            raise TrainingDiverged(f"the {key.replace('_', ' ')} became {float(value)} in {where}: training stopped "
                                   "(try a lower --learning-rate); the last good checkpoint is kept")
