"""Face finding on pictures made from ../shared/photos (tests/screens_and_crowds.py): a phone screenshot's clock,
icons and text are no face; faces cut by the picture's edges or partly hidden are faces. The press photos keep
every face with no false box in tests/test_real_photos.py, which runs the same detector."""

import numpy as np
import pytest

from core.vision.faces import locate_faces
from core.vision.imaging import read_image
from tests.real_photos import FACES, PHOTOS, score
from tests.screens_and_crowds import CUT_BY_EDGES, HIDDEN, crowds, edge_cuts, screenshot


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    if not PHOTOS.is_dir():
        pytest.skip(f"the real photos are not at {PHOTOS} (see shared/photos/README.md)")
    return {name: read_image(PHOTOS / name, "RGB") for name in FACES}


@pytest.mark.parametrize("kind, theme, width", [("lock", "light", 540), ("home", "dark", 1080), ("chat", "light", 540)])
def test_a_screenshots_clock_icons_and_text_are_no_face(kind, theme, width):
    picture, _ = screenshot(kind, theme, "11:35", width)
    assert locate_faces(picture) == []


def test_a_face_in_a_screenshot_is_its_only_face(photos):
    picture, faces = screenshot("chat", "dark", "11:35", 1080, face=(photos["img18.jpg"], "img18.jpg"))
    assert score(faces, [face.box for face in locate_faces(picture)]) == (1, 0)


@pytest.mark.parametrize("label", ["couple.jpg cut left", "img12.jpg cut right", "img13.jpg cut bottom",
                                   "img29.jpg cut top"])
def test_a_face_cut_by_the_edge_is_found_once_inside_the_picture(photos, label):
    [(_, picture, faces)] = [made for made in edge_cuts(photos) if made[0] == label]
    found = locate_faces(picture)
    assert score(faces, [face.box for face in found]) == (len(faces), 0), [face.box for face in found]
    for face in found:  # clipped to the picture, with its eyes for alignment
        x, y, w, h = face.box
        assert 0 <= x and 0 <= y and x + w <= picture.shape[1] and y + h <= picture.shape[0] and face.eyes


def test_a_crowded_selfie_finds_the_faces_cut_by_its_edges_and_partly_hidden(photos):
    [(_, picture, faces)] = [made for made in crowds(photos) if made[0] == "crowd 2 hidden"]
    boxes = [face.box for face in locate_faces(picture)]
    assert score(faces[:CUT_BY_EDGES], boxes)[0] == CUT_BY_EDGES
    assert score([faces[index] for index in HIDDEN], boxes)[0] == len(HIDDEN)
    assert score(faces, boxes) == (len(faces), 0), boxes
