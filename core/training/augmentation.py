"""Training-time augmentation as batched tensor operations, fit for a jitted training step.

Every op is keras.ops, so the same code runs inside the compiled step under TensorFlow and under
JAX (on a GPU the images never leave the device). Keras' own RandomFlip, RandomRotation,
RandomTranslation and RandomZoom each resample the batch; here one affine transform per face does
all four at once. Images are raw pixels, 0-255, shape (N, 48, 48, 1).
"""

import math

import keras
from keras import ops

FLIP_PROBABILITY = 0.5
MAX_ROTATION = math.radians(10)
MAX_SHIFT = 0.1  # of the side
MAX_ZOOM = 0.1
ERASE_PROBABILITY = 0.5
ERASE_AREA = (0.02, 0.15)  # of the face
ERASE_ASPECT = (0.3, 3.3)
MIX_ALPHA = {"mixup": 0.2, "cutmix": 1.0}  # Beta(alpha, alpha) for the share of the first image
MIXES = ("none", *MIX_ALPHA)


@keras.saving.register_keras_serializable(package="fer_studio")
class FaceAugmentation(keras.layers.Layer):
    """Random flips, +-10 degree rotations, 10% shifts and zoom (one affine resampling), and random erasing.

    Example: FaceAugmentation(seed=0)(images, training=True) -> images of the same shape.
    Returns the images unchanged when training is False.
    """

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        return random_erasing(random_affine(images, self.generator), self.generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"seed": self.seed}


def _uniform(generator, batch: int, low: float, high: float):
    return keras.random.uniform((batch,), low, high, seed=generator)


def random_affine(images, generator):
    """Flip, rotate, shift and zoom each face by its own random amounts, in one bilinear resampling."""
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    flip = ops.where(_uniform(generator, batch, 0, 1) < FLIP_PROBABILITY, -1.0, 1.0)
    angle = _uniform(generator, batch, -MAX_ROTATION, MAX_ROTATION)
    scale = 1 / _uniform(generator, batch, 1 - MAX_ZOOM, 1 + MAX_ZOOM)
    shift_x = _uniform(generator, batch, -MAX_SHIFT, MAX_SHIFT) * width
    shift_y = _uniform(generator, batch, -MAX_SHIFT, MAX_SHIFT) * height
    # Output pixel p reads input pixel centre + A (p - centre) + shift, A = scale * rotation * flip.
    a00, a01 = scale * flip * ops.cos(angle), -scale * ops.sin(angle)
    a10, a11 = scale * flip * ops.sin(angle), scale * ops.cos(angle)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    zeros = ops.zeros_like(angle)
    transform = ops.stack([a00, a01, cx + shift_x - a00 * cx - a01 * cy,
                           a10, a11, cy + shift_y - a10 * cx - a11 * cy, zeros, zeros], axis=1)
    return ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode="nearest")


def _boxes(generator, batch: int, height: int, width: int, area):
    """A random box per face (mask (N, H, W, 1) of 0/1) covering `area` (N,) of it, clipped to the face."""
    aspect = ops.exp(_uniform(generator, batch, math.log(ERASE_ASPECT[0]), math.log(ERASE_ASPECT[1])))
    box_h = ops.minimum(ops.sqrt(area * height * width * aspect), height)
    box_w = ops.minimum(ops.sqrt(area * height * width / aspect), width)
    top = _uniform(generator, batch, 0, 1) * (height - box_h)
    left = _uniform(generator, batch, 0, 1) * (width - box_w)
    rows = ops.arange(height, dtype="float32")[None, :, None]
    cols = ops.arange(width, dtype="float32")[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < (top + box_h)[:, None, None])
              & (cols >= left[:, None, None]) & (cols < (left + box_w)[:, None, None]))
    return ops.cast(inside, "float32")[..., None]


def random_erasing(images, generator):
    """With probability 0.5, replace a random box (2-15% of the face) by noise."""
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    area = _uniform(generator, batch, *ERASE_AREA)
    erase = ops.cast(_uniform(generator, batch, 0, 1) < ERASE_PROBABILITY, "float32")[:, None, None, None]
    mask = _boxes(generator, batch, height, width, area) * erase
    noise = keras.random.uniform(ops.shape(images), 0, 255, seed=generator)
    return images * (1 - mask) + noise * mask


def mix_batch(images, targets, mix: str, generator, alpha: float | None = None):
    """Mixup or CutMix: blend each face with its partner in the reversed batch, and their targets alike.

    mixup: pixels lam * a + (1 - lam) * b; cutmix: a box of b pasted into a, lam its uncovered share.
    lam ~ Beta(alpha, alpha) per face. Returns (images, targets); "none" returns them unchanged.
    """
    if mix == "none":
        return images, targets
    images, targets = ops.cast(images, "float32"), ops.cast(targets, "float32")
    alpha = alpha or MIX_ALPHA[mix]
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    lam = keras.random.beta((batch,), alpha, alpha, seed=generator)
    partner_images, partner_targets = ops.flip(images, axis=0), ops.flip(targets, axis=0)
    if mix == "mixup":
        weight = lam[:, None, None, None]
    else:
        weight = 1 - _boxes(generator, batch, height, width, 1 - lam)
        lam = ops.mean(weight, axis=(1, 2, 3))  # the share actually left after clipping the box
    mixed = images * weight + partner_images * (1 - weight)
    return mixed, targets * lam[:, None] + partner_targets * (1 - lam[:, None])
