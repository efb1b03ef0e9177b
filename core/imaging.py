"""Turning any picture file into plain 8-bit pixels: the photo as people see it, and the 48x48
grayscale faces the networks see."""

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.safe_files import read_regular_file

FACE_SIZE = 48
MAX_SIDE = 2560  # larger pictures are shrunk to this (JPEG while decoding: a 100-megapixel photo never exists whole)
MAX_DECODED_PIXELS = 64_000_000  # formats decoded at full size (PNG, WebP, ...) are refused above this
MIN_FACE_SIDE = 24  # a picture narrower or shorter than this cannot show a face

try:  # HEIC/HEIF (iPhone photos) where the pillow-heif wheel is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - the app still reads every other format
    pass


class ImageError(ValueError):
    """A file or upload that cannot be used as a picture; the message says why."""


def open_image(source: str | Path | bytes, max_side: int = MAX_SIDE) -> Image.Image:
    """Decode a file path or raw bytes into a loaded 8-bit PIL image ("L" or "RGB"): EXIF rotation
    applied, the first frame of an animation, transparency flattened onto white, 16-bit scaled
    to 8 bits, no side longer than max_side.

    Raises ImageError with a readable reason for empty, truncated, oversized or non-image input.
    """
    data = source if isinstance(source, bytes) else read_regular_file(source)  # no FIFO, device or huge file
    if not data:
        raise ImageError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # PIL's size warning: the pixel bound below says it in one line
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            image.draft(None, (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 size when that is enough
            width, height = image.size
            if width * height > MAX_DECODED_PIXELS:
                raise ImageError(f"too large: {width}x{height} pixels ({width * height / 1e6:.0f} megapixels; "
                                 f"at most {MAX_DECODED_PIXELS / 1e6:.0f} are read): save it smaller or as JPEG")
            image.load()
            picture = _eight_bit(ImageOps.exif_transpose(image))
    except UnidentifiedImageError:
        raise ImageError("not an image (unrecognised format)") from None
    except Image.DecompressionBombError:
        raise ImageError(f"too large: over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageError):
            raise
        raise ImageError(f"unreadable image ({error})") from None
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return picture


def _eight_bit(image: Image.Image) -> Image.Image:
    """The image as "L" or "RGB": 16-bit and float pixels rescaled (not clipped to white), alpha over white."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode.startswith("I") or image.mode == "F":
        pixels = np.asarray(image, dtype=np.float64)
        top = 1.0 if image.mode == "F" and pixels.max() <= 1.0 else 255.0 if pixels.max() <= 255 else 65535.0
        return Image.fromarray(np.clip(pixels * (255.0 / top), 0, 255).round().astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    return image.convert("RGB")  # CMYK, palette, YCbCr, 1-bit, ...


def read_image(source: str | Path | bytes, mode: str = "L") -> np.ndarray:
    """Decode a file path or raw bytes into a uint8 array (mode "L": HxW gray, "RGB": HxWx3).

    Example: read_image(open("face.jpg", "rb").read()).shape -> (48, 48)
    """
    return np.asarray(open_image(source).convert(mode))


def as_jpeg(picture: np.ndarray, max_side: int = 1280) -> bytes:
    """An RGB picture as JPEG bytes, shrunk to max_side: a compact copy to show (about a tenth of the pixels' size)."""
    scale = min(1.0, max_side / max(picture.shape[:2]))
    if scale < 1:
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def can_show_a_face(picture: np.ndarray) -> bool:
    """False for a picture too small in either direction to show a face (such as 1x1 or 1x3000)."""
    return min(picture.shape[:2]) >= MIN_FACE_SIDE


def to_face_pixels(gray: np.ndarray) -> np.ndarray:
    """Resize a 2-D gray array to the 48x48 uint8 input size (area interpolation when shrinking)."""
    if gray.shape == (FACE_SIZE, FACE_SIZE):
        return gray.astype(np.uint8, copy=False)
    shrinking = gray.shape[0] > FACE_SIZE or gray.shape[1] > FACE_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)
