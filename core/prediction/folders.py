"""Classifying every photo under a folder into a CSV: streamed, on both cores, and resumable.

Photos are decoded and their faces found on a thread pool (Pillow and OpenCV release the GIL, so the
cores work side by side); the faces of several photos are classified together in the calling thread,
and each photo's rows are appended to the CSV as soon as they are known. Only a few photos are in
memory at once, whatever the folder's size. Run again on the same CSV, it skips the photos already there.
Example: predict_folder(FacePredictor("default"), "holiday/", "holiday.csv") -> {"photos": 812, ...}
"""

import csv
import fcntl
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.vision.faces import find_and_crop
from core.vision.imaging import ImageError, read_image
from core.prediction.pictures import FacePrediction, FacePredictor, row_columns

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
ENCODING, ERRORS = "utf-8", "surrogateescape"  # a file name that is not UTF-8 is written and read back as it is
# One row per face (face 1, 2, ...); a photo without a face has one row with face 0; an unreadable one,
# one row with the reason in error.


def columns(classes: list[str]) -> list[str]:
    """The CSV's header for a model's classes: photo, face number, the face's row, and an error."""
    return ["photo", "face", *row_columns(classes), "error"]
FACES_PER_BATCH = 64  # faces classified together
IN_FLIGHT_PER_WORKER = 4  # photos decoded ahead per worker: this bounds the memory


def photo_paths(root: Path) -> Iterator[str]:
    """Every photo under root (by suffix), relative to root, in a stable order (sorted, folder by folder)."""
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        for name in sorted(files):
            if Path(name).suffix.lower() in PHOTO_SUFFIXES:
                yield (Path(folder) / name).relative_to(root).as_posix()


def resume_point(csv_path: Path, classes: list[str]) -> set[str]:
    """The photos an earlier run's CSV holds, after cutting off its last photo's rows (the run may have
    stopped while writing them, so that photo is done again). Raises ValueError for another kind of CSV.

    The file is parsed as CSV as a whole, as it was written (csv.writer, ENCODING), so a photo name holding
    a newline, a comma or quotes reads back exactly; a record torn by a kill (no line end, an open quote, too
    few cells) counts as part of the last photo and is cut off with it.
    """
    if not csv_path.exists() or csv_path.stat().st_size == 0:
        return set()
    done, last, last_start = set(), None, None
    with open(csv_path, "r+b") as file:
        reader = _Records(file)
        try:
            header = next(reader, None)
        except csv.Error:
            header = None
        if header != columns(classes) or not reader.whole:
            raise ValueError(f"{csv_path} is not a CSV written by this command for this model's classes (its header "
                             "differs): give a new file name, nothing was changed")
        end = reader.end
        try:
            for row in reader:
                if not reader.whole or len(row) != len(header):
                    break  # torn by a kill
                if row[0] != last:
                    done.add(last)
                    last, last_start = row[0], end
                end = reader.end
        except csv.Error:
            pass  # a quoted name torn by a kill: an open quote at the end
        file.truncate(last_start if last is not None else end)
    done.discard(None)
    return done


class _Records:
    """csv.reader over a binary file that knows the byte offset where its last record ended and whether that
    record ended with a line end (a kill can stop a record anywhere)."""

    def __init__(self, file):
        self.end, self.whole, self._next_end = 0, True, 0
        self._reader = csv.reader(self._lines(file), strict=True)

    def _lines(self, file):
        for line in file:
            self._next_end += len(line)
            self._line_ended = line.endswith(b"\n")
            yield line.decode(ENCODING, ERRORS)

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        row = next(self._reader)
        self.end, self.whole = self._next_end, self._line_ended
        return row


