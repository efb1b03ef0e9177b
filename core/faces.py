"""Finding faces in a picture and cutting them out the way FER-2013's faces were cut.

Detection uses OpenCV's frontal-face Haar cascade, which ships inside opencv-python-headless.
"""

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from core.imaging import MIN_FACE_SIDE, can_show_a_face, to_face_pixels

Box = tuple[int, int, int, int]  # x, y, width, height in the picture's pixels

SMALL_CROP_SIDE = 96  # a picture no larger than this is taken to be a face crop already
CROP_MARGIN = 0.1  # FER-2013 faces include a little forehead and chin beyond the Haar box
_PER_THREAD = threading.local()  # one CascadeClassifier is not safe to share across threads: one each


@dataclass(frozen=True)
class Detection:
    """How hard to search: pictures are shrunk to max_side (boxes scaled back); a larger scale_factor
    tries fewer face sizes."""

    max_side: int
    scale_factor: float


PHOTO = Detection(max_side=960, scale_factor=1.1)  # thorough: small faces in large photos
VIDEO = Detection(max_side=480, scale_factor=1.2)  # about 3x faster, for live frames


def _cascade() -> cv2.CascadeClassifier:
    """This thread's face cascade, loaded on its first use; threads detect in parallel."""
    if getattr(_PER_THREAD, "cascade", None) is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if cascade.empty():
            raise RuntimeError("OpenCV's face cascade could not be loaded from cv2.data.haarcascades")
        _PER_THREAD.cascade = cascade
    return _PER_THREAD.cascade


def detect_faces(gray: np.ndarray, detection: Detection = PHOTO) -> list[Box]:
    """Boxes of the frontal faces in a 2-D uint8 picture, largest first.

    Example: detect_faces(read_image("group.jpg")) -> [(412, 80, 120, 120), ...]
    """
    scale = min(1.0, detection.max_side / max(gray.shape))
    if scale < 1:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    else:
        small = gray
    if min(small.shape) < 20:
        return []
    min_side = max(20, min(small.shape) // 25)
    found = _cascade().detectMultiScale(cv2.equalizeHist(small), scaleFactor=detection.scale_factor, minNeighbors=5,
                                        minSize=(min_side, min_side))
    boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def crop_face(gray: np.ndarray, box: Box, margin: float = CROP_MARGIN) -> np.ndarray:
    """Cut a box (grown by margin on each side, clipped to the picture) into 48x48 pixels."""
    x, y, w, h = box
    grow_x, grow_y = int(w * margin), int(h * margin)
    top, bottom = max(0, y - grow_y), min(gray.shape[0], y + h + grow_y)
    left, right = max(0, x - grow_x), min(gray.shape[1], x + w + grow_x)
    return to_face_pixels(gray[top:bottom, left:right])


def is_face_crop(gray: np.ndarray) -> bool:
    """True for a picture small enough to be a face crop already (48x48 up to 96x96)."""
    return max(gray.shape) <= SMALL_CROP_SIDE


def find_and_crop(gray: np.ndarray, detection: Detection = PHOTO) -> tuple[list[Box], np.ndarray]:
    """Boxes and their (N, 48, 48) crops; a small face crop is returned whole as one box, a picture too
    small to show a face (see core.imaging.can_show_a_face) has none."""
    if not can_show_a_face(gray):
        return [], np.zeros((0, 48, 48), np.uint8)
    if is_face_crop(gray):
        return [(0, 0, gray.shape[1], gray.shape[0])], to_face_pixels(gray)[None]
    boxes = detect_faces(gray, detection)
    crops = np.stack([crop_face(gray, box) for box in boxes]) if boxes else np.zeros((0, 48, 48), np.uint8)
    return boxes, crops


def no_face_reason(picture: np.ndarray) -> str:
    """Why no face was found in a picture, in words for its owner."""
    height, width = picture.shape[:2]
    if not can_show_a_face(picture):
        return f"too small to show a face ({width}x{height} pixels; a face needs at least {MIN_FACE_SIDE}x{MIN_FACE_SIDE})"
    return "no face found. Faces should be frontal and not too small."
