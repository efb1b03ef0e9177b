"""Evaluation metrics against a hand-computed example, and the evaluate command."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.evaluation.scores import baseline_note, baseline_warning, evaluate_model, score_predictions, stratified_sample
from core.models.store import load_model
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import write_folder_dataset

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
    assert report["majority_baseline"] == pytest.approx(3 / 8)  # always "angry"

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
    assert result.returncode == 2 and "model.keras is not a valid .keras file" in result.stderr


def test_stratified_sample_keeps_each_emotions_share_and_is_repeatable():
    labels = np.repeat(np.arange(7), [400, 40, 300, 700, 500, 450, 310])
    chosen = stratified_sample(labels, 270)
    assert len(chosen) == len(set(chosen)) == 270 and list(chosen) == sorted(chosen)
    expected = np.bincount(labels) / len(labels) * 270
    assert np.abs(np.bincount(labels[chosen], minlength=7) - expected).max() <= 1
    assert list(stratified_sample(labels, 270)) == list(chosen)
    assert list(stratified_sample(labels, 270, seed=1)) != list(chosen)
    assert len(stratified_sample(labels, 10_000)) == len(labels)
    for singles in ([5], [1, 5]):  # emotions with one image each (FER+'s clearest contempt faces): drawn, not refused
        rare = np.concatenate([np.where(np.isin(labels, singles), 4, labels), singles])
        assert len(set(stratified_sample(rare, 270))) == 270


class Stop(Exception):
    pass


def test_evaluation_reports_progress_and_stops_when_its_callback_raises(tiny_model):
    model = load_model(tiny_model)
    faces = np.random.default_rng(0).integers(0, 255, (60, 48, 48), dtype=np.uint8)
    labels = np.arange(60) % 7
    calls = []
    report = evaluate_model(model, faces, labels, views="shifted", progress=lambda done, total: calls.append(
        (done, total)))
    assert report["images"] == 60
    assert len(calls) == 3 and calls[-1] == (60, 60)  # 25 faces (256 images) a model call
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)

    def cancel_after_first(done, total):
        calls.append(done)
        raise Stop
    calls.clear()
    with pytest.raises(Stop):
        evaluate_model(model, faces, labels, views="shifted", progress=cancel_after_first)
    assert calls == [25]  # nothing classified after the cancel


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_evaluate_command_scores_a_sample_with_a_progress_bar_on_stderr(tiny_model, tiny_data, monkeypatch,
                                                                          capsys):
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    assert main(["evaluate", str(tiny_model), str(tiny_data / "test"), "--sample", "14", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 14 and np.array(report["confusion_matrix"]).sum(axis=1).tolist() == [2] * 7
    assert "classifying" in terminal.getvalue() and "14/14" in terminal.getvalue()


def test_accuracy_is_told_against_always_answering_the_commonest_emotion():
    labels = np.array([3] * 6 + [0, 5, 5, 6])  # happy 60%
    always_happy = score_predictions(labels, one_hot([3] * 10, [0.9] * 10))
    assert always_happy["accuracy"] == always_happy["majority_baseline"] == pytest.approx(0.6)
    assert baseline_note(always_happy) == "+0.0 pts vs always 'happy' (60%)"
    assert "no better than always answering 'happy' (60.0%" in baseline_warning(always_happy)
    learned = score_predictions(labels, one_hot(list(labels[:9]) + [0], [0.9] * 10))
    assert baseline_note(learned) == "+30.0 pts vs always 'happy' (60%)" and baseline_warning(learned) is None
    # An older card keeps only the confusion matrix: the baseline comes from its rows.
    card = {"accuracy": 0.61, "confusion_matrix": always_happy["confusion_matrix"]}
    assert baseline_note(card) == "+1.0 pts vs always 'happy' (60%)" and baseline_warning(card)
    assert baseline_note({"accuracy": 0.5}) is None and baseline_warning({}) is None


def test_stats_command_draws_the_first_reading_of_a_dataset_on_stderr(tmp_path, monkeypatch, capsys):
    data = write_folder_dataset(tmp_path / "data", per_class=3)
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))  # nothing decoded yet
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    assert main(["stats", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["splits"]["train"]["total"] == 21
    assert "reading images" in terminal.getvalue() and "42/42" in terminal.getvalue()  # both splits
