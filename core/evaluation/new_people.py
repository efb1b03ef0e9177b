"""How a model of your own classes does on people it was not taught: each person in turn is left out, a small
head (logistic regression on the shipped networks' features, core.models.features) is taught on everyone else
and scores that person's faces. Faces that nearly repeat one kept before (a still camera: same person, same
class) count once. With too little to score (one person, a class shown by one person, too few different faces)
there is no percentage, only what to add. The held-out probabilities also set a temperature that calibrates them.

Example: score_new_people(features, labels, people, ["smile", "surprise"], distinct)["accuracy"] -> 0.86
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REGULARIZATION = 0.01  # logistic regression's C on standardized features (chosen in bench/new_people.py)
NEAR_REPEAT_MAD = 2.0  # mean absolute pixel difference under which a face repeats one kept before
MIN_PEOPLE = 2  # people a class needs for a score on people not taught
MIN_CLASS_FACES = 6  # different faces a class needs for a score
MIN_PERSON_FACES = 4  # different faces a person needs for a percentage of their own
MAX_FOLDS = 20  # with more people than this, people are left out a few at a time (every one still untaught)
TEMPERATURES = np.geomspace(0.25, 8.0, 61)  # the temperatures tried on the held-out probabilities


def distinct_faces(images: np.ndarray, labels: np.ndarray, people: list[str]) -> np.ndarray:
    """A mask of the faces that count: a face within NEAR_REPEAT_MAD per pixel of one kept before it (same
    person, same class) does not.

    Example: distinct_faces(np.zeros((3, 48, 48), np.uint8), np.zeros(3, int), ["a"] * 3) -> [True, False, False]
    """
    keep = np.zeros(len(labels), bool)
    kept: dict[tuple, list[np.ndarray]] = {}
    for index, (face, label, person) in enumerate(zip(images.astype(np.int16), labels, people)):
        before = kept.setdefault((int(label), person), [])
        if not before or np.abs(np.stack(before) - face).mean(axis=(1, 2)).min() >= NEAR_REPEAT_MAD:
            keep[index] = True
            before.append(face)
    return keep


def fit_head(features: np.ndarray, labels: np.ndarray, classes: int, regularization: float = REGULARIZATION):
    """A logistic regression on standardized features; returns a function of features to (N, classes)
    probabilities (zero for a class it was not shown)."""
    shown = np.unique(labels)
    if len(shown) == 1:
        def constant(x: np.ndarray) -> np.ndarray:
            probabilities = np.zeros((len(x), classes), np.float64)
            probabilities[:, shown[0]] = 1.0
            return probabilities
        return constant
    head = make_pipeline(StandardScaler(), LogisticRegression(C=regularization, max_iter=2000))
    head.fit(features, labels)

    def predict(x: np.ndarray) -> np.ndarray:
        probabilities = np.zeros((len(x), classes), np.float64)
        probabilities[:, head.classes_] = head.predict_proba(x)
        return probabilities
    return predict


def dense_weights(features: np.ndarray, labels: np.ndarray, classes: int, temperature: float = 1.0,
                  regularization: float = REGULARIZATION) -> list[np.ndarray]:
    """The logistic regression fit_head makes, as a softmax Dense layer's [kernel (F, classes), bias (classes,)]
    on raw features: the standardization folded in, the logits divided by temperature (calibrated)."""
    head = make_pipeline(StandardScaler(), LogisticRegression(C=regularization, max_iter=2000))
    head.fit(features, labels)
    scaler, regression = head.named_steps["standardscaler"], head.named_steps["logisticregression"]
    coefficients, intercepts = regression.coef_, regression.intercept_
    if len(regression.classes_) == 2:  # one logit z for the second class: softmax([0, z]) is its sigmoid
        coefficients, intercepts = np.vstack([np.zeros_like(coefficients), coefficients]), np.r_[0.0, intercepts]
    kernel = np.zeros((features.shape[1], classes))
    bias = np.full(classes, -1e4)  # a class the regression was not shown is never answered
    kernel[:, regression.classes_] = (coefficients / scaler.scale_).T
    bias[regression.classes_] = intercepts - (coefficients * scaler.mean_ / scaler.scale_).sum(axis=1)
    return [(kernel / temperature).astype(np.float32), (bias / temperature).astype(np.float32)]


def held_out_probabilities(features: np.ndarray, labels: np.ndarray, people: list[str], classes: int,
                           mirrored: np.ndarray | None = None, regularization: float = REGULARIZATION,
                           teach_mirrored: bool = True) -> np.ndarray:
    """(views, N, classes) probabilities of each named person's faces from a head taught without them: the faces'
    own features, then their mirror images' (where mirrored is given), the two views live prediction averages.
    Rows of unnamed faces stay NaN: they only ever teach. Past MAX_FOLDS people, MAX_FOLDS heads each leave out
    every MAX_FOLDS-th person. teach_mirrored: the mirror images also teach each head."""
    people = np.asarray(people, dtype=object)
    named = sorted(set(people) - {""})
    fold_of = {person: index % MAX_FOLDS for index, person in enumerate(named)}  # over MAX_FOLDS: a few at once
    folds = np.array([fold_of.get(person, -1) for person in people])
    views = [features] if mirrored is None else [features, mirrored]
    result = np.full((len(views), len(labels), classes), np.nan)
    for fold in sorted(set(fold_of.values())):
        taught, scored = folds != fold, folds == fold
        x, y = features[taught], labels[taught]
        if mirrored is not None and teach_mirrored:
            x, y = np.concatenate([x, mirrored[taught]]), np.concatenate([y, y])
        head = fit_head(x, y, classes, regularization)
        for index, view in enumerate(views):
            result[index, scored] = head(view[scored])
    return result


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T that gives the held-out labels the highest likelihood once applied as a model applies it:
    to each view's logits (softmax(log p / T)), before the views (a leading axis, where given) are averaged."""
    return float(min(TEMPERATURES, key=lambda temperature: -np.log(np.clip(
        calibrated(probabilities, temperature)[np.arange(len(labels)), labels], 1e-12, 1.0)).mean()))


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / temperature), row by row; (views, N, classes) probabilities are averaged over the views
    after."""
    scaled = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    scaled = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    scaled /= scaled.sum(axis=-1, keepdims=True)
    return scaled.mean(axis=0) if scaled.ndim == 3 else scaled


def score_new_people(features: np.ndarray, labels: np.ndarray, people: list[str], classes: list[str],
                     distinct: np.ndarray, mirrored: np.ndarray | None = None,
                     regularization: float = REGULARIZATION) -> dict:
    """The report of scored_new_people (below)."""
    return scored_new_people(features, labels, people, classes, distinct, mirrored, regularization)[0]


def scored_new_people(features: np.ndarray, labels: np.ndarray, people: list[str], classes: list[str],
                      distinct: np.ndarray, mirrored: np.ndarray | None = None,
                      regularization: float = REGULARIZATION) -> tuple[dict, np.ndarray | None, np.ndarray | None]:
    """The score on people not taught, per class and per person, or (scored False) what to add to have one.

    Returns a JSON-ready dict: scored, accuracy (None when not scored), faces (different faces scored),
    repeats (faces left out as near repeats), people (names), per_class and per_person ({faces, correct,
    accuracy}), majority_baseline, temperature (None when not scored) and to_add (plain sentences); with it,
    a mask of the faces scored (None when not scored) and every face's held-out probabilities (its mirror
    image's averaged in, where given).
    """
    people = [person or "" for person in people]
    named, _, shown_by, to_add = _coverage(labels, people, classes, distinct)
    report = {"scored": not to_add, "accuracy": None, "faces": int(distinct.sum()),
              "repeats": int(len(labels) - distinct.sum()), "people": named, "per_class": {}, "per_person": {},
              "majority_baseline": None, "temperature": None, "to_add": to_add}
    if to_add:
        return report, None, None
    views = held_out_probabilities(features, labels, people, len(classes), mirrored, regularization)
    probabilities = views.mean(axis=0)  # the face and its mirror image averaged, as live
    scored = distinct & ~np.isnan(probabilities[:, 0])
    right = probabilities.argmax(axis=1) == labels
    report["accuracy"] = float(right[scored].mean())
    report["faces"] = int(scored.sum())
    report["majority_baseline"] = float(np.bincount(labels[scored], minlength=len(classes)).max() / scored.sum())
    report["temperature"] = fit_temperature(views[:, scored], labels[scored])
    for index, name in enumerate(classes):
        report["per_class"][name] = _tally(right[scored & (labels == index)], MIN_CLASS_FACES) | {
            "people": len(shown_by[name])}
    person_of = np.asarray(people, dtype=object)
    for person in named:
        report["per_person"][person] = _tally(right[scored & (person_of == person)], MIN_PERSON_FACES)
    return report, scored, probabilities


def _tally(right: np.ndarray, needed: int) -> dict:
    faces = int(len(right))
    return {"faces": faces, "correct": int(right.sum()),
            "accuracy": float(right.mean()) if faces >= needed else None}


def _coverage(labels: np.ndarray, people: list[str], classes: list[str], distinct: np.ndarray) -> tuple:
    """The people named, different faces per class, who shows each class, and what to add for a score."""
    named = sorted(set(people) - {""})
    counts = {name: int(np.sum(distinct & (labels == index))) for index, name in enumerate(classes)}
    shown_by = {name: sorted({p for p, label, keep in zip(people, labels, distinct) if label == index and keep} - {""})
                for index, name in enumerate(classes)}
    return named, counts, shown_by, _to_add(named, classes, counts, shown_by)


def _to_add(named: list[str], classes: list[str], counts: dict, shown_by: dict) -> list[str]:
    if len(named) < MIN_PEOPLE:
        who, others = f"one person ('{named[0]}')" if named else "nobody named", MIN_PEOPLE - len(named)
        return [f"every example shows {who}, so there is no score on people it was not taught: add examples of "
                f"every class from at least {others} other {'person' if others == 1 else 'people'}, each under their own "
                "name"]
    lines = [f"'{name}' is shown by {'only ' + repr(shown_by[name][0]) if shown_by[name] else 'nobody named'}: "
             f"add '{name}' from another person" for name in classes if len(shown_by[name]) < MIN_PEOPLE]
    lines += [f"'{name}' has {counts[name]} different faces: add at least {MIN_CLASS_FACES - counts[name]} more "
              "(frames that repeat a still picture count once)" for name in classes if counts[name] < MIN_CLASS_FACES]
    return lines


def new_people_report(network, images: np.ndarray, labels: np.ndarray, people: list[str], classes: list[str],
                      regularization: float = REGULARIZATION) -> dict:
    """score_new_people on faces, their features taken by network (core.models.features.feature_network),
    the mirror images' features added to each head's teaching."""
    from core.models.features import face_features

    distinct = distinct_faces(images, labels, people)
    if _coverage(labels, [p or "" for p in people], classes, distinct)[3]:  # nothing to score: no features needed
        return score_new_people(np.zeros((len(labels), 1)), labels, people, classes, distinct)
    return score_new_people(face_features(network, images), labels, people, classes, distinct,
                            face_features(network, images, mirrored=True), regularization)
