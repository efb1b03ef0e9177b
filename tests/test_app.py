"""The Streamlit app, page by page, through streamlit.testing's AppTest (no browser).

Each page must render without an exception with no dataset configured, with a small synthetic
dataset in the Kaggle layout (train/<emotion>/*.png, test/<emotion>/*.png), and, for the Dataset
page, with the shared FER-2013 when it is present. Models are tiny 'seed' networks trained for one
epoch on the synthetic data into a temporary runs folder, where core.models.store finds them as runs.
"""

import io
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

import av
import numpy as np
import streamlit_webrtc
from streamlit.testing.v1 import AppTest

import core.models.store
import core.storage.runs
from core.data.dataset import load_dataset
from core.data.emotions import EMOTIONS
from core.evaluation.scores import evaluate_model
from core.vision.frame_rate import FrameRate
from core.models.store import load_model
from core.storage.runs import RunFolder, list_runs, new_run_dir, portable_path, write_json
from core.training.finishing import learned_little
from tests.app_fixtures import make_dataset, png  # the fixtures synthetic and trained_runs: see conftest.py

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SHARED_DATA = ROOT.parent / "shared" / "datasets" / "fer2013"
TRAINING_WAIT_SECONDS = 180


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    """No dataset configured, an empty runs folder, a private cache and no default model."""
    monkeypatch.delenv("FER_DATA", raising=False)
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(core.models.store, "DEFAULT_MODEL_DIR", tmp_path / "no-default-model")
    monkeypatch.setattr(core.models.store, "FER2013_MODEL_DIR", tmp_path / "no-fer2013-model")


def page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if name != "home":
        at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


# --- every page without a dataset or a model --------------------------------------------------------------

@pytest.mark.parametrize("name", ["home", "dataset", "train", "evaluate", "predict"])
def test_every_page_renders_with_nothing_configured(name):
    page(name)


def test_home_says_no_model_and_no_dataset():
    at = page("home")
    assert "No default model yet" in texts(at.info)
    assert "No dataset chosen" in texts(at.info)
    assert len(at.get("page_link")) == 7


def test_pages_without_a_model_say_to_train_one():
    assert "train one on the Train page" in texts(page("predict").warning)
    assert "train one on the Train page" in texts(page("evaluate").info)


