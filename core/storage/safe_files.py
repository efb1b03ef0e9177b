"""Reading a file a user named: regular files only (never a device, a pipe or a folder), size-bounded.

A FIFO named face.jpg would block a plain read forever and /dev/zero would never end; both are
refused before a byte is read.
"""

import json
import os
import shutil
import stat
from pathlib import Path

MAX_FILE_BYTES = 64 * 2**20  # far above any photo or face crop
MAX_JSON_BYTES = 16 * 2**20  # a card, a run's config or events summary, an export's report: kilobytes


class FileRefused(OSError):
    """A path that is not a regular file, or a file over the size bound; the message says which."""


def read_regular_file(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; FileRefused for anything else.

    Example: read_regular_file("/dev/zero") -> FileRefused("/dev/zero is not a regular file ...")
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO does not wait for a writer
    with os.fdopen(descriptor, "rb") as file:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(f"{path} is not a regular file (a device, a pipe or a folder)")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"{path} is over {limit // 2**20} MB, the most such a file may be")
    return data


def read_json_file(path: str | Path, limit: int = MAX_JSON_BYTES):
    """The JSON value in a regular file of at most `limit` bytes; ValueError when it is not JSON (or nests too
    deep to decode), FileRefused (an OSError) when it is no such file."""
    try:
        return json.loads(read_regular_file(path, limit))
    except RecursionError:
        raise ValueError(f"{path} nests too deep to be read") from None


def trim_oldest(entries: list[Path], limit: int, keep: set[Path] = frozenset()) -> list[Path]:
    """Remove the least recently modified entries (files or folders) until together they hold at most
    limit bytes; entries in keep and names starting with "." (being written) stay. Returns what was removed."""
    sized = []  # (last modified, bytes, path); an entry another process removes meanwhile is skipped
    for entry in entries:
        try:
            sized.append((entry.stat().st_mtime, _size(entry), entry))
        except OSError:
            continue
    total, removed = sum(size for _, size, _ in sized), []
    for _, size, entry in sorted(sized):
        if total <= limit:
            break
        if entry in keep or entry.name.startswith("."):
            continue
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        total -= size
        removed.append(entry)
    return removed


def _size(path: Path) -> int:
    if not path.is_dir():
        return path.stat().st_size
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(path) for name in names)
