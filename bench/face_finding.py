"""Face finding (core.vision.faces.locate_faces, MTCNN) on pictures that trip it, before and after mirroring the picture
outwards (core.vision.faces.EDGE_PAD) and before and after asking a box beyond the picture to show its eyes inside
it (core.vision.faces.MIN_EYE_INSIDE): phone screenshots (clocks, icons, text; half of them with a real face), crowded
selfies with faces cut by the edges or partly hidden, photos cut through their face, the 15 press photos, webcam
photos of a phone showing a portrait (status bar, clock, app chrome; tilted, blurred, moiré, noise, JPEG) and
portraits cut through the eyes or the nose by the bottom edge, portraits cut at one side beside the face (hair,
shoulder, background reaching the edge), and faces cut by a sliver or a third at a side.

Made at run time from ../shared/photos (tests/screens_and_crowds.py); a box is the face as tests/real_photos.py
decides, any other box is false. A row is "EDGE_PAD/MIN_EYE_INSIDE"; "0/none" is the code before mirroring,
"0.25/none" the code before the eye check. Rows with the same EDGE_PAD share one MTCNN pass a picture (the check
only filters its boxes), so their times are not comparable: run one row alone to time it.
Usage: .venv/bin/python bench/face_finding.py [--rows 0.25/none 0.25/0.06] [--sets phones "group of 7"]
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402

from core.vision import faces  # noqa: E402
from core.vision.imaging import read_image  # noqa: E402
from tests.real_photos import FACES, PHOTOS, group_photo, is_the_face  # noqa: E402
from tests.screens_and_crowds import (CUT_BY_EDGES, HIDDEN, crowds, edge_cuts, eye_cuts, phone_photos,  # noqa: E402
                                      screenshots, side_cuts, sliver_cuts)


def test_sets(photos: dict[str, np.ndarray]) -> dict[str, list]:
    """name -> [(label, picture, faces)]."""
    return {"screenshots": screenshots(photos), "crowded selfies": crowds(photos), "cut through the face":
            edge_cuts(photos), "press photos": [(name, photos[name], FACES[name]) for name in FACES],
            "group of 7": [("group", *group_photo(photos))], "phones": phone_photos(photos),
            "cut through the eyes or nose": eye_cuts(photos), "cut beside the face": side_cuts(photos),
            "cut by a sliver": sliver_cuts(photos)}


def share_mtcnn_passes() -> None:
    """Rows that differ only in their filters see the same padded picture: MTCNN runs once for each."""
    detector = faces._mtcnn()
    detect, seen = detector.detect_faces, {}

    def cached(picture, **kwargs):
        key = (picture.shape, hash(picture.tobytes()))
        if key not in seen:
            seen[key] = detect(picture, **kwargs)
        return seen[key]

    detector.detect_faces = cached


def found_faces(picture: np.ndarray, listed: list) -> tuple[list[bool], int]:
    """Whether each listed face was found, and how many boxes are no listed face."""
    boxes = [face.box for face in faces.locate_faces(picture)]
    return ([any(is_the_face(box, face) for box in boxes) for face in listed],
            sum(not any(is_the_face(box, face) for face in listed) for box in boxes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=["0.25/none", "0.25/0.06"],
                        help="EDGE_PAD/MIN_EYE_INSIDE for each row; 'none' turns the eye check off")
    parser.add_argument("--sets", nargs="*", help="only these sets (all by default)")
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        print(f"skipped: no photos at {PHOTOS}")
        return
    photos = {name: read_image(PHOTOS / name, "RGB") for name in FACES}
    sets = {name: items for name, items in test_sets(photos).items() if not args.sets or name in args.sets}
    faces.locate_faces(photos["img2.jpg"])  # warm-up: TensorFlow's graphs
    share_mtcnn_passes()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, MIN_CONFIDENCE "
          f"{faces.MIN_CONFIDENCE}, MIN_INSIDE {faces.MIN_INSIDE}; found / faces (false boxes)")
    print("| EDGE_PAD / MIN_EYE_INSIDE | " + " | ".join(f"{name} ({len(items)})" for name, items in sets.items())
          + " | crowds: cut by an edge | crowds: partly hidden | ms / press photo | missed / false in |")
    print("| ---: |" + " ---: |" * (len(sets) + 3) + " --- |")
    for row in args.rows:
        pad, eye = row.split("/")
        faces.EDGE_PAD, faces.MIN_EYE_INSIDE = float(pad), None if eye == "none" else float(eye)
        cells, notes, edge, hidden, photo_seconds = [], [], [0, 0], [0, 0], 0.0
        for set_name, items in sets.items():
            hits = total = false = 0
            for label, picture, listed in items:
                start = time.perf_counter()
                found, wrong = found_faces(picture, listed)
                photo_seconds += (time.perf_counter() - start) * (set_name == "press photos")
                hits, total, false = hits + sum(found), total + len(found), false + wrong
                if not all(found) or wrong:
                    notes.append(f"{label} {len(found) - sum(found)}/{wrong}")
                if set_name == "crowded selfies":
                    edge = [edge[0] + sum(found[:CUT_BY_EDGES]), edge[1] + CUT_BY_EDGES]
                    if "hidden" in label:
                        hidden = [hidden[0] + sum(found[index] for index in HIDDEN), hidden[1] + len(HIDDEN)]
            cells.append(f"{hits} / {total} ({false})")
        print(f"| {row} | {' | '.join(cells)} | {edge[0]} / {edge[1]} | {hidden[0]} / {hidden[1]} | "
              f"{1000 * photo_seconds / len(FACES):.0f} | {', '.join(notes) or '-'} |", flush=True)


if __name__ == "__main__":
    main()
