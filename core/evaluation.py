"""Scoring a model on a labelled split: accuracy, per-class metrics, confusion and worst mistakes."""

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from core.emotions import EMOTIONS
from core.inference import DEFAULT_VIEWS, face_probabilities


def score_predictions(labels: np.ndarray, probabilities: np.ndarray, sources: list[str] | None = None,
                      mistakes: int = 24) -> dict:
    """Metrics of (N, 7) probabilities against true labels.

    Returns a JSON-ready dict: accuracy, macro_f1, classes, per_class (precision, recall,
    f1, accuracy, support per emotion), confusion_matrix (rows true, columns predicted),
    confusion_matrix_normalized (rows sum to 1) and worst_mistakes (most confident wrong
    predictions, with index and source).
    """
    classes = list(range(len(EMOTIONS)))
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, labels=classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=classes, zero_division=0)
    row_sums = matrix.sum(axis=1, keepdims=True)
    normalized = np.divide(matrix, row_sums, out=np.zeros(matrix.shape), where=row_sums > 0)
    present = support > 0
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    worst = wrong[np.argsort(-confidence)][:mistakes]
    return {
        "images": int(len(labels)),
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "classes": list(EMOTIONS),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                   "accuracy": float(normalized[i, i]), "support": int(support[i])}
            for i, name in enumerate(EMOTIONS)
        },
        "confusion_matrix": matrix.tolist(),
        "confusion_matrix_normalized": normalized.round(4).tolist(),
        "worst_mistakes": [
            {"index": int(i), "source": sources[i] if sources is not None else str(i),
             "true": EMOTIONS[labels[i]], "predicted": EMOTIONS[predicted[i]],
             "confidence": float(probabilities[i, predicted[i]])}
            for i in worst
        ],
    }


def evaluate_model(model, images: np.ndarray, labels: np.ndarray, sources: list[str] | None = None,
                   views: str = DEFAULT_VIEWS) -> dict:
    """Classify every image (averaging core.inference VIEWS) and score it (see score_predictions)."""
    return score_predictions(labels, face_probabilities(model, images, views), sources) | {"views": views}


def card_metrics(report: dict) -> dict:
    """The part of a report a model card keeps (no per-image mistakes)."""
    keys = ("images", "accuracy", "macro_f1", "per_class", "confusion_matrix", "views", "split")
    return {key: report[key] for key in keys if key in report}
