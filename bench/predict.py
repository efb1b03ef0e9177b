"""Prediction benchmark: per-face and per-frame latency of the shipped model, side by side with the
seed notebook's network as the baseline, on the same machine in the same run.

Per face: FacePredictor.classify_faces on one 48x48 crop (what the webcam does per face, with
mirrored-face averaging). Per frame: the whole webcam pipeline on a 640x480 portrait (Haar
detection with the VIDEO settings, crop, classify). Usage: .venv/bin/python bench/predict.py [--repeats 200]
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data as skimage_data  # noqa: E402

from core.architectures import ARCHITECTURES  # noqa: E402
from core.faces import VIDEO  # noqa: E402
from core.model_store import read_card  # noqa: E402
from core.prediction import FacePredictor  # noqa: E402


def median_ms(action, repeats: int) -> float:
    for _ in range(5):
        action()  # warm-up: graph tracing, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        baseline = Path(folder) / "seed.keras"
        ARCHITECTURES["seed"].build(augment=True).save(baseline)  # same size and cost as a trained one
        default = f"default ({read_card('default').get('architecture', '?')})"
        predictors = {"seed (notebook baseline)": FacePredictor(baseline), default: FacePredictor("default")}
        face = cv2.resize(skimage_data.astronaut()[60:170, 170:275].mean(axis=2).astype(np.uint8), (48, 48))[None]
        frame = cv2.resize(skimage_data.astronaut(), (640, 480))
        rows = {name: (median_ms(lambda p=p: p.classify_faces(face), args.repeats),
                       median_ms(lambda p=p: p.predict_rgb(frame, VIDEO), max(20, args.repeats // 5)),
                       p.model.count_params()) for name, p in predictors.items()}

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, median of {args.repeats} runs")
    print(f"{'model':<26}{'params':>10}{'ms / face':>11}{'ms / frame':>12}")
    for name, (per_face, per_frame, params) in rows.items():
        print(f"{name:<26}{params:>10,}{per_face:>11.2f}{per_frame:>12.2f}")
    (base_face, base_frame, _), (ours_face, ours_frame, _) = rows.values()
    print(f"ratio default/baseline: {ours_face / base_face:.2f}x per face, {ours_frame / base_frame:.2f}x per frame")


if __name__ == "__main__":
    main()
