"""Turning any picture file into plain 8-bit pixels: the photo as people see it, and the 48x48
grayscale faces the networks see."""

import io
import struct
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import EpsImagePlugin, Image, UnidentifiedImageError

from core.storage.safe_files import MAX_FILE_BYTES, read_regular_file

FACE_SIZE = 48
MAX_SIDE = 2560  # larger pictures are shrunk to this (JPEG while decoding: a 100-megapixel photo never exists whole)
MAX_DECODED_PIXELS = 64_000_000  # formats decoded at full size (PNG, WebP, ...) are refused above this
MAX_PROGRESSIVE_BYTES = 256 * 2**20  # a progressive JPEG's coefficients (2 bytes a pixel and channel), at most
# ... and the pictures a process decodes at once (threads reading a dataset, a folder) share that many pixels, read
# from their headers: four 63-megapixel PNGs are decoded one after another, as Predict decodes one.
MIN_FACE_SIDE = 24  # a picture narrower or shorter than this cannot show a face
# The only decoders a picture reaches, chosen by the file's content, whatever its name says: JPEG (and the
# MPO JPEGs of cameras), PNG, WebP, BMP, GIF (its first frame), TIFF, HEIC/HEIF (pillow-heif) and PGM/PPM.
# Pillow's other plugins (PostScript through Ghostscript, PSD, FITS, ...) are never tried.
PICTURE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "HEIF", "PPM")
STRIP_PIXELS = 1 << 20  # 16-bit, 32-bit and float pictures are turned to 8 bits this many pixels at a time
_TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
          5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_90}  # EXIF orientation -> the turn that shows the picture upright

EpsImagePlugin.gs_binary = False  # Ghostscript is never run, even by code that opens EPS itself

try:  # HEIC/HEIF (iPhone photos) where the pillow-heif wheel is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - the app still reads every other format
    pass


class ImageError(ValueError):
    """A file or upload that cannot be used as a picture; the message says why."""


class PixelBudget:
    """Pixels being worked on at once, at most `limit`: a picture waits for its share (held(pixels)).

    Example: with DECODING.held(8000 * 7900): ...  # another 63-megapixel picture waits until this one is done
    """

    def __init__(self, limit: int):
        self.limit, self.in_use = limit, 0
        self._changed = threading.Condition()

    @contextmanager
    def held(self, pixels: int):
        pixels = min(pixels, self.limit)  # (a picture over the limit is refused before it asks)
        with self._changed:
            self._changed.wait_for(lambda: self.in_use + pixels <= self.limit)
            self.in_use += pixels
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= pixels
                self._changed.notify_all()


DECODING = PixelBudget(MAX_DECODED_PIXELS)


def open_image(source: str | Path | bytes, max_side: int = MAX_SIDE) -> Image.Image:
    """Decode a file path or raw bytes into a loaded 8-bit PIL image ("L" or "RGB"): EXIF rotation
    applied, the first frame of an animation, transparency flattened onto white, 16-bit, 32-bit and
    float pixels scaled to 8 bits, no side longer than max_side.

    Only PICTURE_FORMATS are decoded, recognised by content. The size is read from the header first:
    over MAX_DECODED_PIXELS is refused before decoding, and threads decoding at once share that bound
    (DECODING); a large picture is shrunk by a whole factor before any conversion, so memory stays near the
    decoded picture's own size.
    Raises ImageError with a readable reason for empty, truncated, oversized or non-image input.
    """
    data = source if isinstance(source, bytes) else read_regular_file(source)  # no FIFO, device or huge file
    with _read_errors_as_image_errors():
        image = _header(data, max_side)
        with DECODING.held(image.size[0] * image.size[1]):  # until the 8-bit picture alone is left
            image.load()  # (in memory: nothing to close; closing would free the pixels returned below)
            orientation = image.getexif().get(0x0112)  # after loading: a PNG may keep its EXIF after the pixels
            picture = _eight_bit(image, max_side)
            del image
    if orientation in _TURNS:
        picture = picture.transpose(_TURNS[orientation])
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return picture


