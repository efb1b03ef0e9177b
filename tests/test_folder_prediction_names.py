"""A folder's CSV read back exactly as it was written: photo names holding newlines, commas and quotes resume
without a duplicated or lost row, and a second run on one CSV at once is refused in one line."""

import csv
import fcntl
import os
from pathlib import Path

import cv2
import pytest
from skimage import data as skimage_data

from core.prediction.folders import predict_folder, resume_point
from core.prediction.pictures import FacePredictor
from tests.hostile import refused
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)

NAMES = ["plain.png", "new\nline.png", 'comma, "quoted".png', "crlf\r\nname.png", "trailing quote\".png",
         "z-last\n.png"]


class Stop(Exception):
    """Stands for a kill in the middle of a run."""


@pytest.fixture(scope="module")
def predictor(tiny_model) -> FacePredictor:
    return FacePredictor(tiny_model, views="single")


@pytest.fixture
def hostile_names(tmp_path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    face = cv2.cvtColor(skimage_data.astronaut()[30:230, 120:320], cv2.COLOR_RGB2BGR)  # her face, 200x200
    for index, name in enumerate(NAMES):
        cv2.imwrite(str(root / "p.png"), cv2.resize(face, (64 + index, 64 + index)))
        os.replace(root / "p.png", root / name)
    return root


def photos_in(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as file:
        return [row[0] for row in list(csv.reader(file))[1:]]


def test_names_with_newlines_commas_and_quotes_resume_without_a_duplicate(predictor, hostile_names, tmp_path):
    whole = tmp_path / "whole.csv"
    predict_folder(predictor, hostile_names, whole, workers=1)
    assert sorted(set(photos_in(whole))) == sorted(NAMES)
    stopped = tmp_path / "stopped.csv"

    def stop_after_three(done, total):
        if done >= 3:
            raise Stop
    with pytest.raises(Stop):
        predict_folder(predictor, hostile_names, stopped, workers=1, progress=stop_after_three, faces_per_batch=1)
    first = photos_in(stopped)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(stopped.read_bytes())
    assert resume_point(copy, predictor.classes) == set(first[:-1])  # all but the last photo, by exact name
    counts = predict_folder(predictor, hostile_names, stopped, workers=1)
    assert counts["resumed"] == len(set(first)) - 1
    assert photos_in(stopped) == photos_in(whole)
    assert predict_folder(predictor, hostile_names, stopped)["resumed"] == len(NAMES) - 1  # only the last redone
    assert photos_in(stopped) == photos_in(whole)


@pytest.mark.parametrize("torn", ['"torn\nname.png",1,', '"torn\n', "plain-torn.png,1,2", '"new\nline.png",1,5,'])
def test_a_record_torn_anywhere_is_cut_with_its_photo(predictor, hostile_names, tmp_path, torn):
    out = tmp_path / "out.csv"
    predict_folder(predictor, hostile_names, out, workers=1)
    complete = out.read_bytes()
    with open(out, "a", newline="", encoding="utf-8") as file:
        file.write(torn)
    assert resume_point(out, predictor.classes) == set(NAMES) - {sorted(NAMES)[-1]}
    last_start = complete.rindex(b'"z-last\n.png"')
    assert out.read_bytes() == complete[:last_start]


def test_a_name_that_is_not_utf8_is_written_and_resumed_exactly(predictor, hostile_names, tmp_path):
    os.replace(hostile_names / "plain.png", os.path.join(os.fsencode(hostile_names), b"caf\xe9.png"))
    out = tmp_path / "out.csv"
    predict_folder(predictor, hostile_names, out, workers=1)
    assert predict_folder(predictor, hostile_names, out)["resumed"] == len(NAMES) - 1


def test_a_second_run_on_the_same_csv_is_refused_while_the_first_writes(capsys, predictor, hostile_names, tiny_model,
                                                                        tmp_path):
    out = tmp_path / "out.csv"
    predict_folder(predictor, hostile_names, out, workers=1)
    before = out.read_bytes()
    with open(out, "a") as first_run:  # what a run holds while it writes (another process alike)
        fcntl.flock(first_run.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match="is being written by another run of this command right now"):
            predict_folder(predictor, hostile_names, out)
        refused(capsys, "predict", tiny_model, hostile_names, "--csv", out, match=f"{out} is being written by another")
    assert out.read_bytes() == before
    assert predict_folder(predictor, hostile_names, out)["resumed"] == len(NAMES) - 1  # free again once it ended
