"""Run comparison (core.evaluation.comparison) and the Runs page: curves and table of the chosen runs, and
making a finished run the default model, with a confirmation, without touching the shipped model."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import core.models.store
from core.cli import main
from core.models.store import ModelError, active_run, available_models, model_file, set_active_run
from core.evaluation.comparison import run_summary, validation_curves
from core.storage.runs import RunFolder, write_json

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def write_run(root: Path, name: str, val_accuracies: list[float], finished: bool, arch: str = "seed") -> RunFolder:
    """A run folder as the training job leaves it: config, progress log, and for a finished run its card
    and a model file (these tests never load it)."""
    run = RunFolder(root / name)
    run.path.mkdir(parents=True)
    write_json(run.config_file, {"data": "/data", "arch": arch, "epochs": 5})
    run.append_event("start", epochs=5, initial_epoch=0)
    for epoch, accuracy in enumerate(val_accuracies, 1):
        run.append_event("epoch", epoch=epoch, epochs=5, seconds=30.0, val_accuracy=accuracy, val_loss=2 - accuracy)
    if finished:
        run.append_event("end", status="finished", message="done")
        write_json(run.card_file, {"command": f"python -m core train /data --arch {arch} --epochs 5 --seed 3",
                                   "training_seconds": 150.0, "hardware": "AMD EPYC, 2 CPU cores",
                                   "validation": {"accuracy": 0.61}, "test": {"accuracy": 0.6},
                                   "architecture": arch, "config": {"arch": arch, "epochs": 5}})
        run.model_file.write_bytes(b"a model file")
    return run


@pytest.fixture
def runs(monkeypatch, tmp_path) -> dict[str, RunFolder]:
    """Three runs in a private runs folder: two finished, one cancelled after two epochs; a shipped model."""
    root = tmp_path / "runs"
    monkeypatch.setenv("FER_RUNS_DIR", str(root))
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FER_DATA", raising=False)
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "model.keras").write_bytes(b"the shipped model")
    monkeypatch.setattr(core.models.store, "DEFAULT_MODEL_DIR", shipped)
    made = {"alpha": write_run(root, "alpha", [0.3, 0.4, 0.5, 0.55, 0.52], True),
            "beta": write_run(root, "beta", [0.2, 0.35, 0.45, 0.5, 0.58], True, arch="vgg"),
            "gamma": write_run(root, "gamma", [0.25, 0.3], False)}
    made["gamma"].append_event("end", status="cancelled", message="cancelled")
    return made


def test_summary_has_recipe_epochs_time_and_scores(runs):
    summary = run_summary(runs["beta"])
    assert summary["recipe"] == "--arch vgg --epochs 5 --seed 3"
    assert summary["epochs"] == "5 of 5" and summary["minutes"] == 2.5
    assert summary["best_val_accuracy"] == 0.58 and summary["test"] == 0.6
    assert summary["hardware"] == "AMD EPYC, 2 CPU cores" and summary["state"] == "finished"
    assert summary["note"] == ""  # it learned: no mark
    cancelled = run_summary(runs["gamma"])
    assert cancelled["state"] == "cancelled" and cancelled["epochs"] == "2 of 5" and cancelled["minutes"] == 1.0
    assert cancelled["recipe"] == "--arch seed --epochs 5" and cancelled["test"] is None
    rows = validation_curves([runs["alpha"], runs["gamma"]])
    assert [(row["run"], row["epoch"]) for row in rows] == [("alpha", e) for e in range(1, 6)] + [("gamma", 1),
                                                                                                  ("gamma", 2)]


def test_a_run_made_default_is_what_default_means_and_can_be_undone(runs):
    shipped = core.models.store.DEFAULT_MODEL_DIR / "model.keras"
    assert model_file("default") == shipped and list(available_models())[0] == "default"
    with pytest.raises(ModelError, match="not a finished run"):
        set_active_run(runs["gamma"])
    set_active_run(runs["beta"])
    assert active_run().name == "beta"
    assert model_file("default") == runs["beta"].model_file and model_file("shipped") == shipped
    assert available_models()["default"] == runs["beta"].model_file and available_models()["shipped"] == shipped
    assert shipped.read_bytes() == b"the shipped model"
    runs["beta"].model_file.unlink()  # a deleted default falls back to the shipped model
    assert active_run() is None and model_file("default") == shipped
    set_active_run(None)
    assert not core.models.store.active_setting_file().exists()


def chart_traces(at: AppTest) -> dict[str, list[float]]:
    """Each line of the page's chart: its name and y values (plotly sends them base64-encoded)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return {trace["name"]: np.frombuffer(base64.b64decode(trace["y"]["bdata"]), trace["y"]["dtype"]).tolist()
            for trace in spec["data"]}


