"""The Evaluate page scores with a progress bar, can be cancelled, and keeps each finished report on disk:
a second visit, also after a restart, shows it without classifying again, until the model or data change."""

import json
import os
import shutil

import numpy as np
import pytest
import streamlit as st
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart

import core.reports
from core.dataset import load_dataset
from core.emotions import EMOTIONS
from core.evaluation import evaluate_model
from tests.app_fixtures import make_dataset
from tests.test_app import environment, page, texts  # noqa: F401


@pytest.fixture
def counted(monkeypatch):
    """Every classification the page asks core for, as (images, whether it passed a progress callback)."""
    calls = []

    def counting(model, images, labels, sources=None, views="shifted", progress=None, *more):
        calls.append((len(images), progress is not None))
        return evaluate_model(model, images, labels, sources, views, progress, *more)
    monkeypatch.setattr(core.reports, "evaluate_model", counting)
    return calls


def restart() -> None:
    """What a server restart forgets: every cached model, dataset and result."""
    st.cache_resource.clear()
    st.cache_data.clear()


def accuracy(at) -> str:
    return next(m.value for m in at.metric if m.label == "Accuracy")


def test_evaluate_page_shows_progress_and_reuses_the_stored_report(monkeypatch, tmp_path, trained_runs, counted):
    runs, data = tmp_path / "runs", make_dataset(tmp_path / "data")
    shutil.copytree(trained_runs, runs)
    monkeypatch.setenv("FER_RUNS_DIR", str(runs))
    monkeypatch.setenv("FER_DATA", str(data))
    restart()
    at = page("evaluate")
    assert counted == [(21, True)]  # 3 test faces per emotion, followed by a progress callback
    assert at.status[0].label.startswith("Read 77 images")  # the dataset's reading is shown, not a bare spinner
    [bar] = at.get("progress")
    assert "classified 21 of 21 faces" in bar.proto.text and "stored" in bar.proto.text
    assert len(list((runs / "evaluations").glob("*.json"))) == 1
    assert "pts vs always" in next(m.delta for m in at.metric if m.label == "Accuracy")
    first = accuracy(at)

    restart()
    at = page("evaluate")
    assert counted == [(21, True)] and not at.get("progress")  # shown from disk, nothing classified
    assert accuracy(at) == first and len(at.get("plotly_chart")) == 2
    assert "scored" in texts(at.markdown) and "keras" in texts(at.markdown)  # no export: Keras scored it

    model = next(runs.glob("*/model.keras"))  # the first model listed: retrained (a new file time)
    for path in runs.glob("*/model.keras"):
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    page("evaluate")
    assert len(counted) == 2 and model.exists()

    shutil.copy(data / "test" / "happy" / "0.png", data / "test" / "happy" / "copy.png")  # the data changed
    os.utime(data, (data.stat().st_atime, data.stat().st_mtime + 60))
    at = page("evaluate")
    assert counted[-1] == (22, True)

    scored = len(counted)
    next(box for box in at.selectbox if box.label == "Runtime").set_value("keras").run()
    assert len(counted) == scored + 1  # the reference runtime is a report of its own


def test_evaluate_page_waits_after_a_cancel_until_asked_to_score(monkeypatch, tmp_path, trained_runs, counted):
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    at = page("evaluate")
    assert len(counted) == 1  # the Cancel button is gone once the report is done
    # The Cancel button, pressed while a split is classified: the click stops that run of the script and the
    # next run starts with its callback. AppTest runs a script to its end, so the callback's effect is set here
    # (tests/test_browser.py clicks Cancel mid-scoring in a real browser).
    at.session_state["evaluation_cancelled"] = True
    next(box for box in at.selectbox if box.label == "Test-time views").set_value("single").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "was cancelled" in texts(at.info) and len(counted) == 1 and not at.get("plotly_chart")
    next(button for button in at.button if button.label == "Score it").click().run()
    assert not at.exception and len(counted) == 2 and accuracy(at)


def test_evaluate_page_shows_the_faces_of_a_confusion_matrix_cell(monkeypatch, tmp_path, trained_runs, counted):
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    at = page("evaluate")
    [report_file] = (tmp_path / "runs" / "evaluations").glob("*.json")
    report = json.loads(report_file.read_text())
    matrix = np.array(report["confusion_matrix"])
    chart = at.get("plotly_chart")[0].proto
    assert list(chart.selection_mode) == [PlotlyChart.SelectionMode.POINTS]  # a click on a cell reruns the page
    traces = json.loads(chart.spec)["data"]
    assert [trace["type"] for trace in traces] == ["scatter"] and traces[0]["marker"]["symbol"] == "square"
    for true, called in ((0, 0), (3, 5), (6, 2)):
        at.selectbox(key="cell_true").set_value(EMOTIONS[true])
        at.selectbox(key="cell_called").set_value(EMOTIONS[called]).run()
        assert not at.exception, [e.value for e in at.exception]
        caption = f"{matrix[true, called]} '{EMOTIONS[true]}' faces called '{EMOTIONS[called]}'"
        assert caption in texts(at.caption)
        shown = [image for image in at.image if len(image.proto.imgs) == matrix[true, called]]
        assert matrix[true, called] == 0 or shown
    labels = load_dataset(tmp_path / "data").split("test").labels
    assert np.bincount(labels, minlength=7).tolist() == matrix.sum(axis=1).tolist()


def test_evaluate_page_scores_two_new_models_in_one_visit(monkeypatch, tmp_path, trained_runs, counted):
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    at = page("evaluate")
    compare = next(box for box in at.selectbox if box.label == "Compare with (optional)")
    compare.set_value(compare.options[1])
    next(box for box in at.selectbox if box.label == "Test-time views").set_value("single").run()  # both unscored
    assert not at.exception, [e.value for e in at.exception]
    assert len(counted) == 3 and [m.label for m in at.metric].count("Accuracy") == 2
    assert len(at.get("progress")) == 2
