"""A run's checkpoint.keras: the model with its optimiser, the best epoch's weights and the run's state in one
file, written by one rename (a kill or a full disk never leaves half of one), and read back to resume."""

import io
import json
import os
import zipfile

import keras
import numpy as np

from core.storage.runs import CHECKPOINT_BEST_ENTRY, CHECKPOINT_STATE_ENTRY, CheckpointError, RunFolder, atomic_path


def save_checkpoint(run: RunFolder, model: keras.Model, state: dict, best_weights: bytes | None) -> None:
    """The model with its optimiser, the best weights and the state as one file, by one rename.

    A full disk fails the run with one line; the previous checkpoint stays whole.
    """
    try:
        with atomic_path(run.checkpoint_file) as temporary:
            model.save(temporary)
            with zipfile.ZipFile(temporary, "a") as archive:
                archive.writestr(CHECKPOINT_STATE_ENTRY, json.dumps(state))
                if best_weights is not None:
                    archive.writestr(CHECKPOINT_BEST_ENTRY, best_weights)
            with open(temporary, "rb+") as file:
                os.fsync(file.fileno())
    except OSError as error:
        raise OSError(error.errno, f"the checkpoint of epoch {state['epoch']} could not be written "
                                   f"({os.strerror(error.errno) if error.errno else 'write failed'}): free "
                                   "some disk space, then --resume from the previous epoch") from None


def load_checkpoint(run: RunFolder) -> keras.Model:
    """The checkpoint's model with its optimiser; CheckpointError naming why a damaged one cannot resume."""
    try:
        return keras.saving.load_model(run.checkpoint_file, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged file
        raise CheckpointError(f"{run.checkpoint_file} cannot be loaded ({type(error).__name__}: {error}): "
                              "the run cannot resume") from None


def best_weights(run: RunFolder) -> bytes | None:
    """The best epoch's weights (.npz bytes) kept inside the checkpoint, if any."""
    if not run.checkpoint_file.exists():
        return None
    with zipfile.ZipFile(run.checkpoint_file) as archive:
        return archive.read(CHECKPOINT_BEST_ENTRY) if CHECKPOINT_BEST_ENTRY in archive.namelist() else None


def checkpoint_epoch(run: RunFolder) -> int:
    """The last checkpointed epoch (0 when there is none or it cannot be read)."""
    try:
        return (run.checkpoint_state() or {}).get("epoch", 0)
    except CheckpointError:
        return 0


def weights_bytes(model: keras.Model) -> bytes:
    """A model's weights as the bytes of an .npz file (in memory: no disk write can fail half-way)."""
    buffer = io.BytesIO()
    np.savez(buffer, *model.get_weights())
    return buffer.getvalue()


def weights_from_bytes(data: bytes) -> list[np.ndarray]:
    """The weights that weights_bytes wrote."""
    with np.load(io.BytesIO(data)) as arrays:
        return [arrays[f"arr_{index}"] for index in range(len(arrays.files))]
