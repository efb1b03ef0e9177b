"""core.data.dataset on every input layout, its cache, a corpus of bad inputs, and the real FER-2013 copy.

Synthetic images are written by the tests into tmp_path (PNG wherever pixels must survive exactly).
"""

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import core.data.dataset
from core.data.dataset import DatasetError, load_dataset
from core.data.emotions import EMOTIONS
from tests.ferplus_files import learnable_rows, write_split_folder

# Written out here rather than imported, so the tests check the mapping instead of repeating it.
CSV_CODE_NAMES = {0: "angry", 1: "disgust", 2: "fear", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}
KAGGLE_COUNTS = {"angry": 3, "disgust": 1, "fear": 2, "happy": 4, "neutral": 2, "sad": 3, "surprise": 2}


def face(seed: int, shape=(48, 48)) -> np.ndarray:
    """A distinct noisy gray picture per seed (any pixel change would show)."""
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def save(path: Path, pixels: np.ndarray, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **options)
    return path


def label(name: str) -> int:
    return EMOTIONS.index(name)


def make_folders(root: Path, layout: dict[str, dict[str, int]], name=lambda i: f"{i}.png", seed: int = 0) -> dict:
    """Write `root/<split>/<folder>/<name(i)>` PNGs ("" as split: emotion folders directly in root).
    Returns {relative source path: pixels}."""
    written = {}
    for split, folders in layout.items():
        for folder, count in folders.items():
            for i in range(count):
                relative = Path(split, folder, name(i)) if split else Path(folder, name(i))
                seed += 1
                written[str(relative)] = face(seed)
                save(root / relative, written[str(relative)])
    return written


def assert_split(split, expected: dict[str, tuple[np.ndarray, int]]) -> None:
    """The split holds exactly the expected sources, each with its pixels and label."""
    assert sorted(split.sources) == sorted(expected)
    assert split.images.shape == (len(expected), 48, 48) and split.images.dtype == np.uint8
    assert split.labels.dtype == np.int64
    for pixels, got_label, source in zip(split.images, split.labels, split.sources):
        want_pixels, want_label = expected[source]
        np.testing.assert_array_equal(pixels, want_pixels, err_msg=source)
        assert got_label == want_label, source


def expected_of(written: dict, folder_to_emotion=lambda folder: folder) -> dict:
    return {source: (pixels, label(folder_to_emotion(Path(source).parent.name))) for source, pixels in written.items()}


def only(written: dict, prefix: str) -> dict:
    return {source: pixels for source, pixels in written.items() if source.startswith(prefix)}


# --- input layouts ---------------------------------------------------------------------------

def test_kaggle_layout_reads_every_split_emotion_and_pixel(tmp_path):
    written = make_folders(tmp_path / "fer", {"train": KAGGLE_COUNTS, "test": {e: 1 for e in EMOTIONS}})
    dataset = load_dataset(tmp_path / "fer")
    assert set(dataset.splits) == {"train", "test"}
    assert_split(dataset.split("train"), expected_of(only(written, "train/")))
    assert_split(dataset.split("test"), expected_of(only(written, "test/")))
    assert np.bincount(dataset.split("train").labels, minlength=7).tolist() == [KAGGLE_COUNTS[e] for e in EMOTIONS]
    assert (dataset.skipped, dataset.warnings, dataset.converted) == ([], [], 0)


def test_kaggle_layout_with_jpeg_files(tmp_path):
    smooth = np.add.outer(np.arange(48), np.arange(48)).astype(np.uint8) * 2
    for emotion in EMOTIONS:
        save(tmp_path / "fer" / "train" / emotion / f"Training_{label(emotion)}.jpg", smooth, quality=95)
        save(tmp_path / "fer" / "test" / emotion / f"PublicTest_{label(emotion)}.jpg", smooth, quality=95)
    dataset = load_dataset(tmp_path / "fer")
    train = dataset.split("train")
    assert len(train) == 7 and len(dataset.split("test")) == 7
    for pixels, got, source in zip(train.images, train.labels, train.sources):
        assert got == label(Path(source).parent.name)
        assert np.abs(pixels.astype(int) - smooth).mean() < 2  # JPEG is lossy, but only just
    assert dataset.converted == 0  # gray 48x48 JPEGs need no conversion


