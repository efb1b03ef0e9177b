"""Examples of the user's own classes gathered in one folder (a capture set), kept as a dataset folder.

A capture set is a folder of class folders of 48x48 gray face crops, each named `<person>__<n>.png` (or
`<n>.png` when nobody is named), so core.data.people knows who is in each and a run splits them by person:

    ROOT/<class>/<person>__<n>.png      the faces: what load_dataset reads, as for any folder of class folders
    ROOT/.originals/<class>/<stem>.jpg  where asked, the frame or picture each face was found in (hidden:
                                        load_dataset skips it)
    ROOT/.own-classes                   the mark that the class folders are the user's own classes, named as
                                        typed (core.data.classes.OWN_CLASSES_MARK): "Happiness" stays "Happiness"

Faces come from webcam frames (core.prediction.recording), from pictures and zips (found and aligned as at ingest:
core.data.dataset.decode_face) and from a folder of class folders (core.data.dataset.load_dataset, the reader the
command line uses). Until saved, a browser session's set lives in a private temporary folder of its own
(session_folder); save() copies it to the data folder (data_dir), where `python -m core train` takes it.

Example: captures = CaptureSet(session_folder(new_session_id())); captures.add_class("thumbs up")
"""

import hashlib
import io
import os
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePath

import numpy as np
from PIL import Image

from core.data.archives import ArchiveError, unpack_zip
from core.data.classes import (MAX_CLASSES, MIN_CLASSES, OWN_CLASSES_MARK, ClassError, check_class_names, class_names,
                               ordered_classes)
from core.data.dataset import (IGNORED_NAMES, IMAGE_SUFFIXES, NO_FACE, SEVERAL_FACES, DatasetError, decode_face,
                          load_dataset)
from core.vision.imaging import FACE_SIZE, read_image
from core.data.people import person_of
from core.storage.runs import PROJECT_ROOT

MIN_EXAMPLES = 10  # fewer examples of a class than this: a warning
MIN_TO_TRAIN = 5  # fewer than this in a class: training is refused (validation and test take some)
MAX_IMBALANCE = 3.0  # the largest class over the smallest beyond this: a warning
NEAR_DUPLICATE_MAD = 2.0  # mean absolute pixel difference below which a crop nearly repeats the one before
NEAR_DUPLICATE_SHARE = 0.25  # a class this much made of near repeats (and at least 3 of them): a warning
NEAR_DUPLICATE_WINDOW = 500  # the newest examples of a class looked at for near repeats (each page run reads them)
MAX_EXAMPLES = 20_000  # faces a capture set may hold
MAX_NAME_LENGTH = 40
ORIGINALS = ".originals"
SESSION_MAX_AGE_S = 2 * 24 * 3600  # a session folder untouched this long is removed when another is made
DECODE_THREADS = 2  # pictures decoded at once (each thread keeps its own face detector)
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_NUMBERED = re.compile(r"^(?:(?P<person>[^_]+)__)?(?P<number>\d+)$")
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_PERSON_CHARACTERS = re.compile(r"[^\w.-]|_", re.UNICODE)


class CaptureError(ValueError):
    """A capture set change that cannot be made; the message says why and what to do."""


@dataclass
class Added:
    """What an addition did: faces added, and the pictures left out by name (no face, several faces, unreadable)."""

    added: int = 0
    no_face: list[str] = field(default_factory=list)
    several_faces: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # "name: reason"
    classes: list[str] = field(default_factory=list)  # classes a folder brought in

    def left_out(self) -> int:
        return len(self.no_face) + len(self.several_faces) + len(self.unreadable)


def data_dir() -> Path:
    """Where saved capture sets (and other datasets of the product) live: $FER_DATA_DIR or data/ beside runs/."""
    return Path(os.environ.get("FER_DATA_DIR", PROJECT_ROOT / "data"))


def new_session_id() -> str:
    """A random id for one browser session's capture folder (kept in that session's state only)."""
    return secrets.token_hex(16)


def session_exists(session_id: str, root: Path | None = None) -> bool:
    """Whether a session id is one of new_session_id's whose folder is still kept (not expired)."""
    return bool(_SESSION_ID.match(session_id or "")) and ((Path(root) if root else sessions_root()) / session_id).is_dir()


def session_mark(session_id: str) -> str:
    """What a run started from a session's examples keeps to say whose it is, without giving the id away."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def sessions_root() -> Path:
    """The private folder (mode 0700) that holds every session's capture folder, in the temporary folder."""
    root = Path(tempfile.gettempdir()) / f"fer-captures-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.is_symlink() or root.stat().st_uid != os.getuid():
        raise CaptureError(f"{root} is not this user's own folder: remove it")
    os.chmod(root, 0o700)
    return root


