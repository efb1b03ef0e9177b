"""Face detection, cropping and classification on a real portrait and on synthetic pictures."""

import numpy as np
import pytest
from skimage import data as skimage_data

from core.vision.faces import PHOTO, VIDEO, crop_face, detect_faces
from core.vision.imaging import ImageError
from core.models.store import ModelError, load_model
from core.prediction.pictures import FacePredictor, draw_predictions
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import face_pattern

# The astronaut's face in skimage.data.astronaut() (512x512): roughly x 175-270, y 60-165.
ASTRONAUT_FACE_CENTRE = (222, 112)


@pytest.fixture(scope="module")
def predictor(tiny_model) -> FacePredictor:
    return FacePredictor(tiny_model)


@pytest.mark.parametrize("detection", [PHOTO, VIDEO], ids=["mtcnn", "haar"])
def test_both_detectors_find_the_astronauts_face(detection):
    gray = skimage_data.astronaut().mean(axis=2).astype(np.uint8)
    boxes = detect_faces(gray, detection)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    assert x < ASTRONAUT_FACE_CENTRE[0] < x + w and y < ASTRONAUT_FACE_CENTRE[1] < y + h
    assert 60 < w < 160
    assert crop_face(gray, boxes[0]).shape == (48, 48)


def test_predictor_returns_a_box_and_seven_probabilities_per_face(predictor):
    faces = predictor.predict_rgb(skimage_data.astronaut())
    assert len(faces) == 1
    assert faces[0].probabilities.shape == (7,)
    assert faces[0].probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    described = faces[0].as_dict()
    assert described["emotion"] == faces[0].emotion and set(described["probabilities"]) >= {"happy", "sad"}
    annotated = draw_predictions(skimage_data.astronaut(), faces)
    assert annotated.shape == (512, 512, 3) and not np.array_equal(annotated, skimage_data.astronaut())


def test_a_48x48_face_crop_is_classified_whole(predictor, tiny_data):
    crop = next((tiny_data / "test" / "happy").glob("*.png")).read_bytes()
    picture, faces = predictor.predict_file(crop)
    assert picture.shape == (48, 48, 3)
    assert len(faces) == 1 and faces[0].box == (0, 0, 48, 48)


def test_a_picture_without_a_face_is_an_empty_answer(predictor):
    landscape = np.full((300, 400, 3), 120, np.uint8)
    assert predictor.predict_rgb(landscape) == []


def test_many_pictures_at_once_keep_their_own_faces(predictor):
    results = predictor.predict_many([np.full((300, 400, 3), 90, np.uint8), skimage_data.astronaut(),
                                      face_pattern(3, np.random.default_rng(0)), np.zeros((48, 48), np.uint8)])
    assert [len(faces) for faces in results] == [0, 1, 1, 0]  # a flat crop is no face (core.vision.faces.not_a_face_crop)


@pytest.mark.parametrize("content, reason", [(b"", "empty"), (b"hello, not a picture", "not an image"),
                                             (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "unreadable|not an image")])
def test_bad_uploads_raise_a_clear_image_error(predictor, content, reason):
    with pytest.raises(ImageError, match=reason):
        predictor.predict_file(content)


def test_loading_rejects_missing_and_fake_models(tmp_path):
    with pytest.raises(ModelError, match="no model"):
        load_model(tmp_path / "nothing")
    fake = tmp_path / "fake.keras"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelError, match="not a valid .keras file"):
        load_model(fake)
    text = tmp_path / "weights.txt"
    text.write_text("x")
    with pytest.raises(ModelError, match="not a .keras model file"):
        load_model(text)


def test_warm_up_traces_the_model_so_the_first_frame_does_not(tiny_model):
    predictor = FacePredictor(tiny_model)
    assert predictor.model.predict_function is None  # nothing traced yet: the first frame would pay for it
    predictor.warm_up()
    traced = predictor.model.predict_function.experimental_get_tracing_count()
    for faces in (1, 2, 3):  # a webcam frame with one to three faces, both views modes
        predictor.predict_rgb(np.zeros((64 * faces, 64, 3), np.uint8))
        predictor.classify_faces(np.zeros((faces, 48, 48), np.uint8), "mirror")
    assert predictor.model.predict_function.experimental_get_tracing_count() == traced