def test_other_naming_disgusted_fearful_surprised(tmp_path):
    folders = {"angry": 2, "disgusted": 1, "fearful": 2, "happy": 1, "neutral": 1, "sad": 1, "surprised": 3}
    written = make_folders(tmp_path / "data", {"train": folders, "test": {"disgusted": 1, "surprised": 1}},
                           name=lambda i: f"im{i}.png")
    renamed = {"disgusted": "disgust", "fearful": "fear", "surprised": "surprise"}
    dataset = load_dataset(tmp_path / "data")
    to_emotion = lambda folder: renamed.get(folder, folder)  # noqa: E731
    assert_split(dataset.split("train"), expected_of(only(written, "train/"), to_emotion))
    assert_split(dataset.split("test"), expected_of(only(written, "test/"), to_emotion))
    counts = np.bincount(dataset.split("train").labels, minlength=7)
    assert counts[label("disgust")] == 1 and counts[label("fear")] == 2 and counts[label("surprise")] == 3


def test_a_lab_set_naming_fear_afraid_is_read_as_the_emotions(tmp_path):
    folders = {"afraid": 2, "angry": 1, "disgusted": 1, "happy": 1, "neutral": 1, "sad": 1, "surprised": 1}
    make_folders(tmp_path / "lab", {"": folders})
    dataset = load_dataset(tmp_path / "lab")
    assert dataset.classes == list(EMOTIONS)
    assert np.bincount(dataset.split("lab").labels, minlength=7)[label("fear")] == 2


def test_single_split_folder_of_emotion_folders(tmp_path):
    written = make_folders(tmp_path / "faces", {"": {"happy": 2, "sad": 3, "Surprise": 1}})
    dataset = load_dataset(tmp_path / "faces")
    assert list(dataset.splits) == ["faces"]  # named after the folder
    assert_split(dataset.split("faces"), expected_of(written, str.lower))


def test_a_folder_of_datasets_says_so_not_that_they_are_empty_classes(tmp_path):
    """The parent of datasets (FER+, split folders of class folders, a fer2013.csv) is none: the message names
    them and says to give one, not that 'ferplus' is a class without pictures; class folders holding a CSV file,
    a label.csv or people's folders (one called 'val', holding a folder) stay class folders."""
    root = tmp_path / "datasets"
    make_folders(root / "mine", {"train": {"happy": 2, "sad": 2}, "test": {"happy": 1, "sad": 1}})
    (root / "table").mkdir()
    write_csv(root / "table" / "fer2013.csv", [("3", csv_pixels(face(1)), "Training")])
    with pytest.raises(DatasetError, match=r"holds datasets \(mine, table\), not class folders: give one of them"):
        load_dataset(root, cache_dir=tmp_path / "cache")  # no picture within two levels
    write_split_folder(root / "ferplus" / "FER2013Train", learnable_rows(1, seed=0))
    with pytest.raises(DatasetError, match=r"holds datasets \(ferplus, mine, table\), not class folders"):
        load_dataset(root, cache_dir=tmp_path / "cache")
    assert list(load_dataset(root / "mine", cache_dir=tmp_path / "cache").splits) == ["test", "train"]
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in (root / "mine").rglob("*.png"):
            zipped.write(file, file.relative_to(root))
        zipped.write(root / "table" / "fer2013.csv", "table/fer2013.csv")
    with pytest.raises(DatasetError, match=r"^all.zip holds datasets \(mine, table\), not class folders: zip one"):
        load_dataset(archive, cache_dir=tmp_path / "cache")

    people = tmp_path / "people"
    for name in ("happy", "sad"):
        make_folders(people / name, {"": {"val": 2, "anna": 2}})
    (people / "happy" / "notes.csv").write_text("who,when\nanna,monday\n")
    (people / "sad" / "label.csv").write_text("name,votes\n")
    make_folders(people / "happy" / "val", {"": {"2024": 1}})
    assert list(load_dataset(people, cache_dir=tmp_path / "cache").splits) == ["people"]


def write_csv(path: Path, rows: list[tuple[str, str, str]], header="emotion,pixels,Usage") -> Path:
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows))
    return path


def csv_pixels(values: np.ndarray) -> str:
    return " ".join(str(v) for v in values.ravel())


