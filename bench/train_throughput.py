"""Training throughput (images/s) of the networks and recipes, side by side, on this machine.

Each configuration is built and compiled as `python -m core train` does (core.training.recipes.TrainingModel,
the job's optimiser), then all of them train in turns: every round gives each one --batches batches
of random 48x48 faces (batch 128), so load from other processes falls on all alike. The figure is
the median over rounds of images/s between the first and the last batch end (tracing excluded).
`seed, Keras layers` is the augmentation before this bench: Keras' RandomFlip, RandomRotation,
RandomTranslation, RandomZoom and RandomErasing inside the network.

Usage: python bench/train_throughput.py [--batches 30] [--rounds 3] [--only seed,vgg]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from core.models.architectures import ARCHITECTURES  # noqa: E402
from core.training.augmentation import FaceAugmentation  # noqa: E402
from core.training.recipes import TrainingModel, build_optimizer  # noqa: E402

BATCH = 128
# name: (architecture, augmentation: "none" / "step" / "keras", mix, precision)
CONFIGS = {
    "seed, no augmentation": ("seed", "none", "none", "float32"),
    "seed, augmentation in the step": ("seed", "step", "none", "float32"),
    "seed, Keras layers (before)": ("seed", "keras", "none", "float32"),
    "seed, step + cutmix": ("seed", "step", "cutmix", "float32"),
    "seed, mixed_bfloat16": ("seed", "step", "none", "mixed_bfloat16"),
    "vgg": ("vgg", "step", "none", "float32"),
    "vgg, mixed_bfloat16": ("vgg", "step", "none", "mixed_bfloat16"),
    "vgg_wide": ("vgg_wide", "step", "none", "float32"),
    "vgg_wide, mixed_bfloat16": ("vgg_wide", "step", "none", "mixed_bfloat16"),
    "resnet": ("resnet", "step", "none", "float32"),
    "resnet, mixed_bfloat16": ("resnet", "step", "none", "mixed_bfloat16"),
}


def keras_layer_augmentation(seed: int = 0) -> list[keras.Layer]:
    """The augmentation the networks carried before core.training.augmentation (same ranges)."""
    return [layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(10 / 360, fill_mode="nearest", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),
            layers.RandomZoom(0.1, fill_mode="nearest", seed=seed),
            layers.RandomErasing(factor=0.5, scale=(0.02, 0.15), value_range=(0, 255), seed=seed)]


def with_keras_layers(network: keras.Model) -> keras.Model:
    """The network with Keras' augmentation layers in front, as the networks were built before."""
    inputs = keras.Input(network.input_shape[1:])
    x = inputs
    for layer in keras_layer_augmentation():
        x = layer(x)
    return keras.Model(inputs, network(x))


def build(arch: str, augmentation: str, mix: str, precision: str, steps: int) -> TrainingModel:
    keras.mixed_precision.set_global_policy(precision)
    try:
        architecture = ARCHITECTURES[arch]
        network = architecture.build(7)
        if augmentation == "keras":
            network = with_keras_layers(network)
        model = TrainingModel(network, augment=augmentation == "step", mix=mix)
        model.compile(optimizer=build_optimizer(architecture.optimizer, None, architecture.schedule,
                                                architecture.learning_rate, None, architecture.weight_decay,
                                                steps, steps),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=architecture.label_smoothing),
                      metrics=["accuracy"])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


class BatchClock(keras.callbacks.Callback):
    """Times from the first batch's end to the last's."""

    def on_train_batch_end(self, batch, logs=None):
        self.times = getattr(self, "times", []) + [time.perf_counter()]


def images_per_second(model: TrainingModel, faces: np.ndarray, targets: np.ndarray) -> float:
    clock = BatchClock()
    model.fit((faces, targets), targets, batch_size=BATCH, epochs=1, verbose=0, callbacks=[clock])
    return (len(clock.times) - 1) * BATCH / (clock.times[-1] - clock.times[0])


def augmentation_milliseconds(repeats: int = 20) -> dict[str, float]:
    """ms to augment one batch of 128 faces: the Keras layers one after another, and FaceAugmentation."""
    import tensorflow as tf

    faces = tf.constant(np.random.default_rng(0).uniform(0, 255, (BATCH, 48, 48, 1)).astype(np.float32))
    mine = FaceAugmentation(0)
    pipelines = {"Keras layers (5 resamplings and erasing)": keras_layer_augmentation(),
                 "FaceAugmentation (1 resampling and erasing)": [mine]}
    result = {}
    for name, pipeline in pipelines.items():
        def augment(x, pipeline=pipeline):
            for layer in pipeline:
                x = layer(x, training=True)
            return x

        step = tf.function(augment)
        step(faces)
        started = time.perf_counter()
        for _ in range(repeats):
            step(faces)
        result[name] = (time.perf_counter() - started) / repeats * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30, help="batches per configuration and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=None, help="comma-separated architectures to keep (e.g. seed,vgg)")
    args = parser.parse_args()
    configs = {name: spec for name, spec in CONFIGS.items()
               if not args.only or spec[0] in args.only.split(",")}
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (args.batches * BATCH, 48, 48, 1), dtype=np.uint8)
    targets = keras.utils.to_categorical(rng.integers(0, 7, len(faces)), 7)
    models = {name: build(*spec, args.batches) for name, spec in configs.items()}
    for model in models.values():  # trace each training step before anything is timed
        model.fit((faces[:2 * BATCH], targets[:2 * BATCH]), targets[:2 * BATCH], batch_size=BATCH, verbose=0)
    rates = {name: [] for name in models}
    for round_number in range(args.rounds):
        for name, model in models.items():
            rates[name].append(images_per_second(model, faces, targets))
        print(f"round {round_number + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.1f}", flush=True)

    print(f"\n{keras.backend.backend()}, {os.cpu_count()} CPUs, batch {BATCH}, {args.batches} batches x "
          f"{args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    print("| configuration | images/s (median) | all rounds |\n| --- | ---: | --- |")
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):.0f} | {', '.join(f'{v:.0f}' for v in values)} |")
    if keras.backend.backend() == "tensorflow":
        print("\n| augmentation of one batch of 128 | ms |\n| --- | ---: |")
        for name, milliseconds in augmentation_milliseconds().items():
            print(f"| {name} | {milliseconds:.1f} |")


if __name__ == "__main__":
    main()