def session_folder(session_id: str, root: Path | None = None) -> Path:
    """The capture folder of one browser session (mode 0700), made on first use; other sessions' folders
    untouched for SESSION_MAX_AGE_S are removed then. The id must be one of new_session_id's."""
    if not _SESSION_ID.match(session_id or ""):
        raise CaptureError("not a session id")
    root = Path(root) if root else sessions_root()
    folder = root / session_id
    if not folder.exists():
        _remove_stale_sessions(root)
        folder.mkdir(mode=0o700, parents=True)
    os.chmod(folder, 0o700)
    os.utime(folder)  # in use: not stale
    return folder


def _remove_stale_sessions(root: Path) -> None:
    cutoff = time.time() - SESSION_MAX_AGE_S
    for folder in root.iterdir():
        try:
            if _SESSION_ID.match(folder.name) and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def clean_class_name(name: str) -> str:
    """A class name as typed (spaces tidied), as its folder is named, or CaptureError.

    Example: clean_class_name("  Fearful ") -> "Fearful"; clean_class_name("a/b") raises CaptureError
    """
    return folder_name(name, "the class")


def folder_name(name: str, what: str = "the folder") -> str:
    """A name given for a folder (spaces tidied), or CaptureError saying why it cannot name one."""
    name = " ".join(str(name).split())
    if not name:
        raise CaptureError(f"give {what} a name")
    if len(name) > MAX_NAME_LENGTH:
        raise CaptureError(f"'{name[:MAX_NAME_LENGTH]}...' is too long: at most {MAX_NAME_LENGTH} characters")
    if _UNSAFE_NAME.search(name) or name.startswith(".") or name in IGNORED_NAMES:
        raise CaptureError(f"'{name}' cannot name a folder: leave out / and \\ and do not start with a dot")
    return name


def clean_person(name: str) -> str:
    """A person's name as file names carry it (before "__"; no underscores): "" when none is given.

    Example: clean_person("Anna Maria") -> "Anna-Maria"
    """
    cleaned = _PERSON_CHARACTERS.sub("-", str(name).strip()).strip("-.")
    return re.sub(r"-{2,}", "-", cleaned)[:MAX_NAME_LENGTH]


