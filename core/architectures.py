"""The networks, chosen by name. A new architecture is one builder added to ARCHITECTURES.

Every network takes (48, 48, 1) pixels in 0-255 and returns 7 softmax probabilities in
float32; scaling and training-time augmentation are layers inside the model, so a face is
prepared the same way for training, evaluation and prediction.
"""

from dataclasses import dataclass
from typing import Callable

import keras
from keras import layers

from core.emotions import EMOTIONS
from core.imaging import FACE_SIZE

INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


# The layer types augmentation() uses: identity at inference, left out of exports (core.export).
AUGMENTATION_LAYERS = (layers.RandomFlip, layers.RandomRotation, layers.RandomTranslation, layers.RandomZoom,
                       layers.RandomErasing)


def augmentation(seed: int) -> list[keras.Layer]:
    """Flips, +-10 degree rotations, 10% shifts and zoom, and random erasing (training only)."""
    return [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(10 / 360, fill_mode="nearest", seed=seed),
        layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),
        layers.RandomZoom(0.1, fill_mode="nearest", seed=seed),
        layers.RandomErasing(factor=0.5, scale=(0.02, 0.15), value_range=(0, 1), seed=seed),
    ]


def _conv_block(x, filters: int, convs: int = 2):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    return layers.MaxPooling2D()(x)


def build_seed(augment: bool, seed: int = 0) -> keras.Model:
    """The original notebook's network: Conv 16,16 / 32,32 / 64,64, dropout 0.7, softmax."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255)(inputs)
    for layer in augmentation(seed) if augment else []:
        x = layer(x)
    for filters in (16, 32, 64):
        x = _conv_block(x, filters)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.7)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="seed")


def _vgg(widths: tuple[int, ...], name: str, augment: bool, seed: int) -> keras.Model:
    """Four blocks of two 3x3 convs, then dense 256 and softmax: 48x48 -> 24 -> 12 -> 6 -> 3."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255)(inputs)
    for layer in augmentation(seed) if augment else []:
        x = layer(x)
    for filters in widths:
        x = _conv_block(x, filters)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def build_vgg(augment: bool, seed: int = 0) -> keras.Model:
    """The VGG-style net with 32-64-128-256 filters: ~1.8M params, ~0.24 GFLOP a face."""
    return _vgg((32, 64, 128, 256), "vgg", augment, seed)


def build_vgg_wide(augment: bool, seed: int = 0) -> keras.Model:
    """The same net 1.5 times as wide, 48-96-192-384 filters: ~3.5M params, ~0.53 GFLOP a face."""
    return _vgg((48, 96, 192, 384), "vgg_wide", augment, seed)


@dataclass(frozen=True)
class Architecture:
    """A named network with the optimiser settings it trains best with."""

    build: Callable[..., keras.Model]
    description: str
    learning_rate: float
    schedule: str  # "constant" (plain Adam) or "cosine" (AdamW, warm-up then cosine decay)
    label_smoothing: float
    weight_decay: float = 1e-4  # AdamW's, for the cosine schedule


ARCHITECTURES = {
    "vgg": Architecture(build_vgg, "VGG-style, 4x2 convs, ~1.8M params, augmentation, cosine AdamW",
                        learning_rate=2e-3, schedule="cosine", label_smoothing=0.1),
    "vgg_wide": Architecture(build_vgg_wide, "The VGG-style net 1.5x as wide, ~3.5M params, same recipe",
                             learning_rate=2e-3, schedule="cosine", label_smoothing=0.1),
    "seed": Architecture(build_seed, "The original notebook's small CNN (reference), Adam 1e-3",
                         learning_rate=1e-3, schedule="constant", label_smoothing=0.0),
}
