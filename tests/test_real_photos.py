"""Face finding on real photos (../shared/photos: 15 press photos, 16 faces, listed in tests/real_photos.py):
every face found with no false box, also turned 30 degrees, and in a group of 7; turned faces come out
upright, framed as FER-2013 frames its faces."""

import numpy as np
import pytest

from core.vision.faces import FER_EYE_CENTRE, FER_EYE_DISTANCE, crop_face, find_and_crop, locate_faces
from core.vision.imaging import read_image
from tests.real_photos import FACES, PHOTOS, group_photo, rotated, score


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    if not PHOTOS.is_dir():
        pytest.skip(f"the real photos are not at {PHOTOS} (see shared/photos/README.md)")
    return {name: read_image(PHOTOS / name, "RGB") for name in FACES}


@pytest.mark.parametrize("name", sorted(FACES))
def test_every_face_is_found_with_no_false_box(photos, name):
    faces = locate_faces(photos[name])
    assert score(FACES[name], [face.box for face in faces]) == (len(FACES[name]), 0), [f.box for f in faces]
    for face in faces:  # the eyes lie in the upper part of the box, the left one first
        (left_x, left_y), (right_x, right_y) = face.eyes
        x, y, w, h = face.box
        assert x < left_x < right_x < x + w and y < min(left_y, right_y) <= max(left_y, right_y) < y + 0.6 * h


def test_faces_turned_30_degrees_are_found_and_come_out_upright(photos):
    for name in ("img2.jpg", "img29.jpg", "couple.jpg"):
        upright_boxes, upright = find_and_crop(photos[name])
        for degrees in (30, -30):
            picture, faces = rotated(photos[name], FACES[name], degrees)
            boxes, crops = find_and_crop(picture)
            assert score(faces, boxes) == (len(faces), 0), (name, degrees, boxes)
            gray = picture.mean(axis=2).astype(np.uint8)
            for box, crop, straight in zip(boxes, crops, upright):  # largest first in both
                aligned = np.corrcoef(crop.ravel(), straight.ravel())[0, 1]
                tilted = np.corrcoef(crop_face(gray, box).ravel(), straight.ravel())[0, 1]  # the box, not turned
                assert aligned > 0.6 and aligned > tilted + 0.3, (name, degrees, aligned, tilted)


def test_a_group_of_7_finds_all_7_largest_first(photos):
    picture, faces = group_photo(photos)
    found = locate_faces(picture)
    assert score(faces, [face.box for face in found]) == (7, 0)
    widths = [face.box[2] for face in found]
    assert widths == sorted(widths, reverse=True)


def test_an_aligned_face_has_its_eyes_where_fer_2013_has_them(photos):
    boxes, crops = find_and_crop(photos["img18.jpg"])
    [again] = locate_faces(np.dstack([crops[0]] * 3).repeat(4, 0).repeat(4, 1))  # the crop, 4x: where are its eyes?
    (left_x, left_y), (right_x, right_y) = (np.array(eye) / 4 for eye in again.eyes)
    assert abs((left_x + right_x) / 2 - FER_EYE_CENTRE[0]) < 2.5
    assert abs((left_y + right_y) / 2 - FER_EYE_CENTRE[1]) < 2.5
    assert abs((right_x - left_x) - FER_EYE_DISTANCE) < 3 and abs(right_y - left_y) < 2
