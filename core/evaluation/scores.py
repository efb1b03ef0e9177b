"""Scoring a model on a labelled split: accuracy, per-class metrics, confusion and worst mistakes."""

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

from core.data.emotions import EMOTIONS
from core.models.inference import DEFAULT_VIEWS, Progress, face_probabilities


def score_predictions(labels: np.ndarray, probabilities: np.ndarray, sources: list[str] | None = None,
                      mistakes: int = 24, classes: list[str] = EMOTIONS) -> dict:
    """Metrics of (N, classes) probabilities against true labels (indices into classes).

    Returns a JSON-ready dict: accuracy, macro_f1, classes, per_class (precision, recall,
    f1, accuracy, support per class), confusion_matrix (rows true, columns predicted),
    confusion_matrix_normalized (rows sum to 1) and worst_mistakes (most confident wrong
    predictions, with index and source).
    """
    classes = list(classes)
    predicted = probabilities.argmax(axis=1)
    indices = list(range(len(classes)))
    matrix = confusion_matrix(labels, predicted, labels=indices)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=indices, zero_division=0)
    row_sums = matrix.sum(axis=1, keepdims=True)
    normalized = np.divide(matrix, row_sums, out=np.zeros(matrix.shape), where=row_sums > 0)
    present = support > 0
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    worst = wrong[np.argsort(-confidence)][:mistakes]
    return {
        "images": int(len(labels)),
        "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
        "majority_baseline": majority_baseline(labels),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "classes": classes,
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                   "accuracy": float(normalized[i, i]), "support": int(support[i])}
            for i, name in enumerate(classes)
        },
        "confusion_matrix": matrix.tolist(),
        "confusion_matrix_normalized": normalized.round(4).tolist(),
        "predicted": predicted.tolist(),
        "worst_mistakes": [
            {"index": int(i), "source": sources[i] if sources is not None else str(i),
             "true": classes[labels[i]], "predicted": classes[predicted[i]],
             "confidence": float(probabilities[i, predicted[i]])}
            for i in worst
        ],
    }


def majority_baseline(labels: np.ndarray) -> float:
    """The accuracy of always answering the most common emotion: what a model must beat to mean anything."""
    return float(np.bincount(labels).max() / len(labels)) if len(labels) else 0.0


NO_BETTER_MARGIN = 0.01  # within a point of the majority-class baseline: the model has learned nothing useful


def baseline_of(metrics: dict) -> tuple[float, str] | None:
    """(accuracy of always answering the commonest emotion, that emotion) for a report or a card's
    metrics (older cards: from their confusion matrix); None when they hold neither."""
    if "confusion_matrix" not in metrics:
        return None
    support = np.array(metrics["confusion_matrix"]).sum(axis=1)
    if not support.sum():
        return None
    classes = metrics.get("classes") or (list(metrics["per_class"]) if "per_class" in metrics else EMOTIONS)
    return float(support.max() / support.sum()), classes[int(support.argmax())]


def baseline_note(metrics: dict) -> str | None:
    """The accuracy against the majority-class baseline, short enough for a quarter-width column:
    e.g. "+45.2 pts vs always 'happy' (25%)"."""
    baseline = baseline_of(metrics)
    if baseline is None or "accuracy" not in metrics:
        return None
    gain = (metrics["accuracy"] - baseline[0]) * 100
    return f"{gain:+.1f} pts vs always '{baseline[1]}' ({baseline[0]:.0%})"


def baseline_warning(metrics: dict) -> str | None:
    """A warning when the accuracy is within NO_BETTER_MARGIN of (or below) the majority-class baseline."""
    baseline = baseline_of(metrics)
    if baseline is None or "accuracy" not in metrics or metrics["accuracy"] > baseline[0] + NO_BETTER_MARGIN:
        return None
    return (f"{metrics['accuracy']:.1%} is no better than always answering '{baseline[1]}' ({baseline[0]:.1%} of "
            "these images): the model has not learned to tell the classes apart.")


def evaluate_model(model, images: np.ndarray, labels: np.ndarray, sources: list[str] | None = None,
                   views: str = DEFAULT_VIEWS, progress: Progress | None = None, classes: list[str] = EMOTIONS) -> dict:
    """Classify every image (averaging core.models.inference VIEWS) and score it (see score_predictions); labels
    index the model's classes.

    progress(done, total) follows the classification (see core.models.inference.face_probabilities).
    """
    probabilities = face_probabilities(model, images, views, progress)
    return score_predictions(labels, probabilities, sources, classes=classes) | {"views": views}


def labels_for_model(labels: np.ndarray, data_classes: list[str], model_classes: list[str]) -> np.ndarray:
    """A split's labels (indices into its dataset's classes) as indices into a model's classes, matched by name.

    ValueError naming the classes the model lacks when the data has pictures of classes the model does
    not know (a model of other classes than the data's).
    Example: labels_for_model(np.array([0, 1]), ["happy", "sad"], ["sad", "happy"]) -> array([1, 0])
    """
    used = [data_classes[i] for i in np.unique(labels)]
    unknown = [name for name in used if name not in model_classes]
    if unknown:
        raise ValueError(f"the data has pictures of {', '.join(unknown)}, which the model does not know: its "
                         f"classes are {', '.join(model_classes)}. Score it on data of those classes.")
    mapping = np.array([model_classes.index(name) if name in model_classes else -1 for name in data_classes])
    return mapping[labels] if len(labels) else labels.astype(np.int64)


def targets_for_model(targets: np.ndarray, data_classes: list[str], model_classes: list[str]) -> np.ndarray:
    """(N, data classes) shares of votes as (N, model classes) shares, columns matched by name; shares of
    classes the model lacks are left out and each row scaled to sum to 1 again.

    Example: targets_for_model(np.array([[0.5, 0.5]]), ["happy", "sad"], ["sad", "happy"]) -> array([[0.5, 0.5]])
    """
    columns = [data_classes.index(name) if name in data_classes else None for name in model_classes]
    mapped = np.stack([targets[:, c] if c is not None else np.zeros(len(targets), np.float32) for c in columns], 1)
    totals = mapped.sum(axis=1, keepdims=True)
    return np.divide(mapped, totals, out=np.zeros_like(mapped), where=totals > 0).astype(np.float32)


def stratified_sample(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of `size` images drawn with each emotion in its share of the split (all when smaller).
    Emotions with a single image are drawn as one group (a share cannot split one image)."""
    labels = np.asarray(labels)
    if size >= len(labels):
        return np.arange(len(labels))
    counts = np.bincount(labels)
    strata = np.where(counts[labels] < 2, -1, labels)  # the single images, together
    if (strata == -1).sum() == 1:  # one alone still cannot be split: it joins the commonest emotion
        strata[strata == -1] = counts.argmax()
    indices, _ = train_test_split(np.arange(len(labels)), train_size=size, stratify=strata, random_state=seed)
    return np.sort(indices)


def card_metrics(report: dict) -> dict:
    """The part of a report a model card keeps (no per-image mistakes)."""
    keys = ("images", "accuracy", "majority_baseline", "macro_f1", "classes", "per_class", "confusion_matrix", "views",
            "split")
    return {key: report[key] for key in keys if key in report}