def test_fer2013_csv_splits_and_emotion_codes(tmp_path):
    rows, expected = [], {"train": {}, "test": {}, "private": {}}
    for code in range(7):
        for usage, split in (("Training", "train"), ("Training", "train"), ("PublicTest", "test"),
                             ("PrivateTest", "private")):
            pixels = face(100 + len(rows))
            pixels[0, :7] = 0
            pixels[0, code] = 255  # the code, readable back from the picture itself
            rows.append((str(code), csv_pixels(pixels), usage))
            expected[split][f"row {len(rows) + 1}"] = (pixels, label(CSV_CODE_NAMES[code]))
    csv = write_csv(tmp_path / "fer2013.csv", rows)

    dataset = load_dataset(csv)
    assert set(dataset.splits) == {"train", "test", "private"}
    for split in ("train", "test", "private"):
        assert_split(dataset.split(split), expected[split])
    train = dataset.split("train")
    for pixels, got in zip(train.images, train.labels):
        code = int(np.argmax(pixels[0, :7]))
        assert EMOTIONS[got] == CSV_CODE_NAMES[code]
    # 4 sad (code 4) and 6 neutral (code 6) land on their canonical labels, not on codes 4 and 6
    assert EMOTIONS[expected["train"]["row 18"][1]] == "sad" and EMOTIONS[expected["train"]["row 26"][1]] == "neutral"
    assert dataset.skipped == [] and dataset.converted == 0

    in_folder = load_dataset(tmp_path)  # a folder holding just fer2013.csv reads the CSV
    for split in ("train", "test", "private"):
        assert_split(in_folder.split(split), expected[split])


def test_csv_without_usage_column_is_all_train(tmp_path):
    csv = tmp_path / "faces.csv"
    csv.write_text(f"emotion,pixels\n3,{csv_pixels(face(1))}\n6,{csv_pixels(face(2))}\n")
    dataset = load_dataset(csv)
    assert_split(dataset.split("train"), {"row 2": (face(1), label("happy")), "row 3": (face(2), label("neutral"))})


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, prefix + str(file.relative_to(folder)))
    return archive


@pytest.mark.parametrize("prefix", ["fer2013/", ""], ids=["one-top-folder", "splits-at-top"])
def test_zip_of_a_folder_layout(tmp_path, prefix):
    written = make_folders(tmp_path / "fer", {"train": KAGGLE_COUNTS, "test": {"happy": 2, "sad": 1}})
    archive = zip_folder(tmp_path / "fer", tmp_path / "fer.zip", prefix)
    dataset = load_dataset(archive, cache_dir=tmp_path / "cache")
    assert set(dataset.splits) == {"train", "test"}
    assert_split(dataset.split("train"), expected_of(only(written, "train/")))
    assert_split(dataset.split("test"), expected_of(only(written, "test/")))
    assert dataset.source == str(archive)
    assert (tmp_path / "cache" / "zips").is_dir()  # extracted into the cache, not next to the zip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "fer", "fer.zip"]


def test_zip_of_emotion_folders_is_one_split_named_after_the_zip(tmp_path):
    written = make_folders(tmp_path / "flat", {"": {"angry": 1, "happy": 2}})
    dataset = load_dataset(zip_folder(tmp_path / "flat", tmp_path / "faces.zip"), cache_dir=tmp_path / "cache")
    assert list(dataset.splits) == ["faces"]
    assert_split(dataset.split("faces"), expected_of(written))
    (tmp_path / "other").mkdir()  # the same zip under another name (unpacked and cached once): named by that
    renamed = (tmp_path / "other" / "mine.zip")
    renamed.write_bytes((tmp_path / "faces.zip").read_bytes())
    assert list(load_dataset(renamed, cache_dir=tmp_path / "cache").splits) == ["mine"]