def test_dataset_page_reports_a_missing_path(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_DATA", str(tmp_path / "nowhere"))
    assert "no dataset at" in texts(page("dataset").error)


# --- Dataset ---------------------------------------------------------------------------------------------

def test_dataset_page_with_synthetic_data(monkeypatch, synthetic):
    monkeypatch.setenv("FER_DATA", str(synthetic))
    at = page("dataset")
    assert {m.label: m.value for m in at.metric} == {"test": "21", "train": "56"}
    assert len(at.get("plotly_chart")) == 2
    assert len(at.image) >= 8  # one row of examples per emotion and the mean faces
    assert "Skipped files and warnings (1)" in [e.label for e in at.expander]
    at.selectbox[0].set_value("class_weights").run()
    assert not at.exception and "Class weights" in texts(at.caption)
    at.slider[0].set_value(0.0).run()
    assert not at.exception


def test_dataset_page_of_two_lopsided_classes_says_why_it_has_no_folds(monkeypatch, tmp_path, synthetic):
    for name, count in (("happy", 5), ("sad", 1)):  # one sad picture: no fold can hold both classes
        (tmp_path / "lopsided" / name).mkdir(parents=True)
        for picture in sorted((synthetic / "train" / name).iterdir())[:count]:
            shutil.copy(picture, tmp_path / "lopsided" / name)
    monkeypatch.setenv("FER_DATA", str(tmp_path / "lopsided"))
    at = page("dataset")
    assert not at.exception and "too few to hold out a validation fold" in texts(at.info)
    assert at.image  # the rest of the page is drawn


def test_dataset_page_reads_an_uploaded_zip(monkeypatch, tmp_path, synthetic):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the page saves the upload
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in synthetic.rglob("*.png"):
            zipped.write(file, Path("fer") / file.relative_to(synthetic))
    at = page("dataset")
    at.radio[0].set_value("Upload a .zip").run()
    assert "Drop a .zip here" in texts(at.info)
    at.file_uploader[0].set_value(("fer.zip", archive.getvalue(), "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    files = {split: len(list((synthetic / split).rglob("*.png"))) for split in ("train", "test")}
    assert f"fer.zip: 2 splits (train {files['train']}, test {files['test']} files), 7 classes" in texts(at.success)
    assert {m.label: m.value for m in at.metric} == {"test": "21", "train": "56"}
    [use] = [button for button in at.button if button.label == "Use fer.zip on every page"]
    use.click().run()
    assert at.sidebar.text_input(key="dataset").value == "upload: fer.zip" and "fer.zip: 2 splits" in texts(
        at.sidebar.caption)  # the sidebar names the user's own file, not the one the server keeps it in
    at.switch_page("app_pages/train.py").run()
    assert at.text_input(key="data").value == "upload: fer.zip" and str(tmp_path) not in at.text_input(key="data").value
    at.switch_page("app_pages/home.py").run()
    assert "Dataset: fer.zip;" in texts(at.success)
    at.switch_page("app_pages/dataset.py").run()
    at.radio[0].set_value("Upload a .zip").run()
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as zipped:
        zipped.writestr("holiday/notes.txt", "no pictures")
    for name, data, reason in (("bad.zip", b"not a zip", "bad.zip is not a valid zip file"),
                               ("holiday.zip", photos.getvalue(), "holiday.zip holds no dataset")):
        at.file_uploader[0].set_value((name, data, "application/zip")).run()
        assert not at.exception and reason in texts(at.error)
        assert not [button for button in at.button if button.label.startswith("Use")]  # nothing to use
        assert ".zip" not in texts(at.error).replace(name, "")  # named as the user named it, not by a hash


def test_a_zip_uploaded_on_the_dataset_page_is_kept_across_pages_until_cleared(monkeypatch, tmp_path, synthetic):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in (synthetic / "train").rglob("*.png"):
            zipped.write(file, file.relative_to(synthetic / "train"))
    at = page("dataset")
    at.radio[0].set_value("Upload a .zip").run()
    at.file_uploader[0].set_value(("mine.zip", archive.getvalue(), "application/zip")).run()
    assert "mine.zip: " in texts(at.success)
    assert {m.label for m in at.metric} == {"mine"}  # its one split named by the user's file, not the server's
    for kept in (tmp_path / "fer-uploads").glob("*/*.zip"):
        kept.unlink()  # trimmed by later uploads (core.storage.uploads.MAX_UPLOADS_BYTES) while still in the uploader
    at.run()
    assert "mine.zip: " in texts(at.success), texts(at.error)
    at.switch_page("app_pages/train.py").run()
    at.switch_page("app_pages/dataset.py").run()  # checked, not yet used: still there, not chosen again
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio[0].value == "Upload a .zip" and "mine.zip: " in texts(at.success)
    assert "Kept from before in this browser tab: mine.zip" in texts(at.caption)
    assert [button.label for button in at.button if button.label.startswith("Use")] == ["Use mine.zip on every page"]
    at.run()  # a later run of the same visit keeps it too
    assert "mine.zip: " in texts(at.success)
    next(button for button in at.button if button.label == "Clear").click().run()
    assert "Drop a .zip here" in texts(at.info) and "mine.zip" not in texts(at.success) + texts(at.caption)


def test_dataset_page_with_the_shared_fer2013(monkeypatch):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared FER-2013 is not at {SHARED_DATA}")
    monkeypatch.delenv("FER_CACHE_DIR")  # the shared decoded cache keeps this fast
    monkeypatch.setenv("FER_DATA", str(SHARED_DATA))
    at = page("dataset")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["train"] == "28,709" and metrics["test"] == "3,589"
    assert "Dataset: " in texts(page("home").success)


# --- Train -----------------------------------------------------------------------------------------------

def fake_run(events: list[dict], name: str = "fake") -> RunFolder:
    run = RunFolder(new_run_dir("seed"))
    write_json(run.config_file, {"data": "/data", "arch": "seed", "epochs": 3})
    for event in events:
        run.append_event(**event)
    return run


EPOCH = {"event": "epoch", "epoch": 1, "epochs": 3, "loss": 1.9, "accuracy": 0.2, "val_loss": 1.8,
         "val_accuracy": 0.25, "learning_rate": 0.001, "images_per_s": 300.0, "eta_s": 20.0}


def test_train_page_follows_a_running_run_and_cancels_it():
    run = fake_run([])
    with run.lock():  # looks like a training process holds the run
        run.append_event("start", epochs=3, initial_epoch=0, batches=10, train_images=100, val_images=10)
        run.append_event(**EPOCH)
        run.append_event("batch", epoch=2, batch=4, batches=10, loss=1.7, accuracy=0.3, images_per_s=310.0,
                         eta_s=15.0)
        at = page("train")
        assert [p.value for p in at.get("progress")] == [40, 33]  # epoch 2 at batch 4/10; 1 of 3 epochs
        assert "Epoch 2: batch 4 of 10" in [p.proto.text for p in at.get("progress")]
        assert {m.label: m.value for m in at.metric}["Images per second"] == "310"
        assert len(at.get("plotly_chart")) == 2
        at.button(key="cancel").click().run()
        assert not at.exception and run.cancel_file.exists()
    at.run()  # the process is gone without an end event: interrupted, resumable
    assert "interrupted" in texts(at.warning) and at.button(key="resume")


def test_train_page_shows_failed_and_cancelled_runs():
    failed = fake_run([{"event": "start", "epochs": 3}, {"event": "end", "status": "failed",
                                                           "message": "DatasetError: /data does not exist"}])
    failed.log_file.write_text("Traceback ...\nDatasetError: /data does not exist\n")
    at = page("train")
    assert "/data does not exist" in texts(at.error)
    assert "DatasetError" in texts(at.code)
    time.sleep(1.1)  # a newer config.json: the newest run is shown by default
    fake_run([{"event": "start", "epochs": 3}, EPOCH, {"event": "end", "status": "cancelled", "message": "cancelled"}])
    at = page("train")
    assert "cancelled after 1 of 3 epochs" in texts(at.warning)


def test_train_page_says_a_run_learned_little_with_what_to_try_on_the_page():
    run = fake_run([{"event": "start", "epochs": 1}, EPOCH | {"epochs": 1},
                    {"event": "end", "status": "finished", "message": "done"}])
    metrics = {"accuracy": 0.25, "images": 8, "classes": ["happy", "sad"], "confusion_matrix": [[0, 2], [4, 2]]}
    earlier = learned_little(metrics) + " Try --preset quick, more epochs."  # as an earlier version wrote it
    for finding in (learned_little(metrics), earlier):
        write_json(run.card_file, {"validation": metrics, "test": {}, "training_seconds": 31,
                                   "learned_little": finding})
        at = page("train")
        assert "Finished: 1 epoch in" in texts(at.success)
        [warning] = [w.value for w in at.warning if "learned little" in w.value]
        assert "25.0% against 75.0% for always answering 'sad'" in warning and warning.count("Try") == 1
        assert "imbalance strategy" in warning and "--" not in warning  # the form's words, not the command line's


def test_train_page_starts_a_tiny_run_and_shows_it_finished(synthetic):
    at = page("train")
    at.selectbox(key="arch").set_value("seed")
    at.number_input(key="epochs").set_value(2)
    at.number_input(key="batch_size").set_value(16)
    at.number_input(key="max_images").set_value(40)
    at.toggle(key="augment").set_value(False)
    at.text_input(key="data").set_value(str(synthetic))
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    deadline = time.time() + TRAINING_WAIT_SECONDS
    while not list_runs() and time.time() < deadline:
        time.sleep(1)
    runs = list_runs()
    assert len(runs) == 1 and runs[0].name.endswith("-seed")
    while runs[0].status()["state"] in ("new", "running") and time.time() < deadline:
        at.run()  # what the fragment's 2-second poll does in a browser
        assert not at.exception, [e.value for e in at.exception]
        time.sleep(3)
    status = runs[0].status()
    assert status["state"] == "finished", (status, runs[0].log_file.read_text()[-2000:])
    assert [e["epoch"] for e in status["history"]] == [1, 2]
    at.run()
    assert not at.exception
    assert "Finished: 2 epochs" in texts(at.success)
    assert "Test accuracy" in [m.label for m in at.metric]
    assert runs[0].config()["max_images"] == 40 and runs[0].config()["augment"] is False

    # A second run continues the first one's model and learns from it as a teacher; a start from
    # another architecture is refused on the page, before any run exists.
    start = next(o for o in at.selectbox(key="init_from").options if o.startswith(f"run: {runs[0].name}"))
    at.selectbox(key="init_from").set_value(start)
    at.selectbox(key="arch").set_value("vgg_wide")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert "cannot start a vgg_wide run" in texts(at.error) and len(list_runs()) == 1
    at.selectbox(key="arch").set_value(runs[0].config()["arch"])
    at.multiselect(key="teachers").set_value([start])
    at.slider(key="teacher_weight").set_value(0.3)
    at.number_input(key="epochs").set_value(1)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    while len(list_runs()) < 2 or list_runs()[0].status()["state"] in ("new", "running"):
        assert time.time() < deadline + TRAINING_WAIT_SECONDS, "the continued run did not finish"
        time.sleep(1)
    continued = list_runs()[0]
    assert continued.status()["state"] == "finished", continued.log_file.read_text()[-2000:]
    assert continued.config()["init_from"] == str(runs[0].model_file.resolve())
    # the card names it without the machine's folders (a run outside the project: by its run folder)
    assert continued.card()["initialised_from"]["model"] == portable_path(runs[0].model_file)
    assert continued.config()["teachers"] == [str(runs[0].model_file.resolve())]
    assert continued.config()["teacher_weight"] == 0.3 and (continued.path / "teacher_targets.npz").exists()


# --- Evaluate --------------------------------------------------------------------------------------------

def test_evaluate_page_without_data_shows_the_card_and_downloads(monkeypatch, trained_runs):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    at = page("evaluate")
    assert "Give a dataset path" in texts(at.info)
    assert {m.label for m in at.metric} >= {"Architecture", "Validation accuracy"}
    assert len(at.get("download_button")) == 2


def test_evaluate_page_exports_the_model_checked_against_keras(monkeypatch, trained_runs):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))  # no FER_DATA: checked on the data it trained on
    at = page("evaluate")
    next(b for b in at.selectbox if b.label == "Format").set_value("onnx")
    next(b for b in at.button if b.label == "Export and check").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "the export gives the Keras model's top emotion for 100.00%" in texts(at.success)
    downloads = [b for b in at.get("download_button") if ".onnx" in b.proto.label]
    assert len(downloads) == 1 and downloads[0].proto.label.startswith("Download tiny-")
    assert "-float32.onnx (" in downloads[0].proto.label


def score(at) -> None:
    """Press the Evaluate page's button that asks for scoring."""
    next(button for button in at.button if button.label.startswith("Score ")).click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_evaluate_page_scores_and_compares_models(monkeypatch, trained_runs, synthetic):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    monkeypatch.setenv("FER_DATA", str(synthetic))
    at = page("evaluate")
    score(at)
    assert [m.label for m in at.metric].count("Accuracy") == 1
    assert len(at.get("plotly_chart")) == 2  # confusion matrix and per-emotion accuracy
    assert len(at.dataframe) == 1
    views = next(box for box in at.selectbox if box.label == "Test-time views")
    assert views.value == "shifted"
    views.set_value("single").run()
    score(at)
    faces = load_dataset(synthetic).split("test")
    expected = evaluate_model(load_model(trained_runs / "tiny-a"), faces.images, faces.labels, views="single")
    assert next(m.value for m in at.metric if m.label == "Accuracy") == f"{expected['accuracy']:.1%}"
    at.selectbox[1].set_value(at.selectbox[1].options[1]).run()  # compare with the other run
    score(at)
    assert [m.label for m in at.metric].count("Accuracy") == 2
    mistakes = len(at.image[0].proto.imgs)
    next(t for t in at.toggle if t.label.startswith("Why these labels?")).set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.image[0].proto.imgs) == mistakes > 0  # each mistake now drawn with its Grad-CAM map


