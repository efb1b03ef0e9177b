"""The networks, chosen by name. A new architecture is one builder added to ARCHITECTURES.

Every network takes (48, 48, 1) pixels in 0-255 and returns one softmax probability per class in
float32; scaling is a layer inside the model, so a face is prepared the same way for training,
evaluation and prediction. Training-time augmentation is the training step's (core.training.recipes).
"transfer" and "features" start from the FER-2013 ensemble's learned features (models/fer2013) with a new head.
"""

from dataclasses import dataclass
from typing import Callable

import keras
from keras import layers

from core.vision.imaging import FACE_SIZE
from core.storage.runs import FER2013_MODEL_DIR

INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


# Keras' augmentation layers, inside the networks trained before augmentation moved into the training
# step (core.training.recipes), the shipped default's among them: identity at inference, left out of exports (core.evaluation.export).
AUGMENTATION_LAYERS = (layers.RandomFlip, layers.RandomRotation, layers.RandomTranslation, layers.RandomZoom,
                       layers.RandomErasing)


def _conv_block(x, filters: int, convs: int = 2):
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    return layers.MaxPooling2D()(x)


def build_seed(classes: int) -> keras.Model:
    """The original notebook's network: Conv 16,16 / 32,32 / 64,64, dropout 0.7, softmax."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255)(inputs)
    for filters in (16, 32, 64):
        x = _conv_block(x, filters)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.7)(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="seed")


def _vgg(widths: tuple[int, ...], name: str, classes: int) -> keras.Model:
    """Four blocks of two 3x3 convs, then dense 256 and softmax: 48x48 -> 24 -> 12 -> 6 -> 3."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255)(inputs)
    for filters in widths:
        x = _conv_block(x, filters)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def build_vgg(classes: int) -> keras.Model:
    """The VGG-style net with 32-64-128-256 filters: ~1.8M params, ~0.24 GFLOP a face."""
    return _vgg((32, 64, 128, 256), "vgg", classes)


def build_vgg_wide(classes: int) -> keras.Model:
    """The same net 1.5 times as wide, 48-96-192-384 filters: ~3.5M params, ~0.53 GFLOP a face."""
    return _vgg((48, 96, 192, 384), "vgg_wide", classes)


def _residual_block(x, filters: int, stride: int):
    """Two 3x3 convs added to the input (a 1x1 projection when the shape changes), then ReLU."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(layers.Add()([x, shortcut]))


def build_resnet(classes: int) -> keras.Model:
    """A ResNet sized for 48x48: a 3x3 stem, then 2 residual blocks each at 64, 128 and 256 filters,
    the first of each halving the side (48 -> 24 -> 12 -> 6), global average pooling and softmax:
    ~2.8M params, ~0.5 GFLOP a face."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters in (64, 128, 256):
        x = _residual_block(x, filters, stride=2)
        x = _residual_block(x, filters, stride=1)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="resnet")


# Own classes start from the FER-2013 ensemble's networks (models/fer2013): their features are what
# bench/new_people.py and bench/own_classes.py measured; member_2 is its vgg, the features of "transfer".
FEATURES_MODEL_DIR = FER2013_MODEL_DIR
SHIPPED_MEMBER = "member_2"
HEAD_LAYERS = ("head_dropout", "head")  # a transfer network's new layers; the others are its features


def build_transfer(classes: int) -> keras.Model:
    """The FER-2013 ensemble's vgg member up to its 256-wide features (learned on 28,709 FER-2013 faces), with
    a new dropout and softmax head for these classes: ~1.7M params, ~0.24 GFLOP a face. One flat network,
    so Grad-CAM and the exports see it as any other."""
    from core.models.store import load_model  # the model store imports this registry

    member = load_model(FEATURES_MODEL_DIR).get_layer(SHIPPED_MEMBER)
    features = member.layers[-3].output  # before the member's own dropout and 7-way softmax
    x = layers.Dropout(0.3, name=HEAD_LAYERS[0])(features)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name=HEAD_LAYERS[1])(x)
    return keras.Model(member.inputs[0], outputs, name="transfer")


def build_features(classes: int) -> keras.Model:
    """All three shipped networks' penultimate features side by side (1,024 numbers a face,
    core.models.features) with a softmax head for these classes, whose weights a logistic regression sets
    (core.training.feature_head): ~8.8M params, none trained by gradient."""
    from core.models.features import feature_network
    from core.models.store import load_model

    features = feature_network(load_model(FEATURES_MODEL_DIR))
    outputs = layers.Dense(classes, activation="softmax", dtype="float32", name=HEAD_LAYERS[1])(features.output)
    return keras.Model(features.inputs[0], outputs, name="features")


def set_features_trainable(network: keras.Model, trainable: bool) -> None:
    """Freeze (False) or free (True) a transfer network's learned features; its BatchNormalization layers
    stay frozen either way (in inference mode: a small dataset must not move FER-2013's statistics)."""
    for layer in network.layers:
        if layer.name not in HEAD_LAYERS and layer.weights:
            layer.trainable = trainable and not isinstance(layer, layers.BatchNormalization)


@dataclass(frozen=True)
class Architecture:
    """A named network with the optimiser settings it trains best with."""

    build: Callable[..., keras.Model]
    description: str
    learning_rate: float
    schedule: str  # "constant" (plain Adam) or "cosine" (AdamW, warm-up then cosine decay)
    label_smoothing: float
    weight_decay: float = 1e-4  # AdamW's, for the cosine schedule
    pretrained: bool = False  # starts from learned features (freezes them for the run's first epochs)

    @property
    def optimizer(self) -> str:
        """Its own optimiser: plain Adam for the constant schedule, AdamW for the cosine one."""
        return "adam" if self.schedule == "constant" else "adamw"


ARCHITECTURES = {
    "vgg": Architecture(build_vgg, "VGG-style, 4x2 convs, ~1.8M params, cosine AdamW",
                        learning_rate=2e-3, schedule="cosine", label_smoothing=0.1),
    "vgg_wide": Architecture(build_vgg_wide, "The VGG-style net 1.5x as wide, ~3.5M params, same recipe",
                             learning_rate=2e-3, schedule="cosine", label_smoothing=0.1),
    "resnet": Architecture(build_resnet, "ResNet for 48x48, 3x2 residual blocks, ~2.8M params, cosine AdamW",
                           learning_rate=2e-3, schedule="cosine", label_smoothing=0.1),
    "seed": Architecture(build_seed, "The original notebook's small CNN (reference), Adam 1e-3",
                         learning_rate=1e-3, schedule="constant", label_smoothing=0.0),
    "transfer": Architecture(build_transfer, "The FER-2013 model's learned features with a new head for your "
                             "classes, ~1.7M params, Adam", learning_rate=1e-3, schedule="constant",
                             label_smoothing=0.1, pretrained=True),
    "features": Architecture(build_features, "The three shipped networks' features with a logistic regression "
                             "for your classes, scored and calibrated on people left out, then taught on all: "
                             "seconds, no epochs", learning_rate=1e-3, schedule="constant", label_smoothing=0.0,
                             pretrained=True),
}


def starts_from_features(arch: str | None) -> bool:
    """Whether a network of this name starts from learned features (a run's config may name one no longer here).

    Example: starts_from_features("transfer") -> True; starts_from_features("vgg") -> False
    """
    return arch in ARCHITECTURES and ARCHITECTURES[arch].pretrained
