"""FER+: ten people's votes a face, read from the layouts FER+'s own tools write, and the majority rule.

Layouts: a FER+ root (`FER2013Train/`, `FER2013Valid/`, `FER2013Test/` as train, val and test), one FER+ split
folder (`ferNNNNNNN.png` pictures plus `label.csv`), or `fer2013.csv` beside `fer2013new.csv` (the same rows in
the same order). A `label.csv` line is: picture name, face box, then ten vote counts (VOTE_COLUMNS).

Every face keeps its votes for the eight emotions. Its majority label is the one emotion with more votes than
every other column; a tie, or unknown / not-a-face voted most, leaves it without a majority: it is counted under
that reason (LEFT_OUT_REASONS), never silently dropped.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data.classes import ordered_classes
from core.vision.imaging import FACE_SIZE, ImageError, open_image, to_face_pixels

LABEL_FILE = "label.csv"
PAIR_FILES = ("fer2013.csv", "fer2013new.csv")
VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
EMOTION_OF_COLUMN = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                     "anger": "angry", "disgust": "disgust", "fear": "fear", "contempt": "contempt"}
CLASSES = ordered_classes(EMOTION_OF_COLUMN.values())  # the eight, in the project's order for own classes
SPLIT_OF_FOLDER = {"fer2013train": "train", "fer2013valid": "val", "fer2013test": "test"}
LEFT_OUT_REASONS = ("tie", "unknown", "not a face", "no votes")
MAX_ROWS = 200_000  # rows a label file may hold (FER+ has 35,887 faces)
MAX_LABEL_BYTES = 64 * 2**20  # a label file's size, checked before it is read
_EMOTION_COLUMNS = [VOTE_COLUMNS.index(column) for column in EMOTION_OF_COLUMN]
_ORDER = [list(EMOTION_OF_COLUMN.values()).index(name) for name in CLASSES]  # the eight columns, in CLASSES' order


class VotesError(ValueError):
    """Votes that cannot be read; the message names the file (and line) and says what is wrong."""


@dataclass
class VotedSplit:
    """One split's faces with a majority: pixels (N, 48, 48) uint8, votes (N, 8) float32 counts over CLASSES,
    majority labels (N,) indices into CLASSES, where each came from; the faces left out, by reason."""

    images: np.ndarray
    votes: np.ndarray
    labels: np.ndarray
    sources: list[str]
    left_out: dict[str, list[str]] = field(default_factory=dict)


def read_votes(layout: dict[str, Path] | tuple[Path, Path], read_pixels) -> tuple[dict[str, VotedSplit], list[str]]:
    """Every split of a voted_layout, and the rows and files skipped (each naming its file and line).
    read_pixels reads fer2013.csv for the pair (core.data.dataset.read_csv, which dispatches here)."""
    if isinstance(layout, tuple):
        return read_pair(*layout, read_pixels)
    splits, skipped = {}, []
    for name, folder in layout.items():
        splits[name] = read_split_folder(folder, skipped)
    return splits, skipped


def majority(votes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Majority labels of (N, 10) vote counts in VOTE_COLUMNS' order: indices into CLASSES, -1 with a reason
    from LEFT_OUT_REASONS where there is none ("" where there is one).

    Example: majority(np.array([[4, 0, 0, 1, 3, 2, 0, 0, 0, 0]])) -> (array([5]), [""])  # neutral
    """
    votes = np.asarray(votes)
    labels, reasons = np.full(len(votes), -1, dtype=np.int64), []
    for row, counts in enumerate(votes):
        top = counts.max(initial=0)
        winners = np.flatnonzero(counts == top)
        if top <= 0:
            reasons.append("no votes")
        elif len(winners) > 1:
            reasons.append("tie")
        elif VOTE_COLUMNS[winners[0]] in ("unknown", "NF"):
            reasons.append("unknown" if VOTE_COLUMNS[winners[0]] == "unknown" else "not a face")
        else:
            labels[row] = CLASSES.index(EMOTION_OF_COLUMN[VOTE_COLUMNS[winners[0]]])
            reasons.append("")
    return labels, reasons


def emotion_votes(votes: np.ndarray) -> np.ndarray:
    """(N, 10) counts in VOTE_COLUMNS' order -> (N, 8) float32 counts over CLASSES (unknown and NF left out)."""
    return np.asarray(votes, dtype=np.float32)[:, _EMOTION_COLUMNS][:, _ORDER]


