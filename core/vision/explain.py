"""Why a face got its label: Grad-CAM heat maps over the 48x48 face, drawn on the face crop.

Grad-CAM (Selvaraju et al. 2017) multiplies the last convolutional features by the gradient of the
class score (the logit before the softmax), sums over channels and keeps the positive part: where
the network saw evidence for that class. It is the HiResCAM form (Draelos & Carin 2020): gradients
are multiplied element-wise, not averaged per channel first, which keeps the map faithful to
networks that flatten their features into a dense layer, as ours do; with averaged weights a
same-looking pattern elsewhere in the face lit up as brightly as the one that decided the class
(tests/test_explain.py). A network without convolutions gets a gradient saliency map
(|d score / d pixel|). For an ensemble (core.training.ensemble), each member's map is scaled to a peak of 1
and the members' maps are averaged.
"""

import cv2
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.vision.imaging import FACE_SIZE, in_usual_light

CONVOLUTIONS = (layers.Conv2D, layers.SeparableConv2D, layers.DepthwiseConv2D)
POOLING = (layers.MaxPooling2D, layers.AveragePooling2D)
OVERLAY_SIDE = 192  # pixels a side of the picture drawn for a face
OVERLAY_ALPHA = 0.45  # share of the heat colours in it


class GradCam:
    """Grad-CAM of one model, its probe networks (features and scores of each member) built once, to be reused
    for every face explained with it.

    Example: GradCam(load_model("default")).overlays(crops, classes)
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.probes = [_Probe(member) for member in members(model)]

    def heatmaps(self, faces: np.ndarray, classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(N, 48, 48) maps in [0, 1] of where (N, 48, 48) uint8 faces show their class, and the classes.

        classes: the class index explained for each face; None explains the model's own top class.
        """
        pixels = in_usual_light(np.asarray(faces, np.uint8)).astype(np.float32)[..., None]  # as classified
        if classes is None:
            classes = np.asarray(self.model.predict_on_batch(pixels)).argmax(axis=1)
        classes = np.asarray(classes, np.int32)
        maps = [_peak_scaled(probe.maps(pixels, classes)) for probe in self.probes]
        return _peak_scaled(np.mean(maps, axis=0)), classes

    def overlays(self, faces: np.ndarray, classes: np.ndarray | None = None) -> list[np.ndarray]:
        """One RGB overlay (see overlay) per 48x48 face, for the given or the predicted class."""
        maps, _ = self.heatmaps(faces, classes)
        return [overlay(face, heatmap) for face, heatmap in zip(faces, maps)]


def heatmaps(model: keras.Model, faces: np.ndarray, classes: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """GradCam(model).heatmaps: maps of where faces show their class, and the classes.

    Example: maps, classes = heatmaps(load_model("default"), crops)
    """
    return GradCam(model).heatmaps(faces, classes)


def members(model: keras.Model) -> list[keras.Model]:
    """The networks an ensemble averages, or [model] for a single network (a network of several networks'
    features side by side, core.models.features, is one network: its head decides)."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    averaged = any(isinstance(layer, layers.Average) for layer in model.layers)
    return nested if nested and averaged else [model]


def overlay(face: np.ndarray, heatmap: np.ndarray, side: int = OVERLAY_SIDE) -> np.ndarray:
    """An RGB side x side picture of a 48x48 gray face with its heat map in colour (red: most evidence)."""
    gray = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    heat = cv2.resize((np.clip(heatmap, 0, 1) * 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_LINEAR)
    colours = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB), 1 - OVERLAY_ALPHA, colours, OVERLAY_ALPHA, 0)


def explain_faces(model: keras.Model, faces: np.ndarray, classes: np.ndarray | None = None) -> list[np.ndarray]:
    """One RGB overlay (see overlay) per 48x48 face, for the given or the predicted class."""
    return GradCam(model).overlays(faces, classes)


class _Probe:
    """One network's last spatial features and class scores (the logits before a softmax head), with Grad-CAM
    over them (gradient saliency over the pixels without convolutions)."""

    def __init__(self, member: keras.Model):
        self.features_layer = _feature_layer(member)
        self.head = member.layers[-1]
        self.softmax_dense = isinstance(self.head, layers.Dense) and self.head.activation is keras.activations.softmax
        outputs = [self.features_layer.output if self.features_layer else member.inputs[0],
                   self.head.input if self.softmax_dense else member.outputs[0]]
        self.network = keras.Model(member.inputs, outputs)

    def maps(self, pixels: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """(N, 48, 48) float32 maps of (N, 48, 48, 1) pixels for the given class indices."""
        x = tf.convert_to_tensor(pixels)
        with tf.GradientTape() as tape:
            tape.watch(x)
            features, last = self.network(x, training=False)
            if self.features_layer is None:
                features = x
            last = tf.cast(last, tf.float32)  # a mixed_bfloat16 network's features are bfloat16
            scores = (tf.matmul(last, tf.cast(self.head.kernel, tf.float32)) + tf.cast(self.head.bias, tf.float32)
                      if self.softmax_dense else tf.math.log(last + 1e-7))
            chosen = tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1))
        gradients = tape.gradient(chosen, features).numpy().astype(np.float32)
        if self.features_layer is None:
            maps = np.abs(gradients[..., 0])
        else:
            maps = np.maximum((gradients * features.numpy().astype(np.float32)).sum(axis=-1), 0)
        return np.stack([cv2.resize(m, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_LINEAR) for m in maps])


def _feature_layer(model: keras.Model):
    """The last spatial (4-D) layer after the last convolution, pooling excluded; None without convolutions."""
    convolutions = [i for i, layer in enumerate(model.layers) if isinstance(layer, CONVOLUTIONS)]
    if not convolutions:
        return None
    spatial = [layer for layer in model.layers[convolutions[-1]:]
               if len(layer.output.shape) == 4 and not isinstance(layer, POOLING)]
    return spatial[-1]


def _peak_scaled(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its own maximum (an all-zero map stays zero)."""
    peaks = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, peaks, out=np.zeros_like(maps), where=peaks > 0).astype(np.float32)
