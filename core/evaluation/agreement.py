"""Scoring against people: a split's faces as a model's labels (its majority class where people voted), and
what the scores of a split say beyond accuracy: the faces left out and why, how often an answer was one that at
least PLAUSIBLE_VOTES of the ten people gave, and answers in classes the data does not have."""

import numpy as np

from core.data.dataset import Dataset
from core.evaluation.scores import labels_for_model

PLAUSIBLE_VOTES = 3  # an answer at least this many of the ten people gave counts as one people could give
LACKED = "a class the model lacks"  # the left-out reason of faces kept out with only_known


def scored_faces(dataset: Dataset, split: str, classes: list[str], only_known: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(indices of the split's faces to score, their labels as indices into the model's classes, faces left out
    by reason). Faces without a majority are never in a split; they are counted here (core.data.votes).
    A face of a class the model lacks raises ValueError naming it, unless only_known: then it is left out and
    counted too.

    Example: scored_faces(load_dataset("ferplus"), "val", ["angry", ...])[2] -> {"tie": 159, "unknown": 23, ...}
    """
    faces = dataset.split(split)
    left_out = {reason: len(sources) for reason, sources in dataset.left_out.get(split, {}).items()}
    chosen = np.arange(len(faces))
    if only_known:
        known = np.isin(np.asarray(dataset.classes)[faces.labels], classes) if len(faces) else np.zeros(0, bool)
        if not known.all():
            lacked = sorted({dataset.classes[label] for label in faces.labels[~known]})
            left_out[f"{LACKED} ({', '.join(lacked)})"] = int((~known).sum())
        chosen = np.flatnonzero(known)
    labels = labels_for_model(faces.labels[chosen], dataset.classes, classes)
    return chosen, labels, left_out


def people_figures(dataset: Dataset, split: str, chosen: np.ndarray, predicted: np.ndarray,
                   classes: list[str]) -> dict:
    """What a report adds to accuracy for the scored faces (chosen, with the model's predicted class indices):
    "answers_outside_data" (answers in a class the data has no face of) and, where people voted, "plausible":
    the share of answers that at least PLAUSIBLE_VOTES people gave."""
    faces = dataset.split(split)
    present = set(np.asarray(dataset.classes)[np.unique(faces.labels)]) if len(faces) else set()
    outside = sum(1 for index in predicted if classes[index] not in present)
    figures = {"answers_outside_data": int(outside)}
    if faces.votes is not None and len(chosen):
        columns = np.array([dataset.classes.index(name) if name in dataset.classes else -1 for name in classes])
        votes = faces.votes[chosen]
        given = np.where(columns[predicted] >= 0, votes[np.arange(len(chosen)), columns[predicted]], 0)
        figures["plausible"] = float((given >= PLAUSIBLE_VOTES).mean())
    return figures
