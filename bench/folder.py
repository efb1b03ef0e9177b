"""Folder benchmark: peak memory and speed of `python -m core predict MODEL DIR --csv` as the folder grows.

Writes synthetic photos (200x200 JPEGs: the astronaut's face, 100 px, at a random place on smooth noise, so the
detector finds one face in each), then runs the command as a child process on 1,000 and 10,000 of them
and reads the child's peak RSS from the kernel (wait4). Flat memory: the two peaks should match. It also
runs 1,000 photos with one detection thread against the default (one per core), side by side.
The model is the seed notebook's network (random weights: the same cost as trained ones), with
`--views single`, so the figures are about the folder pipeline rather than the network.
Usage: .venv/bin/python bench/folder.py [--sizes 1000 10000]
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as skimage_data  # noqa: E402


def write_photos(folder: Path, count: int, start: int = 0) -> None:
    """count JPEGs named start.. in folders of 1,000."""
    face = cv2.resize(skimage_data.astronaut()[30:200, 140:310], (100, 100))
    rng = np.random.default_rng(start)
    for index in range(start, start + count):
        picture = cv2.resize(rng.integers(0, 256, (25, 25, 3), dtype=np.uint8), (200, 200))
        x, y = rng.integers(0, 100, 2)
        picture[y:y + 100, x:x + 100] = face
        path = folder / f"{index // 1000:03d}" / f"{index:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture).save(path, quality=90)


def run(model: Path, folder: Path, csv_path: Path, workers: int | None) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one command run as a child process."""
    command = [sys.executable, "-m", "core", "predict", str(model), str(folder), "--csv", str(csv_path),
               "--views", "single"] + (["--workers", str(workers)] if workers else [])
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status})")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()

    from core.architectures import ARCHITECTURES

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model = scratch / "seed.keras"
        ARCHITECTURES["seed"].build().save(model)
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"| photos | detection threads | seconds | photos/s | peak RSS (MiB) |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        written = 0
        for size in sorted(args.sizes):
            folder = scratch / "photos"
            write_photos(folder, size - written, written)
            written = size
            for workers in ([1, None] if size == min(args.sizes) else [None]):
                csv_path = scratch / f"{size}-{workers}.csv"
                seconds, peak = run(model, folder, csv_path, workers)
                rows = sum(1 for _ in open(csv_path)) - 1
                print(f"| {size:,} | {workers or os.cpu_count()} | {seconds:.1f} | {size / seconds:.0f} | "
                      f"{peak:.0f} |  ({rows:,} rows)", flush=True)


if __name__ == "__main__":
    main()
