"""Face finding on pictures made from ../shared/photos (tests/screens_and_crowds.py): a phone screenshot's clock,
icons and text are no face, nor is a webcam photo of a phone cut through its portrait's eyes; faces cut by the
picture's edges or partly hidden are faces, a portrait cut through the eyes is none. The press photos keep
every face with no false box in tests/test_real_photos.py, which runs the same detector."""

import numpy as np
import pytest

from core.vision.faces import locate_faces
from core.vision.imaging import read_image
from tests.real_photos import FACES, PHOTOS, score
from tests.screens_and_crowds import (CUT_BY_EDGES, HIDDEN, PHONE_SHOTS, crowds, edge_cuts, eye_cuts, phone_photo,
                                      screenshot)


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


@pytest.mark.parametrize("name, share", [("img19.jpg", 0.3), ("img48.jpg", 0.3), ("img53.jpg", 0.3),
                                         ("img29.jpg", 0.2), ("couple.jpg", 0.2), ("img18.jpg", 0.2)])
def test_a_face_cut_by_a_sliver_at_the_right_edge_is_found_once(photos, name, share):
    """Mirrored outwards, a face cut by a sliver meets its own reflection and scored under the bound (found
    when mirrored, at the left edge); the picture as it is finds it. Half of it is not boxed again, nor is his
    shirt collar at the edge, which the mirror completes into a face half as wide as his (img18)."""
    centre_x, centre_y, width = FACES[name][0]
    cut = np.ascontiguousarray(photos[name][:, :int(centre_x + width / 2 - share * width)])
    faces = [face for face in FACES[name] if face[0] < cut.shape[1]]
    assert score(faces, [face.box for face in locate_faces(cut)]) == (len(faces), 0)


def test_a_crowded_selfie_finds_the_faces_cut_by_its_edges_and_partly_hidden(photos):
    [(_, picture, faces)] = [made for made in crowds(photos) if made[0] == "crowd 2 hidden"]
    boxes = [face.box for face in locate_faces(picture)]
    assert score(faces[:CUT_BY_EDGES], boxes)[0] == CUT_BY_EDGES
    assert score([faces[index] for index in HIDDEN], boxes)[0] == len(HIDDEN)
    assert score(faces, boxes) == (len(faces), 0), boxes


def test_a_phone_held_close_to_the_webcam_shows_no_face_where_its_portrait_is_cut_through_the_eyes(photos):
    # the phone fills the frame and more: its status bar (clock "10:08") at the top edge, the portrait's
    # forehead and eyes at the bottom edge, which the mirror used to complete into a face
    picture, faces = phone_photo(photos["img18.jpg"], "img18.jpg", *PHONE_SHOTS[5], theme="light", clock="10:08")
    assert faces == []
    assert [face.box for face in locate_faces(picture)] == []


def test_a_photographed_phones_portrait_is_its_only_face(photos):
    picture, faces = phone_photo(photos["img11_reflection.jpg"], "img11_reflection.jpg", *PHONE_SHOTS[1])
    assert score(faces, [face.box for face in locate_faces(picture)]) == (1, 0)


@pytest.mark.parametrize("name", ["img18.jpg", "img2.jpg"])
def test_a_portrait_cut_through_the_eyes_has_no_face_and_through_the_nose_keeps_it(photos, name):
    made = {label: (picture, faces) for label, picture, faces in eye_cuts({name: photos[name]})}
    picture, faces = made[f"{name} cut through the eyes"]
    assert faces == [] and [face.box for face in locate_faces(picture)] == []  # forehead and hair only
    picture, faces = made[f"{name} cut through the nose"]
    assert score(faces, [face.box for face in locate_faces(picture)]) == (1, 0)