class CaptureSet:
    """A folder of class folders of face crops that examples are added to and deleted from.

    Not safe for two writers at once: one browser session writes its own set (webcam crops reach it through
    core.prediction.recording.Recorder.take, on the session's script thread).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        mark_own_classes(self.root)

    # --- classes ------------------------------------------------------------------------------------------

    def classes(self) -> list[str]:
        """The class names, in the order a model trained on the set has them (core.data.classes.ordered_classes)."""
        return ordered_classes(folder.name for folder in self._class_folders())

    def _class_folders(self) -> list[Path]:
        return [path for path in self.root.iterdir()
                if path.is_dir() and not path.name.startswith(".") and path.name not in IGNORED_NAMES]

    def _folder(self, name: str) -> Path:
        folder = self.root / name
        if name not in self.classes():
            raise CaptureError(f"there is no class '{name}'")
        return folder

    def add_class(self, name: str) -> str:
        """Make an empty class; return its name as kept. CaptureError for a bad, taken or extra name."""
        name = clean_class_name(name)
        existing = self.classes()
        if name in existing:
            raise CaptureError(f"there is already a class '{name}'")
        if len(existing) >= MAX_CLASSES:
            raise CaptureError(f"at most {MAX_CLASSES} classes")
        try:
            _check_names([*existing, name])
        except ClassError as error:
            raise CaptureError(str(error).replace("class folders", "classes")) from None
        (self.root / name).mkdir()
        return name

    def rename_class(self, old: str, new: str) -> str:
        """Rename a class (its examples go with it); return the new name as kept."""
        folder = self._folder(old)
        new = clean_class_name(new)
        if new == old:
            return new
        others = [name for name in self.classes() if name != old]
        if new in others:
            raise CaptureError(f"there is already a class '{new}': delete or rename that one first")
        try:
            _check_names([*others, new])
        except ClassError as error:
            raise CaptureError(str(error).replace("class folders", "classes")) from None
        folder.rename(self.root / new)
        originals = self.root / ORIGINALS / old
        if originals.is_dir():
            originals.rename(self.root / ORIGINALS / new)
        return new

    def delete_class(self, name: str) -> int:
        """Delete a class and its examples; return how many examples went with it."""
        count = len(self.examples(name))
        shutil.rmtree(self._folder(name))
        shutil.rmtree(self.root / ORIGINALS / name, ignore_errors=True)
        return count

    # --- examples -----------------------------------------------------------------------------------------

    def examples(self, name: str) -> list[Path]:
        """A class's face files, in the order they were added."""
        files = [path for path in self._folder(name).iterdir()
                 if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES]
        return sorted(files, key=_order)

    def counts(self) -> dict[str, int]:
        """Examples per class, in class order."""
        return {name: len(self.examples(name)) for name in self.classes()}

    def people(self, name: str) -> Counter:
        """How many examples of a class show each person ("" for nobody named)."""
        return Counter(person_of(path.name) or "" for path in self.examples(name))

    def last_person(self) -> str:
        """Who the example added last shows ("" when nobody is named or there is none): whom the page was
        recording before it was reloaded."""
        paths = [path for name in self.classes() for path in self.examples(name)]
        if not paths:
            return ""
        return person_of(max(paths, key=lambda path: (path.stat().st_mtime_ns, _order(path))).name) or ""

    def face(self, path: Path) -> np.ndarray:
        """One example's 48x48 pixels."""
        return _pixels(str(path), path.stat().st_mtime_ns)

    def original(self, path: Path) -> Path | None:
        """The frame or picture an example was found in, where it was kept."""
        kept = self.root / ORIGINALS / path.parent.name / (path.stem + ".jpg")
        return kept if kept.exists() else None

    def delete_example(self, name: str, file_name: str) -> None:
        """Delete one example of a class (and its kept original)."""
        path = self._folder(name) / PurePath(file_name).name
        if not path.is_file():
            raise CaptureError(f"'{name}' has no example {file_name}")
        path.unlink()
        (self.root / ORIGINALS / name / (path.stem + ".jpg")).unlink(missing_ok=True)

    def clear_class(self, name: str) -> int:
        """Delete every example of a class, keeping the class; return how many."""
        examples = self.examples(name)
        for path in examples:
            self.delete_example(name, path.name)
        return len(examples)

    def add_face(self, name: str, pixels: np.ndarray, person: str = "", original: np.ndarray | None = None) -> Path:
        """Add one face crop (48x48 uint8 gray) to a class, and the RGB picture it came from when given."""
        return self.add_faces(name, [(pixels, person, original)])[0]

    def add_faces(self, name: str, faces: list[tuple[np.ndarray, str, np.ndarray | None]]) -> list[Path]:
        """Add faces to a class: (48x48 uint8 gray crop, who it shows or "", the RGB picture it came from or None)
        each, numbered in the order given after the class's last example."""
        folder = self._folder(name)
        if sum(self.counts().values()) + len(faces) > MAX_EXAMPLES:
            raise CaptureError(f"a capture set holds at most {MAX_EXAMPLES:,} faces: save this one and start another")
        number = max((_order(path)[0] for path in folder.iterdir() if not path.name.startswith(".")), default=0)
        paths = []
        for pixels, person, original in faces:
            pixels = np.asarray(pixels, np.uint8)
            if pixels.shape != (FACE_SIZE, FACE_SIZE):
                raise CaptureError(f"a face must be {FACE_SIZE}x{FACE_SIZE} gray pixels, not {pixels.shape}")
            number, person = number + 1, clean_person(person)
            path = folder / (f"{person}__{number}.png" if person else f"{number}.png")
            Image.fromarray(pixels).save(path)
            if original is not None:
                kept = self.root / ORIGINALS / name / (path.stem + ".jpg")
                kept.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.asarray(original, np.uint8)).convert("RGB").save(kept, quality=90)
            paths.append(path)
        return paths

    def add_pictures(self, name: str, files: list[tuple[str, bytes]], person: str = "",
                     keep_originals: bool = False) -> Added:
        """Add the face in each picture (or in each picture of a .zip) to a class: found and aligned as at
        ingest (core.data.dataset.decode_face). A picture with no face or several is left out and named; who is in
        a picture comes from its file name where it says (core.data.people), else from person."""
        self._folder(name)
        added, faces = Added(), []
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".upload-") as scratch:
            pictures = _unpacked(files, Path(scratch), added)
            for (shown, path), decoded in zip(pictures, _decode([path for _, path in pictures])):
                if decoded.pixels is None:
                    _left_out(added, shown, decoded.reason)
                    continue
                original = read_image(path, "RGB") if keep_originals else None
                faces.append((decoded.pixels, person_of(PurePath(shown).name) or person, original))
        added.added = len(self.add_faces(name, faces))
        return added

    def add_folder(self, path: str | Path) -> Added:
        """Add every face of a dataset (a folder of class folders, or of split folders holding them, or a .zip)
        read as `python -m core train` reads it; its classes are made where missing, its people kept."""
        try:
            dataset = load_dataset(path)
        except (DatasetError, OSError) as error:  # the folder by its name: no server folder said
            folder = Path(path).expanduser()
            raise CaptureError(str(error).replace(str(folder), folder.name)) from None
        total = sum(len(split) for split in dataset.splits.values())
        if sum(self.counts().values()) + total > MAX_EXAMPLES:
            raise CaptureError(f"{total:,} faces there: a capture set holds at most {MAX_EXAMPLES:,}")
        used = ordered_classes(dataset.classes[label] for split in dataset.splits.values() for label in
                               np.unique(split.labels))
        kept_as = {name: clean_class_name(name) for name in used}  # as the reader named them; refused here
        existing = self.classes()
        new = [name for name in dict.fromkeys(kept_as.values()) if name not in existing]
        if len(existing) + len(new) > MAX_CLASSES:
            raise CaptureError(f"{len(new)} more classes: a capture set holds at most {MAX_CLASSES}")
        try:
            _check_names(existing + new)
        except ClassError as error:
            raise CaptureError(str(error).replace("class folders", "classes")) from None
        for name in new:
            (self.root / name).mkdir()
        added = Added(classes=list(dict.fromkeys(kept_as.values())))
        for name in used:
            label = dataset.classes.index(name)
            faces = [(pixels, person, None) for split in dataset.splits.values()
                     for pixels, person in zip(split.images[split.labels == label],
                                               np.asarray(split.people, dtype=object)[split.labels == label])]
            added.added += len(self.add_faces(kept_as[name], faces))
        for line in dataset.skipped:
            shown, _, reason = line.partition(": ")
            _left_out(added, shown, reason)
        return added

    # --- what the set is worth ----------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Why a model cannot be trained on the set yet ([] when it can)."""
        counts = self.counts()
        if len(counts) < MIN_CLASSES:
            return [f"{'one class only' if counts else 'no class yet'}: a model needs at least {MIN_CLASSES} classes "
                    f"to tell apart: {'add another class' if counts else 'name them above'}"]
        empty = [name for name, count in counts.items() if count == 0]
        few = [f"'{name}' ({count})" for name, count in counts.items() if 0 < count < MIN_TO_TRAIN]
        lines = [f"no examples yet in {', '.join(repr(name) for name in empty)}: add some"] if empty else []
        if few:
            lines.append(f"too few examples to start in {', '.join(few)}: each class needs at least {MIN_TO_TRAIN} "
                         "(some are held out to score the model)")
        return lines

    def warnings(self) -> list[str]:
        """Plain warnings about what a model trained on the set may learn or miss."""
        counts = self.counts()
        filled = {name: count for name, count in counts.items() if count}
        lines = [f"'{name}' has only {count} examples: add at least {MIN_EXAMPLES} (a few dozen are better)"
                 for name, count in filled.items() if count < MIN_EXAMPLES]
        if len(filled) >= 2 and max(filled.values()) > MAX_IMBALANCE * min(filled.values()):
            large, small = max(filled, key=filled.get), min(filled, key=filled.get)
            lines.append(f"the classes are unbalanced: '{large}' has {filled[large]} examples, '{small}' "
                         f"{filled[small]}: the model will lean towards '{large}'; add examples of '{small}'")
        people = Counter()
        for name in filled:
            people.update(self.people(name))
        if len(people) == 1 and "" not in people:
            lines.append(f"every example shows one person ('{next(iter(people))}'): it may not work on other people: "
                         "add other people, or judge it on them")
        for name in filled:
            repeats, looked_at = self.near_duplicates(name), min(filled[name], NEAR_DUPLICATE_WINDOW)
            if repeats >= 3 and repeats >= NEAR_DUPLICATE_SHARE * looked_at:
                lines.append(f"'{name}': {repeats} of {'the last ' * (looked_at < filled[name])}{looked_at} examples "
                             "nearly repeat the one before (a still picture): move a little, turn your head and "
                             "change the light while recording")
        return lines

    def near_duplicates(self, name: str) -> int:
        """How many of a class's newest NEAR_DUPLICATE_WINDOW examples differ from the one added before by under
        NEAR_DUPLICATE_MAD per pixel."""
        faces = [self.face(path).astype(np.int16) for path in self.examples(name)[-NEAR_DUPLICATE_WINDOW:]]
        return sum(float(np.abs(later - earlier).mean()) < NEAR_DUPLICATE_MAD for earlier, later in
                   zip(faces, faces[1:]))

    # --- keeping it ---------------------------------------------------------------------------------------

    def export(self, target: str | Path, originals: bool = False) -> Path:
        """Copy the set to a new folder target (a dataset folder: class folders of faces; the originals too when
        asked), written whole or not at all. CaptureError when target exists."""
        target = Path(target)
        if target.exists():
            raise CaptureError(f"'{target.name}' already exists: choose another name")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".partial-{target.name}-", dir=target.parent))
        try:
            for name in self.classes():
                shutil.copytree(self.root / name, partial / name, ignore=shutil.ignore_patterns(".*"))
            mark_own_classes(partial)
            if originals and (self.root / ORIGINALS).is_dir():
                shutil.copytree(self.root / ORIGINALS, partial / ORIGINALS)
            os.rename(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return target

    def as_zip(self, top: str = "my-classes") -> bytes:
        """The set's class folders of faces as one .zip inside a folder top (a dataset the app and
        `python -m core train` read)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{top}/{OWN_CLASSES_MARK}", OWN_CLASSES_NOTE)
            for name in self.classes():
                for path in self.examples(name):
                    archive.write(path, f"{top}/{name}/{path.name}")
        return buffer.getvalue()

    def save(self, name: str, originals: bool = False) -> Path:
        """Keep the set as data_dir()/name, a dataset folder that `python -m core train` and the app read."""
        return self.export(data_dir() / folder_name(name, "the saved set"), originals)


OWN_CLASSES_NOTE = "The class folders here are own classes, named as typed (not read as FER-2013's spellings).\n"


def mark_own_classes(folder: Path) -> None:
    """Mark a folder's class folders as own classes (core.data.classes.OWN_CLASSES_MARK), once."""
    mark = Path(folder) / OWN_CLASSES_MARK
    if not mark.exists():
        mark.write_text(OWN_CLASSES_NOTE)


def _check_names(names: list[str]) -> None:
    """check_class_names for a capture set's classes: named as typed, so only a difference in case is refused."""
    check_class_names(names, class_names(names, own=True))


def _order(path: Path) -> tuple[int, str]:
    """An example's number (the order it was added), then its name."""
    match = _NUMBERED.match(path.stem)
    return (int(match.group("number")) if match else 0), path.name


@lru_cache(maxsize=8192)
def _pixels(path: str, mtime_ns: int) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize((FACE_SIZE, FACE_SIZE)))


