"""Streaming from TFRecord shards against training from in-memory arrays: images/s and peak memory.

1. Throughput on FER-2013's train split: the same network trained from the in-memory arrays (what
   `python -m core train DATA` does) and from shards (`python -m core train SHARDS`), in alternating
   rounds of --batches batches, so both see the same machine load. The first batches of each round
   are not timed.
2. Peak memory (the kernel's high-water mark of resident memory, VmHWM, of a fresh process for each
   step): training --batches batches from the in-memory arrays and from shards of FER-2013, then
   `python -m core shard`, training from shards and training from the in-memory arrays on a synthetic
   set --scale times FER-2013's size, generated into a temporary folder (in /dev/shm where there is
   one) and deleted after.

Usage: python bench/streaming.py [--data ../shared/datasets/fer2013] [--arch seed] [--batches 100] [--rounds 3]
                                [--scale 10] [--only throughput|memory]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
WARMUP = 10  # batches of each round not timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(PROJECT.parent / "shared" / "datasets" / "fer2013"))
    parser.add_argument("--arch", default="seed")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--only", choices=("throughput", "memory"), default=None, help="run one of the two parts")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--source", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return _train_phase(args)
    if not (Path(args.data) / "train").is_dir():
        print(f"skipped: no FER-2013 train/ folder at {args.data}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="fer-bench-streaming-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        shards = work / "fer-shards"
        _run([sys.executable, "-m", "core", "shard", args.data, "--out", str(shards)])
        if args.only != "memory":
            print(json.dumps({"throughput": _throughput(args, shards)}), flush=True)
        if args.only == "throughput":
            return 0
        memory = {"in_memory_1x": _run(_phase(args, "memory", args.data)),
                  "shards_1x": _run(_phase(args, "shards", shards))}
        big = _synthetic_folder(work / "big", args.scale * 28709)
        memory["shard_command_big"] = _run(_phase(args, "shard", big) + ["--out", str(work / "big-shards")])
        memory["in_memory_big"] = _run(_phase(args, "memory", big), {"FER_CACHE_DIR": str(work / "cache")})
        shutil.rmtree(big)
        memory["shards_big"] = _run(_phase(args, "shards", work / "big-shards"))
        print(json.dumps({"peak_memory_mb": memory, "big_images": args.scale * 28709}), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _throughput(args, shards: Path) -> dict:
    """Images/s of both paths, alternating rounds in this process."""
    paths = {"in_memory": _memory_fit(args.data, args.arch), "shards": _stream_fit(shards, args.arch)}
    rates = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, fit in paths.items():
            times = fit(args.batches)
            rates[name].append((len(times) - 1 - WARMUP) * 128 / (times[-1] - times[WARMUP]))
    result = {name: round(float(np.median(r)), 1) for name, r in rates.items()}
    result["shards_vs_in_memory"] = round(result["shards"] / result["in_memory"], 3)
    result["rounds"] = {name: [round(x, 1) for x in r] for name, r in rates.items()}
    return result


def _clock():
    import keras

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter())

    return Clock()


def _model(arch: str):
    import keras

    from core.models.architectures import ARCHITECTURES
    from core.training.recipes import TrainingModel

    model = TrainingModel(ARCHITECTURES[arch].build(7))  # augmentation in the step, as the job trains
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _memory_fit(data: str, arch: str):
    """What training from the dataset itself runs: fit on the training fold's uint8 arrays."""
    import keras

    from core.data.dataset import load_dataset
    from core.data.emotions import EMOTIONS
    from core.training.config import TrainConfig
    from core.training.data import prepare_training_data

    prepared = prepare_training_data(load_dataset(data), TrainConfig(data=data, arch=arch))
    x = prepared["images"][prepared["train_indices"]][..., None]
    y = keras.utils.to_categorical(prepared["labels"][prepared["train_indices"]], len(EMOTIONS))
    model = _model(arch)

    def fit(batches: int) -> list[float]:
        clock = _clock()
        model.fit((x, y), y, batch_size=128, epochs=1, steps_per_epoch=batches, callbacks=[clock], verbose=0)
        return clock.times

    return fit


def _stream_fit(shards: str, arch: str):
    """What training from shards runs: fit on the shard stream."""
    from core.data.streaming import fit_input, shard_training_data
    from core.training.config import TrainConfig

    _, _, source = shard_training_data(TrainConfig(data=str(shards), arch=arch))
    stream, _ = fit_input(source, 128, 0)
    model = _model(arch)

    def fit(batches: int) -> list[float]:
        clock = _clock()
        model.fit(stream, epochs=1, steps_per_epoch=batches, callbacks=[clock], shuffle=False, verbose=0)
        return clock.times

    return fit


def _phase(args, phase: str, source) -> list[str]:
    return [sys.executable, __file__, "--phase", phase, "--source", str(source), "--arch", args.arch,
            "--batches", str(args.batches)]


def _train_phase(args) -> int:
    """One process: shard (phase shard), or train --batches batches from the dataset (phase memory) or
    from shards; then print its peak resident memory in MB."""
    if args.phase == "shard":
        from core.data.shards import write_shards

        write_shards(args.source, args.out, shards=32)
    else:
        fit = _memory_fit if args.phase == "memory" else _stream_fit
        fit(args.source, args.arch)(args.batches)
    status = Path("/proc/self/status").read_text()
    print(round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024))
    return 0


def _run(command: list[str], env: dict | None = None) -> dict:
    """Run a phase to its end: its peak resident memory in MB and its seconds."""
    started = time.time()
    result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True,
                            env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"} | (env or {}))
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr[-2000:]}")
    return {"peak_mb": int(result.stdout.split()[-1]), "seconds": round(time.time() - started, 1)}


def _synthetic_folder(root: Path, images: int) -> Path:
    """A Kaggle-layout train/ folder of `images` random 48x48 PNG faces (a bright bar per emotion on noise)."""
    import cv2

    from core.data.emotions import EMOTIONS

    rng = np.random.default_rng(0)
    for label, emotion in enumerate(EMOTIONS):
        folder = root / "train" / emotion
        folder.mkdir(parents=True)
        for index in range(images // len(EMOTIONS)):
            face = rng.integers(0, 90, (48, 48), dtype=np.uint8)
            face[3 + label * 6:7 + label * 6, 6:42] = 230
            cv2.imwrite(str(folder / f"{index}.png"), face)
    return root


if __name__ == "__main__":
    sys.exit(main())