def header_pixels(source: str | Path | bytes, max_side: int = MAX_SIDE) -> int:
    """The pixels open_image would decode (width x height from the header; a JPEG at the size it is drafted
    to), nothing decoded; ImageError for what open_image refuses before decoding.

    Example: header_pixels(Path("deep.png").read_bytes()) -> 63200000
    """
    data = source if isinstance(source, bytes) else read_regular_file(source)
    with _read_errors_as_image_errors():
        image = _header(data, max_side)
    return image.size[0] * image.size[1]


@contextmanager
def _read_errors_as_image_errors():
    """Pillow's and the decoders' errors as one readable ImageError (a crafted file can make a decoder raise
    almost anything: a TIFF tag of the wrong type a TypeError, a cut HEIC an EOFError)."""
    try:
        yield
    except Image.DecompressionBombError:
        raise ImageError(f"too large: over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels") from None
    except (OSError, SyntaxError, ValueError, TypeError, EOFError, IndexError, KeyError, ArithmeticError,
            struct.error, RuntimeError) as error:
        if isinstance(error, ImageError):
            raise
        reason = " ".join(str(error).split())  # one line, whatever the decoder wrote
        raise ImageError(f"unreadable image ({reason[:200] or type(error).__name__})") from None


def _header(data: bytes, max_side: int) -> Image.Image:
    """The picture opened from its header (nothing decoded), drafted towards max_side; ImageError when empty,
    over MAX_FILE_BYTES or MAX_DECODED_PIXELS, or no picture of PICTURE_FORMATS."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    if len(data) > MAX_FILE_BYTES:  # an upload's bytes: bounded as a file is
        raise ImageError(f"{len(data) / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB a picture may be")
    try:
        with warnings.catch_warnings():  # PIL's size warning: the pixel bound below says it in one line
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=PICTURE_FORMATS)  # reads the header only
    except UnidentifiedImageError:
        raise ImageError("not an image (unrecognised format)") from None
    width, height = image.size
    channels = len(image.getbands())
    coefficients = 2 * width * height * channels  # libjpeg's bytes for a progressive JPEG
    if image.format in ("JPEG", "MPO") and image.info.get("progressive") and coefficients > MAX_PROGRESSIVE_BYTES:
        # libjpeg keeps every coefficient of a progressive JPEG at full size, however small it decodes it
        raise ImageError(f"too large: a progressive JPEG of {width}x{height} pixels in {channels} "
                         f"channel{'s' * (channels != 1)} is decoded whole ({coefficients / 2**20:.0f} MB; at most "
                         f"{MAX_PROGRESSIVE_BYTES // 2**20} MB): save it smaller or as a baseline JPEG")
    image.draft(None, (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 size when that is enough
    width, height = image.size
    if width * height > MAX_DECODED_PIXELS:
        raise ImageError(f"too large: {width}x{height} pixels ({width * height / 1e6:.0f} megapixels; "
                         f"at most {MAX_DECODED_PIXELS / 1e6:.0f} are read): save it smaller or as JPEG")
    return image


def _eight_bit(image: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """The image as "L" or "RGB", shrunk by a whole factor towards max_side first where it is over twice that:
    16-bit, 32-bit and float pixels rescaled (not clipped to white), alpha over white."""
    transparent = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode == "P":
        image = image.convert("RGBA" if transparent else "RGB")
    elif image.mode.startswith("I") or image.mode == "F":
        return _gray_eight_bit(image, max(1, max(image.size) // max_side))
    factor = max(image.size) // max_side
    if factor >= 2:
        image = image.reduce(factor)  # a box average: every pixel counts, at a fraction of the memory
    if image.mode in ("L", "RGB"):
        return image
    if transparent:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    return image.convert("RGB")  # CMYK, YCbCr, ...


def _gray_eight_bit(image: Image.Image, factor: int = 1) -> Image.Image:
    """A 16-bit, 32-bit or float gray picture as "L" shrunk by a whole factor (box average), converted a strip
    of rows at a time: never a float copy, nor an 8-bit copy, of the whole picture. Values within 0-1 (float),
    0-255 or 0-65535 keep their meaning (0 is black); any other range (negative, beyond 16 bits) is mapped
    from its lowest to its highest finite value. NaN is black, infinities the ends; a picture with no finite
    value is refused."""
    width, height = image.size
    rows = max(1, STRIP_PIXELS // max(width, 1)) // factor * factor or factor
    strips = [(top, min(height, top + rows)) for top in range(0, height, rows)]

    def strip(top: int, bottom: int) -> np.ndarray:
        return np.asarray(image.crop((0, top, width, bottom))).astype(np.float32)

    low, high = np.inf, -np.inf
    for top, bottom in strips:
        pixels = strip(top, bottom)
        finite = pixels[np.isfinite(pixels)]
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if low > high:
        raise ImageError("no finite pixel value (every pixel is NaN or infinite)")
    if low < 0 or high > 65535:
        bottom_value, top_value = low, max(high, low + 1e-6)
    else:
        bottom_value = 0.0
        top_value = 1.0 if image.mode == "F" and high <= 1.0 else 255.0 if high <= 255 else 65535.0
    scale = 255.0 / (top_value - bottom_value)
    gray = np.empty((-(-height // factor), -(-width // factor)), np.uint8)
    for top, bottom in strips:
        pixels = np.nan_to_num(strip(top, bottom), nan=bottom_value, posinf=top_value, neginf=bottom_value)
        pixels -= bottom_value
        pixels *= scale
        if factor > 1:  # the mean of each factor x factor box (a partial box at the edges: its own pixels)
            pixels = cv2.resize(pixels, (gray.shape[1], -(-(bottom - top) // factor)), interpolation=cv2.INTER_AREA)
        gray[top // factor:top // factor + len(pixels)] = np.clip(pixels, 0, 255).round()
    return Image.fromarray(gray, "L")


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


# A face much darker, brighter or flatter than the faces the networks learned from is levelled to the edge of
# their usual light before a network sees it: its mean gray level moved into USUAL_MEAN, its spread raised to
# USUAL_SPREAD (the 2.5th and 97.5th percentiles of FER+'s training faces' means, the 2.5th of their spreads).
# Other faces are left as they are. On FER2013Valid with the default model: as they are 84.10 -> 84.13%; darkened
# to 30% 74.7 -> 82.2%; contrast cut to 35% 79.0 -> 82.2% (docs/benchmarks.md, with the bounds tried).
USUAL_MEAN = (63.6, 193.0)
USUAL_SPREAD = 29.2


def in_usual_light(faces: np.ndarray) -> np.ndarray:
    """(N, 48, 48) uint8 faces, those outside the usual light (see USUAL_MEAN) levelled to its edge, the others
    unchanged (the same array when none is outside).

    Example: in_usual_light(np.full((1, 48, 48), 10, np.uint8)).mean() -> 64.0
    """
    if len(faces) == 0:  # (no shape to reshape to)
        return faces
    pixels = faces.reshape(len(faces), -1).astype(np.float32)
    means, spreads = pixels.mean(axis=1), pixels.std(axis=1)
    outside = (means < USUAL_MEAN[0]) | (means > USUAL_MEAN[1]) | (spreads < USUAL_SPREAD)
    if not outside.any():
        return faces
    levelled = faces.copy()
    mean, spread = means[outside, None], spreads[outside, None]
    target_mean, target_spread = np.clip(mean, *USUAL_MEAN), np.maximum(spread, USUAL_SPREAD)
    stretched = (pixels[outside] - mean) / np.maximum(spread, 1.0) * target_spread + target_mean
    levelled[outside] = np.clip(stretched, 0, 255).round().astype(np.uint8).reshape(-1, *faces.shape[1:])
    return levelled


def to_face_pixels(gray: np.ndarray) -> np.ndarray:
    """Resize a 2-D gray array to the 48x48 uint8 input size (area interpolation when shrinking)."""
    if gray.shape == (FACE_SIZE, FACE_SIZE):
        return gray.astype(np.uint8, copy=False)
    shrinking = gray.shape[0] > FACE_SIZE or gray.shape[1] > FACE_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)
