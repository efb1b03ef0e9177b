"""Finding, loading and saving models: the shipped default, run folders and .keras files."""

import io
import zipfile
from pathlib import Path

import numpy as np

from core.data.classes import MAX_CLASSES, MIN_CLASSES
from core.data.emotions import EMOTIONS
from core.vision.imaging import FACE_SIZE
from core.models.checks import ModelError, check_model_archive
from core.storage.runs import (DEFAULT_MODEL_DIR, FER2013_MODEL_DIR, RunFolder, atomic_path, list_runs, read_json,
                               recorded_path, runs_dir, write_json)

WEIGHTS_ENTRY = "model.weights.h5"  # where a .keras archive keeps the weights


def model_file(spec: str | Path) -> Path:
    """Resolve a model spec: "default" (the run made the default, else the shipped model), "shipped"
    (models/default), "shipped-fer2013" (models/fer2013), a run folder, a folder holding model.keras, or a
    .keras file."""
    path = Path(spec)
    if str(spec) == "default":
        active = active_run()
        path = active.path if active else DEFAULT_MODEL_DIR
    elif str(spec) == "shipped":
        path = DEFAULT_MODEL_DIR
    elif str(spec) == "shipped-fer2013":
        path = FER2013_MODEL_DIR
    if path.is_dir():
        path = path / "model.keras"
    if not path.exists():
        raise ModelError(f"no model at {path}" + (" (is the run finished?)" if path.name == "model.keras" else ""))
    if path.suffix != ".keras":
        raise ModelError(f"{path.name} is not a .keras model file")
    if not path.is_file():
        raise ModelError(f"{path} is not a regular file")
    return path


def load_model(spec: str | Path):
    """Load a model for inference with Keras safe_mode (no arbitrary code from the file)."""
    import keras  # imported here so listing models stays fast

    path = model_file(spec)
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path.name} is not a valid .keras file (not a whole zip archive: damaged or truncated)")
    check_model_archive(path)  # its config.json read (kinds of layer, size) before Keras builds anything
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad file; all mean the same here
        raise ModelError(f"{path.name} is not a loadable Keras model ({type(error).__name__}: {error})") from None
    check_contract(model, path.name, _card_classes(path))
    return model


def model_classes(spec: str | Path) -> list[str]:
    """The names of a model's classes in its output order: its card's "classes"; for a model file without
    a card, FER-2013's seven emotions when it has seven outputs, else "class 1", "class 2", ...

    Example: model_classes("models/default") -> ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    """
    path = model_file(spec)
    classes = _card_classes(path)
    if classes:
        return classes
    outputs = _output_count(path)
    return list(EMOTIONS) if outputs == len(EMOTIONS) else [f"class {i}" for i in range(1, outputs + 1)]


def _card_classes(path: Path) -> list[str] | None:
    """The classes the card beside a model.keras names (a card belongs to the model.keras beside it only)."""
    if path.name != "model.keras":
        return None
    classes = read_card(path).get("classes")
    if isinstance(classes, list) and classes and all(isinstance(name, str) for name in classes):
        return classes
    return None


def _output_count(path: Path) -> int:
    """How many outputs a .keras file's model has, traced through its config without building it (seven,
    FER-2013's, where the config cannot tell)."""
    try:
        return int(check_model_archive(path)["outputs"])
    except (ModelError, TypeError, ValueError):
        return len(EMOTIONS)


