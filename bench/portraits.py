"""Full-frame portraits: `evaluate` scores the faces `predict` finds, so both give one accuracy.

Builds head-and-shoulders style pictures from FER-2013's PublicTest faces (each face enlarged to 150
pixels on a 256x256 frame, the frame's edge pixels repeated outward, so there is a face to find and
something around it), then runs, side by side, `python -m core evaluate MODEL FOLDER --json` and
`python -m core predict MODEL FOLDER --csv` and scores predict's first (largest) face of each picture
against its folder. Prints a markdown table for docs/benchmarks.md.

Example: python bench/portraits.py --per-class 40
"""

import argparse
import csv
import json
import tempfile
from pathlib import Path

import cv2
import numpy as np

from own_classes import run  # a command's output and wall time (bench/ is the script's folder)

PROJECT = Path(__file__).resolve().parent.parent
EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def portrait(face: np.ndarray, side: int = 256, size: int = 150) -> np.ndarray:
    """A gray 48x48 face as a side x side picture: enlarged, centred a little high, edges repeated around."""
    big = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
    top, left = (side - size) // 3, (side - size) // 2
    return cv2.copyMakeBorder(big, top, side - size - top, left, side - size - left, cv2.BORDER_REPLICATE)


def build(data: Path, out: Path, per_class: int) -> None:
    for emotion in EMOTIONS:
        folder = out / emotion
        folder.mkdir(parents=True)
        for file in sorted((data / "test" / emotion).iterdir())[:per_class]:
            face = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
            cv2.imwrite(str(folder / f"{file.stem}.png"), portrait(face))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(PROJECT.parent / "shared" / "datasets" / "fer2013"))
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--per-class", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        build(Path(args.data), folder / "portraits", args.per_class)
        pictures = sum(1 for _ in (folder / "portraits").rglob("*.png"))
        out, evaluate_seconds = run(["evaluate", args.model, str(folder / "portraits"), "--json"])
        report = json.loads(out)
        _, predict_seconds = run(["predict", args.model, str(folder / "portraits"), "--csv", str(folder / "p.csv")])
        with open(folder / "p.csv", newline="") as file:
            rows = [row for row in csv.DictReader(file) if row["face"] == "1"]
        right = sum(row["emotion"] == row["photo"].split("/")[0] for row in rows)
    print("| command | pictures | faces scored | accuracy on the faces found | wall (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| evaluate | {pictures} | {report['images']} | {report['accuracy']:.3f} | {evaluate_seconds:.0f} |")
    print(f"| predict --csv | {pictures} | {len(rows)} | {right / max(len(rows), 1):.3f} | {predict_seconds:.0f} |")


if __name__ == "__main__":
    main()
