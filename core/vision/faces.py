"""Finding faces in a picture, turning each upright and cutting it out the way FER-2013's faces were cut.

Photos: MTCNN (the `mtcnn` wheel ships its weights; it runs on TensorFlow), which also finds each face's
eyes, so the face is turned upright and framed like a FER-2013 face. Live video: OpenCV's frontal-face
Haar cascade (inside opencv-python-headless), which keeps the frame rate; its boxes have no eyes and are
cropped as they are. Measured side by side in docs/benchmarks.md (bench/detectors.py); faces cut by the
picture's edges, partly hidden, and screenshots' clocks and icons in bench/face_finding.py.
"""

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from core.vision import candidate_bounds
from core.vision.imaging import FACE_SIZE, MIN_FACE_SIDE, can_show_a_face, to_face_pixels

Box = tuple[int, int, int, int]  # x, y, width, height in the picture's pixels
Point = tuple[float, float]  # x, y in the picture's pixels

SMALL_CROP_SIDE = 96  # a picture no larger than this is taken to be a face crop already
MAX_PICTURE_FACES = 200  # the largest faces a picture is read for (one tiled with 1,280 small faces took 100 s to read)
# Predict takes a small picture as a face crop only where it looks like a photo of something: not one flat shade
# (spread under MIN_CROP_SPREAD gray levels) and not noise (neighbouring pixels correlated under
# MIN_NEIGHBOUR_CORRELATION; a photo's are ~0.9, noise's ~0). Of FER-2013's 3,589 test crops it refuses 2 (0.06%),
# a blank one and a few specks on white, neither a face (bench/face_crops.py); MTCNN on the crop upscaled 2x
# would refuse 14-16% of real crops.
MIN_CROP_SPREAD = 4.0
MIN_NEIGHBOUR_CORRELATION = 0.3
CROP_MARGIN = 0.1  # a box without eyes (Haar) is grown by this on each side before the crop
MIN_CONFIDENCE = 0.9  # MTCNN faces below this are dropped (no false box on the real photos at 0.9)
# MTCNN misses a face cut by the picture's edge: its windows end at the edge, so such a face never fills one.
# The picture is mirrored outwards by EDGE_PAD of its shorter side on every side first (a face cut by 45% needs
# half its width; a face may be half the picture wide), and a box less than MIN_INSIDE inside the picture is a
# mirror image of a face (wholly outside), dropped; the rest are clipped to the picture. Measured in
# bench/face_finding.py: crowded selfies 23 -> 27 of 28 faces (cut by an edge 7 -> 12 of 12), photos cut through
# the face 8 -> 16 of 16, no false box before or after on screenshots (clocks, icons, text) or the press photos;
# about twice the time a photo (twice the pixels). 0.375 found all 28 at 2.6x the pixels; 0.5 lost a press face.
EDGE_PAD = 0.25
MIN_INSIDE = 0.4
# The mirror can also cost a face: one cut by a sliver at an edge meets its own reflection there, and MTCNN scores
# that window lower (0.88-0.90 on press photos cut 10-20% at the right, found at 0.99 in the picture as it is).
# So the picture as it is is searched too, and its faces that overlap no face found in the mirrored one are kept;
# a box NESTED or more inside a larger one (half a face, found again) is dropped. On the press photos' first faces
# cut 5-30% at the right or left edge (120 pictures): 120 -> 123 of 124 faces, false boxes 3 -> 2, 1.3 times the
# time (docs/benchmarks.md).
NESTED = 0.6
# A box reaching beyond the picture is one the mirror made possible: it is kept only where the picture itself
# shows the face's eyes, one of them at least MIN_EYE_INSIDE of the box's width inside (None: no such check).
# A picture cut through the eyes (a portrait's forehead and hair at the bottom edge, a phone held close to the
# webcam) otherwise gets a box over forehead and hair that the mirror completes with the eyes' reflection: its
# eyes lie at most 0.02 box widths inside the picture, a face cut by 45% at the side, 30% at the top or through
# the nose at the bottom has one eye 0.11-0.33 inside. Measured in bench/face_finding.py.
MIN_EYE_INSIDE = 0.06
# A box the mirror made that is centred on the picture's edge (its eyes' midpoint within ON_THE_EDGE of its width of
# the edge) is a face cut in half, or the mirror's own symmetry: a shirt collar, a shoulder or background beside a
# portrait, which the reflection completes into a face (0.92-0.99 confident, eyes and nose where a half face has
# them). Such a box is kept only where it is at least EDGE_FACE_SHARE as wide as the widest face found: the false
# ones were 0.48-0.58 as wide as the portrait's face, the faces cut in half in the sets 0.85-1.0 as wide as the
# widest (bench/face_finding.py). A smaller face cut in half at the edge, behind the others, is lost with them.
ON_THE_EDGE = 0.05
EDGE_FACE_SHARE = 0.7
# Where FER-2013's faces have their eyes, in the 48x48 frame: the median over 1 in 12 of its test faces,
# located by MTCNN (265 of 300 found; bench/alignment.py --framing). An aligned face is moved and scaled to match.
FER_EYE_CENTRE = (23.9, 18.6)
FER_EYE_DISTANCE = 17.6
_PER_THREAD = threading.local()  # neither detector is safe to share across threads: one of each per thread