def test_runs_page_overlays_the_chosen_runs_and_makes_one_the_default(runs):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/runs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="runs").set_value(["alpha", "gamma"]).run()
    assert chart_traces(at) == {"alpha": [0.3, 0.4, 0.5, 0.55, 0.52], "gamma": [0.25, 0.3]}
    layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert layout["yaxis"]["range"] == [0, 1] and layout["yaxis"]["tickformat"] == ".0%"  # no accuracy below 0
    assert layout["xaxis"]["dtick"] == 1 and layout["xaxis"]["tick0"] == 1  # whole epochs
    table = at.dataframe[0].value
    shipped = ["shipped (models/default)", "shipped: FER-2013 labels (models/fer2013)"]
    assert list(table["run"]) == [*shipped, "alpha", "gamma"]
    assert list(table["state"]) == ["shipped", "shipped", "finished", "cancelled"]
    # the shipped cards' figures: FER+'s eight classes, and FER-2013's seven
    assert table["test"][0] > 0.8 and table["classes"][0].startswith("angry, contempt, disgust")
    assert table["test"][1] > 0.6 and table["classes"][1].startswith("angry, disgust")
    at.radio(key="curve").set_value("Validation loss").run()
    assert chart_traces(at)["gamma"] == pytest.approx([1.75, 1.7])
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]["rangemode"] == "tozero"

    at.multiselect(key="runs").set_value(["alpha", "beta", "gamma"]).run()
    assert at.selectbox(key="candidate").options == ["alpha", "beta"]  # only finished runs
    at.selectbox(key="candidate").set_value("beta")
    at.button(key="make_default").click().run()
    assert "Make run beta the default" in at.warning[0].value and active_run() is None  # not before confirming
    at.button(key="cancel").click().run()
    assert not at.warning and active_run() is None
    at.button(key="make_default").click().run()
    at.button(key="confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert active_run().name == "beta" and model_file("default") == runs["beta"].model_file
    assert any("run beta" in markdown.value for markdown in at.markdown)
    at.button(key="use_shipped").click().run()
    assert active_run() is None and model_file("default") == core.models.store.DEFAULT_MODEL_DIR / "model.keras"


def test_runs_page_without_runs_shows_the_shipped_model_and_says_to_train(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/runs.py").run()
    assert not at.exception and "No training run yet" in at.info[0].value
    [table] = at.dataframe  # the shipped models' rows, with their scores, before any run exists
    assert table.value["run"].tolist() == ["shipped (models/default)", "shipped: FER-2013 labels (models/fer2013)"]
    assert table.value["test"].min() > 0.6


def test_command_line_compares_runs_and_chooses_the_default(runs, capsys):
    assert main(["runs", "--json"]) == 0
    rows = {row["run"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"alpha", "beta", "gamma"} and rows["alpha"]["best_val_accuracy"] == 0.55
    assert main(["default", "gamma"]) == 2 and "not a finished run" in capsys.readouterr().err
    assert main(["default", "alpha"]) == 0 and "run alpha" in capsys.readouterr().out
    assert model_file("default") == runs["alpha"].model_file
    assert main(["default", "shipped"]) == 0 and active_run() is None