# --- Predict ---------------------------------------------------------------------------------------------

def test_predict_page_classifies_uploads_and_names_bad_files(monkeypatch, trained_runs):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    at = page("predict")
    assert "live video is not available here" in texts(at.warning)  # no browser: contained, not a traceback
    # 8x8 blotches: a small picture that may be a face crop (noise would be none: core.vision.faces.not_a_face_crop)
    face = np.clip(np.kron(np.random.default_rng(1).normal(120, 30, (8, 8)), np.ones((8, 8))), 0, 255).astype(np.uint8)
    blank = np.full((300, 400, 3), 200, np.uint8)
    at.file_uploader[0].set_value([("face.png", png(face), "image/png"), ("broken.jpg", b"garbage", "image/jpeg"),
                                   ("blank.png", png(blank), "image/png")]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "broken.jpg: cannot be read" in texts(at.error)
    assert "blank.png: no face found" in texts(at.info)
    assert len(at.image) == 2  # the face picture and the blank one, drawn
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and "Face 1:" in charts[0].proto.spec
    next(t for t in at.toggle if t.label == "Why this label?").set_value(True).run()  # Grad-CAM of face 1
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.image) == 3 and "where it saw" in at.image[1].proto.imgs[0].caption
    at.toggle(key="snapshot_camera").set_value(True).run()
    at.camera_input[0].set_value(("snap.jpg", png(np.dstack([face] * 3), "JPEG"), "image/jpeg")).run()
    assert not at.exception and len(at.get("plotly_chart")) == 2


