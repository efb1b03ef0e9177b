"""Evaluation benchmark: the shipped model scored on the whole PublicTest split (the full check that
`make test` runs on a 500-image sample), side by side with the seed notebook's network as the baseline.
The default is scored in Keras and, when it has one, through its checked int8 export (`--runtime fast`,
what `python -m core evaluate` and the Evaluate page use by default).

Prints, per model and views: images, seconds, ms a face, accuracy, and the majority-class baseline;
then checks the default's shifted-views accuracy against its card and the 70% target.
Usage: .venv/bin/python bench/evaluate.py [--data ../shared/datasets/fer2013/test] [--views shifted mirror]
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.models.architectures import ARCHITECTURES  # noqa: E402
from core.data.dataset import load_dataset  # noqa: E402
from core.evaluation.scores import evaluate_model  # noqa: E402
from core.evaluation.export import fast_export  # noqa: E402
from core.models.store import load_model, read_card  # noqa: E402

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013" / "test"
TARGET = 0.70


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--views", nargs="+", default=["shifted", "mirror"])
    args = parser.parse_args()
    if not Path(args.data).exists():
        print(f"skipped: {args.data} not found")
        return 0
    dataset = load_dataset(args.data)
    split = dataset.split(next(iter(dataset.splits)))

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        baseline = Path(folder) / "seed.keras"
        ARCHITECTURES["seed"].build(7).save(baseline)  # same size and cost as a trained one
        runners = [("seed (notebook baseline)", load_model(baseline)), ("default, keras", load_model("shipped"))]
        if exported := fast_export("shipped"):
            runners.append(("default, tflite int8", exported))
        for name, model in runners:
            evaluate_model(model, split.images[:64], split.labels[:64], views="single")  # warm-up: tracing
            for views in args.views:
                start = time.perf_counter()
                report = evaluate_model(model, split.images, split.labels, views=views)
                rows.append((name, views, time.perf_counter() - start, report))

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, {len(split):,} images of {args.data}")
    print(f"{'model':<28}{'views':>9}{'seconds':>9}{'ms/face':>9}{'accuracy':>10}{'majority':>10}")
    for name, views, seconds, report in rows:
        print(f"{name:<28}{views:>9}{seconds:>9.1f}{seconds * 1000 / len(split):>9.2f}"
              f"{report['accuracy']:>10.4f}{report['majority_baseline']:>10.4f}")
    for views in args.views:
        base, *ours = (seconds for _, v, seconds, _ in rows if v == views)
        print(f"ratio default/baseline, {views}: " + ", ".join(f"{seconds / base:.2f}x" for seconds in ours)
              + " the time (" + "; ".join(name for name, _ in runners[1:]) + ")")
    shifted = [report for name, views, _, report in rows if name == "default, keras" and views == "shifted"]
    if shifted:
        card = read_card("shipped")["test"]["accuracy"]
        accuracy = shifted[0]["accuracy"]
        print(f"default, shifted: {accuracy:.4f} (card {card:.4f}, target {TARGET})")
        return 0 if accuracy >= TARGET and abs(accuracy - card) <= 0.002 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
