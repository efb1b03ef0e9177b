"""A folder of photos into a CSV (core.prediction.folders): rows per photo, streaming, and resuming a
stopped run without duplicating or skipping a photo."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from core.cli import main
from core.data.emotions import EMOTIONS
from core.prediction.folders import columns, photo_paths, predict_folder

COLUMNS = columns(list(EMOTIONS))
from core.prediction.pictures import FacePredictor
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import face_pattern


class Stop(Exception):
    """Stands for a kill in the middle of a run."""


@pytest.fixture(scope="module")
def predictor(tiny_model) -> FacePredictor:
    return FacePredictor(tiny_model, views="single")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """A folder tree of photos and the number of faces each holds (-1: unreadable).

    Small gray pictures that may show a face (not flat, not noise: core.vision.faces.not_a_face_crop) are taken whole
    as one face crop; the astronaut has one face a detector finds.
    """
    root = tmp_path_factory.mktemp("photos")
    (root / "b" / "deeper").mkdir(parents=True)
    (root / "a").mkdir()
    rng = np.random.default_rng(0)
    expected = {}
    for index in range(21):
        photo = f"{'ab'[index % 2]}/{index:02d}.png" if index % 3 else f"b/deeper/{index:02d}.jpg"
        Image.fromarray(face_pattern(index % 7, rng)).save(root / photo)
        expected[photo] = 1
    Image.fromarray(skimage_data.astronaut()).save(root / "astronaut.jpg")
    Image.fromarray(np.full((200, 260, 3), 128, np.uint8)).save(root / "a" / "blank.png")
    (root / "a" / "broken.jpg").write_bytes(b"not a photo")
    (root / "notes.txt").write_text("not a photo either, and not listed")
    expected |= {"astronaut.jpg": 1, "a/blank.png": 0, "a/broken.jpg": -1}
    return root, expected


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def check_rows(rows: list[dict], expected: dict[str, int]) -> None:
    """Each photo's rows once, in a block: one per face, or one saying no face or why it is unreadable."""
    blocks = [row["photo"] for i, row in enumerate(rows) if i == 0 or rows[i - 1]["photo"] != row["photo"]]
    assert sorted(blocks) == sorted(expected), "a photo is missing or written twice"
    for photo, faces in expected.items():
        mine = [row for row in rows if row["photo"] == photo]
        if faces == -1:
            assert len(mine) == 1 and mine[0]["error"].startswith("unreadable") and mine[0]["face"] == ""
        elif faces == 0:
            assert len(mine) == 1 and mine[0]["face"] == "0" and mine[0]["emotion"] == ""
        else:
            assert [row["face"] for row in mine] == [str(n) for n in range(1, faces + 1)]
            assert sum(float(mine[0][e]) for e in COLUMNS[8:15]) == pytest.approx(1, abs=1e-3)


def test_every_photo_gets_its_rows_and_progress_is_reported(predictor, photos, tmp_path):
    root, expected = photos
    assert sorted(photo_paths(root)) == sorted(expected)
    seen = []
    counts = predict_folder(predictor, root, tmp_path / "out.csv", workers=2,
                            progress=lambda done, total: seen.append((done, total)), faces_per_batch=5)
    assert counts == {"photos": 24, "resumed": 0, "faces": 22, "no_face": 1, "errors": 1}
    rows = read_rows(tmp_path / "out.csv")
    check_rows(rows, expected)
    assert [row["photo"] for row in rows] == [p for p in photo_paths(root) for _ in range(max(1, expected[p]))]
    assert seen[-1] == (24, 24) and len(seen) > 3 and [d for d, _ in seen] == sorted(d for d, _ in seen)
    astronaut = next(row for row in rows if row["photo"] == "astronaut.jpg")
    x, y, w, h = (int(astronaut[k]) for k in ("x", "y", "width", "height"))
    assert x < 222 < x + w and y < 112 < y + h  # the detector's box on her face


def test_a_stopped_run_resumes_without_duplicating_or_skipping(predictor, photos, tmp_path):
    root, expected = photos
    whole = tmp_path / "whole.csv"
    predict_folder(predictor, root, whole, workers=2, faces_per_batch=4)
    stopped = tmp_path / "stopped.csv"

    def stop_after_two_batches(done, total):
        if done >= 8:
            raise Stop

    with pytest.raises(Stop):
        predict_folder(predictor, root, stopped, workers=2, progress=stop_after_two_batches, faces_per_batch=4)
    first = read_rows(stopped)
    assert 0 < len(first) < len(read_rows(whole))
    with open(stopped, "a") as file:  # a kill in the middle of writing a row
        file.write("b/deeper/99.jpg,1,3,4,")
    counts = predict_folder(predictor, root, stopped, workers=2, faces_per_batch=4)
    assert counts["resumed"] == len({row["photo"] for row in first}) - 1  # the last one is done again
    rows = read_rows(stopped)
    check_rows(rows, expected)
    reference = read_rows(whole)
    assert [(r["photo"], r["face"], r["x"]) for r in rows] == [(r["photo"], r["face"], r["x"]) for r in reference]
    for row, again in zip(rows, reference):
        assert [float(row[e] or 0) for e in COLUMNS[8:15]] == pytest.approx([float(again[e] or 0)
                                                                              for e in COLUMNS[8:15]], abs=2e-3)
    assert predict_folder(predictor, root, stopped)["resumed"] == 23  # finished: only the last one is redone
    check_rows(read_rows(stopped), expected)


def test_command_line_writes_the_csv_and_refuses_a_foreign_one(tiny_model, photos, tmp_path, capsys):
    root, expected = photos
    out = tmp_path / "cli.csv"
    assert main(["predict", str(tiny_model), str(root), "--csv", str(out), "--views", "single"]) == 0
    assert "24 photos (0 from an earlier run), 22 faces" in capsys.readouterr().out
    check_rows(read_rows(out), expected)
    assert main(["predict", str(tiny_model), str(root)]) == 2
    assert "add --csv FILE" in capsys.readouterr().err
    foreign = tmp_path / "mine.csv"
    foreign.write_text("name,score\nalice,3\n")
    assert main(["predict", str(tiny_model), str(root), "--csv", str(foreign)]) == 2
    assert "not a CSV written by this command" in capsys.readouterr().err
    assert foreign.read_text() == "name,score\nalice,3\n"
