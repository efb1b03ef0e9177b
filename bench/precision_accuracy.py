"""Does mixed bfloat16 cost accuracy? The same recipe trained in float32 and in mixed_bfloat16, side by side.

Each seed trains the recipe twice with the product's own CLI, `python -m core train DATA --arch A
--max-images N --epochs E --seed S --precision P`, once per precision, one after the other (so load
from other processes falls on both alike), each into its own run folder in a temporary directory.
A seed fixes the random subset of the training split (`--max-images`: uniform, so about the split's
class shares), the train/validation cut, the initial weights and the augmentation; only the precision
differs within a pair. From each run's card.json: validation and test accuracy (the best-validation
epoch's weights) and training seconds; images/s is the median over epochs of the rate the run's epoch
events report (first batch of each epoch, which pays for tracing, left out).

Usage: python bench/precision_accuracy.py [--data ../shared/datasets/fer2013] [--arch vgg]
       [--max-images 6000] [--epochs 8] [--batch-size 32] [--seeds 0,1,2]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRECISIONS = ("float32", "mixed_bfloat16")


def train(data: Path, run_dir: Path, arch: str, precision: str, seed: int, max_images: int, epochs: int,
          batch_size: int) -> dict:
    """One CLI training run; its card's figures."""
    command = [sys.executable, "-m", "core", "train", str(data), "--run-dir", str(run_dir), "--arch", arch,
               "--precision", precision, "--seed", str(seed), "--max-images", str(max_images),
               "--epochs", str(epochs), "--batch-size", str(batch_size)]
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    if finished.returncode:
        sys.exit(f"{' '.join(command)} failed ({finished.returncode}):\n{finished.stdout[-3000:]}")
    card = json.loads((run_dir / "card.json").read_text())
    assert card["config"]["precision"] == precision, card["config"]
    events = [json.loads(line) for line in (run_dir / "progress.jsonl").read_text().splitlines() if line.strip()]
    rates = [e["images_per_s"] for e in events if e["event"] == "epoch" and e.get("images_per_s")]
    return {"validation": card["validation"]["accuracy"], "test": card["test"].get("accuracy", float("nan")),
            "best_epoch": card["best_epoch"], "seconds": card["training_seconds"],
            "images_per_s": statistics.median(rates) if rates else float("nan"),
            "wall_s": time.perf_counter() - started}


def spread(values: list[float]) -> str:
    """mean +- sample standard deviation (the seed-to-seed spread)."""
    mean = statistics.fmean(values)
    return f"{mean:.4f} +- {statistics.stdev(values):.4f}" if len(values) > 1 else f"{mean:.4f}"


def cpu_model() -> str:
    flags, model = set(), "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
    native = sorted(flags & {"avx512_bf16", "amx_bf16"})
    return f"{model}, {os.cpu_count()} CPUs, native bfloat16: {', '.join(native) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "fer2013"),
                        help="dataset folder (default ../shared/datasets/fer2013)")
    parser.add_argument("--arch", default="vgg")
    parser.add_argument("--max-images", type=int, default=6000, help="random subset of the training split")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="32: at 128 a 6,000-image subset is 42 steps an epoch, and vgg stayed at the majority "
                             "baseline for 9 of 10 epochs")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds, one float32/bfloat16 pair each")
    args = parser.parse_args()
    data = Path(args.data)
    if not data.exists():
        print(f"skipped: no dataset at {data}")
        return
    seeds = [int(seed) for seed in args.seeds.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="precision-accuracy-") as folder:
        for seed in seeds:
            for precision in PRECISIONS:
                run = train(data, Path(folder) / f"{precision}-{seed}", args.arch, precision, seed,
                            args.max_images, args.epochs, args.batch_size)
                results[precision, seed] = run
                print(f"seed {seed} {precision}: validation {run['validation']:.4f}, test {run['test']:.4f}, "
                      f"{run['images_per_s']:.0f} images/s, {run['wall_s']:.0f} s, load average "
                      f"{os.getloadavg()[0]:.1f}", flush=True)

    print(f"\n{cpu_model()}; {args.arch}, --max-images {args.max_images}, --epochs {args.epochs}, "
          f"--batch-size {args.batch_size}, load average {os.getloadavg()[0]:.1f}")
    print("| seed | precision | validation accuracy | test accuracy | best epoch | images/s (median epoch) "
          "| training s |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for seed in seeds:
        for precision in PRECISIONS:
            run = results[precision, seed]
            print(f"| {seed} | {precision} | {run['validation']:.4f} | {run['test']:.4f} | {run['best_epoch']} "
                  f"| {run['images_per_s']:.0f} | {run['seconds']:.0f} |")
    print("\n| precision | validation, mean +- sd over seeds | test, mean +- sd | images/s, mean |\n"
          "| --- | ---: | ---: | ---: |")
    for precision in PRECISIONS:
        runs = [results[precision, seed] for seed in seeds]
        print(f"| {precision} | {spread([r['validation'] for r in runs])} | {spread([r['test'] for r in runs])} "
              f"| {statistics.fmean(r['images_per_s'] for r in runs):.0f} |")
    print("\n| seed | bfloat16 - float32, validation | bfloat16 - float32, test | speed, bfloat16 / float32 |\n"
          "| ---: | ---: | ---: | ---: |")
    for seed in seeds:
        single, half = results["float32", seed], results["mixed_bfloat16", seed]
        print(f"| {seed} | {half['validation'] - single['validation']:+.4f} | {half['test'] - single['test']:+.4f} "
              f"| {half['images_per_s'] / single['images_per_s']:.2f}x |")


if __name__ == "__main__":
    main()