def _left_out(added: Added, shown: str, reason: str) -> None:
    if reason.startswith(NO_FACE):
        added.no_face.append(shown)
    elif reason.startswith(SEVERAL_FACES):
        added.several_faces.append(shown)
    else:
        added.unreadable.append(f"{shown}: {reason}")


def _unpacked(files: list[tuple[str, bytes]], scratch: Path, added: Added) -> list[tuple[str, Path]]:
    """(name to show, file to decode) for each picture given and each picture inside each zip given."""
    pictures = []
    for index, (name, data) in enumerate(files):
        shown = PurePath(name).name
        if shown.lower().endswith(".zip"):
            pictures += _zip_pictures(shown, data, scratch / f"zip{index}", added)
            continue
        suffix = PurePath(shown).suffix.lower()
        path = scratch / f"{index}{suffix if suffix in IMAGE_SUFFIXES else '.jpg'}"  # decoded by content
        path.write_bytes(data)
        pictures.append((shown, path))
    return pictures


def _zip_pictures(name: str, data: bytes, folder: Path, added: Added) -> list[tuple[str, Path]]:
    archive = folder.with_suffix(".zip")
    archive.write_bytes(data)
    try:
        unpack_zip(archive, folder)
    except ArchiveError as error:
        added.unreadable.append(str(error).replace(archive.name, name))  # the upload's name, not the scratch file's
        return []
    finally:
        archive.unlink(missing_ok=True)
    found = []
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") or part in IGNORED_NAMES for part in inside.parts):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES:
            found.append((f"{name}/{inside}", path))
        else:
            added.unreadable.append(f"{name}/{inside}: not a picture")
    return found


_pool: ThreadPoolExecutor | None = None


def _decode(paths: list[Path]) -> list:
    """decode_face of each file on a few lasting threads (each keeps its face detector between batches)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="capture-decoder")
    return list(_pool.map(decode_face, paths))

