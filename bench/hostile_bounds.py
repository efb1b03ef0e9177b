"""Resource bounds under hostile input: each case of the corpus that could blow up memory or time
(zip bomb, huge pictures, a device or a pipe named like a picture, overflowing CSV cells, names that
are not UTF-8) run as its own `python -m core` process, with its peak memory and wall time, against a
plain photo through the same command as the baseline. Fails (exit 1) where a case passes 1 GiB or 60 s.

Usage: .venv/bin/python bench/hostile_bounds.py [--model models/default]
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MEMORY_BOUND = 1 << 30
TIME_BOUND = 60.0


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def write_inputs(folder: Path) -> dict[str, list[str]]:
    """The hostile inputs in folder, and the core command that meets each."""
    rng = np.random.default_rng(0)
    photo = folder / "photo.jpg"
    Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(photo)
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("happy/0.png", png(rng.integers(0, 255, (48, 48), dtype=np.uint8)))
        with archive.open("happy/zeros.bin", "w", force_zip64=True) as member:  # 1 GiB of zeros, ~1 MB packed
            for _ in range(1024):
                member.write(bytes(1 << 20))
    Image.new("L", (12000, 12000)).save(folder / "huge.png")  # 144 megapixels, a few hundred kB
    Image.fromarray(rng.integers(0, 255, (7000, 11000), dtype=np.uint8)).save(folder / "huge.jpg", quality=50)
    (folder / "zero.jpg").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.jpg")
    rows = ["emotion,pixels,Usage"] + [f"3,{' '.join(['99999999999999999999999'] * 2304)},Training"] * 50
    (folder / "fer2013.csv").write_text("\n".join(rows + ["3," + " ".join(["128"] * 2304) + ",Training"]) + "\n")
    names = folder / "names" / "happy"
    names.mkdir(parents=True)
    for i in range(3):
        (names / os.fsdecode(b"face-\xff\xfe" + bytes([48 + i]) + b".png")).write_bytes(
            png(rng.integers(0, 255, (48, 48), dtype=np.uint8)))
    return {"a plain 640x480 photo (baseline)": ["predict", "{model}", str(photo)],
            "a zip bomb (1 GiB of zeros in ~1 MB)": ["stats", str(folder / "bomb.zip")],
            "a 144-megapixel PNG": ["predict", "{model}", str(folder / "huge.png")],
            "a 77-megapixel JPEG": ["predict", "{model}", str(folder / "huge.jpg")],
            "/dev/zero named .jpg": ["predict", "{model}", str(folder / "zero.jpg")],
            "a FIFO named .jpg": ["predict", "{model}", str(folder / "pipe.jpg")],
            "a CSV of overflowing pixel values": ["stats", str(folder / "fer2013.csv")],
            "file names that are not UTF-8": ["stats", str(folder / "names")]}


# `python -m core ARGS`, then the process's own peak memory (VmHWM) written to the file PEAK_FILE names:
# a forked child's rusage would count this bench's own memory as well.
PROBE = """
import os, sys
from core.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
    open(os.environ["PEAK_FILE"], "w").write(peak.split()[1])
sys.exit(code)
"""


def measure(arguments: list[str], scratch: Path) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak resident bytes of one fresh `python -m core` process."""
    peak_file = scratch / "peak"
    started = time.perf_counter()
    code = subprocess.call([sys.executable, "-c", PROBE, *arguments], cwd=PROJECT_ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "FER_CACHE_DIR": str(scratch / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3",
                                "PEAK_FILE": str(peak_file)})
    return code, time.perf_counter() - started, int(peak_file.read_text()) * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "default"))
    args = parser.parse_args()
    worst_ok = True
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cases = write_inputs(folder)
        print("| input | command | exit | seconds | peak memory |\n| --- | --- | ---: | ---: | ---: |")
        for name, arguments in cases.items():
            arguments = [a.format(model=args.model) for a in arguments]
            code, seconds, peak = measure(arguments, folder)
            within = peak <= MEMORY_BOUND and seconds <= TIME_BOUND
            worst_ok &= within
            print(f"| {name} | {arguments[0]} | {code} | {seconds:.1f} | {peak / 2**20:,.0f} MiB"
                  f"{'' if within else ' (over the bound)'} |", flush=True)
    return 0 if worst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
