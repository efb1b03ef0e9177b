"""Folders and videos: peak memory and speed of `python -m core predict` on a folder and on a video as they grow.

Folders: synthetic photos (200x200 JPEGs: the astronaut's face, 100 px, at a random place on smooth noise, so
the detector finds a face in each), 1,000 and 10,000 of them; 1,000 also with one detection thread against
the default (one per core), side by side. Videos: synthetic MP4s (480x220, 10 frames a second, two faces
sliding, tests/synthetic.py) of 300 and 3,000 frames, every 5th frame classified, the annotated video written.
Each command runs as a child process and its peak RSS is read from the kernel (wait4): flat memory means the
peaks match as the input grows. The model is the seed notebook's network (random weights: the same cost as
trained ones), photos with `--views single`, so the figures are about the pipeline rather than the network.
Usage: .venv/bin/python bench/folders_videos.py [--photos 1000 10000] [--frames 300 3000]
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


def seed_model(folder: Path) -> Path:
    """The seed notebook's network with random weights, saved as folder/seed.keras."""
    from core.models.architectures import ARCHITECTURES

    ARCHITECTURES["seed"].build(7).save(folder / "seed.keras")
    return folder / "seed.keras"


def peak_run(arguments: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of `python -m core ARGUMENTS` run as a child process."""
    command = [sys.executable, "-m", "core", *arguments]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status})")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--frames", type=int, nargs="*", default=[300, 3000])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model = seed_model(scratch)
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        if args.photos:
            bench_folders(model, scratch, sorted(args.photos))
        if args.frames:
            bench_videos(model, scratch, sorted(args.frames))


def bench_folders(model: Path, scratch: Path, sizes: list[int]) -> None:
    print("\n| photos | detection threads | seconds | photos/s | peak RSS (MiB) |\n| ---: | ---: | ---: | ---: | ---: |")
    written = 0
    for size in sizes:
        folder = scratch / "photos"
        write_photos(folder, size - written, written)
        written = size
        for workers in ([1, None] if size == sizes[0] else [None]):
            csv_path = scratch / f"{size}-{workers}.csv"
            seconds, peak = peak_run(["predict", str(model), str(folder), "--csv", str(csv_path), "--views",
                                      "single"] + (["--workers", str(workers)] if workers else []))
            rows = sum(1 for _ in open(csv_path)) - 1
            print(f"| {size:,} | {workers or os.cpu_count()} | {seconds:.1f} | {size / seconds:.0f} | "
                  f"{peak:.0f} |  ({rows:,} rows)", flush=True)


def bench_videos(model: Path, scratch: Path, lengths: list[int]) -> None:
    from tests.synthetic import write_moving_faces_video

    print("\n| frames | seconds | frames/s | peak RSS (MiB) |\n| ---: | ---: | ---: | ---: |")
    for frames in lengths:
        video = write_moving_faces_video(scratch / f"{frames}.mp4", frames)
        seconds, peak = peak_run(["predict", str(model), str(video), "--csv", str(scratch / f"{frames}.csv"),
                                  "--annotate", str(scratch / f"annotated-{frames}")])
        print(f"| {frames:,} | {seconds:.1f} | {frames / seconds:.0f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
