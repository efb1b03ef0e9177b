"""A small picture is a face crop for Predict only where it may show a face: a flat gray picture and a picture of
noise are no face (with the reason), real FER-2013 crops still are, and dataset ingest takes every crop whole."""

import numpy as np
import pytest
from PIL import Image

from core.data.dataset import decode_face
from core.vision.faces import find_and_crop, no_face_reason, not_a_face_crop
from tests.hostile import command
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import face_pattern


@pytest.fixture
def not_faces(tmp_path):
    Image.fromarray(np.full((90, 90), 128, np.uint8)).save(tmp_path / "gray.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(tmp_path / "noise.png")
    return tmp_path / "gray.png", tmp_path / "noise.png"


def test_a_flat_gray_picture_and_a_picture_of_noise_are_no_face_for_predict(capsys, tiny_model, not_faces, tmp_path):
    Image.fromarray(face_pattern(3, np.random.default_rng(0))).save(tmp_path / "crop.png")
    code, out, err = command(capsys, "predict", tiny_model, *not_faces, tmp_path / "crop.png")
    gray, noise, crop = out.strip().splitlines()
    assert code == 0 and "Traceback" not in err
    assert gray == f"{not_faces[0]}: no face: a small picture (90x90) taken as a face crop must show one, and this " \
                   "is a flat picture (one shade of gray)"
    assert noise.startswith(f"{not_faces[1]}: no face: a small picture (96x96)") and "noise" in noise
    assert crop.startswith(f"{tmp_path / 'crop.png'}: ") and "at box [0, 0, 48, 48]" in crop


def test_ingest_keeps_taking_every_small_picture_whole(not_faces):
    for path in not_faces:
        assert decode_face(path).pixels.shape == (48, 48)
        picture = np.asarray(Image.open(path).convert("RGB"))
        boxes, crops = find_and_crop(picture)  # as Predict looks: no face
        assert boxes == [] and crops.shape == (0, 48, 48)
        boxes, crops = find_and_crop(picture, any_small_picture=True)  # as ingest takes them
        assert boxes == [(0, 0, picture.shape[1], picture.shape[0])] and crops.shape == (1, 48, 48)
        assert no_face_reason(picture).startswith("no face: a small picture")


def test_real_face_crops_are_still_faces(shared_fer):
    crops = sorted((shared_fer / "test" / "happy").iterdir())[:200]
    refused = [path.name for path in crops if not_a_face_crop(np.asarray(Image.open(path).convert("L")))]
    assert not refused  # bench/face_crops.py: 2 of the 3,589 test crops refused, a blank one and specks on white


def test_a_crop_with_flat_rows_or_columns_is_not_mistaken_for_noise():
    stripes = np.tile(np.repeat(np.arange(0, 240, 40, dtype=np.uint8), 8), (48, 1))  # vertical bands
    assert not_a_face_crop(stripes) == ""
    assert not_a_face_crop(np.full((48, 48), 3, np.uint8)).startswith("a flat picture")