def check_contract(model, name: str, classes: list[str] | None = None) -> None:
    """Raise ModelError unless the model maps (N, 48, 48, 1) pixels to N rows of probabilities, one per class
    (as many as its card names, else 2 to MAX_CLASSES)."""
    if not getattr(model, "inputs", None):
        raise ModelError(f"{name} is not a face model (a training checkpoint?): it declares no input shape")
    if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != (FACE_SIZE, FACE_SIZE, 1):
        shapes = ", ".join("x".join(str(d) for d in tensor.shape[1:]) for tensor in model.inputs)
        raise ModelError(f"{name} takes input {shapes}; a face model must take one {FACE_SIZE}x{FACE_SIZE}x1 picture")
    width = model.outputs[0].shape[-1] if len(model.outputs) == 1 and len(model.outputs[0].shape) == 2 else None
    if classes and width != len(classes):
        shapes = ", ".join("x".join(str(d) for d in tensor.shape[1:]) for tensor in model.outputs)
        raise ModelError(f"{name} has output {shapes}, but its card names {len(classes)} classes "
                         f"({', '.join(classes)}): the card belongs to another model")
    if width is None or not MIN_CLASSES <= width <= MAX_CLASSES:
        shapes = ", ".join("x".join(str(d) for d in tensor.shape[1:]) for tensor in model.outputs)
        raise ModelError(f"{name} has output {shapes}; a face model must give one probability per class "
                         f"({MIN_CLASSES} to {MAX_CLASSES} classes)")
    probe = np.stack([np.zeros((FACE_SIZE, FACE_SIZE, 1)), np.full((FACE_SIZE, FACE_SIZE, 1), 128)]).astype(np.float32)
    outputs = np.asarray(model(probe, training=False), dtype=np.float64)
    if not np.isfinite(outputs).all():
        raise ModelError(f"{name} outputs NaN or infinity: its weights are broken (a diverged training?)")
    if (outputs < 0).any() or not np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        raise ModelError(f"{name} does not output probabilities: its {width} outputs sum to "
                         f"{outputs.sum(axis=1).max():.3g}, not 1 (is its last layer a softmax?)")


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
    """The card.json beside a model, or {} when there is none or it is unreadable (not a regular file, over
    core.storage.safe_files.MAX_JSON_BYTES, not JSON, or not a JSON object)."""
    card = read_json(model_file(spec).with_name("card.json"), {})
    return card if isinstance(card, dict) else {}


def training_data_path(spec: str | Path) -> str | None:
    """Where the data a model was trained on lies here: its run's config.json (the path as trained), else the
    path its card records (relative to the project; a card names no machine's folders). None when unknown."""
    path = model_file(spec)
    data = (read_json(path.with_name("config.json")) or {}).get("data") if path.name == "model.keras" else None
    recorded = (read_card(spec).get("config") or {}).get("data")
    return data or (recorded and str(recorded_path(recorded)))


def architecture_label(card: dict) -> str:
    """A short name for a card's network, to fit a narrow column: its architecture, or "ensemble of N"."""
    members = card.get("members")
    return f"ensemble of {len(members)}" if members else card.get("architecture", "?")


FER2013_NAME = "shipped: FER-2013 labels"  # how pages name models/fer2013


def available_models() -> dict[str, Path]:
    """Display name -> model file: the default first, the shipped models, and every finished run."""
    models = {}
    shipped = DEFAULT_MODEL_DIR / "model.keras"
    active = active_run()
    if active or shipped.exists():
        models["default"] = active.model_file if active else shipped
    if active and shipped.exists():
        models["shipped"] = shipped
    if (FER2013_MODEL_DIR / "model.keras").exists():
        models[FER2013_NAME] = FER2013_MODEL_DIR / "model.keras"
    for run in list_runs():
        if run.model_file.exists():
            models[f"run: {run.name}"] = run.model_file
    return models


def active_setting_file() -> Path:
    """Where the choice of default run is kept: active-model.json in the runs folder."""
    return runs_dir() / "active-model.json"


def active_run() -> RunFolder | None:
    """The run made the default (on the Runs page), or None: the shipped model is the default.

    A chosen run whose model has since been deleted counts as no choice.
    """
    name = (read_json(active_setting_file()) or {}).get("run")
    run = RunFolder(runs_dir() / name) if name else None
    return run if run and run.model_file.exists() else None


def set_active_run(run: RunFolder | None) -> None:
    """Make a finished run the default model everywhere ("default" in the app and the CLI), or, with
    None, go back to the shipped model. models/default itself is never changed."""
    if run is None:
        active_setting_file().unlink(missing_ok=True)
        return
    if run.path.resolve().parent != runs_dir().resolve():
        raise ModelError(f"{run.path} is not in the runs folder {runs_dir()}")
    if run.status()["state"] != "finished" or not run.model_file.exists():
        raise ModelError(f"{run.name} is not a finished run with a model, so it cannot be the default")
    write_json(active_setting_file(), {"run": run.name})
