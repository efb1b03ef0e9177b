"""Folders the app keeps visitors' files in: private to the server's user (mode 0700), swept when old, and
named by content.

Example: folder = new_private_folder("fer-video-")  # also removes fer-video-* folders untouched for a day
"""

import hashlib
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

MAX_AGE_S = 24 * 3600  # a temporary folder untouched this long is left over (a closed tab, a crash)


def private_folder(path: str | Path) -> Path:
    """Create (or keep) a folder only the server's user can read, list or enter; return it."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode yields to the umask, and an older folder may be open to all
    return path


def new_private_folder(prefix: str, root: str | Path | None = None) -> Path:
    """A new folder (mode 0700) in the temporary folder, named prefix + random; first the prefix's folders
    left over for over MAX_AGE_S are removed."""
    sweep_old_folders(prefix, root=root)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))  # mkdtemp creates it 0700


def short_file_name(name: str, max_bytes: int = 128) -> str:
    """A visitor's file name cut to at most max_bytes (its ending kept), so that any name can be written: file
    systems hold 255 bytes a name, and a name of 60 Japanese characters is 180 of them.

    Example: short_file_name("日本" * 60 + ".mp4") -> "日本日本...日.mp4" (128 bytes at most)
    """
    stem, suffix = os.path.splitext(name)
    suffix = suffix if len(os.fsencode(suffix)) <= 16 else ""
    while stem and len(os.fsencode(stem + suffix)) > max_bytes:
        stem = stem[:-1]
    return stem + suffix or "upload"


def sweep_old_folders(prefix: str, max_age_s: float = MAX_AGE_S, root: str | Path | None = None) -> list[Path]:
    """Remove the server user's own folders named prefix* in the temporary folder in which nothing changed for
    max_age_s; return them. Links and other users' folders are left alone."""
    root = Path(root or tempfile.gettempdir())
    removed, now = [], time.time()
    for entry in root.glob(f"{prefix}*"):
        try:
            info = entry.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            if now - _last_change(entry, info.st_mtime) < max_age_s:
                continue
        except OSError:
            continue  # removed meanwhile
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _last_change(folder: Path, own: float) -> float:
    newest = own
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                newest = max(newest, os.lstat(os.path.join(parent, name)).st_mtime)
            except OSError:
                continue
    return newest


def content_key(data: bytes) -> str:
    """What names an upload: the SHA-256 of its bytes (its name, size or time may match another's)."""
    return hashlib.sha256(data).hexdigest()


def file_content_key(path: str | Path) -> str:
    """content_key of a file, read in blocks."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
