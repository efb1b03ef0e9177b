"""Ingest benchmark: core.data.dataset.load_dataset (cold, then cached) against the seed notebook's approach.

The notebook read every image with PIL, turned it into a space-separated string through
`list(img.getdata())`, appended it to a DataFrame with `df.loc[len(df)] = [pixels, label]`, and
afterwards parsed each string back with `np.array(s.split(), dtype="float32")`. That is slow, so it
runs on `--limit` images sampled evenly over the split, and its time is scaled per image.

Usage: .venv/bin/python bench/ingest.py [--data ../shared/datasets/fer2013/train] [--limit 3000]
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.data.dataset import IMAGE_SUFFIXES, load_dataset  # noqa: E402
from core.data.emotions import label_of_folder  # noqa: E402

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013" / "train"


def image_files(split_dir: Path) -> list[Path]:
    """Every image under `<split>/<emotion>/`, in a stable order."""
    return sorted(p for p in split_dir.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES)


def warm_file_cache(files: list[Path]) -> None:
    """Read every file once so both approaches start from the same warm OS page cache."""
    for file in files:
        file.read_bytes()


def notebook_ingest(files: list[Path]) -> tuple[np.ndarray, list[int]]:
    """The seed notebook's way, step for step (getdata included, deprecated in Pillow 13 or not)."""
    warnings.filterwarnings("ignore", message=".*getdata is deprecated", category=DeprecationWarning)
    df = pd.DataFrame(columns=["pixels", "emotion"])
    for file in files:
        img = Image.open(file)
        pixels = list(img.getdata())
        pixels_string = " ".join(str(p) for p in pixels)
        df.loc[len(df)] = [pixels_string, label_of_folder(file.parent.name)]
    arrays = [np.array(s.split(), dtype="float32").reshape(48, 48) for s in df["pixels"]]
    return np.stack(arrays), df["emotion"].tolist()


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a split folder of emotion folders")
    parser.add_argument("--limit", type=int, default=3000, help="images for the (slow) notebook baseline")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"skipped: no FER-2013 split folder at {args.data} (give one with --data)")
        return 0

    files = image_files(args.data)
    if not files:
        print(f"skipped: {args.data} has no <emotion>/<image> files")
        return 0
    step = max(1, len(files) // max(1, args.limit))
    sample = files[::step][: args.limit]
    print(f"data: {args.data} ({len(files)} images); notebook baseline on {len(sample)} (every {step}th)")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, "
          f"load average before {os.getloadavg()[0]:.2f}; Python {platform.python_version()}, "
          f"pandas {pd.__version__}, numpy {np.__version__}")
    warm_file_cache(files)

    with tempfile.TemporaryDirectory(prefix="fer-bench-cache-") as cache:
        cold, cold_s = timed(load_dataset, args.data, Path(cache))
        cached, cached_s = timed(load_dataset, args.data, Path(cache))
    split = next(iter(cold.splits.values()))
    assert np.array_equal(split.images, next(iter(cached.splits.values())).images)
    (notebook_images, notebook_labels), notebook_s = timed(notebook_ingest, sample)

    # the two approaches must agree on what they read
    by_source = dict(zip(split.sources, range(len(split))))
    ours = [by_source[str(file.relative_to(args.data))] for file in sample]
    same = np.array_equal(split.images[ours].astype("float32"), notebook_images)
    same &= split.labels[ours].tolist() == notebook_labels

    notebook_rate = len(sample) / notebook_s
    rows = [("notebook (PIL getdata + df.loc + split)", len(sample), notebook_s, notebook_rate),
            ("ours, cold (decode + write cache)", len(split), cold_s, len(split) / cold_s),
            ("ours, cached (second load)", len(split), cached_s, len(split) / cached_s)]
    print(f"\n{'approach':<42}{'images':>8}{'seconds':>10}{'images/s':>12}{'vs notebook':>13}")
    for name, count, seconds, rate in rows:
        print(f"{name:<42}{count:>8}{seconds:>10.2f}{rate:>12,.0f}{rate / notebook_rate:>12.1f}x")
    print(f"\nnotebook on all {len(files)} images, scaled per image: {len(files) / notebook_rate:.0f} s "
          f"(a lower bound: each df.loc append copies the frame, so it slows as the frame grows)")
    print(f"pixels and labels identical on the {len(sample)} sampled images: {'yes' if same else 'NO'}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
