"""Every kind of picture a person may upload is read as it looks, or refused with one clear line:
16-bit, CMYK, alpha, grayscale, animated GIF, EXIF-rotated, HEIC, huge, thin and tiny pictures."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from core.vision.faces import VIDEO, detect_faces, find_and_crop, no_face_reason
from core.vision.imaging import MAX_SIDE, ImageError, read_image
from core.prediction.pictures import FacePredictor
from core.storage.uploads import MAX_FILES, MAX_TOTAL_MB, uploads_to_take
from tests.synthetic import face_pattern


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def predictor(tiny_model) -> FacePredictor:
    return FacePredictor(tiny_model)


def test_a_16_bit_png_keeps_its_shades_instead_of_turning_white():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (64, 1))
    gray = read_image(encode(Image.fromarray(ramp), "PNG"))
    assert gray.dtype == np.uint8 and gray.shape == (64, 256)
    assert gray[0, 0] == 0 and gray[0, -1] == 255 and abs(int(gray[0, 128]) - 128) <= 2


def test_a_16_bit_colour_png_is_read_as_8_bit_colour():
    picture = np.zeros((40, 60, 3), np.uint16)
    picture[..., 2] = 60000  # OpenCV writes BGR: a red picture
    ok, data = cv2.imencode(".png", picture)
    rgb = read_image(data.tobytes(), mode="RGB")
    assert ok and rgb.shape == (40, 60, 3)
    assert abs(int(rgb[0, 0, 0]) - 233) <= 2 and rgb[0, 0, 1] == 0 and rgb[0, 0, 2] == 0


def test_cmyk_jpeg_comes_out_in_its_colours():
    rgb = read_image(encode(Image.new("RGB", (64, 64), (200, 40, 40)).convert("CMYK"), "JPEG", quality=95), "RGB")
    assert np.abs(rgb[32, 32].astype(int) - (200, 40, 40)).max() < 12


def test_transparency_is_flattened_onto_white_not_black():
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[16:48, 16:48] = (10, 120, 10, 255)  # an opaque green square on a transparent ground
    rgb = read_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), "RGB")
    assert tuple(rgb[0, 0]) == (255, 255, 255) and tuple(rgb[32, 32]) == (10, 120, 10)


def test_a_grayscale_picture_is_read_in_colour_and_gray_alike():
    ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (32, 1))
    rgb = read_image(encode(Image.fromarray(ramp), "PNG"), "RGB")
    assert rgb.shape == (32, 64, 3) and np.array_equal(rgb[..., 0], ramp) and np.array_equal(rgb[..., 2], ramp)


def test_an_animated_gif_is_read_at_its_first_frame():
    frames = [Image.new("RGB", (50, 50), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    rgb = read_image(data, "RGB")
    assert rgb.shape == (50, 50, 3) and rgb[25, 25, 0] > 200 and rgb[25, 25, 2] < 50


def test_an_exif_rotated_phone_photo_is_turned_upright():
    sideways = Image.fromarray(skimage_data.astronaut()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view": how a phone held upright stores this picture
    rgb = read_image(encode(sideways, "JPEG", quality=92, exif=exif.tobytes()), "RGB")
    assert rgb.shape == (512, 512, 3) and np.abs(rgb.astype(int) - skimage_data.astronaut()).mean() < 4
    assert len(detect_faces(rgb, VIDEO)) == 1  # the frontal-face cascade finds it upright only
    assert detect_faces(np.asarray(sideways), VIDEO) == []


def test_heic_is_read_where_the_wheel_is_installed():
    pytest.importorskip("pillow_heif", reason="pillow-heif is not installed (requirements.txt pins it)")
    rgb = read_image(encode(Image.new("RGB", (64, 48), (200, 10, 10)), "HEIF"), "RGB")
    assert rgb.shape == (48, 64, 3) and np.abs(rgb[20, 20].astype(int) - (200, 10, 10)).max() < 10


def test_a_huge_jpeg_is_shrunk_while_decoding_not_refused():
    big = Image.fromarray(np.tile(np.linspace(0, 255, 9600).astype(np.uint8), (8000, 1)))  # 77 megapixels
    gray = read_image(encode(big, "JPEG", quality=70))
    assert max(gray.shape) == MAX_SIDE and gray.shape == (MAX_SIDE * 8000 // 9600, MAX_SIDE)


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose header says it is width x height (its pixels are cut short)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    data = zlib.compress(b"\x00" * 100)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data)))


def test_a_144_megapixel_png_is_refused_before_it_is_decoded():
    with pytest.raises(ImageError, match=r"too large: 12000x12000 pixels \(144 megapixels"):
        read_image(png_claiming(12000, 12000))
    with pytest.raises(ImageError, match="too large: over"):  # beyond Pillow's own bomb limit
        read_image(png_claiming(20000, 20000))


@pytest.mark.parametrize("shape", [(1, 3000), (3000, 1), (1, 1), (10, 400)])
def test_thin_and_tiny_pictures_have_no_face_and_say_why(predictor, shape):
    thin = np.full(shape + (3,), 128, np.uint8)
    results = predictor.predict_many([thin, skimage_data.astronaut()])  # one bad picture never sinks the batch
    assert [len(faces) for faces in results] == [0, 1]
    assert find_and_crop(thin[..., 0])[0] == []
    assert f"too small to show a face ({shape[1]}x{shape[0]} pixels" in no_face_reason(thin)


def test_a_face_sized_picture_is_still_one_face(predictor):
    assert len(predictor.predict_rgb(np.dstack([face_pattern(2, np.random.default_rng(0))] * 3))) == 1
    assert len(predictor.predict_rgb(np.full((48, 48, 3), 128, np.uint8))) == 0  # flat: no face (test_face_crops.py)
    reason = no_face_reason(np.full((300, 400), 9, np.uint8))
    assert reason.startswith("no face found") and "turn such a photo upright" in reason


def test_an_upload_batch_is_bounded_in_files_and_megabytes():
    assert uploads_to_take([1000] * 3) == (3, "")
    taken, note = uploads_to_take([1000] * (MAX_FILES + 20))
    assert taken == MAX_FILES and f"Only the first {MAX_FILES} of {MAX_FILES + 20} pictures" in note
    taken, note = uploads_to_take([MAX_TOTAL_MB * 2**20 // 2 - 1] * 3)
    assert taken == 2 and "Only the first 2 of 3" in note