def voted_layout(path: Path) -> dict[str, Path] | tuple[Path, Path] | None:
    """What to read when path holds FER+, found without reading a picture: split name -> split folder, the
    (fer2013.csv, fer2013new.csv) pair, or None when it is another kind of dataset."""
    if path.is_file():
        if path.name.lower() == PAIR_FILES[0] and (path.parent / PAIR_FILES[1]).is_file():
            return path, path.parent / PAIR_FILES[1]
        return None
    if not path.is_dir():
        return None
    if (path / LABEL_FILE).is_file():
        return {SPLIT_OF_FOLDER.get(path.name.lower(), "data"): path}
    if all((path / name).is_file() for name in PAIR_FILES):
        return path / PAIR_FILES[0], path / PAIR_FILES[1]
    splits = {}
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        if folder.name.lower() in SPLIT_OF_FOLDER and (folder / LABEL_FILE).is_file():
            splits[SPLIT_OF_FOLDER[folder.name.lower()]] = folder
    return splits or None


def count_rows(layout: dict[str, Path] | tuple[Path, Path]) -> dict[str, int]:
    """Faces per split from the label files alone (nothing decoded), for a quick description."""
    if isinstance(layout, tuple):
        usage = [cells[0].strip() for _, _, cells in _rows(layout[1], 12)[0]]
        return {name: usage.count(value) for value, name in _USAGE.items() if value in usage}
    return {name: len(_rows(folder / LABEL_FILE, 12)[0]) for name, folder in layout.items()}


def read_split_folder(folder: Path, skipped: list[str]) -> VotedSplit:
    """Read one FER+ split folder: each label.csv row's picture and votes; bad rows, missing pictures and
    pictures without a row are appended to skipped, naming the file and line."""
    label_file = folder / LABEL_FILE
    rows, bad_rows, _ = _rows(label_file, 12)
    skipped += bad_rows
    images, votes, sources, named = [], [], [], {}
    for line, _, row in rows:
        name = row[0].strip()
        if name in named:
            skipped.append(f"{_shown(label_file)} line {line}: {name!r} is on line {named[name]} already; only that "
                           "row is read")
            continue
        named[name] = line
        counts = _votes(row[2:], _shown(label_file), line, skipped)
        if counts is None:
            continue
        picture = folder / name
        if Path(name).name != name or not picture.is_file():
            skipped.append(f"{_shown(label_file)} line {line}: no picture {name!r} beside it")
            continue
        try:
            images.append(to_face_pixels(np.asarray(open_image(picture).convert("L"))))
        except (ImageError, OSError) as error:
            skipped.append(f"{folder.name}/{name}: {error}")
            continue
        votes.append(counts)
        sources.append(name)
    for picture in sorted(folder.glob("*.png")):
        if picture.name not in named:
            skipped.append(f"{folder.name}/{picture.name}: no row in {LABEL_FILE}")
    return _voted(images, votes, sources)


_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}


def read_pair(pixels_file: Path, votes_file: Path, read_pixels) -> tuple[dict[str, VotedSplit], list[str]]:
    """Read fer2013.csv (emotion,pixels,Usage, decoded by read_pixels) with fer2013new.csv (Usage, Image name, ten
    votes), row by row; rows FER+ judged not to be faces (no image name) are left out as "not a face"."""
    faces = read_pixels(pixels_file)
    rows, skipped, vote_rows = _rows(votes_file, 12)
    pixel_rows = sum(len(split) for split in faces.splits.values()) + len(faces.skipped)
    if vote_rows != pixel_rows:
        raise VotesError(f"{votes_file.name} has {vote_rows:,} rows but {pixels_file.name} has {pixel_rows:,}: they "
                         "must be the same rows in the same order")
    pixels = {source: image for split in faces.splits.values() for source, image in zip(split.sources, split.images)}
    skipped += [f"{pixels_file.name} {line}" for line in faces.skipped]
    per_split: dict[str, tuple[list, list, list, list]] = {}
    for line, index, row in rows:
        usage = _USAGE.get(row[0].strip(), row[0].strip().lower() or "train")
        images, votes, sources, not_faces = per_split.setdefault(usage, ([], [], [], []))
        source = f"row {index + 2}"  # the same face in fer2013.csv: its index-th data row, after its header
        if not row[1].strip():
            not_faces.append(source)
            continue
        counts = _votes(row[2:], votes_file.name, line, skipped)
        if counts is None or source not in pixels:
            continue
        images.append(pixels[source])
        votes.append(counts)
        sources.append(source)
    splits = {}
    for usage, (images, votes, sources, not_faces) in per_split.items():
        split = _voted(images, votes, sources)
        if not_faces:
            split.left_out.setdefault("not a face", []).extend(not_faces)
        splits[usage] = split
    return splits, skipped


