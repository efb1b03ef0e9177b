"""Predict's results out: every face as numbers in a table, CSV and JSON downloads, annotated pictures in a zip."""

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from skimage import data as skimage_data

from core.data.emotions import EMOTIONS
from core.prediction.pictures import FacePrediction
from core.prediction.results import pictures_zip, results_json, results_table
from tests.app_fixtures import png
from tests.test_app import environment, page  # noqa: F401 (environment: a fixture)


def face(box, emotion: str, confidence: float) -> FacePrediction:
    probabilities = np.full(7, (1 - confidence) / 6)
    probabilities[EMOTIONS.index(emotion)] = confidence
    return FacePrediction(box, probabilities, list(EMOTIONS))


PICTURES = [("party.jpg", [face((10, 20, 50, 50), "happy", 0.7), face((90, 20, 30, 30), "sad", 0.4)]),
            ("empty.png", []),
            ("party.jpg", [face((5, 5, 40, 40), "surprise", 0.9)])]  # the same name uploaded twice


def test_results_table_has_a_row_per_numbered_face_and_round_trips_through_csv():
    table = results_table(PICTURES)
    assert list(table[["picture", "face", "emotion"]].itertuples(index=False, name=None)) == [
        ("party.jpg", 1, "happy"), ("party.jpg", 2, "sad"), ("party.jpg", 1, "surprise")]
    assert list(table.columns[:6]) == ["picture", "face", "x", "y", "width", "height"]
    assert table.loc[1, "sad"] == 0.4 and table.loc[0, "confidence"] == 0.7
    back = pd.read_csv(io.StringIO(table.to_csv(index=False)))
    assert back[list(EMOTIONS)].to_numpy().sum(axis=1) == pytest.approx([1, 1, 1], abs=1e-3)
    parsed = json.loads(results_json(PICTURES))
    assert [len(p["faces"]) for p in parsed] == [2, 0, 1]
    assert parsed[0]["faces"][1] | {"probabilities": None} == {"face": 2, "box": [90, 20, 30, 30], "emotion": "sad",
                                                               "confidence": 0.4, "probabilities": None}


def test_annotated_pictures_zip_keeps_every_picture_under_its_own_name():
    archive = zipfile.ZipFile(io.BytesIO(pictures_zip([("a.jpg", b"one"), ("b.png", b"two"), ("a.jpg", b"three")])))
    assert archive.namelist() == ["a-annotated.jpg", "b-annotated.jpg", "a-2-annotated.jpg"]
    assert archive.read("a-2-annotated.jpg") == b"three"


def test_predict_page_lists_every_face_in_numbers_with_downloads(monkeypatch, trained_runs):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    at = page("predict")
    assert not at.dataframe  # nothing uploaded yet
    portrait = png(skimage_data.astronaut())
    blank = png(np.full((300, 400, 3), 200, np.uint8))
    at.file_uploader[0].set_value([("astronaut.png", portrait, "image/png"), ("blank.png", blank, "image/png"),
                                   ("broken.jpg", b"garbage", "image/jpeg")]).run()
    assert not at.exception, [e.value for e in at.exception]
    [table] = at.dataframe
    assert list(table.value["picture"]) == ["astronaut.png"] and list(table.value["face"]) == [1]
    assert table.value.loc[0, "emotion"] in EMOTIONS
    assert {button.proto.label for button in at.get("download_button")} >= {
        "Faces as CSV", "Pictures and faces as JSON", "Annotated pictures (.zip)"}
