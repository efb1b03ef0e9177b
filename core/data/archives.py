"""Unpacking a user's zip safely: bounded in size, member count and compression ratio, streamed
member by member, into a private folder that becomes the target by one rename.

Example: unpack_zip(Path("fer.zip"), Path("cache/zips/ab12")) leaves ab12/ holding the zip's files,
or raises ArchiveError naming what is wrong and leaves nothing behind.
"""

import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

MAX_MEMBERS = 200_000  # FER-2013 as images is about 36,000 files
MAX_TOTAL_BYTES = 2 * 2**30  # unpacked; FER-2013 is under 0.3 GB in any layout
MAX_RATIO = 200  # unpacked / packed for a member over RATIO_FLOOR_BYTES, or for all members together over
RATIO_FLOOR_BYTES = 2**20  # TOTAL_RATIO_FLOOR_BYTES: a zip bomb is ~1000; pictures barely compress, CSV text ~5x
TOTAL_RATIO_FLOOR_BYTES = 64 * 2**20
CHUNK_BYTES = 2**20
READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
                    zipfile.ZIP_LZMA: "lzma"}
METHOD_NAMES = {9: "Deflate64 (what Windows writes for large zips)", 98: "PPMd", 99: "AES encryption"}


class ArchiveError(ValueError):
    """A zip that is refused or cannot be read; the message says why."""


def unpack_zip(path: Path, target: Path) -> None:
    """Unpack the zip at path into the folder target (which must not exist yet), within the bounds above.

    Two processes unpacking one zip at once each write their own folder; the first rename wins and
    the other's copy is dropped.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"{path.name} is not a valid zip file ({error})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".partial-{target.name}-", dir=target.parent))
    try:
        with archive:
            members = checked_members(archive, path.name)
            _stream_members(archive, members, partial, path.name)
        try:
            os.rename(partial, target)
        except OSError:
            if not target.is_dir():  # not another reader's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def checked_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The members, or ArchiveError for an unsafe path, encryption, an unreadable method or a bound passed."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ArchiveError(f"{name} holds {len(members):,} files, over the limit of {MAX_MEMBERS:,}")
    total = sum(member.file_size for member in members)
    if total > MAX_TOTAL_BYTES:
        raise ArchiveError(f"{name} would unpack to {total / 2**30:.1f} GB, over the limit of "
                           f"{MAX_TOTAL_BYTES / 2**30:.0f} GB")
    packed = sum(member.compress_size for member in members)
    if total > TOTAL_RATIO_FLOOR_BYTES and total > MAX_RATIO * max(packed, 1):
        raise ArchiveError(f"{name} looks like a zip bomb: its files unpack {total // max(packed, 1):,} times larger "
                           "than they are packed")
    seen = set()
    for member in members:
        parts = member_parts(member)
        if not member.is_dir():
            if parts in seen:
                raise ArchiveError(f"{name} holds '{member.filename}' twice: which one is meant cannot be told")
            seen.add(parts)
        if member.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise ArchiveError(f"{name} contains an unsafe path '{member.filename}' that would escape the folder")
        if member.flag_bits & 0x1:
            raise ArchiveError(f"{name} is encrypted ('{member.filename}'): unzip it with its password and "
                               "give the folder, or zip it again without one")
        if member.compress_type not in READABLE_METHODS:
            method = METHOD_NAMES.get(member.compress_type, f"method {member.compress_type}")
            raise ArchiveError(f"{name} packs '{member.filename}' with {method}, which cannot be read here: "
                               "zip it again with ordinary deflate, or give the unzipped folder")
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise ArchiveError(f"{name} looks like a zip bomb: '{member.filename}' unpacks "
                               f"{member.file_size // max(member.compress_size, 1):,} times larger than it is packed")
    return members


def _stream_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path, name: str) -> None:
    """Copy each member to folder in chunks, counting the bytes actually unpacked against the bound."""
    written = 0
    for member in members:
        destination = folder.joinpath(*member_parts(member))
        try:
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(destination, "wb") as copy:
                while chunk := source.read(CHUNK_BYTES):
                    written += len(chunk)
                    if written > MAX_TOTAL_BYTES:
                        raise ArchiveError(f"{name} unpacks to more than its stated size, over the limit of "
                                           f"{MAX_TOTAL_BYTES / 2**30:.0f} GB")
                    copy.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
            raise ArchiveError(f"{name} is damaged: '{member.filename}' cannot be read ({error})") from None
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise ArchiveError(f"{name} holds '{member.filename}' where it also holds a file and a folder of the same "
                               "name") from None
        except OSError as error:
            raise ArchiveError(f"{name} could not be unpacked: '{member.filename}': {error.strerror}") from None


def member_parts(member: zipfile.ZipInfo) -> tuple[str, ...]:
    """A member's path as parts, with Windows' backslashes read as separators (some Windows tools write them)."""
    return tuple(part for part in member.filename.replace("\\", "/").split("/") if part not in ("", "."))