@dataclass(frozen=True)
class Face:
    """A face found in a picture: its box and, where the detector gives them, its two eyes
    (the one on the picture's left first)."""

    box: Box
    eyes: tuple[Point, Point] | None = None


@dataclass(frozen=True)
class Detection:
    """Which detector, and how hard to search: pictures are shrunk to max_side (boxes scaled back); for
    Haar, a larger scale_factor tries fewer face sizes."""

    detector: str  # "mtcnn" or "haar"
    max_side: int
    scale_factor: float = 1.1


PHOTO = Detection("mtcnn", max_side=960)  # turned, tilted and small faces; eyes for alignment
VIDEO = Detection("haar", max_side=480, scale_factor=1.2)  # several times faster, for live frames


def _cascade() -> cv2.CascadeClassifier:
    """This thread's face cascade, loaded on its first use; threads detect in parallel."""
    if getattr(_PER_THREAD, "cascade", None) is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if cascade.empty():
            raise RuntimeError("OpenCV's face cascade could not be loaded from cv2.data.haarcascades")
        _PER_THREAD.cascade = cascade
    return _PER_THREAD.cascade


def _mtcnn():
    """This thread's MTCNN, built from the weights in its wheel on first use (nothing is downloaded)."""
    if getattr(_PER_THREAD, "mtcnn", None) is None:
        from mtcnn import MTCNN  # imports TensorFlow: only once a photo needs it

        detector = MTCNN()
        candidate_bounds.bound(detector)
        _PER_THREAD.mtcnn = detector
    return _PER_THREAD.mtcnn


def locate_faces(picture: np.ndarray, detection: Detection = PHOTO) -> list[Face]:
    """The faces in an RGB (HxWx3) or gray (HxW) uint8 picture, largest first, at most MAX_PICTURE_FACES.

    Example: locate_faces(read_image("couple.jpg", "RGB"))[0].eyes -> ((601.2, 840.7), (812.9, 845.3))
    """
    scale = min(1.0, detection.max_side / max(picture.shape[:2]))
    if scale < 1:
        size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    if min(picture.shape[:2]) < MIN_FACE_SIDE:
        return []
    faces = _mtcnn_faces(picture) if detection.detector == "mtcnn" else _haar_faces(picture, detection)
    faces = [Face(tuple(int(round(v / scale)) for v in face.box),
                  face.eyes and tuple((x / scale, y / scale) for x, y in face.eyes)) for face in faces]
    return sorted(faces, key=lambda face: face.box[2] * face.box[3], reverse=True)[:MAX_PICTURE_FACES]


