"""Prediction benchmark: per-face and per-frame latency of the shipped model, side by side with the
seed notebook's network as the baseline, on the same machine in the same run.

Per face: FacePredictor.classify_faces on one 48x48 crop, with the webcam's views (the face and its
mirror) and with the photos' views (10: both, shifted). Per frame: the whole webcam pipeline on a
640x480 portrait (Haar detection with the VIDEO settings, crop, classify with the webcam's views).
Usage: .venv/bin/python bench/predict.py [--repeats 200]
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
from core.inference import DEFAULT_VIEWS as PHOTO_VIEWS, LIVE_VIEWS  # noqa: E402
from core.model_store import read_card  # noqa: E402
from core.prediction import FacePredictor  # noqa: E402


def median_ms(action, repeats: int, warm_ups: int = 5) -> float:
    for _ in range(warm_ups):
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
        ARCHITECTURES["seed"].build().save(baseline)  # same size and cost as a trained one
        default = f"default ({read_card('default').get('architecture', '?')})"
        predictors = {"seed (notebook baseline)": FacePredictor(baseline), default: FacePredictor("default")}
        face = cv2.resize(skimage_data.astronaut()[60:170, 170:275].mean(axis=2).astype(np.uint8), (48, 48))[None]
        frame = cv2.resize(skimage_data.astronaut(), (640, 480))
        rows = {name: (p.model.count_params(),
                       median_ms(lambda p=p: p.classify_faces(face, LIVE_VIEWS), args.repeats),
                       median_ms(lambda p=p: p.classify_faces(face, PHOTO_VIEWS), args.repeats),
                       median_ms(lambda p=p: p.predict_rgb(frame, VIDEO, LIVE_VIEWS), max(20, args.repeats // 5)))
                for name, p in predictors.items()}

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, median of {args.repeats} runs")
    width = max(map(len, rows)) + 2
    print(f"{'model':<{width}}{'params':>11}{'ms/face live':>14}{'ms/face photo':>15}{'ms/frame live':>15}")
    for name, (params, *times) in rows.items():
        print(f"{name:<{width}}{params:>11,}" + "".join(f"{t:>{w}.2f}" for t, w in zip(times, (14, 15, 15))))
    (_, *base), (_, *ours) = rows.values()
    print("ratio default/baseline: " + ", ".join(f"{o / b:.2f}x {what}" for o, b, what in
                                                 zip(ours, base, ("face live", "face photo", "frame live"))))


if __name__ == "__main__":
    main()