class FakeWebcam:
    """Stands in for webrtc_streamer (which needs a browser session) and keeps what the page passed."""

    def __init__(self):
        self.options = {}

    def __call__(self, key, **options):
        self.options = {"key": key, **options}
        return SimpleNamespace(state=SimpleNamespace(playing=True))


def test_predict_page_webcam_callback_labels_frames_and_counts_their_rate(monkeypatch, trained_runs):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    webcam = FakeWebcam()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", webcam)
    at = page("predict")
    assert webcam.options["rtc_configuration"] == {"iceServers": []} and webcam.options["async_processing"]
    assert webcam.options["media_stream_constraints"] == {"video": True, "audio": False}
    picture = np.full((80, 80, 3), 90, np.uint8)  # small enough to be taken as one face crop
    for _ in range(3):  # what the video thread does with each camera frame
        out = webcam.options["video_frame_callback"](av.VideoFrame.from_ndarray(picture, format="rgb24"))
    drawn = out.to_ndarray(format="rgb24")
    assert drawn.shape == picture.shape and not np.array_equal(drawn, picture)  # box, label and fps drawn
    at.run()  # the fragment's poll
    assert not at.exception
    assert float({m.label: m.value for m in at.metric}["Frames per second (processed)"]) > 0


def test_frame_rate_counts_frames_in_its_window():
    rate = FrameRate(window_seconds=2.0)
    for i in range(11):
        fps = rate.tick(now=100.0 + i * 0.1)
    assert fps == pytest.approx(10.0)
    assert rate.tick(now=110.0) == 0.0  # after a pause the old frames have left the window


