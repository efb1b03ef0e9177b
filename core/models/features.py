"""What the shipped networks learned, as numbers a small head can learn new classes from: each member's
penultimate layer (the 256 units before its own dropout and softmax), side by side.

Example: face_features(feature_network(load_model("models/fer2013")), faces).shape -> (N, 768)
"""

import numpy as np

from core.models.inference import BATCH_SIZE
from core.vision.imaging import in_usual_light

FEATURE_LAYER = -3  # a vgg-style member ends Dense(features), Dropout, Dense(softmax)


def members(model) -> list:
    """The networks an ensemble averages (the model itself when it is one network)."""
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested or [model]


def feature_network(model):
    """A network from (N, 48, 48, 1) faces in 0-255 to every member's penultimate features, concatenated."""
    import keras

    inputs = keras.Input(model.inputs[0].shape[1:])
    outputs = [keras.Model(member.inputs[0], member.layers[FEATURE_LAYER].output)(inputs) for member in members(model)]
    merged = keras.layers.Concatenate()(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, merged, name="features")


def face_features(network, faces: np.ndarray, mirrored: bool = False) -> np.ndarray:
    """(N, F) float32 features of (N, 48, 48) uint8 faces (of their mirror images with mirrored), levelled as
    every face a network classifies is (core.vision.imaging.in_usual_light)."""
    faces = in_usual_light(faces[:, :, ::-1] if mirrored else faces)
    chunks = [np.asarray(network.predict_on_batch(faces[start:start + BATCH_SIZE].astype(np.float32)[..., None]))
              for start in range(0, len(faces), BATCH_SIZE)]
    width = network.outputs[0].shape[-1]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, width), np.float32)
