"""The Teach page through streamlit.testing's AppTest (no browser): classes named, renamed and deleted,
pictures uploaded (faces found, pictures without one named), the warnings, the webcam's frames recorded
(through the frame callback the page hands to streamlit-webrtc), then one click trains the quick preset,
the page follows the run to its scores, a class emptied meanwhile changes nothing in the run, and the model
is tried on a photo, saved and made the default."""

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import streamlit_webrtc
from PIL import Image
from streamlit.testing.v1 import AppTest

import av
import core.models.store
from core.data.captures import CaptureSet, session_folder
from core.data.dataset import load_dataset
from core.models.store import active_run
from core.storage.runs import RunFolder, list_runs
from tests.app_fixtures import png
from tests.synthetic import face_pattern
from tests.test_captures import blank, one_face

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TRAINING_WAIT_S = 400


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    """No dataset, empty runs and data folders, private caches and session folders, no default model."""
    monkeypatch.delenv("FER_DATA", raising=False)
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(core.models.store, "DEFAULT_MODEL_DIR", tmp_path / "no-default-model")
    monkeypatch.setattr(core.models.store, "FER2013_MODEL_DIR", tmp_path / "no-fer2013-model")


class FakeWebcam:
    """Stands in for webrtc_streamer (which needs a browser session): keeps each streamer's options."""

    def __init__(self):
        self.options = {}

    def __call__(self, key, **options):
        self.options[key] = options
        return SimpleNamespace(state=SimpleNamespace(playing=True))

    def send(self, key: str, picture: np.ndarray) -> np.ndarray:
        """One camera frame through the page's callback, as the video thread does; the frame sent back."""
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        return self.options[key]["video_frame_callback"](frame).to_ndarray(format="rgb24")


@pytest.fixture
def webcam(monkeypatch) -> FakeWebcam:
    """The Teach page's webcams, replaced by one FakeWebcam."""
    fake = FakeWebcam()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", fake)
    return fake


def teach_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/teach.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]


def add_class(at: AppTest, name: str) -> None:
    at.text_input(key="teach_new_class").set_value(name)
    click(at, "teach_add_class")


def record(at: AppTest, name: str | None) -> None:
    """Choose the class the camera records (None: none), as a person clicks it."""
    at.segmented_control(key="teach_recording").set_value(name).run()
    assert not at.exception, [e.value for e in at.exception]


def upload(at: AppTest, name: str, files: list[tuple[str, bytes, str]]) -> None:
    uploader = next(u for u in at.file_uploader if u.label == f"Photos or a .zip of '{name}'")
    uploader.set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]


def crops(count: int, label: int, seed: int) -> list[tuple[str, bytes, str]]:
    rng = np.random.default_rng(seed)
    return [(f"{label}-{i}.png", png(face_pattern(label, rng)), "image/png") for i in range(count)]


def examples_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if str(m.value).startswith("Examples: "))


def test_classes_uploads_and_warnings():
    at = teach_page()
    assert "no class yet" in texts(at.info)
    add_class(at, "thumbs up")
    assert "one class only: a model needs at least 2 classes" in texts(at.info)
    assert at.button(key="teach_train").proto.disabled  # held back, saying why above
    add_class(at, "Thumbs Up")
    assert "name the same class" in texts(at.error)  # refused, nothing changed
    assert at.text_input(key="teach_new_class").value == "Thumbs Up"  # kept in the box, to be mended
    add_class(at, "wave")
    assert at.text_input(key="teach_new_class").value == ""  # an added class empties the box
    upload(at, "thumbs up", [*crops(3, 1, 0), ("blank.png", png(blank()), "image/png"),
                             ("portrait.jpg", png(one_face(), "JPEG"), "image/jpeg"),
                             ("broken.jpg", b"garbage", "image/jpeg")])
    report = texts(at.warning)
    assert "4 face(s) added to 'thumbs up'" in report
    assert "No face found in: blank.png." in report and "Not read: broken.jpg" in report
    assert examples_line(at) == "Examples: thumbs up 4, wave 0"
    assert "no examples yet in 'wave'" in texts(at.info) and at.button(key="teach_train").proto.disabled
    warnings = texts(at.warning)
    assert "'thumbs up' has only 4 examples: add at least 10" in warnings
    assert "every example shows one person ('me')" in warnings

    upload(at, "wave", crops(20, 4, 1))
    assert "unbalanced: 'wave' has 20 examples, 'thumbs up' 4" in texts(at.warning)
    assert "too few examples to start in 'thumbs up' (4)" in texts(at.info)
    at.button(key="teach_delete_wave_me__20.png").click().run()  # a thumbnail's delete button
    assert examples_line(at) == "Examples: thumbs up 4, wave 19"

    at.text_input(key="teach_rename_wave").set_value("waving")
    click(at, "teach_rename_button_wave")
    assert examples_line(at) == "Examples: thumbs up 4, waving 19"
    click(at, "teach_drop_thumbs up")
    assert "Delete the class 'thumbs up' (4 examples)?" in texts(at.warning)
    click(at, "teach_confirm_no_thumbs up")  # cancelled: nothing lost
    assert examples_line(at) == "Examples: thumbs up 4, waving 19"
    click(at, "teach_drop_thumbs up")
    click(at, "teach_confirm_yes_thumbs up")
    assert examples_line(at) == "Examples: waving 19" and "Deleted the class 'thumbs up'" in texts(at.success)
    assert "one class only" in texts(at.info)