def _mtcnn_faces(picture: np.ndarray) -> list[Face]:
    """MTCNN's faces in the picture mirrored outwards by EDGE_PAD, boxes clipped to the picture (see EDGE_PAD);
    a box reaching beyond the picture only where the picture shows its eyes (see MIN_EYE_INSIDE), and one centred
    on its edge only where it is nearly as wide as the widest face (see ON_THE_EDGE); and those it
    finds in the picture itself that overlap none of these (see NESTED). A box mostly inside a larger one (half a
    face boxed again) is dropped."""
    rgb = np.ascontiguousarray(picture if picture.ndim == 3 else np.dstack([picture] * 3))
    found = _mirrored_faces(rgb)
    plain = []
    for face in _mtcnn().detect_faces(rgb):
        x, y, w, h = face["box"]
        box = (max(0, x), max(0, y), min(rgb.shape[1], x + w) - max(0, x), min(rgb.shape[0], y + h) - max(0, y))
        if face["confidence"] >= MIN_CONFIDENCE and box[2] > 0 and box[3] > 0:
            eyes = sorted((face["keypoints"]["left_eye"], face["keypoints"]["right_eye"]))
            plain.append((Face(box, tuple((float(eye_x), float(eye_y)) for eye_x, eye_y in eyes)), w))
    widest = max([width for _, width, _ in found] + [width for _, width in plain], default=0)
    mirrored = [face for face, width, halved in found if not halved or width >= EDGE_FACE_SHARE * widest]
    faces = mirrored + [face for face, _ in plain if not any(
        max(_share_inside(face.box, other.box), _share_inside(other.box, face.box)) > 0 for other in mirrored)]
    return _without_nested(faces)


def _without_nested(faces: list[Face]) -> list[Face]:
    """The faces, largest first, less any whose box lies NESTED or more inside a larger kept one."""
    kept = []
    for face in sorted(faces, key=lambda face: face.box[2] * face.box[3], reverse=True):
        if all(_share_inside(face.box, other.box) < NESTED for other in kept):
            kept.append(face)
    return kept


def _share_inside(box: Box, outer: Box) -> float:
    """How much of box's area lies inside outer."""
    x, y, w, h = box
    ox, oy, ow, oh = outer
    overlap = max(0, min(x + w, ox + ow) - max(x, ox)) * max(0, min(y + h, oy + oh) - max(y, oy))
    return overlap / max(1, w * h)


def _mirrored_faces(rgb: np.ndarray) -> list[tuple[Face, int, bool]]:
    """MTCNN's faces in the picture mirrored outwards by EDGE_PAD (see EDGE_PAD and MIN_EYE_INSIDE), each with
    its box's width before it was clipped and whether it is centred on the picture's edge (see ON_THE_EDGE)."""
    height, width = rgb.shape[:2]
    pad = round(EDGE_PAD * min(height, width))
    padded = np.ascontiguousarray(cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT))
    faces = []
    for face in _mtcnn().detect_faces(padded):
        x, y, w, h = face["box"]
        left, top = max(0, x - pad), max(0, y - pad)
        right, bottom = min(width, x - pad + w), min(height, y - pad + h)
        inside = max(0, right - left) * max(0, bottom - top)
        if face["confidence"] < MIN_CONFIDENCE or inside < MIN_INSIDE * w * h:
            continue
        eyes = tuple(sorted((eye_x - pad, eye_y - pad) for eye_x, eye_y in
                            (face["keypoints"]["left_eye"], face["keypoints"]["right_eye"])))
        beyond = x < pad or y < pad or x + w > pad + width or y + h > pad + height
        if beyond and not shows_its_eyes(eyes, w, width, height):
            continue
        faces.append((Face((left, top, right - left, bottom - top), eyes), w,
                      beyond and _on_the_edge(eyes, w, width, height)))
    return faces