def test_colour_and_odd_sized_images_are_converted_and_counted(tmp_path):
    folder = tmp_path / "fer" / "train" / "happy"
    pattern = face(7)
    save(folder / "gray48.png", pattern)
    save(folder / "rgb48.png", np.repeat(pattern[:, :, None], 3, axis=2))  # R=G=B: gray is exact
    save(folder / "gray96.png", np.kron(pattern, np.ones((2, 2), np.uint8)))  # 2x2 blocks: area shrink is exact
    save(folder / "rgb30x40.png", np.full((30, 40, 3), 77, np.uint8))
    save(folder / "rgba64.png", np.dstack([np.full((64, 64, 3), 150, np.uint8), np.full((64, 64), 255, np.uint8)]))
    dataset = load_dataset(tmp_path / "fer")
    train = dataset.split("train")
    by_source = dict(zip(train.sources, train.images))
    assert dataset.converted == 4
    assert train.images.shape == (5, 48, 48) and train.images.dtype == np.uint8
    for name in ("gray48", "rgb48", "gray96"):
        np.testing.assert_array_equal(by_source[f"train/happy/{name}.png"], pattern, err_msg=name)
    assert (by_source["train/happy/rgb30x40.png"] == 77).all()
    assert (by_source["train/happy/rgba64.png"] == 150).all()
    assert set(train.labels.tolist()) == {label("happy")}


# --- cache -----------------------------------------------------------------------------------

def assert_same_dataset(a, b) -> None:
    assert list(a.splits) == list(b.splits)
    for name in a.splits:
        np.testing.assert_array_equal(a.splits[name].images, b.splits[name].images)
        np.testing.assert_array_equal(a.splits[name].labels, b.splits[name].labels)
        assert list(a.splits[name].sources) == list(b.splits[name].sources)
    assert (a.source, a.skipped, a.warnings, a.converted) == (b.source, b.skipped, b.warnings, b.converted)


def fail_if_decoding(*args, **kwargs):
    raise AssertionError("the source was decoded again instead of read from the cache")


def test_second_load_comes_from_the_cache_under_fer_cache_dir(tmp_path, monkeypatch):
    make_folders(tmp_path / "fer", {"train": KAGGLE_COUNTS, "test": {"fear": 1}})
    # what was skipped, converted and warned about is cached as well
    (tmp_path / "fer" / "train" / "angry" / "broken.jpg").write_bytes(b"")
    save(tmp_path / "fer" / "train" / "disgust" / "rgb.png", np.full((50, 50, 3), 9, np.uint8))
    (tmp_path / "fer" / "test" / "happy").mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("FER_CACHE_DIR", str(cache))

    first = load_dataset(tmp_path / "fer")
    files = list(cache.glob("*.npz"))
    assert len(files) == 1, files
    assert first.skipped and first.warnings and first.converted == 1

    monkeypatch.setattr(core.data.dataset, "_read_split_folders", fail_if_decoding)
    second = load_dataset(tmp_path / "fer")
    assert_same_dataset(first, second)
    assert list(cache.glob("*.npz")) == files


def test_explicit_cache_dir_wins_over_the_environment(tmp_path, monkeypatch):
    make_folders(tmp_path / "fer", {"train": {"sad": 2}})
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "env-cache"))
    load_dataset(tmp_path / "fer", cache_dir=tmp_path / "mine")
    assert len(list((tmp_path / "mine").glob("*.npz"))) == 1
    assert not (tmp_path / "env-cache").exists()


def test_changing_or_adding_an_image_invalidates_the_cache(tmp_path, monkeypatch):
    written = make_folders(tmp_path / "fer", {"train": {"happy": 3, "sad": 2}})
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    before = load_dataset(tmp_path / "fer")

    changed = tmp_path / "fer" / "train" / "happy" / "1.png"
    stat = changed.stat()
    save(changed, face(999))
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    after = load_dataset(tmp_path / "fer")
    written["train/happy/1.png"] = face(999)
    assert_split(after.split("train"), expected_of(written))
    assert not np.array_equal(before.split("train").images, after.split("train").images)

    written["train/sad/new.png"] = face(1000)
    save(tmp_path / "fer" / "train" / "sad" / "new.png", face(1000))
    assert_split(load_dataset(tmp_path / "fer").split("train"), expected_of(written))
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3


