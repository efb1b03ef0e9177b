"""Evaluation metrics against a hand-computed example, and the evaluate command."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.evaluation import score_predictions
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)

PROJECT = Path(__file__).resolve().parent.parent


def one_hot(predicted: list[int], confidence: list[float]) -> np.ndarray:
    probabilities = np.full((len(predicted), 7), 0.0)
    for row, (label, p) in enumerate(zip(predicted, confidence)):
        probabilities[row] = (1 - p) / 6
        probabilities[row, label] = p
    return probabilities


def test_metrics_match_a_hand_computed_confusion_matrix():
    # true:      angry angry angry happy happy sad  sad  surprise
    # predicted: angry happy angry happy sad   sad  angry surprise
    labels = np.array([0, 0, 0, 3, 3, 5, 5, 6])
    predicted = [0, 3, 0, 3, 5, 5, 0, 6]
    confidence = [0.9, 0.8, 0.7, 0.9, 0.95, 0.6, 0.5, 0.9]
    report = score_predictions(labels, one_hot(predicted, confidence), sources=[f"f{i}" for i in range(8)])

    matrix = np.array(report["confusion_matrix"])
    assert matrix[0, 0] == 2 and matrix[0, 3] == 1  # angry: 2 right, 1 called happy
    assert matrix[3, 3] == 1 and matrix[3, 5] == 1
    assert matrix[5, 5] == 1 and matrix[5, 0] == 1
    assert matrix[6, 6] == 1 and matrix.sum() == 8
    assert report["accuracy"] == pytest.approx(5 / 8)

    angry = report["per_class"]["angry"]
    assert angry["precision"] == pytest.approx(2 / 3)  # predicted angry 3 times, right twice
    assert angry["recall"] == pytest.approx(2 / 3) and angry["support"] == 3
    assert angry["f1"] == pytest.approx(2 / 3)
    assert report["per_class"]["happy"]["precision"] == pytest.approx(1 / 2)
    assert report["per_class"]["surprise"]["f1"] == pytest.approx(1.0)
    assert report["per_class"]["disgust"]["support"] == 0
    # Macro F1 over the classes present: angry 2/3, happy 1/2, sad 1/2, surprise 1.
    assert report["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 2 + 1) / 4)
    assert report["confusion_matrix_normalized"][0][0] == pytest.approx(2 / 3, abs=1e-4)

    worst = report["worst_mistakes"]
    assert [m["source"] for m in worst] == ["f4", "f1", "f6"]  # wrong, most confident first
    assert worst[0]["true"] == "happy" and worst[0]["predicted"] == "sad"


def test_evaluate_command_prints_json_for_a_model_and_split_folder(tiny_model, tiny_data):
    result = subprocess.run([sys.executable, "-m", "core", "evaluate", str(tiny_model), str(tiny_data / "test"),
                             "--json"], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"accuracy", "macro_f1", "classes", "per_class", "confusion_matrix"} <= set(report)
    assert np.array(report["confusion_matrix"]).sum() == report["images"] == 7 * 6
    # The same numbers as scoring the model's own predictions in-process.
    assert report["accuracy"] == pytest.approx(np.trace(report["confusion_matrix"]) / report["images"])


def test_evaluate_refuses_a_file_that_is_not_a_model(tmp_path, tiny_data):
    fake = tmp_path / "model.keras"
    fake.write_text("this is not a model")
    result = subprocess.run([sys.executable, "-m", "core", "evaluate", str(fake), str(tiny_data)],
                            cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "not a loadable Keras model" in result.stderr
