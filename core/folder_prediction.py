"""Classifying every photo under a folder into a CSV: streamed, on both cores, and resumable.

Photos are decoded and their faces found on a thread pool (Pillow and OpenCV release the GIL, so the
cores work side by side); the faces of several photos are classified together in the calling thread,
and each photo's rows are appended to the CSV as soon as they are known. Only a few photos are in
memory at once, whatever the folder's size. Run again on the same CSV, it skips the photos already there.
Example: predict_folder(FacePredictor("default"), "holiday/", "holiday.csv") -> {"photos": 812, ...}
"""

import csv
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.faces import find_and_crop
from core.imaging import ImageError, read_image
from core.prediction import FacePrediction, FacePredictor, row_columns

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
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
    stopped while writing them, so that photo is done again). Raises ValueError for another kind of CSV."""
    if not csv_path.exists() or csv_path.stat().st_size == 0:
        return set()
    done, last, last_start = set(), None, None
    with open(csv_path, "r+b") as file:
        header = file.readline()
        if next(csv.reader([header.decode("utf-8", "replace")]), None) != columns(classes):
            raise ValueError(f"{csv_path} is not a CSV written by this command for this model's classes (its header "
                             "differs): "
                             "give a new file name, nothing was changed")
        offset = len(header)
        for line in file:
            if not line.endswith(b"\n"):
                break  # torn by a kill
            photo = next(csv.reader([line.decode("utf-8", "replace")]))[0]
            if photo != last:
                done.add(last)
                last, last_start = photo, offset
            offset += len(line)
        file.truncate(last_start if last is not None else offset)
    done.discard(None)
    return done


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
    done = resume_point(csv_path, predictor.classes)
    total = sum(1 for _ in photo_paths(root))
    counts = {"photos": total, "resumed": sum(1 for p in photo_paths(root) if p in done), "faces": 0,
              "no_face": 0, "errors": 0}
    workers = workers or os.cpu_count() or 1
    fresh = not csv_path.exists() or csv_path.stat().st_size == 0
    with open(csv_path, "a", newline="") as file, ThreadPoolExecutor(workers) as pool:
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
