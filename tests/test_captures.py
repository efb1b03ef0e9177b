"""core.data.captures (a set of examples of one's own classes, in a folder) and core.prediction.recording (webcam frames
turned into examples and live predictions off the video thread), without Streamlit."""

import io
import os
import stat
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import core.data.captures
from core.data.captures import (MIN_EXAMPLES, CaptureError, CaptureSet, clean_class_name, clean_person, data_dir,
                           new_session_id, session_folder)
from core.data.dataset import load_dataset
from core.prediction.recording import FrameWorker, LivePredictor, Recorder
from tests.synthetic import face_pattern


def png(picture: np.ndarray, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format=format)
    return buffer.getvalue()


def portrait(size: int = 220) -> np.ndarray:
    """The astronaut's head and shoulders, RGB, size x size."""
    from skimage.data import astronaut

    return np.asarray(Image.fromarray(astronaut()[0:300, 100:400]).resize((size, size)))


def one_face(width: int = 400) -> np.ndarray:
    frame = np.full((width * 3 // 4, width, 3), 90, np.uint8)
    frame[40:260, 90:310] = portrait()
    return frame


def two_faces() -> np.ndarray:
    frame = np.full((300, 520, 3), 90, np.uint8)
    frame[40:260, 20:240] = portrait()
    frame[40:260, 280:500] = portrait()[:, ::-1]
    return frame


def blank() -> np.ndarray:
    return np.full((300, 400, 3), 200, np.uint8)


def faces(count: int, seed: int = 0, label: int = 0) -> list[np.ndarray]:
    """Distinct 48x48 crops (noise around a bar), far apart from one another."""
    rng = np.random.default_rng(seed)
    return [face_pattern(label, rng) for _ in range(count)]


@pytest.fixture
def captures(tmp_path) -> CaptureSet:
    return CaptureSet(tmp_path / "set")


# --- classes ---------------------------------------------------------------------------------------------

def test_classes_are_added_renamed_and_deleted_with_their_examples(captures):
    assert captures.add_class("  thumbs   up ") == "thumbs up"
    assert captures.add_class("Wave") == "Wave"
    assert captures.add_class("Fearful") == "Fearful"  # own classes keep their names as typed
    assert captures.classes() == ["Fearful", "thumbs up", "Wave"]  # the order a model trained on them has
    captures.add_face("Wave", faces(1)[0], "me", original=one_face())
    assert captures.rename_class("Wave", "waving") == "waving"
    assert captures.classes() == ["Fearful", "thumbs up", "waving"]
    assert [path.name for path in captures.examples("waving")] == ["me__1.png"]
    assert captures.original(captures.examples("waving")[0]) is not None  # the frame went with it
    assert captures.delete_class("waving") == 1
    assert captures.classes() == ["Fearful", "thumbs up"]
    assert not (captures.root / ".originals" / "waving").exists()


@pytest.mark.parametrize("name, reason", [("", "give the class a name"), ("a/b", "cannot name a folder"),
                                          (".hidden", "cannot name a folder"), ("x" * 41, "too long"),
                                          ("Thumbs", "name the same class"), ("thumbs", "already a class")])
def test_bad_or_taken_class_names_are_refused_saying_why(captures, name, reason):
    captures.add_class("thumbs")
    with pytest.raises(CaptureError, match=reason):
        captures.add_class(name)
    assert captures.classes() == ["thumbs"]


def test_a_rename_onto_another_class_is_refused_and_changes_nothing(captures):
    captures.add_class("a")
    captures.add_class("b")
    captures.add_face("a", faces(1)[0])
    with pytest.raises(CaptureError, match="already a class 'b'"):
        captures.rename_class("a", "b")
    with pytest.raises(CaptureError, match="no class 'c'"):
        captures.rename_class("c", "d")
    assert captures.counts() == {"a": 1, "b": 0}


def test_names_of_people_and_examples_say_who_for_the_split_by_person(captures):
    captures.add_class("a")
    assert clean_person(" Anna Maria_x/y ") == "Anna-Maria-x-y" and clean_person("  ") == ""
    paths = captures.add_faces("a", [(face, person, None) for face, person in
                                     zip(faces(3), ["me", "Anna Maria", ""])])
    assert [path.name for path in paths] == ["me__1.png", "Anna-Maria__2.png", "3.png"]
    assert captures.people("a") == {"me": 1, "Anna-Maria": 1, "": 1}
    captures.delete_example("a", "me__1.png")
    assert [path.name for path in captures.add_faces("a", [(faces(1)[0], "me", None)])] == ["me__4.png"]
    assert [path.name for path in captures.examples("a")] == ["Anna-Maria__2.png", "3.png", "me__4.png"]
    with pytest.raises(CaptureError, match="48x48"):
        captures.add_face("a", np.zeros((10, 10), np.uint8))
    captures.add_class("b")
    assert captures.last_person() == "me"
    os.utime(captures.add_face("b", faces(1)[0], "bob"), ns=(1, 1))  # added last, but dated earlier than all
    assert captures.last_person() == "me"
    captures.add_face("b", faces(1)[0], "bob")
    assert captures.last_person() == "bob"
    assert captures.clear_class("a") == 3 and captures.counts() == {"a": 0, "b": 2}


def test_class_names_are_kept_as_typed_and_read_back_so_by_the_trainer(captures, tmp_path):
    for typed in ("Happiness", "surprised", "happy", "sad"):  # FER-2013's spellings, and two emotions exactly
        assert captures.add_class(typed) == typed
    assert captures.rename_class("sad", " Sadness  ") == "Sadness"
    for name in captures.classes():
        captures.add_faces(name, [(face, "me", None) for face in faces(2, seed=len(name))])
    with pytest.raises(CaptureError, match="name the same class"):  # only a difference in case is one name
        captures.add_class("HAPPY")
    read = load_dataset(captures.export(tmp_path / "copy"), cache_dir=tmp_path / "cache")
    assert read.present == ["Happiness", "happy", "Sadness", "surprised"]  # as typed, sorted: own classes
    zipped = tmp_path / "set.zip"
    zipped.write_bytes(captures.as_zip("mine"))
    assert load_dataset(zipped, cache_dir=tmp_path / "cache").present == read.present
    emotions = CaptureSet(tmp_path / "emotions")  # named exactly as FER-2013's emotions: the emotions still
    for name in ("surprise", "happy"):
        emotions.add_class(name)
        emotions.add_faces(name, [(face, "me", None) for face in faces(2, seed=len(name))])
    read = load_dataset(emotions.export(tmp_path / "emotions-copy"), cache_dir=tmp_path / "cache")
    assert read.present == ["happy", "surprise"] and read.classes[:4] == ["angry", "disgust", "fear", "happy"]


# --- counts, what stops training, warnings -----------------------------------------------------------------

def test_one_class_or_an_empty_class_stops_training_saying_why(captures):
    assert "no class yet" in captures.problems()[0]
    captures.add_class("a")
    captures.add_faces("a", [(face, "me", None) for face in faces(12)])
    assert "one class only" in captures.problems()[0]
    captures.add_class("b")
    assert captures.problems() == ["no examples yet in 'b': add some"]
    captures.add_faces("b", [(face, "me", None) for face in faces(3, seed=1)])
    assert "too few examples to start in 'b' (3)" in captures.problems()[0]
    captures.add_faces("b", [(face, "me", None) for face in faces(9, seed=2)])
    assert captures.counts() == {"a": 12, "b": 12} and captures.problems() == []


def test_warnings_name_few_examples_imbalance_one_person_and_near_copies(captures):
    captures.add_class("a")
    captures.add_class("b")
    captures.add_faces("a", [(face, "me", None) for face in faces(40)])
    captures.add_faces("b", [(face, "me", None) for face in faces(4, seed=1, label=3)])
    warnings = "\n".join(captures.warnings())
    assert f"'b' has only 4 examples: add at least {MIN_EXAMPLES}" in warnings
    assert "unbalanced: 'a' has 40 examples, 'b' 4" in warnings
    assert "every example shows one person ('me'): it may not work on other people" in warnings
    assert "nearly repeat" not in warnings
    still = faces(1, seed=3)[0]
    captures.add_faces("b", [(np.clip(still.astype(int) + (i % 2), 0, 255).astype(np.uint8), "ann", None)
                             for i in range(20)])  # a still frame: each crop differs by under 2 per pixel
    warnings = "\n".join(captures.warnings())
    assert "'b': 19 of 24 examples nearly repeat the one before" in warnings
    assert "one person" not in warnings and "unbalanced" not in warnings and "only" not in warnings


# --- pictures, zips and folders ----------------------------------------------------------------------------

def test_pictures_and_zips_add_their_faces_and_name_those_without_one(captures):
    captures.add_class("a")
    crop = face_pattern(1, np.random.default_rng(0))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("inside/ann__7.png", png(crop))
        zipped.writestr("inside/empty.jpg", png(blank(), "JPEG"))
        zipped.writestr("inside/notes.txt", b"hello")
        zipped.writestr("__MACOSX/inside/._ann__7.png", b"resource fork")
    added = captures.add_pictures("a", [("crop.png", png(crop)), ("portrait.jpg", png(one_face(), "JPEG")),
                                        ("blank.png", png(blank())), ("two.png", png(two_faces())),
                                        ("broken.jpg", b"not a picture"), ("batch.zip", archive.getvalue()),
                                        ("holiday.zip", b"not a zip")],
                                  person="me", keep_originals=True)
    assert added.added == 3  # the crop taken whole, the face found in the portrait, the zip's crop
    assert added.no_face == ["blank.png", "batch.zip/inside/empty.jpg"]
    assert added.several_faces == ["two.png"]
    assert sorted(line.split(":")[0] for line in added.unreadable) == ["batch.zip/inside/notes.txt", "broken.jpg"] \
        + ["holiday.zip is not a valid zip file (File is not a zip file)"]  # by its own name, not a scratch file's
    assert [path.name for path in captures.examples("a")] == ["me__1.png", "me__2.png", "ann__3.png"]
    assert captures.people("a") == {"me": 2, "ann": 1}  # a file name that says who wins
    assert np.array_equal(captures.face(captures.examples("a")[0]), crop)
    assert captures.original(captures.examples("a")[1]) is not None
    assert not list(captures.root.glob(".upload-*"))  # the scratch folder is gone


def test_a_folder_of_class_folders_brings_its_classes_and_people(captures, tmp_path):
    rng = np.random.default_rng(0)
    for name, person in (("happy", "anna"), ("happy", "ben"), ("bored", "anna")):
        folder = tmp_path / "lab" / name / person
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(3):
            Image.fromarray(face_pattern(3, rng)).save(folder / f"{index}.png")
    Image.fromarray(blank()).save(tmp_path / "lab" / "bored" / "empty.png")
    captures.add_class("bored")
    captures.add_face("bored", faces(1)[0], "me")
    added = captures.add_folder(tmp_path / "lab")
    assert added.added == 9 and added.classes == ["bored", "happy"]
    assert added.no_face == ["bored/empty.png"]
    assert captures.counts() == {"bored": 4, "happy": 6}
    assert captures.people("happy") == {"anna": 3, "ben": 3}
    with pytest.raises(CaptureError, match="no dataset at nowhere: give a folder") as refused:
        captures.add_folder(tmp_path / "nowhere")
    assert str(tmp_path) not in str(refused.value)  # a page shows it: no server folder named


# --- keeping it -------------------------------------------------------------------------------------------

def test_a_saved_set_is_a_dataset_folder_the_reader_and_the_trainer_take(captures, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data"
    captures.add_class("thumbs up")
    captures.add_class("wave")
    captures.add_faces("thumbs up", [(face, "me", one_face()) for face in faces(3)])
    captures.add_faces("wave", [(face, "ann", None) for face in faces(2, seed=1)])
    saved = captures.save("my classes", originals=True)
    assert saved == tmp_path / "data" / "my classes"
    dataset = load_dataset(saved, cache_dir=tmp_path / "cache")
    assert dataset.classes == ["thumbs up", "wave"] and dataset.skipped == []
    split = dataset.split("my classes")
    assert sorted(split.people) == ["ann", "ann", "me", "me", "me"]
    assert len(list((saved / ".originals" / "thumbs up").glob("*.jpg"))) == 3  # hidden: not read as a class
    with pytest.raises(CaptureError, match="^'my classes' already exists: choose another name$"):
        captures.save("my classes")
    with pytest.raises(CaptureError, match="cannot name a folder"):
        captures.save("../elsewhere")
    with zipfile.ZipFile(io.BytesIO(captures.as_zip("mine"))) as archive:
        names = sorted(archive.namelist())
        assert names[:2] == ["mine/.own-classes", "mine/thumbs up/me__1.png"] and len(names) == 6  # marked as own


def test_each_session_has_its_own_private_folder(tmp_path):
    first, second = new_session_id(), new_session_id()
    assert first != second
    a, b = session_folder(first, tmp_path), session_folder(second, tmp_path)
    assert a != b and a.parent == b.parent == tmp_path
    assert stat.S_IMODE(a.stat().st_mode) == 0o700
    CaptureSet(a).add_class("mine")
    assert CaptureSet(b).classes() == [] and CaptureSet(session_folder(first, tmp_path)).classes() == ["mine"]
    for bad in ("../etc", "", "A" * 32, first[:-1]):
        with pytest.raises(CaptureError):
            session_folder(bad, tmp_path)


def test_sessions_root_is_private_and_stale_sessions_go(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = session_folder(new_session_id())
    assert stat.S_IMODE(old.parent.stat().st_mode) == 0o700 and old.parent.parent == tmp_path
    long_ago = time.time() - core.data.captures.SESSION_MAX_AGE_S - 60
    os.utime(old, (long_ago, long_ago))
    fresh = session_folder(new_session_id())
    assert fresh.exists() and not old.exists()


# --- recording from webcam frames -----------------------------------------------------------------------------

def test_the_recorder_keeps_one_face_a_frame_and_counts_the_frames_it_leaves_out():
    recorder = Recorder(per_second=100)
    assert recorder.on_frame(blank()) is not None and recorder.tally().kept == 0  # not recording: nothing examined
    recorder.record("wave", person="me", keep_frames=True)
    for frame in (one_face(), blank(), two_faces()):
        recorder.process(frame, ("wave", "me", True, 0))
    tally = recorder.tally()
    assert (tally.class_name, tally.kept, tally.no_face, tally.several_faces) == ("wave", 1, 1, 1)
    [capture] = recorder.take()
    assert capture.class_name == "wave" and capture.person == "me" and capture.face.shape == (48, 48)
    assert capture.frame is not None and recorder.take() == []
    drawn = recorder.on_frame(one_face())
    assert drawn.shape == one_face().shape and not np.array_equal(drawn, one_face())  # REC and the face drawn
    recorder.record("other")
    assert recorder.tally().kept == 0 and recorder.recording == "other"
    recorder.stop()
    assert recorder.recording is None


def test_faces_recorded_before_a_class_is_emptied_never_come_back():
    """Emptied while faces wait for the page, and while a frame of it is still being examined: neither is kept."""
    recorder = Recorder(per_second=100)
    recorder.record("wave", person="me")
    recorder.process(one_face(), ("wave", "me", False, 0))
    recorder.process(one_face(), ("smile", "me", False, 0))
    recorder.forget("wave")
    assert [capture.class_name for capture in recorder.take()] == ["smile"]
    recorder.process(one_face(), ("wave", "me", False, 0))  # handed over before: late
    assert recorder.take() == []
    with recorder._lock:
        target = recorder._target
    recorder.process(one_face(), target)  # recorded after: kept
    assert [capture.class_name for capture in recorder.take()] == ["wave"]


class Counting(FrameWorker):
    def __init__(self, per_second):
        super().__init__(per_second, idle_s=0.3)
        self.seen = []

    def process(self, picture, context):
        self.seen.append((time.monotonic(), context))


def test_a_frame_worker_takes_the_latest_frame_at_most_its_rate_and_ends_when_idle():
    worker = Counting(per_second=10)
    start = time.monotonic()
    for index in range(30):  # 30 frames handed over within ~0.3 s
        worker.offer(None, index)
        time.sleep(0.01)
    assert worker.settle(5)
    times = [when for when, _ in worker.seen]
    assert worker.seen[-1][1] == 29  # the last frame is always processed
    assert len(times) <= (times[-1] - start) * 10 + 2  # at most ten a second
    assert all(later - earlier >= 0.09 for earlier, later in zip(times, times[1:]))
    deadline = time.monotonic() + 5
    while worker._thread is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker._thread is None  # idle: its thread ended
    worker.offer(None, "again")  # and a new one starts
    assert worker.settle(5) and worker.seen[-1][1] == "again"


def test_the_recorder_thread_keeps_faces_from_frames_handed_over():
    recorder = Recorder(per_second=50)
    recorder.warm_up()  # builds its face detector: nothing counted or kept
    assert recorder.settle(120) and recorder.tally().no_face == 0 and recorder.take() == []
    recorder.record("wave", "me")
    recorder.on_frame(one_face())
    assert recorder.settle(120), recorder.error
    assert [capture.class_name for capture in recorder.take()] == ["wave"] and recorder.error == ""


def test_live_prediction_draws_the_latest_faces_on_every_frame():
    face = SimpleNamespace(box=(90, 40, 220, 220), classes=["a", "b"], probabilities=np.array([0.2, 0.8]),
                           emotion="b", confidence=0.8)
    predictor = SimpleNamespace(predict_rgb=lambda picture, detection, views: [face])
    live = LivePredictor(predictor)
    live.on_frame(one_face())
    assert live.settle(10) and live.frames == 1 and live.latest() == [face]
    drawn = live.on_frame(one_face())
    assert not np.array_equal(drawn, one_face())  # the box and "1 b 80%" drawn


def test_the_text_beside_the_live_video_is_the_answer_drawn_on_it(monkeypatch):
    import cv2

    import core.prediction.recording
    from core.prediction.pictures import FacePrediction

    def answer(smile: float) -> list:
        return [FacePrediction((90, 40, 220, 220), np.array([smile, 1 - smile]), ["smile", "surprise"])]
    now = {"faces": answer(0.51)}
    live = LivePredictor(SimpleNamespace(predict_rgb=lambda picture, detection, views: now["faces"]))
    drawn = []
    monkeypatch.setattr(cv2, "putText", lambda canvas, text, *rest, **options: drawn.append(text))
    live.on_frame(one_face())  # nothing classified yet: nothing drawn, nothing said
    assert live.settle(10), live.error
    assert drawn == [] and live.shown().faces == ()
    live.on_frame(one_face())
    assert live.settle(10), live.error
    assert drawn == ["1 smile 51%"]
    now["faces"] = answer(0.48)
    live.process(one_face(), None)  # a newer answer, not drawn on the video yet
    assert live.latest()[0].emotion == "surprise"
    assert live.shown().text() == "1 smile 51% (surprise 49%)"  # what the video shows now, in full
    live.on_frame(one_face())
    assert live.settle(10), live.error
    assert drawn[-1] == "1 surprise 52%" and live.shown().text() == "1 surprise 52% (smile 48%)"
    monkeypatch.setattr(core.prediction.recording, "PREDICTION_SHOWN_S", 0.0)  # every answer too old to draw
    live.on_frame(one_face())
    assert live.settle(10), live.error
    assert drawn[-1] == "1 surprise 52%" and live.shown().faces == ()  # nothing drawn, nothing said
