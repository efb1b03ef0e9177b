"""The faces in ../shared/photos (15 press photos, 16 faces; see its README.md), each listed by hand:
its centre and width in the photo's own pixels (upright, EXIF applied), read off a checked drawing.

Used by tests/test_real_photos.py and bench/detectors.py to count faces found and false boxes.
"""

from pathlib import Path

import cv2
import numpy as np

PHOTOS = Path(__file__).resolve().parent.parent.parent / "shared" / "photos"

# photo -> [(centre x, centre y, face width), ...]
FACES = {
    "couple.jpg": [(707, 918, 717), (1776, 674, 660)],
    "img11_reflection.jpg": [(574, 520, 705)],
    "img12.jpg": [(287, 162, 175)],
    "img13.jpg": [(977, 469, 482)],
    "img14.jpg": [(419, 172, 175)],
    "img18.jpg": [(596, 488, 512)],
    "img19.jpg": [(556, 559, 699)],
    "img2.jpg": [(771, 448, 506)],
    "img26.jpg": [(657, 675, 871)],
    "img29.jpg": [(297, 265, 289)],
    "img3.jpg": [(778, 773, 800)],
    "img31.jpg": [(1104, 705, 693)],
    "img45.jpg": [(223, 239, 245)],
    "img48.jpg": [(354, 416, 428)],
    "img53.jpg": [(578, 244, 299)],
}


def is_the_face(box: tuple[int, int, int, int], face: tuple[int, int, int]) -> bool:
    """A box is the face when its centre lies within 40% of the face's width of the face's centre
    and its width is 0.4 to 1.6 times the face's (detectors frame faces differently)."""
    x, y, w, h = box
    centre_x, centre_y, width = face
    near = ((x + w / 2 - centre_x) ** 2 + (y + h / 2 - centre_y) ** 2) ** 0.5 <= 0.4 * width
    return near and 0.4 * width <= w <= 1.6 * width


def score(faces: list, boxes: list) -> tuple[int, int]:
    """(faces found, false boxes) for the boxes a detector gave on a photo holding the faces."""
    found = sum(any(is_the_face(box, face) for box in boxes) for face in faces)
    false = sum(not any(is_the_face(box, face) for face in faces) for box in boxes)
    return found, false


def rotated(picture: np.ndarray, faces: list, degrees: float) -> tuple[np.ndarray, list]:
    """The picture turned by degrees (counter-clockwise) on a canvas that holds all of it, edges
    repeated, and where its faces' centres went."""
    height, width = picture.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    size = (int(height * sin + width * cos), int(height * cos + width * sin))
    turn[:, 2] += (size[0] / 2 - width / 2, size[1] / 2 - height / 2)
    turned = cv2.warpAffine(picture, turn, size, borderMode=cv2.BORDER_REPLICATE)
    return turned, [(*(turn @ (x, y, 1)).round().astype(int), w) for x, y, w in faces]


def group_photo(photos: dict[str, np.ndarray], widths=(110, 95, 80, 70, 60, 50, 45)) -> tuple[np.ndarray, list]:
    """A made-up group photo: the faces of the first len(widths) photos (each cut with its hair and
    chin) side by side at the given face widths on a plain wall, and where their centres are."""
    canvas = np.full((420, 180 * len(widths), 3), 200, np.uint8)
    faces = []
    for column, ((name, picture), width) in enumerate(zip(photos.items(), widths)):
        x, y, w = FACES[name][0]
        half = int(w * 0.9)
        cut = picture[max(0, y - half):y + half, max(0, x - half):x + half]
        cut = cv2.resize(cut, None, fx=width / w, fy=width / w, interpolation=cv2.INTER_AREA)
        top, left = 100 + 30 * (column % 3), 180 * column + 10
        cut = cut[:canvas.shape[0] - top, :canvas.shape[1] - left]
        canvas[top:top + cut.shape[0], left:left + cut.shape[1]] = cut
        faces.append((left + (x - max(0, x - half)) * width / w, top + (y - max(0, y - half)) * width / w, width))
    return canvas, [(round(cx), round(cy), w) for cx, cy, w in faces]
