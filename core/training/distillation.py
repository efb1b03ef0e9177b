"""Soft targets from teacher models (knowledge distillation): a student learns their averaged beliefs.

An ensemble of networks is more accurate than any one of them but too big and slow to ship; a
single student trained towards the ensemble's probabilities keeps much of its gain.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from core.models.inference import face_probabilities
from core.models.store import ModelError, load_model, model_classes, model_file
from core.storage.runs import atomic_path

TARGETS_FILE = "teacher_targets.npz"


def check_teachers(teachers: list[str], classes: list[str] | None = None) -> None:
    """Raise ModelError naming the first teacher that is not a model, or (given the run's classes) whose
    classes differ from them: its probabilities would mean other things."""
    for spec in teachers:
        model_file(spec)
        if classes is not None and model_classes(spec) != list(classes):
            raise ModelError(f"the teacher {spec} answers with {', '.join(model_classes(spec))}, not this run's "
                             f"classes {', '.join(classes)}: a teacher must share the classes")


def teacher_targets(teachers: list[str], images: np.ndarray, sources: list[str], cache: Path) -> np.ndarray:
    """The teachers' mean mirror-averaged probabilities for each (48, 48) image: (N, classes) float32.

    Cached in `cache` with the teachers and the images' sources it was computed for, and reused only
    when both match: a resumed run does not recompute, a changed dataset or teacher list does.
    """
    key = json.dumps({"teachers": list(teachers), "sources": hashlib.sha256("\n".join(sources).encode()).hexdigest()})
    if cache.exists():
        with np.load(cache) as saved:
            if str(saved["key"]) == key:
                return saved["probabilities"]
    check_teachers(teachers)
    probabilities = sum(face_probabilities(load_model(spec), images, "mirror") for spec in teachers) / len(teachers)
    probabilities = probabilities.astype(np.float32)
    with atomic_path(cache) as temporary, open(temporary, "wb") as file:
        np.savez(file, key=key, probabilities=probabilities)
    return probabilities