def test_touching_a_file_alone_invalidates_the_cache(tmp_path, monkeypatch):
    """The cache key is names, sizes and modification times: a new mtime means decoding again."""
    make_folders(tmp_path / "fer", {"train": {"happy": 1}})
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset(tmp_path / "fer")
    file = tmp_path / "fer" / "train" / "happy" / "0.png"
    os.utime(file, ns=(file.stat().st_atime_ns, file.stat().st_mtime_ns + 1))  # a touch alone is enough
    monkeypatch.setattr(core.data.dataset, "_read_split_folders", fail_if_decoding)
    with pytest.raises(AssertionError, match="decoded again"):
        load_dataset(tmp_path / "fer")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_an_unreadable_cache_file_is_rebuilt(tmp_path, damage):
    make_folders(tmp_path / "fer", {"train": {"angry": 2, "fear": 1}})
    cache = tmp_path / "cache"
    good = load_dataset(tmp_path / "fer", cache_dir=cache)
    (cache_file,) = cache.glob("*.npz")
    data = cache_file.read_bytes()
    cache_file.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"not a cache", "empty": b""}[damage])
    assert_same_dataset(good, load_dataset(tmp_path / "fer", cache_dir=cache))
    assert_same_dataset(good, core.data.dataset._read_cache(cache_file))  # and written again


# --- bad inputs ------------------------------------------------------------------------------

def jpeg_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


def test_broken_files_are_skipped_and_listed_by_name_with_a_reason(tmp_path):
    folder = tmp_path / "fer" / "train" / "angry"
    save(folder / "good.png", face(1))
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "truncated.jpg").write_bytes(jpeg_bytes(face(2))[:400])
    (folder / "text.jpg").write_text("this is not a picture\n")
    (folder / "notes.txt").write_text("labels checked by hand\n")
    dataset = load_dataset(tmp_path / "fer")
    assert_split(dataset.split("train"), {"train/angry/good.png": (face(1), label("angry"))})
    reasons = dict(line.split(": ", 1) for line in dataset.skipped)
    assert set(reasons) == {"train/angry/zero.jpg", "train/angry/truncated.jpg", "train/angry/text.jpg",
                            "train/angry/notes.txt"}
    assert reasons["train/angry/zero.jpg"] == "empty file (0 bytes)"
    assert reasons["train/angry/truncated.jpg"].startswith("unreadable image (")
    assert reasons["train/angry/text.jpg"] == "not an image (unrecognised format)"
    assert reasons["train/angry/notes.txt"] == "not an image file (unknown extension)"


def test_csv_bad_rows_are_skipped_by_row_number(tmp_path):
    good = csv_pixels(face(1))
    csv = write_csv(tmp_path / "fer2013.csv", [
        ("3", good, "Training"),                                  # line 2: fine
        ("4", "1 2 3 4 5 6 7 8 9 10", "Training"),                # line 3: short pixel row
        ("5", good + " 7", "PublicTest"),                          # line 4: one value too many
        ("2", " ".join(["300"] * 2304), "Training"),              # line 5: out of range
        ("9", good, "Training"),                                  # line 6: no such emotion code
        ("x", good, "Training"),                                  # line 7: not a code
        ("1", " ".join(["a"] * 2304), "Training"),                # line 8: not numbers
        ("\u00b2", good, "Training"),                               # line 9: a digit to str.isdigit, not to int
        ("3", "\u00b2" + good[1:], "Training"),                     # line 10: the same in the pixels
        ("3", "9" * 5000 + good[1:], "Training"),                    # line 11: past Python's 4,300 digits
    ])
    dataset = load_dataset(csv)
    assert_split(dataset.split("train"), {"row 2": (face(1), label("happy"))})
    assert list(dataset.splits) == ["train"]
    assert dataset.skipped == [
        "row 3: pixels must be 2304 numbers 0-255 (10 values)",
        "row 4: pixels must be 2304 numbers 0-255 (2305 values)",
        "row 5: pixels must be 2304 numbers 0-255 (a value is not a whole number 0-255)",
        "row 6: emotion '9' is not a code 0-6",
        "row 7: emotion 'x' is not a code 0-6",
        "row 8: pixels must be 2304 numbers 0-255 (a value is not a whole number 0-255)",
        "row 9: emotion '\u00b2' is not a code 0-6",
        "row 10: pixels must be 2304 numbers 0-255 (a value is not a whole number 0-255)",
        "row 11: pixels must be 2304 numbers 0-255 (a value is not a whole number 0-255)",
    ]


