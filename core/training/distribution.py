"""Training on several machines: TensorFlow's MultiWorkerMirroredStrategy, configured by TF_CONFIG.

Every worker runs the same `python -m core train ... --distributed` with its own TF_CONFIG
({"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}); worker 0
is the chief. The chief writes the run folder; the others write only to a private folder (a
temporary one unless --worker-dir names one). Each epoch all workers take the same number of
steps on their own part of the data, and their gradients are averaged every step.

Keras 3.15's fit() passes MultiWorkerMirroredStrategy.reduce() a nested batch and per-replica
scalars with axis=0, which it refuses (keras-team/keras#20585); KerasMultiWorkerStrategy reduces
each value on its own, and scalars over no axis. Keras' own validation would also run as
collectives; workers here score the validation slice alone (LocalValidation).
"""

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.storage.runs import RunFolder

class WorkerLost(RuntimeError):
    """Another worker stopped answering; the run keeps its last checkpoint and resumes with --resume."""


@dataclass(frozen=True)
class Worker:
    """This process's place in the cluster: worker `index` of `count` (0 is the chief)."""

    index: int
    count: int

    @property
    def chief(self) -> bool:
        return self.index == 0


def worker_from_environment() -> Worker:
    """This worker, read from TF_CONFIG (a cluster of one without it); ValueError saying what is wrong."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return Worker(0, 1)
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not {{\"cluster\": {{\"worker\": [...]}}, \"task\": {{\"type\": \"worker\", "
                         f"\"index\": N}}}} ({type(error).__name__}: {error})") from None
    extra = set(config["cluster"]) - {"worker"}
    if extra or task.get("type") != "worker":
        raise ValueError(f"TF_CONFIG: only a 'worker' job is supported (worker 0 is the chief), not {sorted(extra) or task.get('type')}")
    if not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG: task index {index} is not one of the {len(workers)} workers")
    return Worker(index, len(workers))


def multi_worker_strategy(batch_size: int, worker: Worker):
    """The strategy for this cluster; create it before any other TensorFlow work in the process.

    Waits until every worker in TF_CONFIG has started.
    """
    import tensorflow as tf

    if batch_size % worker.count:
        raise ValueError(f"the batch size {batch_size} must divide evenly among {worker.count} workers")

    class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis=None):
            def one(item):
                rank = self.experimental_local_results(item)[0].shape.rank
                return super(KerasMultiWorkerStrategy, self).reduce(reduce_op, item, None if rank == 0 else axis)
            return tf.nest.map_structure(one, value)

    return KerasMultiWorkerStrategy()


def any_worker(strategy, flag: bool) -> bool:
    """True on every worker when `flag` is true on any of them (a collective: all workers must call it)."""
    import tensorflow as tf

    return float(strategy.reduce("SUM", tf.constant(float(flag)), axis=None)) > 0


def private_run_folder(run_dir: str | Path, worker_dir: str | Path | None, resume: bool) -> RunFolder:
    """A non-chief worker's own folder, where everything it writes stays. To resume, the shared run's
    config and checkpoint are copied in (only read there)."""
    path = Path(worker_dir) if worker_dir else Path(tempfile.mkdtemp(prefix="fer-worker-"))
    if path.resolve() == Path(run_dir).resolve():
        raise ValueError("a worker's --worker-dir must not be the run folder, which only worker 0 writes")
    path.mkdir(parents=True, exist_ok=True)
    shared, private = RunFolder(run_dir), RunFolder(path)
    for source, target in ((shared.config_file, private.config_file), (shared.checkpoint_file, private.checkpoint_file)):
        if resume and source.is_file():
            shutil.copyfile(source, target)  # the checkpoint holds its state: the worker resumes the same epoch
    return private


def is_lost_worker(error: BaseException) -> bool:
    """Whether a training error means a peer worker died or stopped answering."""
    import tensorflow as tf

    return isinstance(error, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
                              tf.errors.CancelledError, tf.errors.AbortedError))


def lost_worker_message(error: BaseException, epoch: int) -> str:
    """One line for the log: which worker was lost (when TensorFlow says) and how to go on."""
    text = getattr(error, "message", None) or str(error)
    lost = sorted(set(re.findall(r"/job:worker/replica:\d+/task:(\d+)(?!/device)", text)), key=int)
    who = f"worker {', '.join(lost)}" if lost else "a worker"
    return f"{who} stopped answering; the run keeps epoch {epoch}: start every worker again with --resume"


def local_validation(x: np.ndarray, y: np.ndarray, label_smoothing: float, batch_size: int):
    """A callback that scores (x, y) on this worker alone after each epoch, into the logs as val_loss
    and val_accuracy (put it before the callbacks that read them)."""
    import keras

    loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)

    class LocalValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None or not len(y):
                return
            probabilities = np.concatenate([np.asarray(self.model(x[i:i + batch_size], training=False))
                                            for i in range(0, len(y), batch_size)])
            logs["val_loss"] = float(loss(y, probabilities))
            logs["val_accuracy"] = float(np.mean(probabilities.argmax(1) == y.argmax(1)))

    return LocalValidation()
