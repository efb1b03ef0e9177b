"""Resource bounds under hostile input: each case of the corpus that could blow up memory or time
(zip bomb, huge pictures, a 16-bit picture whose float copies took gigabytes, PostScript named .jpg, a
model declaring a giant layer, a device or a pipe named like a picture, overflowing CSV cells, names that
are not UTF-8, a progressive JPEG, a picture tiled with small faces) run as its own `python -m core` process, with its peak memory and wall time, against a
plain photo through the same command as the baseline. Fails (exit 1) where a case takes over 256 MiB more
than the baseline (the largest picture decoded at full size: 64 megapixels of 4 bytes) or over 60 s.

Usage: .venv/bin/python bench/hostile_bounds.py [--model models/default] [--only TEXT]
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
EXTRA_MEMORY_BOUND = 256 << 20  # beyond the baseline's peak (TensorFlow, the model and MTCNN: ~1 GiB)
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
    Image.new("I;16", (8000, 7900), 30000).save(folder / "deep.png")  # 63 megapixels of 16 bits, ~127 kB
    (folder / "holiday.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n0 0 moveto 9 9 lineto\n"
                                         b"fill")
    giant_model(folder / "giant.keras")
    Image.new("CMYK", (13000, 13000)).save(folder / "progressive.jpg", progressive=True, quality=10)  # 2.6 MB
    from skimage import data  # a face of skimage's astronaut, 24 pixels wide, tiled over 960x960 pixels
    face = Image.fromarray(data.astronaut()[20:200, 150:300]).resize((24, 30), Image.Resampling.LANCZOS)
    Image.fromarray(np.tile(np.asarray(face), (32, 40, 1))).save(folder / "faces.png")
    names = folder / "names" / "happy"
    names.mkdir(parents=True)
    for i in range(3):
        (names / os.fsdecode(b"face-\xff\xfe" + bytes([48 + i]) + b".png")).write_bytes(
            png(rng.integers(0, 255, (48, 48), dtype=np.uint8)))
    return {"a plain 640x480 photo (baseline)": ["predict", "{model}", str(photo)],
            "a zip bomb (1 GiB of zeros in ~1 MB)": ["stats", str(folder / "bomb.zip")],
            "a 144-megapixel PNG": ["predict", "{model}", str(folder / "huge.png")],
            "a 77-megapixel JPEG": ["predict", "{model}", str(folder / "huge.jpg")],
            "a 16-bit 8000x7900 PNG (127 kB)": ["predict", "{model}", str(folder / "deep.png")],
            "73 bytes of PostScript named .jpg": ["predict", "{model}", str(folder / "holiday.jpg")],
            "a .keras declaring Dense(300000)": ["predict", str(folder / "giant.keras"), str(photo)],
            "a progressive 13000x13000 CMYK JPEG (2.6 MB)": ["predict", "{model}", str(folder / "progressive.jpg")],
            "960x960 pixels tiled with 1,280 faces 24 px wide": ["predict", "{model}", str(folder / "faces.png")],
            "/dev/zero named .jpg": ["predict", "{model}", str(folder / "zero.jpg")],
            "a FIFO named .jpg": ["predict", "{model}", str(folder / "pipe.jpg")],
            "a CSV of overflowing pixel values": ["stats", str(folder / "fer2013.csv")],
            "file names that are not UTF-8": ["stats", str(folder / "names")]}


def giant_model(path: Path) -> None:
    """A small face model whose config.json then declares its hidden Dense layer 300,000 wide: 691 million
    weights (2.8 GB) that Keras would allocate while building it."""
    import json

    import keras

    inputs = keras.Input((48, 48, 1))
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(hidden)).save(path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")["config"]["units"] = 300_000
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


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
    parser.add_argument("--only", default="", help="run only the cases whose name holds this text")
    args = parser.parse_args()
    worst_ok, baseline = True, None
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cases = write_inputs(folder)
        print("| input | command | exit | seconds | peak memory |\n| --- | --- | ---: | ---: | ---: |")
        for name, arguments in cases.items():
            if args.only not in name and "baseline" not in name:
                continue
            arguments = [a.format(model=args.model) for a in arguments]
            code, seconds, peak = measure(arguments, folder)
            baseline = baseline or peak  # the first case
            within = peak <= baseline + EXTRA_MEMORY_BOUND and seconds <= TIME_BOUND
            worst_ok &= within
            print(f"| {name} | {arguments[0]} | {code} | {seconds:.1f} | {peak / 2**20:,.0f} MiB"
                  f"{'' if within else ' (over the bound)'} |", flush=True)
    return 0 if worst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
