"""Reading a dataset of faces into 48x48 uint8 arrays with integer labels: FER-2013 in every common
layout, or any folder of the user's own class folders.

Layouts: FER+ with its votes (core.data.votes), `ROOT/<split>/<class>/*` (Kaggle's `train/angry/...` or the other naming
`disgusted/im0.png`), one folder of class folders `ROOT/<class>/*` (any class names, see
core.data.classes; a person folder may sit inside a class folder, see core.data.people), `fer2013.csv`
(`emotion,pixels,Usage`), or a `.zip` of any of these. Pictures larger than a face crop have their
face found and aligned as Predict does (core.vision.faces); a picture with no face or several is skipped and
reported. Decoded arrays are cached on disk, keyed by a manifest of file names, sizes and modification times.
"""

import hashlib
import json
import os
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from core.data.archives import ArchiveError, unpack_zip
from core.data.classes import (MAX_CLASSES, OWN_CLASSES_MARK, ClassError, check_class_names, check_trainable, class_names,
                                ordered_classes)
from core.data.emotions import EMOTIONS, label_of_csv_code
from core.vision.imaging import FACE_SIZE, MAX_DECODED_PIXELS, ImageError, PixelBudget, header_pixels, open_image, \
    to_face_pixels
from core.data.people import person_of
from core.data.votes import (CLASSES as VOTED_CLASSES, LABEL_FILE, SPLIT_OF_FOLDER, VotesError, count_rows,
                             read_votes, voted_layout)
from core.storage.safe_files import FileRefused, read_regular_file, trim_oldest
from core.storage.temporary_files import file_content_key

CACHE_VERSION = 4  # 4: FER-2013's spellings read only in folders of emotions alone (core.data.classes)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff", ".pgm"}
SPLIT_ALIASES = {"training": "train", "publictest": "test", "privatetest": "private"}
SPLIT_NAMES = {"train", "test", "val", "validation", "private", *SPLIT_ALIASES}
IGNORED_NAMES = {"__MACOSX", "Thumbs.db"}
MAX_CACHE_BYTES = int(os.environ.get("FER_CACHE_MAX_BYTES", 8 * 2**30))  # oldest entries are removed beyond it
MAX_FILES = 200_000  # files a folder dataset may hold (FER-2013 has 35,887)
MAX_CSV_ROWS = MAX_FILES  # rows a fer2013.csv may hold, counted before it is parsed
MAX_CSV_BYTES = 512 * 2**20  # a fer2013.csv's size (FER-2013's is 301 MB), checked before it is read
# The pictures being decoded and searched for a face at once share Predict's bound on one picture, by their
# headers' pixels: four 63-megapixel PNGs are read one after another, FER-2013's crops all together.
READING = PixelBudget(MAX_DECODED_PIXELS)

NO_FACE = "no face found"
SEVERAL_FACES = "several faces"

Progress = Callable[[int, int], None]


class DatasetError(ValueError):
    """A dataset that cannot be read; the message says what is wrong and where."""