def test_a_csv_of_too_many_lines_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(core.data.dataset, "MAX_CSV_ROWS", 5)
    csv = write_csv(tmp_path / "fer2013.csv", [("x", "1", "Training")] * 6)  # bad rows count too
    with pytest.raises(DatasetError, match=r"fer2013\.csv has 7 lines, over the 5 rows a CSV dataset may hold"):
        load_dataset(csv, cache_dir=tmp_path / "cache")
    monkeypatch.setattr(core.data.dataset, "MAX_CSV_ROWS", 100)
    monkeypatch.setattr(core.data.dataset, "MAX_CSV_BYTES", 50)
    with pytest.raises(DatasetError, match=r"fer2013\.csv is \d+ MB, over the \d+ MB a CSV dataset may be"):
        load_dataset(csv, cache_dir=tmp_path / "cache")


def test_csv_missing_the_pixels_column(tmp_path):
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion,image,Usage\n3,1 2 3,Training\n")
    with pytest.raises(DatasetError, match=r"fer2013\.csv lacks the column\(s\) pixels"):
        load_dataset(csv)


def test_csv_with_only_bad_rows(tmp_path):
    csv = write_csv(tmp_path / "fer2013.csv", [("3", "1 2 3", "Training")])
    with pytest.raises(DatasetError, match=r"no usable rows \(1 skipped\)"):
        load_dataset(csv)


def test_empty_class_folder_gives_a_warning_naming_it(tmp_path):
    make_folders(tmp_path / "fer", {"train": {"happy": 2}})
    (tmp_path / "fer" / "train" / "disgust").mkdir()
    dataset = load_dataset(tmp_path / "fer")
    assert dataset.warnings == ["class folder 'train/disgust' is empty"]
    assert len(dataset.split("train")) == 2


@pytest.mark.parametrize("split", ["train", ""], ids=["split-layout", "single-split"])
def test_a_folder_beside_the_emotions_is_a_class_of_its_own(tmp_path, split):
    make_folders(tmp_path / "fer", {split: {"happy": 1, "contempt": 2}})
    dataset = load_dataset(tmp_path / "fer")
    assert dataset.classes == ["contempt", "happy"] and dataset.present == ["contempt", "happy"]
    only = dataset.split(split or "fer")
    assert sorted(dataset.classes[label] for label in only.labels) == ["contempt", "contempt", "happy"]


def test_fer_spellings_are_read_only_in_a_folder_of_emotions_alone_that_is_not_marked_own(tmp_path):
    make_folders(tmp_path / "fer", {"": {"Happiness": 1, "surprised": 1, "Anger": 1}})
    assert load_dataset(tmp_path / "fer", cache_dir=tmp_path / "cache").present == ["angry", "happy", "surprise"]
    make_folders(tmp_path / "mixed", {"train": {"Happiness": 1, "surprised": 1}, "test": {"wave": 1}})
    mixed = load_dataset(tmp_path / "mixed", cache_dir=tmp_path / "cache")  # a class of its own: names as folders
    assert mixed.classes == mixed.present == ["Happiness", "surprised", "wave"]
    (tmp_path / "fer" / ".own-classes").write_text("")  # marked (a Teach page's set): names as folders
    own = load_dataset(tmp_path / "fer", cache_dir=tmp_path / "cache")  # read again, not taken from the cache
    assert own.classes == own.present == ["Anger", "Happiness", "surprised"]
    assert sorted(own.classes[label] for label in own.split("fer").labels) == ["Anger", "Happiness", "surprised"]


@pytest.mark.parametrize("folders, refused", [({"happy": 1, "Happiness": 1}, True), ({"Happy": 1, "happy": 1}, True),
                                              ({"happy": 1, "Happiness": 1, "wave": 1}, False),
                                              ({"happy": 1, "Happy": 1, "wave": 1}, True)])
def test_two_folders_are_one_class_only_where_they_are_read_as_one(tmp_path, folders, refused):
    make_folders(tmp_path / "data", {"": folders})
    if refused:
        with pytest.raises(DatasetError, match="name the same class"):
            load_dataset(tmp_path / "data", cache_dir=tmp_path / "cache")
    else:
        assert load_dataset(tmp_path / "data", cache_dir=tmp_path / "cache").present == sorted(folders, key=str.lower)


