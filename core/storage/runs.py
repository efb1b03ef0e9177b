"""Training run folders on disk: atomic files, the progress log, the lock, status and cancel.

A run folder holds config.json, progress.jsonl (one JSON event a line), checkpoint.keras
(the model, its optimiser, the best weights and the run's state, written as one file by one
rename), and when finished card.json and model.keras (written last: a run is finished when it
exists). This module reads and writes them without importing TensorFlow, so pages can poll it
cheaply.
"""

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

from core.storage.safe_files import read_json_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # core/storage/runs.py -> the project
MODELS_DIR = PROJECT_ROOT / "models"  # the shipped models: no command writes into it
DEFAULT_MODEL_DIR = MODELS_DIR / "default"  # the default: trained on FER+'s votes, eight classes
FER2013_MODEL_DIR = MODELS_DIR / "fer2013"  # trained on FER-2013's own labels, for comparison with its papers


CHECKPOINT_STATE_ENTRY = "fer-state.json"  # the run's state inside checkpoint.keras
CHECKPOINT_BEST_ENTRY = "fer-best-weights.npz"  # the best epoch's weights inside checkpoint.keras
TEMPORARY_PREFIX = ".tmp-"


class RunBusy(RuntimeError):
    """Raised when a second training is started in a run folder that is already training."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from; the message says why."""


def portable_path(path: str | Path) -> str:
    """A path as a card records it, naming no machine: relative to the project where it lies beside it
    (`../shared/datasets/fer2013`, `runs/a/model.keras`), else only its own name (a model file: its
    folder's too, `a/model.keras`).

    Example: portable_path(PROJECT_ROOT / "models" / "default") -> "models/default"
    """
    resolved = Path(path).expanduser().resolve()
    if resolved.is_relative_to(PROJECT_ROOT.parent):
        return os.path.relpath(resolved, PROJECT_ROOT)
    return f"{resolved.parent.name}/{resolved.name}" if resolved.name == "model.keras" else resolved.name


def recorded_path(path: str) -> Path:
    """Where a path a card records lies on this machine (relative ones are relative to the project)."""
    return Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path


def runs_dir() -> Path:
    """Where training runs live: $FER_RUNS_DIR or runs/ in the project."""
    return Path(os.environ.get("FER_RUNS_DIR", PROJECT_ROOT / "runs"))


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside `path` (same suffix) and rename it over `path` on success.

    A crash, a kill or a full disk leaves the old file intact and no half-written one.
    """
    path = Path(path)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(path: Path, data) -> None:
    """Write JSON atomically (temporary file, fsync, rename)."""
    with atomic_path(path) as temporary:
        with open(temporary, "w") as file:
            json.dump(data, file, indent=2)
            file.flush()
            os.fsync(file.fileno())


def read_json(path: Path, default=None):
    """Read a JSON file, or return default when it is missing or unreadable."""
    try:
        return read_json_file(path)
    except (OSError, ValueError):
        return default


def _object(value) -> dict | None:
    """A JSON file's object, None for anything else (a list, a number: not a file this product wrote)."""
    return value if isinstance(value, dict) else None


