"""Pictures, round 3: only an allowlist of formats is decoded (chosen by content, never Ghostscript), memory
stays near the decoded picture's own size whatever the header claims, and 16-bit, 32-bit and float
pictures are scaled by their finite values. Every bad file is its own line; the rest of a batch goes on."""

import io
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image
from skimage import data as skimage_data

from core.data.dataset import decode_face
from core.vision.imaging import PICTURE_FORMATS, ImageError, read_image
from tests.hostile import PRINT_OWN_PEAK, command
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)

POSTSCRIPT = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n0 0 moveto 9 9 lineto\nfill"  # 73 bytes
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def portrait() -> Image.Image:
    return Image.fromarray(skimage_data.astronaut()).resize((160, 160))


def test_a_postscript_file_named_jpg_is_its_own_error_line_and_the_photo_beside_it_is_read(capsys, tiny_model,
                                                                                           tmp_path):
    assert len(POSTSCRIPT) == 73 and EpsImagePlugin.gs_binary is False  # Ghostscript is never looked for
    (tmp_path / "holiday.jpg").write_bytes(POSTSCRIPT)
    portrait().save(tmp_path / "photo.jpg")
    code, out, err = command(capsys, "predict", tiny_model, tmp_path / "holiday.jpg", tmp_path / "photo.jpg")
    lines = out.strip().splitlines()
    assert code == 0 and "Traceback" not in err
    assert lines[0] == f"{tmp_path / 'holiday.jpg'}: error: not an image (unrecognised format)"
    assert len(lines) == 2 and lines[1].startswith(f"{tmp_path / 'photo.jpg'}: ") and "at box" in lines[1]


def test_uploads_and_dataset_files_go_through_the_same_allowlist(tmp_path):
    with pytest.raises(ImageError, match="not an image"):
        read_image(POSTSCRIPT)  # an upload's bytes
    (tmp_path / "face.png").write_bytes(POSTSCRIPT)
    assert decode_face(tmp_path / "face.png").reason == "not an image (unrecognised format)"


@pytest.mark.parametrize("format, options", [("JPEG", {}), ("PNG", {}), ("WEBP", {}), ("BMP", {}), ("GIF", {}),
                                             ("TIFF", {}), ("PPM", {}), ("HEIF", {})])
def test_every_allowed_format_is_read_by_its_content_whatever_its_name(format, options, tmp_path):
    if format == "HEIF":
        pytest.importorskip("pillow_heif")
    try:
        data = encode(portrait().convert("L") if format == "PPM" else portrait(), format, **options)
    except (KeyError, OSError, ValueError) as error:  # an encoder this Pillow build lacks
        pytest.skip(f"{format} cannot be written here ({error})")
    (tmp_path / "named.txt").write_bytes(data)
    assert format in PICTURE_FORMATS and read_image(tmp_path / "named.txt").shape == (160, 160)


@pytest.mark.parametrize("format", ["TGA", "PCX", "SGI", "ICO", "IM", "DDS", "QOI"])
def test_a_format_outside_the_allowlist_is_refused_although_pillow_could_read_it(format):
    try:
        data = encode(portrait(), format)
    except (KeyError, OSError, ValueError) as error:
        pytest.skip(f"{format} cannot be written here ({error})")
    assert Image.open(io.BytesIO(data)).size  # Pillow alone would read it
    with pytest.raises(ImageError, match="not an image"):
        read_image(data)


PEAK_PROBE = textwrap.dedent("""
    import sys
    from core.vision.imaging import ImageError, read_image
    try:
        print(read_image(sys.argv[1]).shape)
    except ImageError as error:
        print("refused:", error)
""") + PRINT_OWN_PEAK


def peak_of_reading(path: Path) -> tuple[str, int]:
    """What reading the picture printed, and the reading process's peak resident bytes (its own process)."""
    lines = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(path)], cwd=PROJECT_ROOT, capture_output=True,
                           text=True, check=True, timeout=300).stdout.strip().splitlines()
    return lines[0], int(lines[1])


def test_a_63_megapixel_16_bit_png_is_read_in_a_fraction_of_the_memory_its_float_copies_took(tmp_path):
    """8000x7900 16-bit pixels (127 KB on disk) made predict peak at 2.5 GB; the decoded picture alone is 126 MB."""
    Image.new("I;16", (8000, 7900), 30000).save(tmp_path / "deep.png")
    assert (tmp_path / "deep.png").stat().st_size < 300_000
    baseline = peak_of_reading(Path(__file__))[1]  # the same process reading a file that is no picture
    shown, peak = peak_of_reading(tmp_path / "deep.png")
    assert shown == "(2528, 2560)" and peak - baseline < 320 * 2**20, (shown, peak, baseline)


STATS_PROBE = textwrap.dedent("""
    import sys
    from core.cli import main
    main(["stats", sys.argv[1]])
""") + PRINT_OWN_PEAK


