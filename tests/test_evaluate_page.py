"""The Evaluate page opens on what is known (the card's scores, stored reports) and scores only when asked,
on a sample size chosen, with a progress bar and a Cancel button; it keeps each finished report on disk: a
second visit, also after a restart, shows it without classifying again, until the model or data change."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart

import core.evaluation.reports
from core.data.dataset import load_dataset
from core.data.emotions import EMOTIONS
from core.evaluation.scores import evaluate_model
from core.models.store import load_model
from tests.app_fixtures import make_dataset, record_spinners
from tests.test_app import environment, page, texts  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def counted(monkeypatch):
    """Every classification the page asks core for, as (images, whether it passed a progress callback)."""
    calls = []

    def counting(model, images, labels, sources=None, views="shifted", progress=None, *more):
        calls.append((len(images), progress is not None))
        return evaluate_model(model, images, labels, sources, views, progress, *more)
    monkeypatch.setattr(core.evaluation.reports, "evaluate_model", counting)
    return calls


def restart() -> None:
    """What a server restart forgets: every cached model, dataset and result."""
    st.cache_resource.clear()
    st.cache_data.clear()


def accuracy(at) -> str:
    return next(m.value for m in at.metric if m.label == "Accuracy")


def score(at, faces: int = 21) -> None:
    """Press the page's button that asks for scoring (it names how many faces each model classifies)."""
    next(button for button in at.button if button.label == f"Score {faces} faces").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_evaluate_page_shows_progress_and_reuses_the_stored_report(monkeypatch, tmp_path, trained_runs, counted):
    runs, data = tmp_path / "runs", make_dataset(tmp_path / "data")
    shutil.copytree(trained_runs, runs)
    monkeypatch.setenv("FER_RUNS_DIR", str(runs))
    monkeypatch.setenv("FER_DATA", str(data))
    restart()
    at = page("evaluate")
    assert counted == [] and not at.get("plotly_chart")  # opening the page classifies nothing
    assert {m.label for m in at.metric} >= {"Validation accuracy", "Test accuracy"}  # the card's, at once
    assert "not been scored with these settings" in texts(at.info)
    assert at.status[0].label.startswith("Read 77 images")  # the dataset's reading is shown, not a bare spinner
    score(at)
    assert counted == [(21, True)]  # 3 test faces per emotion, followed by a progress callback
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
    score(page("evaluate"))
    assert len(counted) == 2 and model.exists()

    shutil.copy(data / "test" / "happy" / "0.png", data / "test" / "happy" / "copy.png")  # the data changed
    os.utime(data, (data.stat().st_atime, data.stat().st_mtime + 60))
    at = page("evaluate")
    score(at, 22)
    assert counted[-1] == (22, True)

    scored = len(counted)
    next(box for box in at.selectbox if box.label == "Runtime").set_value("keras").run()
    score(at, 22)
    assert len(counted) == scored + 1  # the reference runtime is a report of its own


def test_evaluate_page_waits_after_a_cancel_until_asked_to_score(monkeypatch, tmp_path, trained_runs, counted):
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    at = page("evaluate")
    score(at)
    assert len(counted) == 1 and not any(button.label == "Cancel" for button in at.button)  # gone when done
    next(box for box in at.selectbox if box.label == "Test-time views").set_value("single").run()
    assert len(counted) == 1 and not at.get("plotly_chart")  # other settings: asked for again, not scored
    # The Cancel button, pressed while a split is classified: the click stops that run of the script and the
    # next run starts with its callback. AppTest runs a script to its end, so the callback is called here
    # (tests/test_browser.py clicks Cancel mid-scoring in a real browser).
    at.session_state["scoring_request"] = ("asked",)
    at.session_state["scoring_cancelled"] = True
    at.run()
    assert "was cancelled" in texts(at.info) and len(counted) == 1 and not at.get("plotly_chart")
    score(at)
    assert len(counted) == 2 and accuracy(at)


def test_evaluate_page_shows_the_faces_of_a_confusion_matrix_cell(monkeypatch, tmp_path, trained_runs, counted):
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    at = page("evaluate")
    score(at)
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
    assert "have not been scored" in texts(at.info) and not counted
    score(at)
    assert len(counted) == 2 and [m.label for m in at.metric].count("Accuracy") == 2
    assert len(at.get("progress")) == 2


def test_a_sample_is_stratified_scored_once_and_kept_apart_from_the_whole_split(monkeypatch, tmp_path, trained_runs,
                                                                                 counted):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    dataset = load_dataset(make_dataset(tmp_path / "data"))
    model = next(trained_runs.glob("*/model.keras"))
    scorer = (load_model(model), "keras")
    report = core.evaluation.reports.evaluate_and_store(scorer, model, dataset, "test", "single", "keras", sample=14)
    labels = dataset.split("test").labels
    assert counted == [(14, False)] and len(report["indices"]) == len(set(report["indices"])) == 14
    assert np.bincount(labels[report["indices"]], minlength=7).tolist() == [2] * 7  # each class in its share
    assert core.evaluation.reports.stored_report(model, dataset, "test", "single", "keras", 14) == report
    assert core.evaluation.reports.stored_report(model, dataset, "test", "single", "keras") is None  # the whole split: not yet


