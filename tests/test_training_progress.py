"""What a training run tells while it runs: a first time-left estimate that is not inflated by the first
batch's graph tracing, and its scoring and saving after the last epoch as progress events."""

import io
import json

import keras
import numpy as np
import pytest

import core.training.monitor
from core.cli import main
from core.evaluation.scores import score_predictions
from core.training.monitor import RunMonitor
from core.storage.runs import RunFolder, write_json
from core.training.config import TrainConfig
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.test_app import EPOCH, environment, fake_run, page, texts  # noqa: F401 (environment: a fixture)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_time_left_estimate_leaves_out_the_first_batchs_tracing(tmp_path, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(core.training.monitor.time, "time", clock)
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    monitor = RunMonitor(run, TrainConfig(data="unused", epochs=10, batch_size=100), steps_per_epoch=50,
                         state={"epoch": 0, "best_val_accuracy": 0.0})
    monitor.on_epoch_begin(0)
    clock.now += 20  # the first batch traces the graph
    monitor.on_train_batch_end(0, {"loss": 2.0})
    for batch in range(1, 11):  # then 0.5 s a batch: 200 images/s
        clock.now += 0.5
        monitor.on_train_batch_end(batch, {"loss": 2.0})
    batches = [e for e in run.events() if e["event"] == "batch"]
    assert batches[0]["eta_s"] is None  # no rate measured yet: the page says "measuring"
    assert batches[-1]["images_per_s"] == pytest.approx(200)
    # 500 batches in all, 11 done: 489 x 0.5 s, where counting the tracing in said about 1,090 s more.
    assert batches[-1]["eta_s"] == pytest.approx(489 * 0.5)


def test_time_left_includes_the_validation_passes_and_the_final_scoring_at_their_speed(tmp_path, monkeypatch):
    clock = Clock()
    clock.now = 1.8e9  # the checkpoint is a zip, whose times start in 1980
    monkeypatch.setattr(core.training.monitor.time, "time", clock)
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    monitor = RunMonitor(run, TrainConfig(data="unused", epochs=2, batch_size=100), steps_per_epoch=10,
                         state={"epoch": 0, "best_val_accuracy": 0.0}, scored_views=20_000, validation_images=1_000)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    monitor.set_model(model)
    monitor.on_epoch_begin(0)
    for batch in range(10):  # 1 s a batch after the first: 100 images/s
        clock.now += 1
        monitor.on_train_batch_end(batch, {"loss": 2.0})
    before = [e for e in run.events() if e["event"] == "batch"][-1]["eta_s"]
    # No validation pass yet: this epoch's and the next's, then the scoring, at the training's speed.
    assert before == pytest.approx(10 * 1 + 2 * 1_000 / 100 + 20_000 / 100)
    monitor.on_test_begin()
    clock.now += 2  # 1,000 validation images in 2 s: 500 views/s
    monitor.on_test_end()
    monitor.on_epoch_end(0, {"loss": 2.0, "val_loss": 2.0, "val_accuracy": 0.5})
    epoch = [e for e in run.events() if e["event"] == "epoch"][-1]
    # The second epoch, its validation pass (2 s), then 40 s of scoring.
    assert epoch["eta_s"] == pytest.approx(10 * 1 + 1_000 / 500 + 20_000 / 500)


def test_scoring_and_saving_after_the_last_epoch_are_progress_events(tiny_model):
    events = RunFolder(tiny_model).events()
    kinds = [e["event"] for e in events]
    finishing = [e for e in events if e["event"] == "finish"]
    assert kinds.index("finish") > max(i for i, kind in enumerate(kinds) if kind == "epoch")
    assert kinds[-1] == "end" and kinds[-2] == "finish"
    stages = list(dict.fromkeys(e["stage"] for e in finishing))
    assert stages == ["scoring the validation images", "scoring the 'test' split", "saving the model"]
    test = [e for e in finishing if e["stage"] == "scoring the 'test' split"]
    assert test[0]["done"] == 0 and (test[-1]["done"], test[-1]["total"]) == (42, 42)  # 6 test images per emotion
    assert test[-1]["eta_s"] == 0


def test_train_page_shows_the_scoring_after_the_last_epoch_with_counts_and_time_left():
    run = fake_run([])
    with run.lock():  # a training process holds the run
        run.append_event("start", epochs=3, initial_epoch=0, batches=10, train_images=100, val_images=10)
        for epoch in (1, 2, 3):
            run.append_event(**EPOCH | {"epoch": epoch, "eta_s": 0.0})
        run.append_event("finish", stage="scoring the 'test' split", done=1200, total=3589, eta_s=125.0)
        at = page("train")
        bars = [bar.proto.text for bar in at.get("progress")]
        assert "All epochs done: scoring the 'test' split, 1,200 of 3,589 images" in bars
        assert {m.label: m.value for m in at.metric}["Time left (scoring the 'test' split)"] == "0:02:05"
        run.append_event("finish", stage="saving the model", done=0, total=0, eta_s=None)
        at.run()
        assert "All epochs done: saving the model..." in [bar.proto.text for bar in at.get("progress")]
        assert {m.label: m.value for m in at.metric}["Time left (saving the model)"] == "measuring..."


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_train_command_draws_its_progress_on_stderr(tiny_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    assert main(["train", str(tiny_data), "--run-dir", str(tmp_path / "run"), "--arch", "seed", "--epochs", "2",
                 "--batch-size", "8", "--no-augment"]) == 0
    assert json.loads(capsys.readouterr().out)["test"] is not None
    batches = RunFolder(tmp_path / "run").status()["start"]["batches"]
    shown = terminal.getvalue()
    assert f"{2 * batches}/{2 * batches}" in shown and "saving the model" in shown


def test_train_page_warns_when_a_finished_run_is_no_better_than_always_answering_happy():
    run = fake_run([{"event": "start", "epochs": 1}, EPOCH | {"epochs": 1}, {"event": "end", "status": "finished"}])
    labels = np.repeat(np.arange(7), [50, 5, 50, 90, 60, 60, 45])  # happy: 25%
    always_happy = np.zeros((len(labels), 7))
    always_happy[:, 3] = 1
    report = score_predictions(labels, always_happy)
    write_json(run.card_file, {"validation": report, "test": report, "training_seconds": 60})
    at = page("train")
    [test] = [m for m in at.metric if m.label == "Test accuracy"]
    assert test.value == "25.0%" and test.delta == "+0.0 pts vs always 'happy' (25%)"
    assert "no better than always answering 'happy'" in texts(at.warning)