def peak_of_stats(path: Path) -> tuple[str, int]:
    """What `python -m core stats` said on stderr, and its process's own peak resident bytes."""
    done = subprocess.run([sys.executable, "-c", STATS_PROBE, str(path)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True, timeout=600)
    return done.stderr.strip().splitlines()[-1], int(done.stdout.strip().splitlines()[-1])


def deep_pngs_zip(path: Path, count: int) -> Path:
    """A zip of count 63-megapixel 16-bit PNGs of one flat shade (127 KB each, 12 KB zipped), two classes."""
    deep = encode(Image.new("I;16", (8000, 7900), 30000), "PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(count):
            archive.writestr(f"train/{('happy', 'sad')[index % 2]}/deep{index}.png", deep)
    return path


def test_a_dataset_of_four_63_megapixel_pngs_is_read_in_about_the_memory_of_one(tmp_path):
    """Four such pictures read on four threads at once made stats peak 1.2 GB above one (2.5 GB); read one
    after another (core.data.dataset.READING) they cost what one does, plus what each thread's allocator keeps."""
    said_one, one = peak_of_stats(deep_pngs_zip(tmp_path / "one.zip", 1))
    said, four = peak_of_stats(deep_pngs_zip(tmp_path / "four.zip", 4))
    decoded = 8000 * 7900 * 2  # one picture's 16-bit pixels
    assert four - one < 5 * decoded, (one, four)
    assert said.startswith("error: split 'train' has no readable images (4 skipped: no face found in any picture): ")
    assert "happy/deep0.png: no face found (2560x2528 picture)" in said and said.endswith("; ...")
    assert said_one.endswith("happy/deep0.png: no face found (2560x2528 picture)")


def test_a_float_tiff_with_nan_and_infinity_is_scaled_by_its_finite_values(tmp_path):
    ramp = np.tile(np.linspace(0.0, 0.5, 64, dtype=np.float32), (32, 1))
    ramp[0, 0], ramp[0, 1], ramp[0, 2] = np.nan, np.inf, -np.inf
    Image.fromarray(ramp, "F").save(tmp_path / "float.tif")
    gray = read_image(tmp_path / "float.tif").astype(int)
    assert gray[5, -1] == 128 and gray[5, 0] == 0 and gray[5, 32] == 65  # 0-1 floats: 0.5 is mid gray
    assert gray[0, 0] == 0 and gray[0, 1] == 255 and gray[0, 2] == 0  # NaN black, infinities the ends
    wide = np.tile(np.linspace(-1000.0, 3000.0, 64, dtype=np.float32), (32, 1))
    wide[3, 3] = np.nan
    Image.fromarray(wide, "F").save(tmp_path / "wide.tif")
    gray = read_image(tmp_path / "wide.tif").astype(int)
    assert gray[5, 0] == 0 and gray[5, -1] == 255 and np.all(np.diff(gray[5]) >= 0)  # the finite range, mapped


def test_an_int32_tiff_beyond_16_bits_is_mapped_not_clipped(tmp_path):
    values = np.tile(np.linspace(-50_000, 2_000_000, 64).astype(np.int32), (32, 1))
    Image.fromarray(values, "I").save(tmp_path / "wide.tif")
    gray = read_image(tmp_path / "wide.tif").astype(int)
    assert gray[0, 0] == 0 and gray[0, -1] == 255 and 100 < gray[0, 32] < 155 and len(np.unique(gray[0])) > 50


def test_a_picture_of_nothing_but_nan_is_refused_with_its_reason(tmp_path):
    Image.fromarray(np.full((32, 32), np.nan, np.float32), "F").save(tmp_path / "nan.tif")
    with pytest.raises(ImageError, match="no finite pixel value"):
        read_image(tmp_path / "nan.tif")


def test_a_large_transparent_picture_is_shrunk_before_it_is_flattened():
    rgba = Image.new("RGBA", (6000, 100), (0, 0, 0, 0))
    rgb = read_image(encode(rgba, "PNG"), "RGB")
    assert rgb.shape == (43, 2560, 3) and rgb.min() == 255  # transparent: white, at most 2560 wide


def test_a_progressive_jpeg_is_bounded_by_its_coefficients_from_its_header_and_a_baseline_one_is_drafted():
    """libjpeg holds a progressive JPEG's coefficients at full size however small it decodes it (2 bytes a pixel
    and channel: a 2.6 MB, 169-megapixel CMYK one took 1.3 GB): over 256 MB of them it is refused before
    decoding, also inside a camera's MPO file and under the 64-megapixel bound (36 megapixels of CMYK); a
    baseline JPEG is drafted smaller while decoding and read, as before."""
    def saved(image: Image.Image, **options) -> bytes:
        stream = io.BytesIO()
        image.save(stream, **options)
        return stream.getvalue()

    cmyk = saved(Image.new("CMYK", (6000, 6000)), format="JPEG", quality=10, progressive=True)
    with pytest.raises(ImageError, match="a progressive JPEG of 6000x6000 pixels in 4 channels is decoded whole"):
        read_image(cmyk)
    gray = Image.new("L", (12000, 12000), 128)
    mpo = saved(gray, format="MPO", quality=10, progressive=True, save_all=True, append_images=[Image.new("L", (8, 8))])
    with pytest.raises(ImageError, match="a progressive JPEG of 12000x12000 pixels in 1 channel is decoded whole"):
        read_image(mpo)
    assert read_image(saved(gray, format="JPEG", quality=10)).shape == (2560, 2560)  # shrunk to MAX_SIDE
