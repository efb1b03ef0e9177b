"""Hostile input corpus: zips, CSV cells, file names, non-files, broken models and colliding outputs.
Each case is one clear line (and exit 2 where it fails), with nothing left behind and nothing lost."""

import fcntl
import io
import json
import os
import threading
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from core.data import archives
from core.data import dataset
from core.data.dataset import DatasetError, evict_oldest, load_dataset
from core.data.emotions import EMOTIONS
from core.storage.runs import RunFolder
from core.storage import uploads
from core.storage.uploads import save_zip_upload
from tests.hostile import command, refused, snapshot
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import face_pattern, write_folder_dataset


def png(label: int = 0, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(face_pattern(label, np.random.default_rng(seed))).save(buffer, "PNG")
    return buffer.getvalue()


def write_zip(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def faces_zip(path: Path, per_class: int = 2, method=zipfile.ZIP_DEFLATED) -> Path:
    return write_zip(path, {f"{emotion}/{i}.png": png(label, i) for label, emotion in enumerate(EMOTIONS)
                            for i in range(per_class)}, method)


def patch_headers(path: Path, offset_local: int, offset_central: int, value: bytes) -> None:
    """Overwrite a field of every local and central header (flags: 6 and 8, method: 8 and 10)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset:start + offset + len(value)] = value
            start += 4
    path.write_bytes(bytes(data))


def assert_nothing_unpacked(cache: Path) -> None:
    assert not [p for p in (cache / "zips").glob("*")] if (cache / "zips").exists() else True
    assert not list(cache.glob("*.npz"))


# --- zips ----------------------------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_by_its_ratio_before_a_byte_is_unpacked(tmp_path):
    bomb = write_zip(tmp_path / "bomb.zip", {"angry/0.png": png(), "angry/zeros.png": bytes(50 * 2**20)})
    assert bomb.stat().st_size < 200_000
    with pytest.raises(DatasetError, match="looks like a zip bomb: 'angry/zeros.png' unpacks [0-9,]+ times larger"):
        load_dataset(bomb, cache_dir=tmp_path / "cache")
    assert_nothing_unpacked(tmp_path / "cache")


def test_many_members_each_under_the_ratio_floor_are_a_bomb_together(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "TOTAL_RATIO_FLOOR_BYTES", 2**20)
    bomb = write_zip(tmp_path / "bomb.zip", {f"angry/{i}.png": bytes(2**18) for i in range(8)})  # 8 x 256 KB of zeros
    with pytest.raises(DatasetError, match="looks like a zip bomb: its files unpack [0-9,]+ times larger"):
        load_dataset(bomb, cache_dir=tmp_path / "cache")
    assert_nothing_unpacked(tmp_path / "cache")


@pytest.mark.parametrize("members, match", [
    ({"angry/0.png": png(), "sad/0.png": png(1), "angry\\0.png": png(2)}, r"holds 'angry\\0.png' twice"),
    ({"ds/angry": b"a file", "ds/angry/0.png": png()}, r"holds 'ds/angry/0.png' where it also holds a file and a "
                                                       r"folder of the same name"),
])
def test_a_zip_whose_names_collide_is_refused_by_name(tmp_path, members, match):
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    with pytest.raises(DatasetError, match=match):
        load_dataset(archive, cache_dir=tmp_path / "cache")
    assert_nothing_unpacked(tmp_path / "cache")


def test_a_zip_written_with_backslashes_is_read_as_folders(tmp_path):
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for label, emotion in enumerate(("angry", "happy")):
            for i in range(2):
                zf.writestr(zipfile.ZipInfo(f"ds\\{emotion}\\{i}.png"), png(label, i))
    loaded = load_dataset(archive, cache_dir=tmp_path / "cache")
    assert loaded.present == ["angry", "happy"] and len(loaded.split("ds")) == 4


def test_a_zip_without_a_dataset_is_named_not_the_cache(capsys, tmp_path):
    archive = write_zip(tmp_path / "notes.zip", {"readme.txt": b"nothing here"})
    line = refused(capsys, "stats", archive, match="notes.zip holds no dataset: give a zip of class folders")
    assert "zips" not in line  # not the cache folder it was unpacked into


@pytest.mark.parametrize("bound, value, match", [
    ("MAX_TOTAL_BYTES", 10_000, "would unpack to 0.0 GB, over the limit"),
    ("MAX_MEMBERS", 5, "holds 14 files, over the limit of 5"),
])
def test_a_zip_over_the_size_or_member_bound_is_refused(tmp_path, monkeypatch, bound, value, match):
    monkeypatch.setattr(archives, bound, value)
    with pytest.raises(DatasetError, match=match):
        load_dataset(faces_zip(tmp_path / "faces.zip"), cache_dir=tmp_path / "cache")
    assert_nothing_unpacked(tmp_path / "cache")


def test_a_zip_whose_members_lie_about_their_size_is_stopped_while_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 2**20)  # the headers below claim 7 small files
    path = write_zip(tmp_path / "liar.zip", {f"{e}/0.png": bytes(400_000) for e in EMOTIONS[:3]},
                     zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size fields
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset:start + offset + 4] = (100).to_bytes(4, "little")
            start += 4
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="liar.zip is damaged|unpacks to more than its stated size"):
        load_dataset(path, cache_dir=tmp_path / "cache")
    assert_nothing_unpacked(tmp_path / "cache")


@pytest.mark.parametrize("damage, match", [
    ("encrypted", "is encrypted ('angry/0.png'): unzip it with its password"),
    ("deflate64", "with Deflate64 (what Windows writes for large zips), which cannot be read here"),
    ("bad crc", "is damaged: 'angry/0.png' cannot be read (Bad CRC-32"),
])
def test_encrypted_deflate64_and_damaged_zips_are_one_line_and_leave_no_partial_folder(capsys, tmp_path,
                                                                                       monkeypatch, damage, match):
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    path = faces_zip(tmp_path / "faces.zip", per_class=1, method=zipfile.ZIP_STORED)
    if damage == "encrypted":
        patch_headers(path, 6, 8, b"\x01\x00")
    elif damage == "deflate64":
        patch_headers(path, 8, 10, b"\x09\x00")
    else:
        data = bytearray(path.read_bytes())
        data[data.find(b"IDAT") + 8] ^= 0xFF  # a byte inside the first stored member
        path.write_bytes(bytes(data))
    refused(capsys, "stats", path, match=match)
    assert not list((tmp_path / "cache").rglob("*partial*"))
    assert_nothing_unpacked(tmp_path / "cache")


def test_two_readers_of_one_new_zip_both_succeed(tmp_path):
    path = faces_zip(tmp_path / "faces.zip", per_class=20)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def read():
        barrier.wait()
        try:
            results.append(len(load_dataset(path, cache_dir=tmp_path / "cache").split("faces")))
        except Exception as error:  # noqa: BLE001 (collected and reported below)
            errors.append(error)
    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [140] * 4
    assert len(list((tmp_path / "cache" / "zips").iterdir())) == 1  # one unpacked copy, no partial ones


def test_the_cache_evicts_its_oldest_entries_beyond_its_bound(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    sources = [write_folder_dataset(tmp_path / f"data{i}", per_class=3, splits=("train",), seed=i) for i in range(3)]
    load_dataset(sources[0], cache_dir=cache)
    entry_bytes = sum(p.stat().st_size for p in cache.glob("*.npz"))
    monkeypatch.setattr(dataset, "MAX_CACHE_BYTES", int(entry_bytes * 2.5))
    first = next(cache.glob("*.npz"))
    os.utime(first, (1, 1))  # long unused
    load_dataset(sources[1], cache_dir=cache)
    load_dataset(sources[2], cache_dir=cache)
    remaining = list(cache.glob("*.npz"))
    assert len(remaining) == 2 and first not in remaining
    assert evict_oldest(cache, keep=set()) == []  # within the bound now


def test_uploaded_zips_are_kept_once_and_the_oldest_removed_beyond_the_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOADS_BYTES", 2500)
    loose = tmp_path / "0123.zip"  # kept as a loose file by an earlier version: trimmed too
    loose.write_bytes(b"z" * 1000)
    os.utime(loose, (1, 1))
    first = save_zip_upload(b"a" * 1000, "a.zip", tmp_path)
    os.utime(first.parent, (2, 2))
    third = save_zip_upload(b"c" * 1000, "../../my faces.zip", tmp_path)  # named by its own name, made safe
    assert third.name == "my-faces.zip" and third.parent.parent == tmp_path
    assert not loose.exists() and first.exists()  # the oldest first
    assert save_zip_upload(b"c" * 1000, "my faces.zip", tmp_path) == third and third.read_bytes() == b"c" * 1000
    assert save_zip_upload(b"d" * 1000, "cafe\u0301.zip", tmp_path).name == "caf\u00e9.zip"  # one way to write é
    assert not first.exists() and len(list(tmp_path.glob("*/*.zip"))) == 2
    assert not any(name.startswith(".") for name in os.listdir(third.parent))  # nothing half-written left


# --- CSV cells and file names ------------------------------------------------------------------------------

def test_an_overflowing_pixel_value_skips_its_row_with_a_reason(capsys, tmp_path):
    good = " ".join(["7"] * 2304)
    bad = " ".join(["99999999999999999999999"] + ["7"] * 2303)
    csv = tmp_path / "fer2013.csv"
    csv.write_text(f"emotion,pixels,Usage\n3,{good},Training\n3,{bad},Training\n")
    code, out, err = command(capsys, "stats", csv, "--json")
    report = json.loads(out)
    assert code == 0 and report["splits"]["train"]["total"] == 1
    assert report["skipped"] == ["row 3: pixels must be 2304 numbers 0-255 (a value is not a whole number 0-255)"]
    csv.write_text(f"emotion,pixels,Usage\n3,{bad},Training\n")
    refused(capsys, "stats", csv, match="has no usable rows (1 skipped)")


def test_a_file_name_that_is_not_utf8_is_read_and_shown(capsys, tmp_path):
    root = write_folder_dataset(tmp_path / "data", per_class=2, splits=("train",))
    folder = os.fsencode(root / "train" / "happy")
    with open(os.path.join(folder, b"caf\xe9-\xff.png"), "wb") as file:
        file.write(png(3))
    with open(os.path.join(folder, b"\xfe.txt"), "wb") as file:
        file.write(b"notes")
    loaded = load_dataset(root, cache_dir=tmp_path / "cache")
    names = [s for s in loaded.split("train").sources if "caf" in s]
    assert names == ["train/happy/caf\ufffd-\ufffd.png"]
    assert all(line.encode("utf-8") for line in loaded.skipped) and "\ufffd.txt" in " ".join(loaded.skipped)
    code, out, err = command(capsys, "stats", root)
    assert code == 0 and "train/happy/\ufffd.txt: not an image file" in out


# --- paths that are not regular files ---------------------------------------------------------------------

@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "face.jpg"
    os.mkfifo(path)
    return path


def test_a_device_or_a_pipe_named_like_a_picture_is_refused_without_reading(capsys, tiny_model, fifo):
    for path in ("/dev/zero", fifo):
        code, out, err = command(capsys, "predict", tiny_model, path)
        assert code == 2 and out.strip() == f"{path}: error: {path} is not a regular file (a device, a pipe or a folder)"


def test_a_pipe_inside_a_dataset_is_passed_over(tmp_path):
    root = write_folder_dataset(tmp_path / "data", per_class=2, splits=("train",))
    os.mkfifo(root / "train" / "sad" / "trap.png")
    loaded = load_dataset(root, cache_dir=tmp_path / "cache")
    assert len(loaded.split("train")) == 14
    assert any("not read in 'train/sad': 1 folder(s) inside a person's folder, pipe(s) or device(s), such as "
               "'train/sad/trap.png'" in line for line in loaded.warnings)


def test_a_broken_link_in_a_dataset_is_skipped_and_named_without_the_machines_path(capsys, tmp_path):
    root = write_folder_dataset(tmp_path / "data", per_class=2, splits=("train",))
    (root / "train" / "sad" / "gone.png").symlink_to(tmp_path / "nowhere" / "x.png")
    (root / "train" / "happy" / "anna").mkdir()
    (root / "train" / "happy" / "anna" / "gone.png").symlink_to(tmp_path / "nowhere" / "y.png")
    code, out, err = command(capsys, "stats", root)
    assert code == 0, err
    assert "train/sad/gone.png: not read: a link to nothing" in out
    assert "train/happy/anna/gone.png: not read" in out and str(tmp_path) not in out
    assert len(load_dataset(root, cache_dir=tmp_path / "cache").split("train")) == 14


def test_pictures_deeper_than_a_persons_folder_are_named_not_silently_left_out(capsys, tmp_path):
    root = write_folder_dataset(tmp_path / "data", per_class=2, splits=("train",))
    (root / "train" / "happy" / "anna" / "deeper").mkdir(parents=True)
    (root / "train" / "happy" / "anna" / "deeper" / "x.png").write_bytes(png(3))
    (root / "train" / "happy" / "anna" / "y.png").write_bytes(png(3))  # a person's picture: read
    code, out, err = command(capsys, "stats", root)
    assert code == 0 and "not read in 'train/happy': 1 folder(s) inside a person's folder" in out
    assert "'train/happy/anna/deeper'" in out


@pytest.mark.parametrize("make", [lambda path: path.symlink_to("/dev/zero"), os.mkfifo])
@pytest.mark.parametrize("name", ["label.csv", "fer2013.csv"])
def test_a_csv_that_is_a_device_or_a_pipe_is_not_read(capsys, tmp_path, make, name):
    make(tmp_path / name)
    refused(capsys, "stats", tmp_path, match=f"no dataset at {tmp_path}")
    with pytest.raises(DatasetError, match="no dataset at"):
        dataset.check_dataset(tmp_path, cache_dir=tmp_path / "cache")


def test_a_pipe_named_like_a_model_is_refused(capsys, tmp_path):
    os.mkfifo(tmp_path / "model.keras")
    refused(capsys, "evaluate", tmp_path / "model.keras", tmp_path, match="is not a regular file")


# --- models that break the contract ----------------------------------------------------------------------

def save(model: keras.Model, path: Path) -> Path:
    model.save(path)
    return path


def dense(inputs, units, activation="softmax"):
    x = keras.layers.Flatten()(inputs)
    return keras.Model(inputs, keras.layers.Dense(units, activation=activation)(x))


@pytest.mark.parametrize("build, match", [
    (lambda: dense(keras.Input((48, 48, 1)), 1), "has output 1; a face model must give one probability per class"),
    (lambda: dense(keras.Input((48, 48, 1)), 60), "has output 60; a face model must give one probability per class"),
    (lambda: dense(keras.Input((64, 64, 3)), 7), "takes input 64x64x3; a face model must take one 48x48x1"),
    (lambda: dense(keras.Input((48, 48, 1)), 7, None), "does not output probabilities: its 7 outputs sum to"),
    ("nan", "outputs NaN or infinity: its weights are broken"),
])
def test_a_model_that_is_no_face_model_is_refused_by_name(capsys, tmp_path, build, match):
    if build == "nan":
        model = dense(keras.Input((48, 48, 1)), 7)
        model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    else:
        model = build()
    path = save(model, tmp_path / "odd.keras")
    line = refused(capsys, "predict", path, tmp_path / "any.png", "--json", match=match)
    assert line.startswith("error: odd.keras ") and "NaN," not in line


def test_a_corrupt_model_file_is_not_called_missing(capsys, tiny_model, tmp_path):
    path = tmp_path / "cut.keras"
    path.write_bytes((tiny_model / "model.keras").read_bytes()[:-100])
    line = refused(capsys, "evaluate", path, tmp_path, match="cut.keras is not a valid .keras file")
    assert "not found" not in line.lower()


# --- outputs that must not overwrite -----------------------------------------------------------------------

def test_annotating_two_pictures_of_one_name_keeps_both(capsys, tiny_model, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(face_pattern(0, np.random.default_rng(0))).resize((60, 60)).save(tmp_path / folder / "face.png")
    code, out, err = command(capsys, "predict", tiny_model, tmp_path / "a" / "face.png", tmp_path / "b" / "face.png",
                             "--annotate", tmp_path / "out", "--json")
    assert code == 0, err
    written = [result["annotated"] for result in json.loads(out)]
    assert sorted(Path(p).name for p in written) == ["face-2.png", "face.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["face-2.png", "face.png"]


def test_an_ensemble_written_over_a_member_is_refused(capsys, tiny_model, tmp_path):
    before = snapshot(tiny_model)
    refused(capsys, "ensemble", tiny_model, tiny_model / "model.keras", "--out", tiny_model,
            match="holds the member")
    assert snapshot(tiny_model) == before


# --- the page's "is it running" check --------------------------------------------------------------------

def test_a_status_check_never_makes_a_start_fail_as_already_running(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    assert not run.is_running() and not run.lock_file.exists()  # looking takes and creates no lock
    run.running_file.touch()
    with open(run.running_file) as checker:  # a page caught in the middle of its check
        fcntl.flock(checker, fcntl.LOCK_SH | fcntl.LOCK_NB)
        started = threading.Event()

        def start():
            with run.lock():
                started.set()
        trainer = threading.Thread(target=start)
        trainer.start()
        assert not started.wait(0.2)  # the start waits for the check to end rather than failing
    trainer.join(timeout=60)
    assert started.is_set()
    with run.lock():
        assert run.is_running()
    assert not run.is_running()


# --- pictures (read by core/vision/imaging.py and core/vision/faces.py) ---------------------------------------------------

def test_a_thin_or_single_pixel_picture_is_not_classified_and_loses_no_other_result(capsys, tiny_model, tmp_path):
    Image.fromarray(np.zeros((3000, 1), np.uint8)).save(tmp_path / "thin.png")
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(tmp_path / "dot.png")
    Image.fromarray(face_pattern(3, np.random.default_rng(0))).save(tmp_path / "face.png")
    code, out, err = command(capsys, "predict", tiny_model, tmp_path / "thin.png", tmp_path / "dot.png",
                             tmp_path / "face.png", "--json")
    results = {Path(result["image"]).name: result for result in json.loads(out)}
    assert code == 0 and "Traceback" not in err
    assert results["thin.png"]["faces"] == [] and results["dot.png"]["faces"] == []
    assert len(results["face.png"]["faces"]) == 1
    assert results["dot.png"]["no_face"].startswith("too small to show a face (1x1 pixels")
    code, out, err = command(capsys, "predict", tiny_model, tmp_path / "thin.png")
    assert out.startswith(f"{tmp_path / 'thin.png'}: too small to show a face (1x") and out.count("\n") == 1


def test_a_16_bit_picture_is_read_as_it_looks_not_white(tmp_path):
    from core.vision.imaging import read_image

    deep = (np.linspace(0, 65535, 48 * 48).reshape(48, 48)).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    pixels = read_image(tmp_path / "deep.png")
    assert np.abs(pixels.astype(int) - (deep >> 8)).max() <= 1


def test_a_144_megapixel_png_is_refused_in_one_line_without_decoding_it(capsys, tiny_model, tmp_path):
    Image.new("L", (12000, 12000)).save(tmp_path / "huge.png")
    assert (tmp_path / "huge.png").stat().st_size < 1_000_000
    code, out, err = command(capsys, "predict", tiny_model, tmp_path / "huge.png")
    assert code == 2 and out.strip().endswith("too large: 12000x12000 pixels (144 megapixels; at most 64 are read): "
                                              "save it smaller or as JPEG")


def test_a_typed_path_never_tells_which_folders_exist(capsys, tmp_path):
    (tmp_path / "home" / "secret" / "letters").mkdir(parents=True)
    (tmp_path / "home" / "notes.txt").write_text("private")
    lines = [refused(capsys, "stats", path, match="no dataset at").replace(str(path), "PATH")
             for path in (tmp_path / "nowhere", tmp_path / "home", tmp_path / "home" / "notes.txt", "/dev/zero")]
    assert len(set(lines)) == 1 and "secret" not in lines[0]
