"""Prediction benchmark: per-face and per-frame latency of the shipped model, side by side with the
seed notebook's network as the baseline, on the same machine in the same run.

Per face: FacePredictor.classify_faces on one 48x48 crop, with the webcam's views (the face and its
mirror) and with the photos' views (10: both, shifted). Per frame: the whole webcam pipeline on a
640x480 portrait (Haar detection with the VIDEO settings, crop, classify with the webcam's views).
Runtimes (--runtimes): the shipped model's exports (core/evaluation/export.py: LiteRT and ONNX, float32,
float16 and int8) against the Keras model, per face with both kinds of views, timed side by side
(each repeat runs every runtime once, so a change of load hits them all alike).
Usage: .venv/bin/python bench/predict.py [--repeats 200] [--runtimes [--exports DIR] [--data FER2013]]
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

from core.models.architectures import ARCHITECTURES  # noqa: E402
from core.evaluation.export import FORMATS, QUANTIZATIONS, REPRESENTATIVE_FACES, ExportedModel, convert, sample_faces  # noqa
from core.vision.faces import VIDEO  # noqa: E402
from core.models.inference import DEFAULT_VIEWS as PHOTO_VIEWS, LIVE_VIEWS, face_probabilities  # noqa: E402
from core.models.store import load_model, read_card  # noqa: E402
from core.prediction.pictures import FacePredictor  # noqa: E402


def median_ms(action, repeats: int, warm_ups: int = 5) -> float:
    for _ in range(warm_ups):
        action()  # warm-up: graph tracing, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def side_by_side_ms(actions: dict, repeats: int) -> dict:
    """Median ms of each action, run in turn within every repeat (after a warm-up of each)."""
    times = {name: [] for name in actions}
    for round_ in range(repeats + 5):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            if round_ >= 5:
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def runtimes(face: np.ndarray, repeats: int, exports: Path, data: Path) -> None:
    """Print ms a face for the default model in Keras and in each export it can be converted to."""
    model = load_model("default")
    runners = {"keras": model}
    representative = sample_faces(str(data), "train", REPRESENTATIVE_FACES, seed=1)[0] if data.exists() else None
    exports.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS:
        for quantize in (None, *QUANTIZATIONS):
            path = exports / f"default-{quantize or 'float32'}{FORMATS[fmt]}"
            if not path.exists() and (quantize != "int8" or representative is not None):
                path.write_bytes(convert(model, fmt, quantize, representative))
            if path.exists():
                runners[f"{fmt} {quantize or 'float32'}"] = ExportedModel(path.read_bytes(), fmt)
    live = side_by_side_ms({n: lambda r=r: face_probabilities(r, face, LIVE_VIEWS) for n, r in runners.items()},
                           repeats)
    photo = side_by_side_ms({n: lambda r=r: face_probabilities(r, face, PHOTO_VIEWS) for n, r in runners.items()},
                            repeats)
    print(f"\nruntimes of the default model, {os.cpu_count()} cores, median of {repeats} side-by-side runs")
    print(f"{'runtime':<18}{'ms/face live':>14}{'vs keras':>10}{'ms/face photo':>15}{'vs keras':>10}")
    for name in runners:
        print(f"{name:<18}{live[name]:>14.2f}{live[name] / live['keras']:>9.2f}x"
              f"{photo[name]:>15.2f}{photo[name] / photo['keras']:>9.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--runtimes", action="store_true", help="also time the default model's exports")
    parser.add_argument("--exports", type=Path, default=PROJECT_ROOT / "bench" / ".exports",
                        help="where the exports are kept between runs (converting takes minutes)")
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013",
                        help="FER-2013, for the int8 export's training faces (int8 is left out without it)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        baseline = Path(folder) / "seed.keras"
        ARCHITECTURES["seed"].build(7).save(baseline)  # same size and cost as a trained one
        default = f"default ({read_card('default').get('architecture', '?')})"
        predictors = {"seed (notebook baseline)": FacePredictor(baseline),
                      f"{default}, keras": FacePredictor("default", use_export=False)}
        fast = FacePredictor("default")  # with its checked fast export, where it has one (core.evaluation.export)
        if fast.runtime != "keras":
            predictors[f"{default}, {fast.runtime}"] = fast
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
    _, *base = rows["seed (notebook baseline)"]
    for name, (_, *ours) in list(rows.items())[1:]:
        print(f"ratio {name}/baseline: " + ", ".join(f"{o / b:.2f}x {what}" for o, b, what in
                                                   zip(ours, base, ("face live", "face photo", "frame live"))))
    if args.runtimes:
        runtimes(face, args.repeats, args.exports, args.data)


if __name__ == "__main__":
    main()
