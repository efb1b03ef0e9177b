"""Uploads: how much one batch of uploaded pictures may hold (a bound on the number of files and their total
size; Streamlit's own limit, server.maxUploadSize, is per file), and where an uploaded dataset zip is kept."""

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from core.storage.runs import atomic_path
from core.storage.safe_files import trim_oldest
from core.storage.temporary_files import private_folder

MAX_UPLOADS_BYTES = 4 * 2**30  # uploaded zips kept; the oldest are removed beyond it
MAX_FILES = 100
MAX_TOTAL_MB = 200
PICTURE_TYPES = ["jpg", "jpeg", "jfif", "png", "webp", "bmp", "gif", "tif", "tiff", "heic", "heif"]


def uploads_to_take(sizes: list[int]) -> tuple[int, str]:
    """How many uploads, in order, fit the bounds, and a one-line note naming what is left out ("" for none).

    Example: uploads_to_take([10] * 120) -> (100, "Only the first 100 of 120 pictures are read: ...")
    """
    taken, total = 0, 0
    for size in sizes[:MAX_FILES]:
        if total + size > MAX_TOTAL_MB * 2**20:
            break
        taken, total = taken + 1, total + size
    if taken == len(sizes):
        return taken, ""
    return taken, (f"Only the first {taken} of {len(sizes)} pictures are read (at most {MAX_FILES} pictures and "
                   f"{MAX_TOTAL_MB} MB at once): remove some, then add the rest in another batch.")


def save_zip_upload(data: bytes, name: str, folder: Path | None = None) -> Path:
    """Keep an uploaded zip under its own name (which names its data, as a zip on disk is named by its file) in
    a folder named by its content, written once; return its path. The oldest uploads are removed beyond
    MAX_UPLOADS_BYTES.

    Example: save_zip_upload(data, "my faces.zip") -> <temp>/fer-uploads/<content key>/my-faces.zip
    """
    folder = Path(folder) if folder else Path(tempfile.gettempdir()) / "fer-uploads"
    stem = re.sub(r"[^\w.-]+", "-", unicodedata.normalize("NFC", Path(name).stem)).strip(".-")[:60] or "upload"
    path = folder / hashlib.sha256(data).hexdigest()[:24] / f"{stem}.zip"
    if path.exists():
        os.utime(path.parent)  # recently used: the last to be removed
    else:
        private_folder(folder)
        path.parent.mkdir(exist_ok=True)
        with atomic_path(path) as partial:
            partial.write_bytes(data)
    kept = [entry for entry in folder.iterdir() if entry.is_dir() or entry.suffix == ".zip"]  # zips kept loose too
    trim_oldest(kept, MAX_UPLOADS_BYTES, keep={path.parent})
    return path
