"""Agreement with people: models side by side against the majority of FER+'s ten votes a face.

Scores each model with the product's own command, `python -m core evaluate MODEL FOLDER --json`, on three sets
built from a FER+ split folder (default ../shared/datasets/ferplus/FER2013Valid):
- the split itself (eight classes; a seven-class model leaves contempt's faces out and says how many);
- clear faces: those at least 9 of the 10 people agreed on, the nearest this data has to posed, lab-style faces;
- full-frame portraits: each face enlarged on a larger frame (bench/portraits.py), found and aligned as Predict does.
Prints a markdown table for docs/benchmarks.md: accuracy against the majority, macro F1, contempt's recall and the
share of answers at least three of the ten people gave; then each model's cost per face as predictions run it
(its checked int8 export, the webcam's views), timed side by side in one process.

Example: python bench/agreement.py models/fer2013 models/default --portraits-per-class 30 --sample 1000
"""

import argparse
import csv
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from own_classes import run  # a command's output and wall time (bench/ is the script's folder)
from portraits import portrait

PROJECT = Path(__file__).resolve().parent.parent
VOTES = ("neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt")  # label.csv's first eight


def clear_faces(split: Path, out: Path, least: int = 9) -> Path:
    """A FER+ split folder of the faces at least `least` people put in one emotion."""
    out.mkdir(parents=True)
    with open(split / "label.csv", newline="") as file, open(out / "label.csv", "w", newline="") as kept:
        for row in csv.reader(file):
            if max(int(v) for v in row[2:10]) >= least:
                shutil.copy(split / row[0], out / row[0])
                csv.writer(kept).writerow(row)
    return out


def portrait_folders(split: Path, out: Path, per_class: int) -> Path:
    """out/<class>/<face>.png portraits of faces with a clear majority (more than half the votes), per_class each."""
    taken = {name: 0 for name in VOTES}
    with open(split / "label.csv", newline="") as file:
        for row in csv.reader(file):
            votes = [int(v) for v in row[2:12]]
            top = max(range(8), key=lambda i: votes[i])
            name = VOTES[top]
            if votes[top] * 2 > sum(votes) and taken[name] < per_class:
                taken[name] += 1
                (out / name).mkdir(parents=True, exist_ok=True)
                face = cv2.imread(str(split / row[0]), cv2.IMREAD_GRAYSCALE)
                cv2.imwrite(str(out / name / row[0]), portrait(face))
    return out


def score(model: str, data: Path, sample: int = 0) -> dict:
    """`evaluate --json` of the model on the folder (a stratified sample of `sample` faces where given)."""
    out, seconds = run(["evaluate", model, str(data), "--only-known-classes", "--json",
                        *(["--sample", str(sample)] if sample else [])])
    return json.loads(out) | {"seconds": seconds}


def live_cost_ms(models: list[str], repeats: int = 300) -> dict[str, float]:
    """Median ms to classify one face with the webcam's views, each model in turn on every repeat."""
    sys.path.insert(0, str(PROJECT))
    import numpy as np

    from core.models.inference import LIVE_VIEWS
    from core.prediction.pictures import FacePredictor

    predictors = {model: FacePredictor(model) for model in models}
    face = np.random.default_rng(0).integers(0, 255, (1, 48, 48), dtype=np.uint8)
    times = {model: [] for model in models}
    for _ in range(repeats):
        for model, predictor in predictors.items():
            started = time.perf_counter()
            predictor.classify_faces(face, LIVE_VIEWS)
            times[model].append((time.perf_counter() - started) * 1000)
    return {model: statistics.median(values[10:]) for model, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--split", default=str(PROJECT.parent / "shared" / "datasets" / "ferplus" / "FER2013Valid"))
    parser.add_argument("--portraits-per-class", type=int, default=30)
    parser.add_argument("--sample", type=int, default=0,
                        help="score a stratified sample of this many faces of each set larger than it (0: all)")
    args = parser.parse_args()
    split = Path(args.split)
    with tempfile.TemporaryDirectory() as folder:
        sets = {"FER+ split": split, "clear faces (>= 9 of 10 agree)": clear_faces(split, Path(folder) / "clear"),
                "full-frame portraits": portrait_folders(split, Path(folder) / "portraits", args.portraits_per_class)}
        print("| model | set | faces | left out | accuracy vs majority | macro F1 | contempt recall "
              "| answers >= 3 votes | wall (s) |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for model in args.models:
            for name, data in sets.items():
                report = score(model, data, args.sample)
                contempt = report["per_class"].get("contempt", {}).get("recall")
                shown = {"contempt": "-" if contempt is None else f"{contempt:.2f}",
                         "plausible": f"{report['plausible']:.3f}" if "plausible" in report else "-"}
                print(f"| {model} | {name} | {report['images']} | {sum(report['left_out'].values())} "
                      f"| {report['accuracy']:.3f} | {report['macro_f1']:.3f} | {shown['contempt']} "
                      f"| {shown['plausible']} | {report['seconds']:.0f} |")
    print("\n| model | ms a face live (int8, face + mirror), side by side |\n| --- | ---: |")
    for model, cost in live_cost_ms(args.models).items():
        print(f"| {model} | {cost:.2f} |")


if __name__ == "__main__":
    main()