def _voted(images: list, votes: list, sources: list[str]) -> VotedSplit:
    """Faces with a majority kept (their votes over the eight emotions), the others listed by reason."""
    counts = np.asarray(votes, dtype=np.int64).reshape(-1, len(VOTE_COLUMNS))
    labels, reasons = majority(counts)
    left_out: dict[str, list[str]] = {}
    for source, reason in zip(sources, reasons):
        if reason:
            left_out.setdefault(reason, []).append(source)
    keep = np.flatnonzero(labels >= 0)
    stacked = np.stack(images)[keep] if len(keep) else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    return VotedSplit(stacked, emotion_votes(counts[keep]), labels[keep], [sources[i] for i in keep], left_out)


def _rows(label_file: Path, columns: int) -> tuple[list[tuple[int, int, list[str]]], list[str], int]:
    """(line number, data row index, cells) of every data row of a label file with `columns` cells, the rows
    skipped for another number of cells, and how many data rows there are; bounded in bytes and rows. Blank
    lines and a header line (not starting with a picture name) are passed over."""
    if not label_file.is_file():
        raise VotesError(f"{_shown(label_file)} is not a file")
    size = label_file.stat().st_size
    if size > MAX_LABEL_BYTES:
        raise VotesError(f"{_shown(label_file)} is {size / 2**20:.0f} MB, over the {MAX_LABEL_BYTES // 2**20} MB a label "
                         "file may be")
    try:
        text = label_file.read_text(encoding="utf-8-sig")  # a byte order mark (as spreadsheets write) is not a name
    except UnicodeDecodeError:
        raise VotesError(f"{_shown(label_file)} is not UTF-8 text") from None
    rows, skipped, index = [], [], 0
    for line, row in enumerate(_csv_rows(text, _shown(label_file)), 1):
        if not row or (line == 1 and _is_header(row)):
            continue
        if index >= MAX_ROWS:
            raise VotesError(f"{_shown(label_file)} has more than {MAX_ROWS:,} rows: at most that many faces are read")
        if len(row) == columns:
            rows.append((line, index, row))
        else:
            skipped.append(f"{_shown(label_file)} line {line}: {len(row)} columns, expected {columns} (a name, a face box "
                           f"and ten vote counts: {', '.join(VOTE_COLUMNS)})")
        index += 1
    if not rows and skipped:
        raise VotesError(f"{_shown(label_file)} has no row of {columns} comma-separated cells; "
                         f"{skipped[0].split(': ', 1)[1]}")
    return rows, skipped, index


def _csv_rows(text: str, shown: str):
    """The rows of a CSV text; VotesError naming the line the csv module cannot read (a cell over its limit)."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise VotesError(f"{shown} line {reader.line_num}: cannot be read ({error})") from None


def _shown(label_file: Path) -> str:
    """How messages name a label file: with its split folder for label.csv (several splits have one)."""
    return f"{label_file.parent.name}/{label_file.name}" if label_file.name == LABEL_FILE else label_file.name


def _is_header(row: list[str]) -> bool:
    return row[-1].strip().lower() == "nf" or row[0].strip().lower() in ("usage", "image name", "name")


def _votes(cells: list[str], file_name: str, line: int, skipped: list[str]) -> np.ndarray | None:
    """Ten whole vote counts >= 0, or None (the reason appended to skipped)."""
    cells = [cell.strip() for cell in cells]
    if not all(_is_count(cell) for cell in cells):
        bad = next(cell for cell in cells if not _is_count(cell))
        skipped.append(f"{file_name} line {line}: the vote '{bad[:20]}' is not a whole number of votes (0 or more)")
        return None
    return np.array([int(cell) for cell in cells], dtype=np.int64)


def _is_count(cell: str) -> bool:
    """A whole number 0-99999 in ASCII digits ("²" is a digit to str.isdigit, not to int)."""
    return cell.isascii() and cell.isdigit() and len(cell) < 6