def test_home_shows_the_shipped_default_model_and_its_scores(monkeypatch):
    monkeypatch.setattr(core.models.store, "DEFAULT_MODEL_DIR", core.storage.runs.DEFAULT_MODEL_DIR)
    card = core.models.store.read_card("default")
    at = page("home")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Architecture"] == (f"ensemble of {len(card['members'])}" if "members" in card
                                       else card["architecture"])  # short enough not to be cut off
    assert len(metrics["Architecture"]) <= 14
    assert metrics["Test accuracy"] == f"{card['test']['accuracy']:.1%}"
    assert metrics["Trained on"] == card["finished"][:10]
    assert "No default model yet" not in texts(at.info)
    classes = f"It answers one of its {len(card['classes'])} classes: {', '.join(card['classes'])}."
    assert classes in texts(at.markdown) and "contempt" in classes  # the shipped default's, not FER-2013's seven
    assert any(card["command"] in caption.value for caption in at.caption)
    for member in card.get("members") or [card]:  # each network of an ensemble says how it was trained
        assert any(member["command"] in caption.value and member["hardware"] in caption.value
                   for caption in at.caption)
        if member.get("initialised_from"):  # a model continued from another names the first stage too
            assert any(member["initialised_from"]["command"] in caption.value for caption in at.caption)
