"""The score on people not taught: leave one person out on synthetic people whose answer is known, near repeats
counted once, and no percentage where there is too little to score."""

import numpy as np

from core.evaluation.new_people import (MIN_CLASS_FACES, calibrated, distinct_faces, fit_temperature,
                                        score_new_people)

CLASSES = ["frown", "smile"]


def synthetic_people(reversed_person: str = "d", per_class: int = 5, seed: int = 0):
    """Four people, two classes told apart by the first feature (-3 or +3, with noise; the second says who it
    is, as a face's features do); one person shows them the other way round. Left out in turn, each of the three others is taught by two like them and one reversed, so
    all their faces are right; the reversed person is taught by three who contradict them, so all are wrong."""
    rng = np.random.default_rng(seed)
    features, labels, people = [], [], []
    for number, person in enumerate("abcd"):
        sign = -1.0 if person == reversed_person else 1.0
        for label in (0, 1):
            centre = sign * (6.0 * label - 3.0)
            features.append(np.c_[centre + rng.normal(0, 0.3, per_class), np.full(per_class, float(number))])
            labels += [label] * per_class
            people += [person] * per_class
    return np.concatenate(features), np.array(labels), people


def test_each_person_is_scored_by_a_head_not_taught_on_them():
    features, labels, people = synthetic_people()
    report = score_new_people(features, labels, people, CLASSES, np.ones(len(labels), bool))
    assert report["scored"] and report["to_add"] == []
    assert report["accuracy"] == 0.75  # 30 of 40 faces: all of a, b, c; none of d
    assert {person: row["accuracy"] for person, row in report["per_person"].items()} == \
        {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.0}
    assert report["per_class"]["smile"] == {"faces": 20, "correct": 15, "accuracy": 0.75, "people": 4}
    assert report["majority_baseline"] == 0.5


def test_near_repeats_count_once():
    rng = np.random.default_rng(1)
    still = rng.integers(0, 255, (48, 48), dtype=np.uint8)
    moving = [rng.integers(0, 255, (48, 48), dtype=np.uint8) for _ in range(3)]
    images = np.stack([still, still, np.clip(still.astype(int) + 1, 0, 255).astype(np.uint8), *moving, still])
    labels = np.array([0, 0, 0, 0, 0, 0, 1])  # the last: the same picture in another class counts there
    people = ["a"] * 7
    assert distinct_faces(images, labels, people).tolist() == [True, False, False, True, True, True, True]
    # A still camera's 10 frames of each class from each person are 1 face each: too few to score.
    features, labels, people = synthetic_people(per_class=10)
    repeated = np.zeros(len(labels), bool)
    repeated[::10] = True
    report = score_new_people(features, labels, people, CLASSES, repeated)
    assert not report["scored"] and report["accuracy"] is None and report["repeats"] == 72
    assert report["to_add"] == [f"'{name}' has 4 different faces: add at least {MIN_CLASS_FACES - 4} more "
                                "(frames that repeat a still picture count once)" for name in CLASSES]


def test_one_person_or_a_class_from_one_person_gives_no_percentage():
    features, labels, people = synthetic_people()
    alone = score_new_people(features, labels, ["me"] * len(labels), CLASSES, np.ones(len(labels), bool))
    assert not alone["scored"] and alone["accuracy"] is None and alone["per_person"] == {}
    assert "there is no score on people it was not taught" in alone["to_add"][0]
    smiles_by_a = [person if label == 0 else "a" for person, label in zip(people, labels)]
    report = score_new_people(features, labels, smiles_by_a, CLASSES, np.ones(len(labels), bool))
    assert report["to_add"] == ["'smile' is shown by only 'a': add 'smile' from another person"]


def test_the_temperature_that_fits_held_out_answers():
    labels = np.array([0, 1] * 50)
    overconfident = np.where(np.arange(100)[:, None] % 4 == 0, [[0.01, 0.99], [0.99, 0.01]][0],
                             np.eye(2)[labels] * 0.98 + 0.01)  # one in four wrong at 99%
    temperature = fit_temperature(overconfident, labels)
    assert temperature > 1.5  # softened
    softened = calibrated(overconfident, temperature)
    assert np.allclose(softened.sum(axis=1), 1) and (softened.argmax(1) == overconfident.argmax(1)).all()


def test_the_temperature_is_fitted_on_the_face_and_its_mirror_averaged_as_live():
    """Live, each view is calibrated, then the face's and its mirror's probabilities are averaged: the temperature
    is fitted on that, not on the face alone (wrong at 95% on one face in five, so softened, where the average
    is only ever 50-50 wrong and should be sharpened)."""
    labels = np.array([0, 1] * 100)
    right, wrong = np.eye(2)[labels] * 0.9 + 0.05, np.eye(2)[1 - labels] * 0.9 + 0.05
    face, mirror = np.where((np.arange(200) % 5 == 0)[:, None], wrong, right), right
    views = np.stack([face, mirror])

    def live_loss(temperature: float) -> float:
        return -np.log(calibrated(views, temperature)[np.arange(200), labels]).mean()
    alone, averaged = fit_temperature(face, labels), fit_temperature(views, labels)
    assert alone > 1 > averaged and live_loss(averaged) < live_loss(alone)
    assert np.allclose(calibrated(views, 1.0), (face + mirror) / 2)
