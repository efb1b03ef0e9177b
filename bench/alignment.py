"""Does alignment matter? A labelled check built from FER-2013's test split: faces pasted into larger
pictures at known angles and sizes, then found, cropped and classified again, three ways:

- before: the photo pipeline until now (Haar cascade, max side 960, scale factor 1.1; the box grown 10%),
- MTCNN's box grown 10%, not turned,
- after: MTCNN's eyes, the face turned upright and framed as FER-2013 frames faces (core.vision.faces.PHOTO).

A face not found counts as wrong. The 48x48 faces as they are give the ceiling. The shipped model, with
the webcam's views (face and mirror) to keep the run short. `--framing` instead measures where
FER-2013's faces have their eyes (core.vision.faces.FER_EYE_CENTRE, FER_EYE_DISTANCE).
Usage: .venv/bin/python bench/alignment.py [--per-class 30] [--data ../shared/datasets/fer2013] [--conditions ...]
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from core.data.dataset import load_dataset  # noqa: E402
from core.data.emotions import EMOTIONS  # noqa: E402
from core.vision.faces import PHOTO, Detection, crop_face, face_pixels, locate_faces  # noqa: E402
from core.models.inference import LIVE_VIEWS  # noqa: E402
from core.prediction.pictures import FacePredictor  # noqa: E402

CANVAS = 400
CONDITIONS = {"upright, 160 px": (0, 160, None), "turned 20 degrees, 160 px": (20, 160, None),
              "turned -20 degrees, 160 px": (-20, 160, None), "turned 35 degrees, 160 px": (35, 160, None),
              "upright, 64 px": (0, 64, None), "mouth covered, 160 px": (0, 160, "mouth"),
              "mouth covered, turned 20 degrees, 160 px": (20, 160, "mouth")}  # (degrees, face width, cover)
COVERS = {"mouth": (0.62, 0.95, 0.2, 0.8)}  # top, bottom, left, right of the covered part, as face fractions


def sample(images: np.ndarray, labels: np.ndarray, per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.permutation(np.flatnonzero(labels == label))[:per_class]
                             for label in range(len(EMOTIONS))])
    return images[chosen], labels[chosen]


def pasted(face: np.ndarray, degrees: float, width: int, rng: np.random.Generator,
           cover: str | None = None) -> tuple[np.ndarray, tuple]:
    """A CANVAS x CANVAS RGB picture: a blurred noise wall, the face enlarged to width pixels somewhere
    near the middle (part of it hidden by a plain, hand-like patch of its own mean brightness where cover
    says), the whole picture turned by degrees about the face's centre; and that centre."""
    wall = cv2.GaussianBlur(rng.normal(face.mean(), 25, (CANVAS, CANVAS)).clip(0, 255).astype(np.uint8), (0, 0), 8)
    big = cv2.resize(face, (width, width), interpolation=cv2.INTER_CUBIC)
    if cover:
        top, bottom, left, right = (int(round(f * width)) for f in COVERS[cover])
        big[top:bottom, left:right] = int(face.mean()) + 20
    x, y = (int(v) for v in rng.integers(width // 2 + 20, CANVAS - width // 2 - 20, 2))
    wall[y - width // 2:y - width // 2 + width, x - width // 2:x - width // 2 + width] = big
    turned = cv2.warpAffine(wall, cv2.getRotationMatrix2D((x, y), degrees, 1.0), (CANVAS, CANVAS),
                            borderMode=cv2.BORDER_REFLECT)
    return np.dstack([turned] * 3), (x, y)


def nearest(boxes: list, centre: tuple, width: int) -> int | None:
    """Index of the box whose centre is within half a face width of the true centre, if any."""
    for index, (x, y, w, h) in enumerate(boxes):
        if abs(x + w / 2 - centre[0]) < width / 2 and abs(y + h / 2 - centre[1]) < width / 2:
            return index
    return None


def ways(picture: np.ndarray, centre: tuple, width: int) -> dict[str, np.ndarray | None]:
    """The 48x48 crop each way gives for the face at centre (None where the face was not found)."""
    gray = picture[..., 0]
    haar = locate_faces(picture, Detection("haar", 960, 1.1))
    before = nearest([face.box for face in haar], centre, width)
    mtcnn = locate_faces(picture, PHOTO)
    found = nearest([face.box for face in mtcnn], centre, width)
    return {"before (Haar, box)": None if before is None else crop_face(gray, haar[before].box),
            "MTCNN, box": None if found is None else crop_face(gray, mtcnn[found].box),
            "after (MTCNN, aligned, FER framing)": None if found is None else face_pixels(gray, mtcnn[found])}


def framing(images: np.ndarray) -> None:
    """Print where MTCNN finds the eyes of FER-2013 faces, in the 48x48 frame (medians)."""
    scale, pad = 4, 24
    eyes = []
    for face in images:
        big = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, *[pad * scale] * 4, cv2.BORDER_CONSTANT, value=int(face.mean()))
        found = locate_faces(big, Detection("mtcnn", max_side=10_000))
        if len(found) == 1:
            eyes.append(np.array(found[0].eyes).ravel() / scale - pad)
    eyes = np.array(eyes)
    centre = ((eyes[:, 0] + eyes[:, 2]) / 2, (eyes[:, 1] + eyes[:, 3]) / 2)
    print(f"{len(eyes)} of {len(images)} faces found; eye centre ({np.median(centre[0]):.1f}, "
          f"{np.median(centre[1]):.1f}), eye distance {np.median(np.hypot(*(eyes[:, 2:] - eyes[:, :2]).T)):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--data", default=str(PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013"))
    parser.add_argument("--framing", action="store_true", help="measure FER-2013's eye positions instead")
    parser.add_argument("--conditions", nargs="+", choices=list(CONDITIONS), default=list(CONDITIONS),
                        metavar="CONDITION", help="only these rows (default: all)")
    args = parser.parse_args()
    if not Path(args.data).is_dir():
        print(f"skipped: no FER-2013 at {args.data}")
        return
    test = load_dataset(args.data).split("test")
    if args.framing:
        framing(test.images[::12])
        return
    faces, labels = sample(test.images, test.labels, args.per_class)
    predictor = FacePredictor("default")
    rng = np.random.default_rng(1)
    ceiling = (predictor.classify_faces(faces, LIVE_VIEWS).argmax(1) == labels).mean()
    print(f"{len(faces)} test faces ({args.per_class} per emotion); the 48x48 faces as they are: {ceiling:.1%}")
    print("| condition | " + " | ".join(["before (Haar, box)", "MTCNN, box", "after (MTCNN, aligned, FER framing)"])
          + " |\n| --- | ---: | ---: | ---: |")
    for condition in args.conditions:
        degrees, width, cover = CONDITIONS[condition]
        right = {}
        found = {}
        for face, label in zip(faces, labels):
            picture, centre = pasted(face, degrees, width, rng, cover)
            for way, crop in ways(picture, centre, width).items():
                found[way] = found.get(way, 0) + (crop is not None)
                hit = crop is not None and predictor.classify_faces(crop[None], LIVE_VIEWS)[0].argmax() == label
                right[way] = right.get(way, 0) + hit
        print(f"| {condition} | " + " | ".join(f"{right[w] / len(faces):.1%} (found {found[w]})" for w in right)
              + " |", flush=True)


if __name__ == "__main__":
    main()
