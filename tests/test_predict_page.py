"""The Predict page with real uploads, through AppTest: duplicates, numbering, bounds, tiny pictures, uploads
and results kept across pages, and Grad-CAM's progress."""

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data
from streamlit.testing.v1 import AppTest

import core.models.store
import core.prediction.pictures
import core.storage.uploads
from tests.app_fixtures import record_spinners
from tests.synthetic import face_pattern
from tests.test_app import APP, texts


def jpeg(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def predict_page(monkeypatch, tmp_path, tiny_model) -> AppTest:
    """The Predict page over a runs folder holding only the tiny model."""
    monkeypatch.setenv("FER_RUNS_DIR", str(tiny_model.parent))
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(core.models.store, "DEFAULT_MODEL_DIR", tmp_path / "no-default-model")
    monkeypatch.setattr(core.models.store, "FER2013_MODEL_DIR", tmp_path / "no-fer2013-model")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/predict.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_the_same_photo_uploaded_twice_and_as_a_copy_is_shown_three_times(predict_page):
    photo = jpeg(skimage_data.astronaut())
    predict_page.file_uploader[0].set_value([("me.jpg", photo, "image/jpeg"), ("me.jpg", photo, "image/jpeg"),
                                             ("copy of me.jpg", photo, "image/jpeg")]).run()
    assert not predict_page.exception, [e.value for e in predict_page.exception]  # was StreamlitDuplicateElementId
    assert len(predict_page.image) == 3 and [t.split(":")[0] for t in chart_titles(predict_page)] == ["Face 1"] * 3


def test_faces_are_numbered_largest_first_in_the_bars(predict_page):
    face = skimage_data.astronaut()[30:200, 140:310]
    group = np.full((600, 900, 3), 235, np.uint8)
    group[300:385, 80:165] = face[::2, ::2]  # the small copy first, left
    group[100:440, 450:790] = np.kron(face, np.ones((2, 2, 1), np.uint8))  # the large copy
    predict_page.file_uploader[0].set_value([("two.jpg", jpeg(group), "image/jpeg")]).run()
    assert not predict_page.exception
    assert [t.split(":")[0] for t in chart_titles(predict_page)] == ["Face 1", "Face 2"]


def test_a_one_pixel_picture_is_too_small_to_show_a_face(predict_page):
    dot = io.BytesIO()
    Image.new("RGB", (1, 1), (90, 90, 90)).save(dot, format="PNG")
    predict_page.file_uploader[0].set_value([("dot.png", dot.getvalue(), "image/png")]).run()
    assert not predict_page.exception and predict_page.get("plotly_chart") == []
    assert "dot.png: too small to show a face (1x1 pixels" in texts(predict_page.info)


def test_too_many_uploads_are_bounded_with_one_line(predict_page, monkeypatch):
    monkeypatch.setattr(core.storage.uploads, "MAX_FILES", 2)
    face = jpeg(np.full((48, 48, 3), 120, np.uint8))
    predict_page.file_uploader[0].set_value([(f"{i}.jpg", face, "image/jpeg") for i in range(3)]).run()
    assert not predict_page.exception
    assert "Only the first 2 of 3 pictures are read" in texts(predict_page.warning)
    assert len(predict_page.image) == 2


def test_sixty_uploads_are_all_shown_and_a_rerun_does_not_predict_them_again(predict_page, monkeypatch):
    calls = []
    original = core.prediction.pictures.FacePredictor.predict_file
    monkeypatch.setattr(core.prediction.pictures.FacePredictor, "predict_file",
                        lambda self, data: calls.append(len(data)) or original(self, data))
    rng = np.random.default_rng(2)
    faces = [(f"face-{i}.jpg", jpeg(np.dstack([cv2.resize(face_pattern(i % 7, rng), (64, 64))] * 3)), "image/jpeg")
             for i in range(60)]  # small pictures that may be face crops (not noise: core.vision.faces.not_a_face_crop)
    predict_page.file_uploader[0].set_value(faces).run()
    assert not predict_page.exception, [e.value for e in predict_page.exception]
    assert len(predict_page.image) == 60 and len(predict_page.get("plotly_chart")) == 60 and len(calls) == 60
    predict_page.run()  # what a click elsewhere on the page does
    assert len(predict_page.image) == 60 and len(calls) == 60  # served from this session's results


def test_uploads_and_their_results_are_kept_across_pages_until_cleared(predict_page, monkeypatch):
    calls = []
    original = core.prediction.pictures.FacePredictor.predict_file
    monkeypatch.setattr(core.prediction.pictures.FacePredictor, "predict_file",
                        lambda self, data: calls.append(len(data)) or original(self, data))
    photo = jpeg(skimage_data.astronaut())
    predict_page.file_uploader[0].set_value([("me.jpg", photo, "image/jpeg")]).run()
    assert len(predict_page.image) == 1 and len(calls) == 1
    predict_page.switch_page("app_pages/video.py").run()
    predict_page.switch_page("app_pages/predict.py").run()  # back: Streamlit emptied the uploader
    assert not predict_page.exception, [e.value for e in predict_page.exception]
    assert predict_page.file_uploader[0].value == []
    assert "Kept from before in this browser tab: me.jpg" in texts(predict_page.caption)
    assert len(predict_page.image) == 1 and chart_titles(predict_page)[0].startswith("Face 1")
    assert len(calls) == 1  # shown again, not predicted again
    predict_page.run()  # a click on the page: still kept
    assert len(predict_page.image) == 1 and len(calls) == 1
    predict_page.button(key="predict_photos_clear").click().run()
    assert predict_page.image == [] and "Kept from before" not in texts(predict_page.caption)
    assert predict_page.session_state["predict_results"] == {}


def test_removing_the_uploads_forgets_them(predict_page):
    predict_page.file_uploader[0].set_value([("me.jpg", jpeg(skimage_data.astronaut()), "image/jpeg")]).run()
    predict_page.file_uploader[0].set_value([]).run()
    assert predict_page.image == [] and "Kept from before" not in texts(predict_page.caption)


def test_grad_cam_shows_its_progress_while_it_works_and_is_kept(predict_page, monkeypatch):
    spinning, explained = record_spinners(monkeypatch), []
    original = core.prediction.pictures.FacePredictor.explain
    monkeypatch.setattr(core.prediction.pictures.FacePredictor, "explain",
                        lambda self, faces: explained.append(spinning[-1:]) or original(self, faces))
    predict_page.file_uploader[0].set_value([("me.jpg", jpeg(skimage_data.astronaut()), "image/jpeg")]).run()
    next(t for t in predict_page.toggle if t.label == "Why this label?").set_value(True).run()
    assert not predict_page.exception, [e.value for e in predict_page.exception]
    assert len(explained) == 1 and explained[0][0].startswith("Face 1: finding where the model saw")  # inside it
    assert "where it saw" in predict_page.image[1].proto.imgs[0].caption
    predict_page.run()  # a rerun with the toggle on: the picture kept, not worked out again
    assert len(predict_page.image) == 2 and len(explained) == 1