@dataclass
class Split:
    """One split: images (N, 48, 48) uint8, labels (N,) int64 indices into its dataset's classes,
    where each image came from (a relative file path or a CSV row), who it shows ("" when unknown,
    see core.data.people) and, where people voted (FER+), votes (N, classes) float32 counts: the label is
    their majority."""

    images: np.ndarray
    labels: np.ndarray
    sources: list[str]
    people: list[str] = field(default_factory=list)
    votes: np.ndarray | None = None

    def __post_init__(self):
        if not self.people:
            self.people = [""] * len(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def targets(self, classes: int) -> np.ndarray:
        """(N, classes) float32: each face's share of votes per class, or its label one-hot where nobody voted.

        Example: Split(faces, np.array([1]), ["a.png"]).targets(3) -> array([[0., 1., 0.]])
        """
        if self.votes is not None:
            totals = self.votes.sum(axis=1, keepdims=True)
            return (self.votes / np.maximum(totals, 1)).astype(np.float32)
        return np.eye(classes, dtype=np.float32)[self.labels]


@dataclass
class Dataset:
    """All splits read from one source, with what was skipped or converted on the way."""

    source: str
    splits: dict[str, Split]
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    converted: int = 0
    key: str = ""  # changes with any file's name, size or time: what stored results about this data are keyed by
    classes: list[str] = field(default_factory=lambda: list(EMOTIONS))  # what the labels index
    present: list[str] = field(default_factory=list)  # the classes with a folder (or rows) in the data
    faces: dict = field(default_factory=dict)  # pictures whose face was found, and those skipped: see face_report
    left_out: dict = field(default_factory=dict)  # split -> reason -> sources: voted faces without a majority

    def __post_init__(self):
        if not self.present:
            self.present = list(self.classes)

    def split(self, name: str) -> Split:
        """Return a split by name, or raise DatasetError listing the splits there are."""
        if name not in self.splits:
            raise DatasetError(f"no split '{name}' in {self.source}; it has: {', '.join(self.splits)}")
        return self.splits[name]


def default_cache_dir() -> Path:
    """Where decoded datasets are cached: $FER_CACHE_DIR or ~/.cache/fer-studio."""
    return Path(os.environ.get("FER_CACHE_DIR", Path.home() / ".cache" / "fer-studio"))


def load_dataset(path: str | Path, cache_dir: Path | None = None, progress: Progress | None = None) -> Dataset:
    """Read a dataset from a folder, a CSV file or a zip, using the on-disk cache when valid.

    Example: load_dataset("../shared/datasets/fer2013").split("train").images.shape
             -> (28709, 48, 48)
    """
    path = Path(path).expanduser()
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    if not (path.is_dir() or path.is_file()):
        raise no_dataset(path)
    origin, name = path, path.name
    if path.is_file() and path.suffix.lower() == ".zip":
        path, name = _extract_zip(path, cache_dir / "zips")
    voted = voted_layout(path)
    try:
        source = voted or _layout(path, name)
    except DatasetError as error:
        if path is origin:
            raise
        raise no_dataset_in_zip(origin, error) from None
    manifest = [_manifest(file) for file in voted] if isinstance(voted, tuple) else _manifest(path)
    key = hashlib.sha256(json.dumps([CACHE_VERSION, str(path.resolve()), name, manifest]).encode()).hexdigest()[:24]
    cache_file = cache_dir / f"{key}.npz"
    if cache_file.exists():
        try:
            dataset = _read_cache(cache_file)
            os.utime(cache_file)  # recently used: the last to be evicted
            dataset.key = key
            return dataset
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # an unreadable cache is rebuilt below
    if voted:
        dataset = _read_voted(voted)
    else:
        dataset = read_csv(source) if isinstance(source, Path) else _read_split_folders(path, source, progress)
    dataset.source, dataset.key = str(origin), key
    _write_cache(dataset, cache_file)
    evict_oldest(cache_dir, keep={cache_file})
    return dataset


def check_dataset(path: str | Path, cache_dir: Path | None = None, shown_name: str | None = None) -> str:
    """A line saying what a dataset holds, found by listing its files without decoding any (a zip is unpacked
    into the cache within its bounds, as reading it would); DatasetError saying why when a model could not
    learn from it: no dataset there, a bad zip or CSV, or fewer than two classes with pictures to train on.
    shown_name: how messages name the file (an upload's own name, not the name it is kept under).

    Example: check_dataset("../shared/datasets/fer2013") -> "2 splits (train 28,709, test 3,589 files), 7 classes"
    """
    path = Path(path).expanduser()
    shown = shown_name or path.name
    try:
        return _described(path, cache_dir)
    except DatasetError as error:  # named as shown, not by the server's folders ("~" is not said as /home/...)
        raise DatasetError(str(error).replace(str(path), shown).replace(path.name, shown)) from None
    except OSError:  # a folder that cannot be listed: said as for any other place without a dataset
        raise DatasetError(str(no_dataset(shown))) from None


def _described(path: Path, cache_dir: Path | None) -> str:
    if not (path.is_dir() or path.is_file()):
        raise no_dataset(path)
    folder, name = path, path.name
    if path.is_file() and path.suffix.lower() == ".zip":
        folder, name = _extract_zip(path, (Path(cache_dir) if cache_dir else default_cache_dir()) / "zips")
    voted = voted_layout(folder)
    if voted:
        try:
            counts = count_rows(voted)
        except VotesError as error:
            raise DatasetError(str(error)) from None
        splits = ", ".join(f"{split} {count:,}" for split, count in counts.items())
        return f"FER+ with ten votes a face: {len(counts)} split(s) ({splits} faces), {len(VOTED_CLASSES)} classes"
    try:
        source = _layout(folder, name)
    except DatasetError as error:
        if folder is path:
            raise
        raise no_dataset_in_zip(path, error) from None
    if isinstance(source, Path):
        _check_csv_size(source)
        with open(source, encoding="utf-8-sig", errors="replace") as csv_file:
            header = {column.strip().lower() for column in csv_file.readline(4096).split(",")}
        if not {"emotion", "pixels"} <= header:
            raise DatasetError(f"{source.name} lacks the columns emotion and pixels: expected emotion,pixels,Usage")
        return f"{source.name}: FER-2013's seven emotions as pixel rows"
    listing = _split_files(folder, source)
    counts = {split: len(files) for split, files in listing.files.items()}
    trained = "train" if "train" in listing.files else next(iter(listing.files))
    in_training = Counter(label for _, label, _ in listing.files[trained])
    try:  # what training refuses (core.training.data), from the files alone
        check_trainable(listing.present, [in_training[name] for name in listing.present])
    except ClassError as error:
        raise DatasetError(f"the '{trained}' split: {error}" if len(counts) > 1 else str(error)) from None
    if len(counts) == 1:
        return f"{counts[trained]:,} files in {len(listing.present)} classes (one folder: split when training)"
    splits = ", ".join(f"{split} {count:,}" for split, count in sorted(counts.items(), key=lambda item: -item[1]))
    return f"{len(counts)} splits ({splits} files), {len(listing.present)} classes"


def evict_oldest(cache_dir: Path, keep: set[Path]) -> list[Path]:
    """Remove the least recently used cache entries (decoded .npz files, unpacked zips) beyond
    MAX_CACHE_BYTES; entries in keep stay. Returns what was removed."""
    entries = [p for p in Path(cache_dir).glob("*.npz") if not p.name.endswith(".partial.npz")]
    return trim_oldest(entries + list(Path(cache_dir).glob("zips/*")), MAX_CACHE_BYTES, keep)


def _layout(path: Path, name: str) -> Path | dict[str, Path]:
    """What to read, found without decoding anything: a CSV file, or split name -> split folder.

    `name` names the split of a single folder of class folders (a zip's own name). A folder that is
    not a dataset is refused here, before its files are listed (so "/" fails at once).
    """
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return path
        raise no_dataset(path)
    try:
        csv_files = sorted(file for file in path.glob("*.csv") if file.is_file())  # no pipe, device or folder
        folders = _subfolders(path)
        splits = [folder for folder in folders if folder.name.lower() in SPLIT_NAMES and _subfolders(folder)]
    except OSError:  # unreadable: said as for any other place without a dataset
        raise no_dataset(path) from None
    if csv_files and not folders:
        return csv_files[0]
    if not folders:
        raise no_dataset(path)
    if not splits:  # class folders directly inside: one split
        if datasets := [folder.name for folder in folders[:MAX_CLASSES + 1] if _is_dataset(folder)]:
            raise HoldsDatasets(path, datasets)
        if not any(_holds_pictures(folder) for folder in folders[:MAX_CLASSES + 1]):
            raise no_dataset(path)
        return {name.lower() or "data": path}
    for folder in folders:
        if not _subfolders(folder):  # beside split folders, only more split folders
            raise no_dataset(path)
    return {SPLIT_ALIASES.get(folder.name.lower(), folder.name.lower()): folder for folder in folders}


def _is_dataset(folder: Path, look: int = 50) -> bool:
    """Whether a folder met where class folders are expected is itself a dataset, by the layouts' own rules and
    a look at its first entries only: a FER+ split folder, CSV files with no folder and no picture beside them
    (fer2013.csv), or split folders only, each holding folders (FER+'s, or of class folders). A class folder
    (pictures, and people's folders of pictures) is none of these."""
    if folder.name.lower() in SPLIT_OF_FOLDER and (folder / LABEL_FILE).is_file():
        return True
    try:
        with os.scandir(folder) as scan:
            entries = [entry for _, entry in zip(range(look + 1), scan) if not entry.name.startswith(".")]
        if len(entries) > look or any(Path(entry.name).suffix.lower() in IMAGE_SUFFIXES for entry in entries):
            return False
        folders = [entry for entry in entries if entry.is_dir() and entry.name not in IGNORED_NAMES]
        if not folders:
            return any(entry.name.lower().endswith(".csv") and entry.is_file() for entry in entries)
        return all(entry.name.lower() in SPLIT_NAMES and _has_a_folder(entry.path)
                   or entry.name.lower() in SPLIT_OF_FOLDER for entry in folders)
    except OSError:
        return False


def _has_a_folder(path: str, look: int = 200) -> bool:
    """Whether one of a folder's first entries is a folder."""
    with os.scandir(path) as scan:
        return any(entry.is_dir() and not entry.name.startswith(".") for _, entry in zip(range(look), scan))


def _holds_pictures(folder: Path) -> bool:
    """Whether a class folder has a picture file in it or in one of its person folders (a look at a few entries)."""
    try:
        for count, entry in enumerate(folder.iterdir()):
            if entry.suffix.lower() in IMAGE_SUFFIXES or (entry.is_dir() and _holds_pictures_directly(entry)):
                return True
            if count >= 200:
                return False
    except OSError:
        return False
    return False


def _holds_pictures_directly(folder: Path) -> bool:
    try:
        return any(entry.suffix.lower() in IMAGE_SUFFIXES for _, entry in zip(range(200), folder.iterdir()))
    except OSError:
        return False


def no_dataset(path: str | Path) -> DatasetError:
    """One message for every path that holds no dataset (missing, unreadable, or something else), so a
    typed path never tells which folders exist or what is in them."""
    return DatasetError(f"no dataset at {path}: give a folder of class folders (or of split folders holding "
                        "them), a fer2013.csv or a .zip")


class HoldsDatasets(DatasetError):
    """A folder given as a dataset holds datasets (the parent folder of several): the message names them."""

    def __init__(self, path: Path, names: list[str]):
        self.names = names
        super().__init__(f"{path} holds datasets ({', '.join(names)}), not class folders: give one of them, for "
                         f"example {path / names[0]}")


def no_dataset_in_zip(path: Path, error: DatasetError | None = None) -> DatasetError:
    """The message for a zip that holds no dataset, naming the zip (not the cache folder it was unpacked into)."""
    if isinstance(error, HoldsDatasets):
        return DatasetError(f"{path.name} holds datasets ({', '.join(error.names)}), not class folders: zip one "
                            "of them")
    return DatasetError(f"{path.name} holds no dataset: give a zip of class folders (or of split folders holding "
                        "them), or of a fer2013.csv")


def _subfolders(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in IGNORED_NAMES)


def labelled_files(path: str | Path) -> tuple[dict[str, list[tuple[Path, int]]], list[str], list[str]]:
    """Every file of a folder dataset with its label, per split, found without decoding anything; warnings
    (empty class folders); the classes the labels index. Raises DatasetError for a CSV file or a folder
    that is not a dataset.

    Example: labelled_files("../shared/datasets/fer2013")[0]["train"][0] -> (PosixPath('.../train/angry/im0.png'), 0)
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder dataset")
    split_dirs = _layout(root, root.name)
    if isinstance(split_dirs, Path):
        raise DatasetError(f"{root} holds {split_dirs.name}, not image folders")
    listing = _split_files(root, split_dirs)
    labels = {name: index for index, name in enumerate(listing.classes)}
    files = {split: [(file, labels[name]) for file, name, _ in entries] for split, entries in listing.files.items()}
    return files, listing.warnings, listing.classes


@dataclass
class _Listing:
    """A folder dataset's files before decoding: per split (file, class, path inside the class folder)."""

    files: dict[str, list[tuple[Path, str, str]]]
    classes: list[str]
    present: list[str]
    warnings: list[str]


def _split_files(root: Path, split_dirs: dict[str, Path]) -> _Listing:
    files: dict[str, list[tuple[Path, str, str]]] = {}
    warnings, count = [], 0
    class_dirs = {split_name: _subfolders(split_dir) for split_name, split_dir in split_dirs.items()}
    own = any((folder / OWN_CLASSES_MARK).is_file() for folder in {root, *split_dirs.values()})
    names = class_names({class_dir.name for dirs in class_dirs.values() for class_dir in dirs}, own)
    for split_name, split_dir in split_dirs.items():
        files[split_name] = []
        try:
            check_class_names([class_dir.name for class_dir in class_dirs[split_name]], names)
        except ClassError as error:
            raise DatasetError(f"{printable(split_dir.name)}: {error}") from None
        for class_dir in class_dirs[split_name]:
            entries, passed_over = _class_files(class_dir)
            if passed_over:
                warnings.append(f"not read in '{printable(str(class_dir.relative_to(root)))}': {len(passed_over)} "
                                "folder(s) inside a person's folder, pipe(s) or device(s), such as "
                                f"'{printable(str(passed_over[0].relative_to(root)))}' (pictures are read from "
                                "a class folder and its person folders only)")
            count += len(entries)
            if count > MAX_FILES:
                raise DatasetError(f"more than {MAX_FILES:,} files under {printable(root.name)}: is this the dataset "
                                   "folder? (at most that many pictures are read)")
            if not entries:
                warnings.append(f"class folder '{printable(str(class_dir.relative_to(root)))}' is empty")
            name = names[class_dir.name]
            files[split_name].extend((file, name, str(file.relative_to(class_dir))) for file in entries)
    present = ordered_classes(names.values())
    classes = list(EMOTIONS) if set(present) <= set(EMOTIONS) else present
    return _Listing(files, classes, present, warnings)


def _class_files(class_dir: Path) -> tuple[list[Path], list[Path]]:
    """The files (and broken links) of a class folder and of its person folders (one level down), sorted, hidden
    ones left out; and what is not read there: folders deeper down, pipes, devices."""
    found, passed_over = [], []
    for entry in sorted(class_dir.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_NAMES:
            continue
        inside = sorted(p for p in entry.iterdir() if not p.name.startswith(".")) if entry.is_dir() else [entry]
        for item in inside:  # a broken link is read (and skipped, saying why) like a file
            (found if item.is_file() or item.is_symlink() and not item.exists() else passed_over).append(item)
    return found, passed_over


class Decoded(NamedTuple):
    """One picture file as a face: its 48x48 pixels (None when unusable), whether it was converted (colour,
    another size), why not usable, and whether its face was found in a larger picture."""

    pixels: np.ndarray | None
    converted: bool = False
    reason: str = ""
    found: bool = False


def decode_face(file: Path) -> Decoded:
    """Decode one picture file into 48x48 uint8 face pixels.

    A picture no larger than a face crop (core.vision.faces.is_face_crop) is taken whole, as today's crops are;
    a larger one must show exactly one face, found and aligned exactly as Predict does (core.vision.faces);
    otherwise the reason starts with NO_FACE or SEVERAL_FACES.
    """
    if file.is_symlink() and not file.exists():
        return Decoded(None, reason="not read: a link to nothing")
    if file.suffix.lower() not in IMAGE_SUFFIXES:
        return Decoded(None, reason="not an image file (unknown extension)")
    try:
        data = read_regular_file(file)
        pixels = header_pixels(data)  # Predict's bound on one picture, from its header
    except ImageError as error:
        return Decoded(None, reason=str(error))
    except FileRefused as error:  # its message names the file as given
        return Decoded(None, reason=str(error).replace(str(file), "it"))
    except OSError as error:  # said without the machine's path (a broken link, a file removed meanwhile)
        return Decoded(None, reason=f"not read: {(error.strerror or type(error).__name__).lower()}")
    with READING.held(pixels):
        return _face_in(data)


def _face_in(data: bytes) -> Decoded:
    """decode_face once the picture's header is checked and its share of READING held."""
    from core.vision.faces import find_and_crop, is_face_crop, main_faces

    try:
        image = open_image(data)
    except ImageError as error:
        return Decoded(None, reason=str(error))
    gray = np.asarray(image.convert("L"))
    if is_face_crop(gray):
        converted = image.mode != "L" or image.size != (FACE_SIZE, FACE_SIZE)
        return Decoded(to_face_pixels(gray), converted)
    boxes, crops = find_and_crop(np.asarray(image.convert("RGB")))
    kept = main_faces(boxes)
    if not kept:
        return Decoded(None, True, f"{NO_FACE} ({image.size[0]}x{image.size[1]} picture)")
    if len(kept) > 1:
        return Decoded(None, True, f"{SEVERAL_FACES} ({len(kept)} faces of similar size)")
    return Decoded(crops[kept[0]], True, found=True)


def _read_split_folders(root: Path, split_dirs: dict[str, Path], progress: Progress | None) -> Dataset:
    """Read `<split>/<class>/[<person>/]<image>` folders, decoding images on a few threads."""
    dataset = Dataset(source=str(root), splits={})
    listing = _split_files(root, split_dirs)
    dataset.warnings, dataset.classes, dataset.present = listing.warnings, listing.classes, listing.present
    labels = {name: index for index, name in enumerate(listing.classes)}
    jobs = [(split_name, name, inside, file) for split_name, entries in listing.files.items()
            for file, name, inside in entries]
    per_split: dict[str, tuple[list, list, list, list]] = {name: ([], [], [], []) for name in split_dirs}
    report = {"found": 0, "no_face": {}, "several_faces": {}}
    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 2) as pool:
        decoded = pool.map(decode_face, [job[3] for job in jobs], chunksize=16)
        for done, (job, (pixels, converted, reason, found)) in enumerate(zip(jobs, decoded), 1):
            split_name, class_name, inside, file = job
            name = printable(str(file.relative_to(root)))
            if pixels is None:
                dataset.skipped.append(f"{name}: {reason}")
                for kind, prefix in (("no_face", NO_FACE), ("several_faces", SEVERAL_FACES)):
                    if reason.startswith(prefix):
                        report[kind].setdefault(class_name, []).append(name)
            else:
                images, labels_, sources, people = per_split[split_name]
                images.append(pixels)
                labels_.append(labels[class_name])
                sources.append(name)
                people.append(printable(person_of(inside) or ""))
                dataset.converted += converted
                report["found"] += found
            if progress and (done % 100 == 0 or done == len(jobs)):
                progress(done, len(jobs))
    for split_name, (images, labels_, sources, people) in per_split.items():
        if not images:
            raise DatasetError(f"split '{split_name}' has no readable images ({len(dataset.skipped)} skipped"
                               + (": no face found in any picture" if report["no_face"] else "") + "): "
                               + "; ".join(dataset.skipped[:3]) + ("; ..." if len(dataset.skipped) > 3 else ""))
        dataset.splits[split_name] = Split(np.stack(images), np.asarray(labels_, dtype=np.int64), sources, people)
    dataset.faces = report
    dataset.warnings += duplicate_warnings(dataset)
    return dataset


def _read_voted(layout) -> Dataset:
    """FER+ (core.data.votes): each split's faces with a majority, their votes, and the faces left out."""
    try:
        voted, skipped = read_votes(layout, read_csv)
    except VotesError as error:
        raise DatasetError(str(error)) from None
    dataset = Dataset(source="", splits={}, skipped=skipped, classes=list(VOTED_CLASSES))
    for name, split in voted.items():
        if not len(split.labels):
            raise DatasetError(f"split '{name}' has no face that most of its voters agree on ({len(skipped)} rows "
                               "skipped" + (f", the first: {skipped[0]})" if skipped else ")"))
        dataset.splits[name] = Split(split.images, split.labels, split.sources, votes=split.votes)
        dataset.left_out[name] = split.left_out
    labelled = set().union(*(split.labels.tolist() for split in dataset.splits.values()))
    dataset.present = [name for index, name in enumerate(VOTED_CLASSES) if index in labelled]  # the majorities there
    return dataset


def read_csv(path: Path) -> Dataset:
    """Read fer2013.csv (`emotion,pixels[,Usage]`); bad rows are skipped and reported by row number."""
    _check_csv_size(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise DatasetError(f"{path.name} is not a readable CSV file ({error})") from None
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = {"emotion", "pixels"} - set(frame.columns)
    if missing:
        raise DatasetError(f"{path.name} lacks the column(s) {', '.join(sorted(missing))}: expected emotion,pixels,Usage")
    usage = frame["usage"] if "usage" in frame.columns else pd.Series(["Training"] * len(frame))
    dataset = Dataset(source=str(path), splits={})
    rows: dict[str, tuple[list, list, list]] = {}
    size = FACE_SIZE * FACE_SIZE
    for index, (code, pixels, split) in enumerate(zip(frame["emotion"], frame["pixels"], usage)):
        row = f"row {index + 2}"  # line number in the file, counting the header
        label = label_of_csv_code(int(code)) if _all_digits(code) and len(code.strip()) < 4 else None
        if label is None:
            dataset.skipped.append(f"{row}: emotion '{code}' is not a code 0-6")
            continue
        values = _pixel_values(pixels)
        if values is None or values.size != size:
            count = "a value is not a whole number 0-255" if values is None else f"{values.size} values"
            dataset.skipped.append(f"{row}: pixels must be {size} numbers 0-255 ({count})")
            continue
        name = SPLIT_ALIASES.get(split.strip().lower(), split.strip().lower() or "train")
        images, labels, sources = rows.setdefault(name, ([], [], []))
        images.append(values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE))
        labels.append(label)
        sources.append(row)
    if not rows:
        raise DatasetError(f"{path.name} has no usable rows ({len(dataset.skipped)} skipped)")
    for name, (images, labels, sources) in rows.items():
        dataset.splits[name] = Split(np.stack(images), np.asarray(labels, dtype=np.int64), sources)
    return dataset


def _pixel_values(pixels: str) -> np.ndarray | None:
    """The numbers of a pixels cell, or None when one is not a whole number 0-255 (99999999999999999999 included)."""
    if not _all_digits(pixels):
        return None
    try:
        values = np.array(pixels.split(), dtype=np.int64)
    except (OverflowError, ValueError):  # past int64, or past Python's 4,300 digits
        return None
    return values if values.max(initial=0) <= 255 else None


def duplicate_warnings(dataset: Dataset, shown: int = 10) -> list[str]:
    """The same face (identical 48x48 pixels) under two classes: one line each, the first `shown` of them."""
    first: dict[bytes, tuple[int, str]] = {}
    lines = []
    for split in dataset.splits.values():
        for pixels, label, source in zip(split.images, split.labels, split.sources):
            key = hashlib.blake2b(pixels.tobytes(), digest_size=16).digest()
            label_, seen = first.setdefault(key, (int(label), source))
            if label_ != label:
                lines.append(f"the same picture is in two classes: {seen} ({dataset.classes[label_]}) and {source} "
                             f"({dataset.classes[label]})")
    return lines[:shown] + ([f"... and {len(lines) - shown} more pictures in two classes"] if len(lines) > shown else [])


def printable(name: str) -> str:
    """A file name as text that can be shown and saved: bytes that are not UTF-8 become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _all_digits(cells: str) -> bool:
    """Only ASCII digits and spaces ("²" is a digit to str.isdigit, not to int)."""
    digits = cells.replace(" ", "")
    return digits.isascii() and digits.isdigit()


def _check_csv_size(path: Path) -> None:
    """DatasetError for a CSV that is not a plain file, is over MAX_CSV_BYTES or holds over MAX_CSV_ROWS rows,
    found by counting its lines before anything is parsed."""
    if not path.is_file():
        raise no_dataset(path)
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise DatasetError(f"{path.name} is {size / 2**20:.0f} MB, over the {MAX_CSV_BYTES // 2**20} MB a CSV dataset "
                           "may be")
    lines = 0
    with open(path, "rb") as csv_file:
        while chunk := csv_file.read(2**22):
            lines += chunk.count(b"\n")
    if lines > MAX_CSV_ROWS + 1:
        raise DatasetError(f"{path.name} has {lines:,} lines, over the {MAX_CSV_ROWS:,} rows a CSV dataset may hold")


def _extract_zip(path: Path, zips_dir: Path) -> tuple[Path, str]:
    """Extract a zip into the cache (once per zip content), refusing entries that escape it.

    Returns the folder to read and its name (the zip's own name when it has no single top folder).
    """
    target = zips_dir / file_content_key(path)
    if target.is_dir():
        os.utime(target)  # recently used: the last to be evicted
    else:
        try:
            unpack_zip(path, target)
        except ArchiveError as error:
            raise DatasetError(str(error)) from None
        evict_oldest(zips_dir.parent, keep={target})
    entries = [p for p in target.iterdir() if not p.name.startswith(".") and p.name not in IGNORED_NAMES]
    if len(entries) == 1 and entries[0].is_dir() and _subfolders(entries[0]):
        return entries[0], entries[0].name  # a zip of one top folder (of class or split folders): read the folder
    return target, path.stem


def _manifest(path: Path) -> list:
    """Names, sizes and modification times of every file under path (the cache key)."""
    if path.is_file():
        stat = path.stat()
        return [[path.name, stat.st_size, stat.st_mtime_ns]]
    entries = []
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError:  # a broken link, a file removed meanwhile: skipped when read, and said so then
                stat = os.lstat(os.path.join(folder, name)) if os.path.lexists(os.path.join(folder, name)) else None
            if stat is not None:
                entries.append([os.path.relpath(os.path.join(folder, name), path), stat.st_size, stat.st_mtime_ns])
    return sorted(entries)


def _write_cache(dataset: Dataset, cache_file: Path) -> None:
    arrays = {}
    for name, split in dataset.splits.items():
        arrays[f"{name}/images"] = split.images
        arrays[f"{name}/labels"] = split.labels
        arrays[f"{name}/sources"] = np.asarray(split.sources)
        arrays[f"{name}/people"] = np.asarray(split.people)
        if split.votes is not None:
            arrays[f"{name}/votes"] = split.votes
    meta = {"source": dataset.source, "splits": list(dataset.splits), "skipped": dataset.skipped,
            "warnings": dataset.warnings, "converted": dataset.converted, "classes": dataset.classes,
            "present": dataset.present, "faces": dataset.faces, "left_out": dataset.left_out}
    arrays["meta"] = np.asarray(json.dumps(meta))
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_file.with_name(cache_file.name + ".partial.npz")
        np.savez(partial, **arrays)
        os.replace(partial, cache_file)
    except OSError:
        pass  # caching is an optimisation: a read-only or full disk only costs speed


def _read_cache(cache_file: Path) -> Dataset:
    with np.load(cache_file) as arrays:
        meta = json.loads(str(arrays["meta"]))
        splits = {name: Split(arrays[f"{name}/images"], arrays[f"{name}/labels"], arrays[f"{name}/sources"].tolist(),
                              arrays[f"{name}/people"].tolist(),
                              arrays[f"{name}/votes"] if f"{name}/votes" in arrays else None)
                  for name in meta["splits"]}
    return Dataset(meta["source"], splits, meta["skipped"], meta["warnings"], meta["converted"],
                   classes=meta["classes"], present=meta["present"], faces=meta["faces"], left_out=meta["left_out"])