class RunFolder:
    """One training run's folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    config_file = property(lambda self: self.path / "config.json")
    progress_file = property(lambda self: self.path / "progress.jsonl")
    checkpoint_file = property(lambda self: self.path / "checkpoint.keras")
    legacy_state_file = property(lambda self: self.path / "checkpoint.json")  # beside checkpoints before 2026-11
    model_file = property(lambda self: self.path / "model.keras")
    card_file = property(lambda self: self.path / "card.json")
    cancel_file = property(lambda self: self.path / "cancel.requested")
    log_file = property(lambda self: self.path / "log.txt")
    lock_file = property(lambda self: self.path / ".lock")
    running_file = property(lambda self: self.path / ".running")

    @property
    def name(self) -> str:
        return self.path.name

    def config(self) -> dict | None:
        return _object(read_json(self.config_file))

    def card(self) -> dict | None:
        return _object(read_json(self.card_file))

    def checkpoint_state(self) -> dict | None:
        """The state saved inside checkpoint.keras (epoch, steps, history...), or None without a checkpoint.

        Raises CheckpointError for a checkpoint that is damaged or lacks its state.
        """
        if not self.checkpoint_file.exists():
            return None
        try:
            with zipfile.ZipFile(self.checkpoint_file) as archive:
                if CHECKPOINT_STATE_ENTRY in archive.namelist():
                    return json.loads(archive.read(CHECKPOINT_STATE_ENTRY))
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise CheckpointError(f"{self.checkpoint_file} is damaged ({error}): the run cannot resume") from None
        legacy = read_json(self.legacy_state_file)
        if not isinstance(legacy, dict):
            raise CheckpointError(f"{self.checkpoint_file} has no saved state: the run cannot resume")
        return legacy

    def remove_leftovers(self) -> list[str]:
        """Delete the temporary files of saves a kill interrupted; return their names. Hold the lock."""
        leftovers = sorted(self.path.glob(TEMPORARY_PREFIX + "*"))
        for path in leftovers:
            path.unlink(missing_ok=True)
        return [path.name for path in leftovers]

    def append_event(self, event: str, **fields) -> None:
        """Append one event line to progress.jsonl (readers skip a torn last line)."""
        line = json.dumps({"event": event, "time": time.time(), **fields}).encode() + b"\n"
        with open(self.progress_file, "a+b") as file:
            if file.seek(0, os.SEEK_END) > 0:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    line = b"\n" + line  # end a line torn by a kill before adding this one
            file.write(line)

    def events(self) -> list[dict]:
        """Every complete event in the progress log, oldest first."""
        try:
            lines = self.progress_file.read_text().splitlines()
        except OSError:
            return []
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events

    @contextmanager
    def lock(self):
        """Hold the run's training lock; raise RunBusy when another process holds it.

        The lock is .lock; .running is held beside it so that is_running() can look without ever
        holding .lock (a page polling must not make a start fail as "already running").
        """
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_file, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RunBusy(f"a training is already running in {self.path} (pid {self._lock_owner()})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        running = open(self.running_file, "a+")
        try:
            fcntl.flock(running, fcntl.LOCK_EX)  # waits only while a status check holds it for an instant
            yield
        finally:
            running.close()
            handle.close()

    def _lock_owner(self) -> str:
        try:
            return self.lock_file.read_text().strip() or "?"
        except OSError:
            return "?"

    def is_running(self) -> bool:
        """True while a training process holds this run's lock (found without taking the lock)."""
        try:
            handle = open(self.running_file, "r")
        except OSError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    def request_cancel(self) -> None:
        """Ask the training process to stop after the current batch, keeping its last checkpoint."""
        self.cancel_file.touch()

    def status(self) -> dict:
        """The run's state: running, finished (its model.keras is there), cancelled, failed, interrupted
        (killed; resumable) or new.

        Also the last epoch event, the last batch event, the last "finish" event (scoring and saving after
        the last epoch) and the end message where there are.
        """
        events = self.events()
        last = {kind: next((e for e in reversed(events) if e["event"] == kind), None)
                for kind in ("start", "epoch", "batch", "finish", "end")}
        if self.is_running():
            state = "running"
        elif self.model_file.exists():
            state = "finished"
        elif last["end"] and (not last["start"] or last["end"]["time"] >= last["start"]["time"]):
            state = last["end"]["status"]
        elif last["start"]:
            state = "interrupted"
        else:
            state = "new"
        return {"state": state, "message": (last["end"] or {}).get("message", ""),
                "start": last["start"], "epoch": last["epoch"], "batch": last["batch"], "finish": last["finish"],
                "history": [e for e in events if e["event"] == "epoch"]}


def list_runs(root: Path | None = None) -> list[RunFolder]:
    """Every run folder under root (newest first)."""
    root = Path(root) if root else runs_dir()
    if not root.is_dir():
        return []
    folders = [RunFolder(p) for p in root.iterdir() if (p / "config.json").exists()]
    return sorted(folders, key=lambda run: run.config_file.stat().st_mtime, reverse=True)


MAX_TRAININGS_VARIABLE = "FER_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 2  # trainings the app's visitors may have running at once (each takes every core it gets)
_launched: dict[Path, subprocess.Popen] = {}  # the trainings this process (the app's server) started
_launching = threading.Lock()


def max_trainings() -> int:
    """How many trainings may run at once: $FER_MAX_TRAININGS, else DEFAULT_MAX_TRAININGS (at least 1)."""
    try:
        return max(1, int(os.environ.get(MAX_TRAININGS_VARIABLE, DEFAULT_MAX_TRAININGS)))
    except ValueError:
        return DEFAULT_MAX_TRAININGS


def running_trainings() -> set[Path]:
    """The run folders training now: those this process started whose process has not ended (one may not
    hold its lock yet, while TensorFlow loads), and those in the runs folder whose lock is held."""
    started = {path for path, process in _launched.items() if process.poll() is None}
    return started | {run.path.resolve() for run in list_runs() if run.is_running()}


def start_training_process(run_dir: Path, arguments: list[str]) -> subprocess.Popen:
    """Start `python -m core train` for run_dir in its own session, so it outlives the caller.

    Its output goes to the run's log.txt. A thread waits for it, so that when it ends it is reaped at once
    (a long-lived caller such as the app's server would otherwise keep a zombie process per run).
    Raises RunBusy, starting nothing, while max_trainings() other trainings run.
    """
    run = RunFolder(run_dir)
    with _launching:
        for path in [path for path, process in _launched.items() if process.poll() is not None]:
            del _launched[path]  # ended: forgotten
        others = running_trainings() - {run.path.resolve()}
        if len(others) >= max_trainings():
            raise RunBusy(f"{len(others)} training(s) are running already, the most this server runs at once "
                          f"({MAX_TRAININGS_VARIABLE}={max_trainings()}): wait for one to end, or cancel one")
        run.path.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "core", "train", "--run-dir", str(run.path), *arguments]
        with open(run.log_file, "ab") as log:  # the child keeps its own copy of the file
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        _launched[run.path.resolve()] = process
    threading.Thread(target=process.wait, name=f"reaper of {run.name}", daemon=True).start()
    return process


def new_run_dir(arch: str, root: Path | None = None) -> Path:
    """Create and return a fresh run folder named by the time and architecture: runs/20250101-120000-vgg."""
    root = Path(root) if root else runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{arch}"
    for number in range(1, 1000):
        path = root / (stem if number == 1 else f"{stem}-{number}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RunBusy(f"could not create a new run folder in {root}")