def test_the_confusion_matrix_shows_counts_and_row_shares_with_the_diagonal_framed():
    from app_pages.confusion_matrix import confusion_figure

    matrix = np.array([[8, 2, 0], [1, 1, 0], [0, 0, 0]])
    figure = confusion_figure(matrix, ["bored", "confused", "focused"])
    [trace] = figure.data
    assert list(trace.text[:3]) == ["8<br>80%", "2<br>20%", "0<br>0%"] and trace.text[4] == "1<br>50%"
    assert list(trace.marker.line.width) == [3, 0, 0, 0, 3, 0, 0, 0, 3]
    assert figure.layout.xaxis.title.text.startswith("Predicted class") and figure.layout.yaxis.title.text == "True class"
    assert rows_top_down(json.loads(figure.to_json())) == ["bored", "confused", "focused"]
    assert list(trace.textfont.color[:2]) == ["white", "#1f2937"]


def rows_top_down(figure: dict) -> list[str]:
    """The rows of a plotly figure (as the browser gets it) from the top down: a category axis runs upwards,
    from the bottom, unless its range is reversed."""
    axis = figure["layout"]["yaxis"]
    order = list(axis["categoryarray"])
    return order if axis.get("autorange") == "reversed" else order[::-1]


def test_every_page_draws_its_confusion_matrix_with_the_one_drawing():
    """Teach drew its own (a heatmap); Evaluate drew the shared one upside down: one drawing, first class on top."""
    drawers = [path for path in sorted((ROOT / "app_pages").glob("*.py"))
               if "confusion_matrix\"]" in path.read_text() and "plotly_chart" in path.read_text()]
    assert {path.name for path in drawers} >= {"evaluate.py", "teach_training.py"}
    for path in drawers:
        source = path.read_text()
        assert "confusion_figure(" in source and "imshow(" not in source and "Heatmap(" not in source, path.name


@pytest.mark.parametrize("accuracy, colour", [(0.75, "off"), (0.7501, "off"), (0.755, "off"), (0.90, "normal"),
                                              (0.60, "normal")])
def test_a_gain_over_the_baseline_is_green_only_when_there_is_one(accuracy, colour):
    from app_pages.accuracy_metric import accuracy_metric

    drawn = []

    class Column:
        def metric(self, label, value, delta, delta_color, help=None):
            drawn.append((delta, delta_color))
    scores = {"accuracy": accuracy, "confusion_matrix": [[25, 0], [0, 75]], "classes": ["happy", "sad"]}
    accuracy_metric(Column(), "Accuracy", scores)  # always answering 'sad': 75%
    assert drawn[0][1] == colour and "pts vs always 'sad' (75%)" in drawn[0][0]


def test_the_score_button_gives_its_place_to_the_progress_bar_as_scoring_begins(monkeypatch, tmp_path, trained_runs,
                                                                                  counted):
    """A browser keeps a run's elements, faded, until the next run draws over their places or ends: the Cancel
    button and progress bar take the places of the line and the Score button before any face is classified,
    also when the first visit showed the dataset's reading above them and the scoring run does not."""
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    restart()
    at = page("evaluate")
    assert at.status  # the dataset read on this visit, its reading shown
    button = next(index for index, node in at.main.children.items()
                  if node.type == "button" and node.label.startswith("Score"))
    score(at)
    assert not at.status  # read before: nothing shown above the scoring this time
    assert at.main.children[button].type == "progress"  # drawn before the faces were classified


def test_grad_cam_of_the_mistakes_is_worked_out_under_a_spinner_and_kept(monkeypatch, tmp_path, trained_runs, counted):
    import core.vision.explain

    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    spinning, explained = record_spinners(monkeypatch), []
    original = core.vision.explain.explain_faces
    monkeypatch.setattr(core.vision.explain, "explain_faces",
                        lambda *args, **kwargs: explained.append(spinning[-1:]) or original(*args, **kwargs))
    at = page("evaluate")
    score(at)
    next(t for t in at.toggle if t.label.startswith("Why these labels?")).set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(explained) == 1 and explained[0][0] and explained[0][0].startswith("Grad-CAM:")  # inside the spinner
    at.run()  # a rerun with the toggle on (a click on a cell): the pictures kept, not worked out again
    assert len(explained) == 1 and not at.exception


def test_evaluate_page_keeps_its_choices_and_report_across_pages(monkeypatch, tmp_path, trained_runs, counted):
    shutil.copytree(trained_runs, tmp_path / "runs")
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA", str(make_dataset(tmp_path / "data")))
    at = page("evaluate")
    models = at.selectbox(key="evaluate_model").options
    chosen = {"evaluate_model": models[-1], "evaluate_compare": models[0], "evaluate_views": "single",
              "evaluate_runtime": "keras"}
    for key, value in chosen.items():
        at.selectbox(key=key).set_value(value).run()
    at.checkbox(key="evaluate_only_known").check().run()
    score(at)  # both models
    shown = accuracy(at)
    for other in ("home", "predict", "evaluate"):
        at.switch_page(f"app_pages/{other}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    assert {key: at.selectbox(key=key).value for key in chosen} == chosen
    assert at.checkbox(key="evaluate_only_known").value
    assert len(counted) == 2 and accuracy(at) == shown  # the same report, shown again, not scored again
