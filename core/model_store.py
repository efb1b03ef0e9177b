"""Finding, loading and saving models: the shipped default, run folders and .keras files."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from core.runs import DEFAULT_MODEL_DIR, RunFolder, atomic_path, list_runs

WEIGHTS_ENTRY = "model.weights.h5"  # where a .keras archive keeps the weights


class ModelError(ValueError):
    """A model that cannot be found or loaded; the message says why."""


def model_file(spec: str | Path) -> Path:
    """Resolve a model spec (a run folder, a folder holding model.keras, or a .keras file)."""
    path = Path(spec)
    if str(spec) == "default":
        path = DEFAULT_MODEL_DIR
    if path.is_dir():
        path = path / "model.keras"
    if not path.exists():
        raise ModelError(f"no model at {path}" + (" (is the run finished?)" if path.name == "model.keras" else ""))
    if path.suffix != ".keras":
        raise ModelError(f"{path.name} is not a .keras model file")
    return path


def load_model(spec: str | Path):
    """Load a model for inference with Keras safe_mode (no arbitrary code from the file)."""
    import keras  # imported here so listing models stays fast

    path = model_file(spec)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad file; all mean the same here
        raise ModelError(f"{path.name} is not a loadable Keras model ({type(error).__name__}: {error})") from None


def save_model(model, path: Path, half_precision: bool = False) -> None:
    """Write a .keras file atomically (a kill or full disk leaves any old file whole).

    half_precision stores float32 weights as float16, compressed: 45% of the size, and Keras casts
    them back to float32 when loading (predictions move by ~1e-3).
    """
    with atomic_path(path) as temporary:
        model.save(temporary)
        if half_precision:
            _halve_weights(temporary)


def _halve_weights(archive: Path) -> None:
    """Rewrite a .keras archive deflated, with the float32 arrays of its weights as float16."""
    import h5py

    with zipfile.ZipFile(archive) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    halved = io.BytesIO()
    with h5py.File(io.BytesIO(entries[WEIGHTS_ENTRY]), "r") as full, h5py.File(halved, "w") as half:
        def copy(name, item):
            if isinstance(item, h5py.Dataset):
                data = item[()]
                half.create_dataset(name, data=data.astype(np.float16) if data.dtype == np.float32 else data)
            else:
                half.require_group(name)
            half[name].attrs.update(item.attrs)

        full.visititems(copy)
        half.attrs.update(full.attrs)
    entries[WEIGHTS_ENTRY] = halved.getvalue()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries.items():
            target.writestr(name, data)


def read_card(spec: str | Path) -> dict:
    """The card.json beside a model, or {} when there is none or it is unreadable."""
    path = model_file(spec).with_name("card.json")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def available_models() -> dict[str, Path]:
    """Display name -> model file for the shipped default and every finished run."""
    models = {}
    if (DEFAULT_MODEL_DIR / "model.keras").exists():
        models["default"] = DEFAULT_MODEL_DIR / "model.keras"
    for run in list_runs():
        if run.model_file.exists():
            models[f"run: {run.name}"] = run.model_file
    return models