def test_a_folder_of_class_folders_brings_its_classes(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for name, person in (("happy", "anna"), ("bored", "ben")):
        (tmp_path / "lab" / name / person).mkdir(parents=True)
        for index in range(6):
            Image.fromarray(face_pattern(2, rng)).save(tmp_path / "lab" / name / person / f"{index}.png")
    monkeypatch.setenv("FER_ALLOWED_DATA_DIRS", str(tmp_path / "elsewhere"))  # typed paths are bound
    at = teach_page()
    at.text_input(key="teach_folder_path").set_value(str(tmp_path / "lab")).run()
    click(at, "teach_folder_add")
    assert "Nothing was added: " in texts(at.error) and "outside the folders" in texts(at.error)
    monkeypatch.setenv("FER_ALLOWED_DATA_DIRS", str(tmp_path))  # the operator allows it
    at.text_input(key="teach_folder_path").set_value(str(tmp_path / "nowhere")).run()
    click(at, "teach_folder_add")
    assert "Nothing was added: no dataset at" in texts(at.error)
    at.text_input(key="teach_folder_path").set_value(str(tmp_path / "lab")).run()
    click(at, "teach_folder_add")
    assert "12 face(s) added to 'bored, happy'" in texts(at.success)
    assert examples_line(at) == "Examples: bored 6, happy 6" and not at.info[0].value.startswith("Before training")
    assert "one person" not in texts(at.warning)  # anna and ben


def test_the_webcam_records_faces_and_says_when_there_is_none(webcam):
    at = teach_page()
    add_class(at, "wave")
    options = webcam.options["teach-camera"]
    assert options["rtc_configuration"] == {"iceServers": []} and options["async_processing"]
    record(at, "wave")
    recorder = at.session_state["teach_recorder"]
    for picture in (one_face(), one_face(), blank()):  # what the video thread does with each frame
        assert webcam.send("teach-camera", picture).shape == picture.shape
        assert recorder.settle(120), recorder.error
    at.run()  # the status fragment's poll adds the faces kept
    assert "Recording 'wave': 2 faces kept, 1 frames without a face" in texts(at.markdown)
    assert examples_line(at) == "Examples: wave 2"
    for _ in range(4):
        webcam.send("teach-camera", blank())
        assert recorder.settle(60)
    at.run()
    assert "Recording 'wave': 2 faces kept, 5 frames without a face" in texts(at.markdown)
    record(at, None)
    webcam.send("teach-camera", one_face())  # not recording: nothing is kept
    assert recorder.settle(60)
    at.run()
    assert examples_line(at) == "Examples: wave 2" and "Last recording ('wave')" in texts(at.caption)
    captures = CaptureSet(session_folder(at.session_state["teach_session"]))
    assert [path.name for path in captures.examples("wave")] == ["me__1.png", "me__2.png"]

    add_class(at, "empty")  # recording it in front of no face says so, and keeps nothing
    record(at, "wave")
    record(at, "empty")  # one class records at a time
    for _ in range(4):
        webcam.send("teach-camera", blank())
        assert recorder.settle(60)
    at.run()
    assert "Recording 'empty': 0 faces kept, 4 frames without a face" in texts(at.markdown)
    assert "No face found in the camera's frames" in texts(at.warning)
    assert examples_line(at) == "Examples: empty 0, wave 2"


def test_a_poll_sent_before_a_change_reached_the_browser_does_not_undo_it(webcam):
    """The recording status polls every second with every widget's value as the browser holds it; one sent just
    after the person chose another class, before the page's answer reached the browser, carries the values the
    change itself carried, and must leave the new class recording."""
    at = teach_page()
    add_class(at, "thumbs up")
    add_class(at, "wave")
    record(at, "thumbs up")
    recorder = at.session_state["teach_recorder"]
    assert recorder.recording == "thumbs up"
    at.segmented_control(key="teach_recording").set_value("wave")
    sent = at._tree.get_widget_states()  # what the browser sends with the change
    at.run()
    assert recorder.recording == "wave"
    at._run(sent)  # the poll, sent before the page's answer arrived: the same values
    assert not at.exception, [e.value for e in at.exception]
    assert recorder.recording == "wave" and at.segmented_control(key="teach_recording").value == "wave"
    webcam.send("teach-camera", one_face())
    assert recorder.settle(120), recorder.error
    at.run()
    assert examples_line(at) == "Examples: thumbs up 0, wave 1"

    at.text_input(key="teach_rename_wave").set_value("waving")  # the class recorded renamed: recording stops
    click(at, "teach_rename_button_wave")
    assert recorder.recording is None and at.segmented_control(key="teach_recording").value is None
    assert at.segmented_control(key="teach_recording").options == ["thumbs up", "waving"]


def test_every_count_of_examples_on_the_page_is_one_count(webcam):
    at = teach_page()
    add_class(at, "smile")
    add_class(at, "wave")
    record(at, "wave")
    recorder = at.session_state["teach_recorder"]
    for _ in range(2):
        webcam.send("teach-camera", one_face())
        assert recorder.settle(120), recorder.error
    at.run()
    webcam.send("teach-camera", one_face())  # kept after that run: waiting for the page's next run
    assert recorder.settle(120), recorder.error
    assert recorder.waiting() == 1
    at.run()  # the page adds it once, at its top, then every count says the same
    assert recorder.waiting() == 0
    counts = CaptureSet(session_folder(at.session_state["teach_session"])).counts()
    assert counts == {"smile": 0, "wave": 3}
    assert examples_line(at) == "Examples: smile 0, wave 3"
    shown = texts(at.markdown)
    assert "**wave**: 3 examples" in shown and "**smile**: 0 examples" in shown
    assert "**The examples** (3) are" in shown
    assert at.button(key="teach_clear_wave").label == "Delete its 3 examples"
    assert "Recording 'wave': 3 faces kept" in shown  # the recording's own count, saying so


def test_one_click_trains_shows_scores_and_the_model_is_tried_and_kept(webcam, tmp_path):
    at = teach_page()
    add_class(at, "thumbs up")
    add_class(at, "wave")
    for person, seed in (("anna", 0), ("bob", 2)):  # two people: each is scored by a model taught on the other
        at.text_input(key="teach_person").set_value(person).run()
        upload(at, "thumbs up", crops(4, 0, seed))
        upload(at, "wave", crops(4, 6, seed + 1))
    click(at, "teach_train")
    runs = list_runs()
    assert len(runs) == 0 or runs[0].name.endswith("-teach")  # config.json comes once the process starts
    run_dir = at.session_state["teach_run"]
    assert run_dir.endswith("-teach")
    assert at.button(key="teach_train").proto.disabled  # one run at a time

    # A class emptied after the start: the run goes on with its own copy of the examples.
    click(at, "teach_clear_wave")
    click(at, "teach_confirm_yes_wave")
    assert examples_line(at) == "Examples: thumbs up 8, wave 0"
    assert "'wave' was emptied (8 examples when run" in texts(at.info)

    deadline = time.time() + TRAINING_WAIT_S
    while "finished in" not in texts(at.success) and time.time() < deadline:
        time.sleep(3)
        at.run()  # what the fragment's poll does in a browser
        assert not at.exception, [e.value for e in at.exception]
    log = (Path(run_dir) / "log.txt").read_text()[-3000:]
    assert "finished in" in texts(at.success), (texts(at.error), texts(at.info), log)
    metrics = {m.label: m.value for m in at.metric}
    card = RunFolder(run_dir).card()
    assert metrics == {"On people it was not taught": f"{card['new_people']['accuracy']:.1%}"}
    assert any("vs always" in str(m.delta) for m in at.metric)
    per_class, per_person = (frame.value for frame in at.dataframe)
    assert list(per_class.index) == ["thumbs up", "wave"] and per_class["different faces"].tolist() == [8, 8]
    assert list(per_person.index) == ["anna", "bob"] and per_person["different faces"].tolist() == [8, 8]
    assert any("Predicted class" in chart.proto.spec for chart in at.get("plotly_chart"))  # the confusion matrix
    assert "'wave' was emptied" in texts(at.info)  # still said, the run unchanged by it
    faces = load_dataset(f"{run_dir}/faces", cache_dir=tmp_path / "c")
    assert faces.classes == ["thumbs up", "wave"] and len(faces.split("faces")) == 16

    # Try it: its own classes in the legend, on the live frames and on a photo, with Grad-CAM.
    legend = texts(at.markdown)
    assert "thumbs up</span>" in legend and "wave</span>" in legend
    drawn = webcam.send("teach-try", one_face())
    live = at.session_state["teach_live"]
    assert live.settle(120), live.error
    assert drawn.shape == one_face().shape
    webcam.send("teach-try", one_face())  # the next frame has the first answer drawn on it
    assert live.settle(120), live.error
    at.run()
    said = next(str(m.value) for m in at.markdown if str(m.value).startswith("Live, as drawn on the video: 1 "))
    assert said.endswith(live.shown().text())  # the answer drawn on the last frame, the calibrated probabilities
    assert "calibrated on the people left out" in texts(at.caption)
    at.file_uploader(key="teach_try_photos").set_value([("me.jpg", png(one_face(), "JPEG"), "image/jpeg")]).run()
    assert not at.exception, [e.value for e in at.exception]
    chart = next(c for c in at.get("plotly_chart") if "Face 1:" in c.proto.spec)
    assert "thumbs up" in chart.proto.spec
    next(t for t in at.toggle if t.label == "Why this label?").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("where it saw" in image.proto.imgs[0].caption for image in at.image if image.proto.imgs)

    # Keep it: the examples as a dataset folder in the data folder, the model as the default.
    at.text_input(key="teach_save_name").set_value("gestures")
    click(at, "teach_save")
    assert "Saved in" in texts(at.success)
    saved = load_dataset(tmp_path / "data" / "gestures", cache_dir=tmp_path / "c")
    assert saved.classes == ["thumbs up", "wave"] and len(saved.split("gestures")) == 8  # 'wave' kept, emptied
    click(at, "teach_make_default")
    assert active_run() is not None and str(active_run().path) == run_dir


def test_each_browser_session_has_its_own_examples():
    first = teach_page()
    add_class(first, "mine")
    upload(first, "mine", crops(2, 1, 0))
    second = teach_page()  # another browser session of the same server
    assert "no class yet" in texts(second.info) and examples_line(second) == "Examples: none yet"
    add_class(second, "mine")
    assert examples_line(second) == "Examples: mine 0"
    first.run()
    assert examples_line(first) == "Examples: mine 2"  # not overwritten
    assert first.session_state["teach_session"] != second.session_state["teach_session"]


def test_a_run_that_refuses_to_begin_says_why_and_training_can_start_again(monkeypatch):
    import app_pages.run_progress

    def refusing(run_dir, arguments):  # what `python -m core train` leaves when it refuses the data
        (Path(run_dir) / "log.txt").write_text("error: too few pictures to learn from in: wave (1)\n")
    monkeypatch.setattr(app_pages.run_progress, "start_training_process", refusing)
    at = teach_page()
    add_class(at, "thumbs up")
    add_class(at, "wave")
    upload(at, "thumbs up", crops(5, 0, 0))
    upload(at, "wave", crops(5, 6, 1))
    click(at, "teach_train")
    assert "The training stopped before it began: too few pictures to learn from in: wave (1)" in texts(at.error)
    assert not at.button(key="teach_train").proto.disabled  # not held back by a run that never began
    assert examples_line(at) == "Examples: thumbs up 5, wave 5"  # nothing lost


def test_a_training_the_server_cannot_start_now_says_why_and_leaves_no_run(monkeypatch):
    import app_pages.run_progress
    from core.storage.runs import RunBusy, runs_dir

    def busy(run_dir, arguments):
        raise RunBusy("2 training(s) are running already, the most this server runs at once")
    monkeypatch.setattr(app_pages.run_progress, "start_training_process", busy)
    at = teach_page()
    add_class(at, "a")
    add_class(at, "b")
    upload(at, "a", crops(5, 0, 0))
    upload(at, "b", crops(5, 6, 1))
    click(at, "teach_train")
    assert "The training could not be started: 2 training(s) are running already" in texts(at.error)
    assert list(runs_dir().iterdir()) == [] and examples_line(at) == "Examples: a 5, b 5"
