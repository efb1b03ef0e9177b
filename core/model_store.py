"""Finding and loading models: the shipped default, run folders and .keras files."""

import json
from pathlib import Path

from core.runs import DEFAULT_MODEL_DIR, RunFolder, list_runs


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