def _on_the_edge(eyes: tuple[Point, Point], box_width: float, width: int, height: int) -> bool:
    """Whether the eyes' midpoint lies within ON_THE_EDGE of the box's width of an edge of the picture (in effect a
    side edge: a box whose eyes lie on the top or bottom edge never shows them, see MIN_EYE_INSIDE)."""
    (left_x, left_y), (right_x, right_y) = eyes
    x, y = (left_x + right_x) / 2, (left_y + right_y) / 2
    return min(abs(x), abs(width - x), abs(y), abs(height - y)) <= ON_THE_EDGE * box_width


def shows_its_eyes(eyes: tuple[Point, Point], box_width: float, width: int, height: int) -> bool:
    """Whether a width x height picture itself shows a face's eyes: one of them at least MIN_EYE_INSIDE of the
    face's box width inside every edge (always, where MIN_EYE_INSIDE is None).

    Example: shows_its_eyes(((40.0, 98.0), (80.0, 99.0)), 80, 200, 100) -> False (the eyes lie on the bottom edge)
    """
    if MIN_EYE_INSIDE is None:
        return True
    return any(min(x, y, width - x, height - y) >= MIN_EYE_INSIDE * box_width for x, y in eyes)


def _haar_faces(picture: np.ndarray, detection: Detection) -> list[Face]:
    gray = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY) if picture.ndim == 3 else picture
    min_side = max(20, min(gray.shape) // 25)
    found = _cascade().detectMultiScale(cv2.equalizeHist(gray), scaleFactor=detection.scale_factor, minNeighbors=5,
                                        minSize=(min_side, min_side))
    return [Face(tuple(box)) for box in (found if len(found) else [])]


def detect_faces(picture: np.ndarray, detection: Detection = PHOTO) -> list[Box]:
    """Boxes of the faces in an RGB or gray uint8 picture, largest first (locate_faces without the eyes).

    Example: detect_faces(read_image("group.jpg")) -> [(412, 80, 120, 120), ...]
    """
    return [face.box for face in locate_faces(picture, detection)]


def crop_face(gray: np.ndarray, box: Box, margin: float = CROP_MARGIN) -> np.ndarray:
    """Cut a box (grown by margin on each side, clipped to the picture) into 48x48 pixels."""
    x, y, w, h = box
    grow_x, grow_y = int(w * margin), int(h * margin)
    top, bottom = max(0, y - grow_y), min(gray.shape[0], y + h + grow_y)
    left, right = max(0, x - grow_x), min(gray.shape[1], x + w + grow_x)
    return to_face_pixels(gray[top:bottom, left:right])


def align_face(gray: np.ndarray, eyes: tuple[Point, Point]) -> np.ndarray:
    """48x48 pixels of the face whose eyes are given, turned so the eyes are level and framed as in
    FER-2013 (eye centre at FER_EYE_CENTRE, FER_EYE_DISTANCE apart); beyond the picture, edges repeat."""
    (left_x, left_y), (right_x, right_y) = eyes
    distance = max(1.0, math.hypot(right_x - left_x, right_y - left_y))
    scale = FER_EYE_DISTANCE / distance
    centre = ((left_x + right_x) / 2, (left_y + right_y) / 2)
    side = int(math.ceil(FACE_SIZE * 1.5 / scale))  # covers the turned 48x48 frame
    patch = cv2.getRectSubPix(gray, (side, side), centre)
    if scale < 1:  # shrink first with area averaging: warpAffine alone would alias a large face
        small_side = max(FACE_SIZE, round(side * scale))
        patch = cv2.resize(patch, (small_side, small_side), interpolation=cv2.INTER_AREA)
        scale *= side / small_side
        side = small_side
    angle = math.degrees(math.atan2(right_y - left_y, right_x - left_x))
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
    turn[:, 2] += (FER_EYE_CENTRE[0] - side / 2, FER_EYE_CENTRE[1] - side / 2)
    return cv2.warpAffine(patch, turn, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def face_pixels(gray: np.ndarray, face: Face) -> np.ndarray:
    """The 48x48 crop of one face: aligned when its eyes are known, its box grown by CROP_MARGIN otherwise."""
    return align_face(gray, face.eyes) if face.eyes else crop_face(gray, face.box)


def is_face_crop(picture: np.ndarray) -> bool:
    """True for a picture small enough to be a face crop already (48x48 up to 96x96)."""
    return max(picture.shape[:2]) <= SMALL_CROP_SIDE


def not_a_face_crop(gray: np.ndarray) -> str:
    """Why a small gray picture cannot be a face crop ("" when it may be one): one flat shade, or noise.

    Example: not_a_face_crop(np.full((90, 90), 128, np.uint8)) -> "a flat picture (one shade of gray)"
    """
    pixels = gray.astype(np.float32)
    if pixels.std() < MIN_CROP_SPREAD:
        return "a flat picture (one shade of gray)"
    if _neighbour_correlation(pixels) < MIN_NEIGHBOUR_CORRELATION:
        return "noise (neighbouring pixels unrelated, as in no photo)"
    return ""


def _neighbour_correlation(pixels: np.ndarray) -> float:
    """The mean correlation of each pixel with its right and its lower neighbour (1 where a direction is flat)."""
    found = []
    for first, second in ((pixels[:, :-1], pixels[:, 1:]), (pixels[:-1, :], pixels[1:, :])):
        if first.size < 2 or first.std() == 0 or second.std() == 0:
            found.append(1.0)
        else:
            found.append(float(np.corrcoef(first.ravel(), second.ravel())[0, 1]))
    return sum(found) / len(found)


BACKGROUND_FACE_SHARE = 0.5  # a face narrower than this share of the largest is in the background


def main_faces(boxes: list[Box]) -> list[int]:
    """Indices of the faces a picture is about: the largest and any at least BACKGROUND_FACE_SHARE as wide
    (a poster or a passer-by far behind is not one of them). Boxes come largest first.

    Example: main_faces([(0, 0, 200, 200), (500, 0, 40, 40)]) -> [0]
    """
    if not boxes:
        return []
    widest = max(box[2] for box in boxes)
    return [index for index, box in enumerate(boxes) if box[2] >= BACKGROUND_FACE_SHARE * widest]


def find_and_crop(picture: np.ndarray, detection: Detection = PHOTO,
                  any_small_picture: bool = False) -> tuple[list[Box], np.ndarray]:
    """Boxes and their (N, 48, 48) crops in an RGB or gray picture; a small face crop is returned whole as
    one box, a picture too small to show a face (see core.vision.imaging.can_show_a_face) has none.

    A small picture counts as a face crop only where it may show one (not_a_face_crop: not flat, not noise);
    any_small_picture takes every small picture whole, as dataset ingest takes FER-2013's crops."""
    gray = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY) if picture.ndim == 3 else picture
    if not can_show_a_face(gray):
        return [], np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    if is_face_crop(gray):
        if not any_small_picture and not_a_face_crop(gray):
            return [], np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
        return [(0, 0, gray.shape[1], gray.shape[0])], to_face_pixels(gray)[None]
    faces = locate_faces(picture, detection)
    crops = [face_pixels(gray, face) for face in faces]
    return [face.box for face in faces], np.stack(crops) if crops else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)


def no_face_reason(picture: np.ndarray) -> str:
    """Why no face was found in a picture, in words for its owner."""
    height, width = picture.shape[:2]
    if not can_show_a_face(picture):
        return (f"too small to show a face ({width}x{height} pixels; a face needs at least "
                f"{MIN_FACE_SIDE}x{MIN_FACE_SIDE})")
    if is_face_crop(picture):
        reason = not_a_face_crop(cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY) if picture.ndim == 3 else picture)
        if reason:
            return (f"no face: a small picture ({width}x{height}) taken as a face crop must show one, "
                    f"and this is {reason}")
    return ("no face found (faces turned away from the camera, under 20 pixels wide, or in a photo lying on its side "
            "or upside down are missed: turn such a photo upright).")