def predict_folder(predictor: FacePredictor, root: str | Path, csv_path: str | Path, workers: int | None = None,
                   progress: Callable[[int, int], None] | None = None, faces_per_batch: int = FACES_PER_BATCH
                   ) -> dict:
    """Classify the faces of every photo under root into csv_path (appending to an earlier run's rows).

    progress(photos done, photos in all) is called after each batch. Returns the counts: photos,
    resumed (already in the CSV), faces, no_face and errors (of the photos done now).
    """
    root, csv_path = Path(root), Path(csv_path)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder")
    with open(csv_path, "a", newline="", encoding=ENCODING, errors=ERRORS) as file:
        _hold(file, csv_path)  # one run per CSV: a second would cut and write the first one's rows
        done = resume_point(csv_path, predictor.classes)
        return _predict_into(file, predictor, root, csv_path, done, workers, progress, faces_per_batch)


def _hold(file, csv_path: Path) -> None:
    """Lock the open CSV for this run (released when it is closed, also by a kill); ValueError when another
    run holds it."""
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ValueError(f"{csv_path} is being written by another run of this command right now: wait for it to "
                         "end or give another file name (nothing was changed)") from None


def _predict_into(file, predictor: FacePredictor, root: Path, csv_path: Path, done: set[str], workers: int | None,
                  progress: Callable[[int, int], None] | None, faces_per_batch: int) -> dict:
    total = sum(1 for _ in photo_paths(root))
    counts = {"photos": total, "resumed": sum(1 for p in photo_paths(root) if p in done), "faces": 0,
              "no_face": 0, "errors": 0}
    workers = workers or os.cpu_count() or 1
    fresh = csv_path.stat().st_size == 0
    with ThreadPoolExecutor(workers) as pool:
        writer = csv.writer(file)
        if fresh:
            writer.writerow(columns(predictor.classes))
        batch, finished = [], counts["resumed"]
        todo = (photo for photo in photo_paths(root) if photo not in done)
        for photo, found in _in_order(pool, root, todo, workers * IN_FLIGHT_PER_WORKER):
            batch.append((photo, found))
            if sum(len(f[0]) for _, f in batch if not isinstance(f, str)) >= faces_per_batch \
                    or len(batch) >= faces_per_batch:
                _write(writer, predictor, batch, counts)
                file.flush()
                finished += len(batch)
                batch = []
                if progress:
                    progress(finished, total)
        _write(writer, predictor, batch, counts)
        if progress:
            progress(total, total)
    return counts


def _in_order(pool: ThreadPoolExecutor, root: Path, photos: Iterator[str], window: int):
    """(photo, faces found or an error message) for each photo, in order, at most `window` ahead."""
    pending = deque()
    for photo in photos:
        pending.append((photo, pool.submit(_faces_of, root / photo)))
        if len(pending) >= window:
            photo, future = pending.popleft()
            yield photo, future.result()
    while pending:
        photo, future = pending.popleft()
        yield photo, future.result()


def _faces_of(path: Path) -> tuple[list, np.ndarray] | str:
    try:
        return find_and_crop(read_image(path, mode="RGB"))
    except (ImageError, OSError) as error:
        return f"unreadable: {error}"


def _write(writer, predictor: FacePredictor, batch: list, counts: dict) -> None:
    """Classify a batch's faces in one go and write each photo's rows."""
    crops = [found[1] for _, found in batch if not isinstance(found, str)]
    probabilities = predictor.classify_faces(np.concatenate(crops)) if crops else []
    start, empty = 0, [""] * len(row_columns(predictor.classes))
    for photo, found in batch:
        if isinstance(found, str):
            writer.writerow([photo, "", *empty, found])
            counts["errors"] += 1
            continue
        boxes = found[0]
        if not boxes:
            writer.writerow([photo, 0, *empty, ""])
            counts["no_face"] += 1
        for number, box in enumerate(boxes, 1):
            writer.writerow([photo, number, *FacePrediction(box, probabilities[start + number - 1], predictor.classes).as_row(), ""])
        start += len(boxes)
        counts["faces"] += len(boxes)
