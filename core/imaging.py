"""Turning any picture into the 48x48 grayscale pixels the networks see."""

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FACE_SIZE = 48


class ImageError(ValueError):
    """A file or upload that cannot be read as an image; the message says why."""


def open_image(source: str | Path | bytes) -> Image.Image:
    """Decode a file path or raw bytes into a fully loaded PIL image, EXIF rotation applied.

    Raises ImageError with a readable reason for empty, truncated or non-image input.
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not data:
        raise ImageError("empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return ImageOps.exif_transpose(image)
    except UnidentifiedImageError:
        raise ImageError("not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"unreadable image ({error})") from None


def read_image(source: str | Path | bytes, mode: str = "L") -> np.ndarray:
    """Decode a file path or raw bytes into a uint8 array (mode "L": HxW gray, "RGB": HxWx3).

    Example: read_image(open("face.jpg", "rb").read()).shape -> (48, 48)
    """
    return np.asarray(open_image(source).convert(mode))


def to_face_pixels(gray: np.ndarray) -> np.ndarray:
    """Resize a 2-D gray array to the 48x48 uint8 input size (area interpolation when shrinking)."""
    if gray.shape == (FACE_SIZE, FACE_SIZE):
        return gray.astype(np.uint8, copy=False)
    shrinking = gray.shape[0] > FACE_SIZE or gray.shape[1] > FACE_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)
