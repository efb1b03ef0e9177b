"""The training job: one run folder, checkpointed every epoch, cancellable and resumable.

Run it as its own process (`python -m core train ...`); pages start it with
core.storage.runs.start_training_process and follow it through the run folder. The steps live beside it:
core.training.config (the settings), core.training.data (the folds), core.training.model (the model, new or
resumed), core.training.fitting (the epochs, watched by core.training.monitor, saved by core.training.checkpoints) and
core.training.finishing (the final scoring and saving).
"""

import contextlib
import dataclasses
import shutil
import signal
import time
from pathlib import Path

import keras

from core.training import distribution as distributed
from core.models.architectures import ARCHITECTURES
from core.training.checkpoints import checkpoint_epoch
from core.data.dataset import Dataset, load_dataset
from core.training.distillation import check_teachers
from core.training.feature_head import train_feature_head
from core.training.finishing import finish
from core.training.fitting import fit
from core.training.model import load_initial_weights, training_model
from core.storage.protected_paths import check_model_folder
from core.training.monitor import TrainingCancelled
from core.storage.runs import RunFolder, write_json
from core.data.shards import is_shard_folder
from core.data.streaming import shard_classes, shard_training_data
from core.training.config import TrainConfig
from core.training.data import prepare_training_data


class RunFinished(ValueError):
    """Raised when a finished run is resumed: its model is kept as it is."""


def train(run_dir: str | Path, config: TrainConfig | None = None, resume: bool = False,
          distributed_run: bool = False, worker_dir: str | Path | None = None) -> dict | None:
    """Train in run_dir (a new run from config, or resume its checkpoint); return the card.

    With distributed_run, this process is one worker of TF_CONFIG's cluster (core/training/distribution.py):
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
                message = distributed.lost_worker_message(error, checkpoint_epoch(run))
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
    """Refuse a new run's bad settings (and data it cannot learn from) before its folder is written; record
    the classes it learns in the config; return its dataset (None for shards)."""
    check_model_folder(run.path, [config.data, config.init_from, *(config.teachers or [])])
    if run.config_file.exists():
        raise ValueError(f"{run.path} already holds a run: resume it or choose a new folder")
    dataset = None
    if is_shard_folder(config.data):
        config.classes = config.classes or shard_classes(config.data)
    else:
        dataset = load_dataset(config.data)
        config.classes = prepare_training_data(dataset, config)["classes"]
    if config.init_from:
        load_initial_weights(ARCHITECTURES[config.arch].build(len(config.classes)), config.init_from,
                             config.classes, config.init_member)
    if config.teachers:
        check_teachers(config.teachers, config.classes)
    return dataset


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
        if config.arch == "features":  # no epochs: scored on people left out, then taught on every example
            return train_feature_head(run, config, dataset)
        data = prepare_training_data(dataset, config)
    keras.mixed_precision.set_global_policy(config.precision)  # layers take the policy when they are made
    try:
        with strategy.scope() if strategy else contextlib.nullcontext():  # under a strategy, variables are mirrored
            model, state, resumed = training_model(run, config, data)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    monitor = fit(run, config, data, model, state, resumed, strategy, worker, streamed)
    if worker and not worker.chief:
        run.append_event("end", status="finished", message=f"worker {worker.index} done; worker 0 writes the model")
        return {"worker": worker.index}
    card = finish(run, config, dataset, data, model, monitor, time.time() - started)
    run.append_event("end", status="finished", message=f"validation accuracy {card['validation'].get('accuracy', 0):.3f}")
    return card