@pytest.mark.parametrize("entry", ["../x", "train/../../x", "/tmp/fer-test-absolute-x"])
def test_zip_with_an_escaping_entry_is_refused_and_writes_nothing(tmp_path, entry):
    archive = tmp_path / "data" / "evil.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("train/happy/a.png", b"a picture")
        zf.writestr(zipfile.ZipInfo(entry), b"escaped")
    cache = tmp_path / "deep" / "cache"
    with pytest.raises(DatasetError, match=f"evil.zip contains an unsafe path '{entry}'"):
        load_dataset(archive, cache_dir=cache)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [archive]  # nothing extracted, inside or out
    assert not Path("/tmp/fer-test-absolute-x").exists()


def test_a_file_named_zip_that_is_not_one(tmp_path):
    (tmp_path / "fer.zip").write_text("nope")
    with pytest.raises(DatasetError, match=r"fer\.zip is not a valid zip file"):
        load_dataset(tmp_path / "fer.zip", cache_dir=tmp_path / "cache")


def test_a_folder_with_no_usable_images(tmp_path):
    folder = tmp_path / "fer" / "train" / "happy"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"")
    (folder / "b.jpg").write_text("text")
    with pytest.raises(DatasetError, match=r"split 'train' has no readable images \(2 skipped\)"):
        load_dataset(tmp_path / "fer")


@pytest.mark.parametrize("setup, message", [
    (lambda root: root.mkdir(), "no dataset at .*fer: give a folder of class folders"),
    (lambda root: (root / "train").mkdir(parents=True), "no dataset at .*fer: give a folder of class folders"),
    (lambda root: save(root / "face.png", face(1)), "no dataset at .*fer: give a folder of class folders"),
], ids=["empty", "empty-split", "loose-images"])
def test_folders_that_are_not_datasets(tmp_path, setup, message):
    setup(tmp_path / "fer")
    with pytest.raises(DatasetError, match=message):
        load_dataset(tmp_path / "fer")


def test_missing_path_and_unsupported_file(tmp_path):
    with pytest.raises(DatasetError, match="no dataset at .*nowhere: give a folder"):
        load_dataset(tmp_path / "nowhere")
    (tmp_path / "faces.txt").write_text("hi")
    with pytest.raises(DatasetError, match=r"no dataset at .*faces\.txt: give a folder of class folders \(or of split folders holding them\), "
                                               r"a fer2013\.csv or a \.zip"):
        load_dataset(tmp_path / "faces.txt")


# --- the real FER-2013 copy ------------------------------------------------------------------

REAL_TRAIN_COUNTS = {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "neutral": 4965, "sad": 4830,
                     "surprise": 3171}


@pytest.fixture(scope="session")
def real_dataset(shared_fer):
    return load_dataset(shared_fer)  # decoded once per session into the session's FER_CACHE_DIR


def test_real_train_split(real_dataset):
    train = real_dataset.split("train")
    assert len(train) == 28_709
    assert dict(zip(EMOTIONS, np.bincount(train.labels, minlength=7).tolist())) == REAL_TRAIN_COUNTS
    assert train.images.shape == (28_709, 48, 48) and train.images.dtype == np.uint8
    assert len(set(train.sources)) == 28_709


def test_real_test_split_and_nothing_lost(real_dataset):
    test = real_dataset.split("test")
    assert len(test) == 3_589
    assert test.images.shape == (3_589, 48, 48) and test.images.dtype == np.uint8
    assert set(real_dataset.splits) == {"train", "test"}
    assert real_dataset.skipped == []
    # FER-2013 holds a few identical faces under two emotions: each is reported, nothing else is
    assert real_dataset.warnings and all("in two classes" in line for line in real_dataset.warnings)


def test_a_folder_that_is_no_dataset_is_refused_before_its_files_are_listed(tmp_path):
    (tmp_path / "photos" / "holiday" / "2019").mkdir(parents=True)  # pictures deeper than class/person/picture
    (tmp_path / "photos" / "holiday" / "2019" / "beach.jpg").write_bytes(b"x")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "notes.txt").write_text("not a picture")
    with pytest.raises(DatasetError, match="no dataset at"):  # and no word of what the folder holds
        load_dataset(tmp_path)
