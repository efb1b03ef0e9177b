"""Your own classes, trained in minutes: `train --preset quick` against `--preset full` given the same time,
both scored on people never seen in training.

The data is built here from FER-2013's PublicTest faces (never trained on by the shipped model), regrouped
under new class names and given synthetic person ids (8 faces a person, `p017__...png`), so the split
by person is exercised. Train: ~800 faces of ~100 people; test: other faces of other people. Prints a
markdown table for docs/benchmarks.md.

Example: python bench/own_classes.py --data ../shared/datasets/fer2013 --per-class 115
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
RENAMED = {"angry": "cross", "disgust": "yuck", "fear": "scared", "happy": "glad", "neutral": "blank",
           "sad": "down", "surprise": "wow"}
PER_PERSON = 8


def build(data: Path, out: Path, per_class: int, seed: int) -> tuple[Path, Path]:
    """train/ and test/ folders of renamed classes, per_class faces each, people never on both sides."""
    rng = np.random.default_rng(seed)
    person = 0
    for emotion, name in RENAMED.items():
        files = sorted((data / "test" / emotion).iterdir())
        rng.shuffle(files)
        for side, chosen in (("train", files[:per_class]), ("test", files[per_class:2 * per_class])):
            folder = out / side / name
            folder.mkdir(parents=True, exist_ok=True)
            for index, file in enumerate(chosen):
                if index % PER_PERSON == 0:
                    person += 1
                shutil.copy(file, folder / f"p{person:03d}__{file.name}")
    return out / "train", out / "test"


def run(arguments: list[str]) -> tuple[str, float]:
    """A command's standard output and its wall time in seconds."""
    started = time.time()
    result = subprocess.run([sys.executable, "-m", "core", *arguments], cwd=PROJECT, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-2000:])
    return result.stdout, time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(PROJECT.parent / "shared" / "datasets" / "fer2013"))
    parser.add_argument("--per-class", type=int, default=115)
    parser.add_argument("--full-epochs", type=int, default=None, help="default: as many as quick's time allows")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        train, test = build(Path(args.data), folder / "data", args.per_class, args.seed)
        rows = []
        for preset in ("quick", "full"):
            extra = []
            if preset == "full":
                extra = ["--epochs", str(args.full_epochs or 30)]
            _, seconds = run(["train", str(train), "--run-dir", str(folder / preset), "--preset", preset,
                              "--seed", str(args.seed), "--precision", "float32", *extra])
            card = json.loads((folder / preset / "card.json").read_text())
            report = json.loads(run(["evaluate", str(folder / preset), str(test), "--json"])[0])
            rows.append((preset, card["config"]["arch"], card["config"]["epochs"], seconds, card["split"]["by"],
                         card["validation"]["accuracy"], report["accuracy"], report["majority_baseline"],
                         report["images"]))
    print("| preset | network | epochs | train wall (s) | split | validation | test (other people) | "
          "majority baseline | test faces |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for preset, arch, epochs, seconds, by, val, acc, base, images in rows:
        print(f"| {preset} | {arch} | {epochs} | {seconds:.0f} | by {by} | {val:.3f} | {acc:.3f} | {base:.3f} | {images} |")


if __name__ == "__main__":
    main()
