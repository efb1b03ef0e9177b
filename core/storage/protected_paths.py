"""What no command may write over: the shipped model, a finished model, and the command's own inputs.

Every command that writes a model or a file beside one asks check_writable first, before anything is
written; a refusal names the path and leaves everything as it was.
Example: check_writable("models/default/model.keras", ["runs/a/model.keras"])
    -> ProtectedPath("models/default/model.keras is in .../models/default, the shipped model, ...")
"""

import os
from pathlib import Path

from core.storage.runs import MODELS_DIR, portable_path

# Set to 1 by whoever rebuilds the shipped model (README "The shipped model"): writes into models/default, over
# its files too, are then allowed, still never over the command's own inputs.
MAINTAINER_VARIABLE = "FER_MAINTAIN_SHIPPED"
# A run's or a model's record: never rewritten by another command once beside a model or in a run folder.
RECORD_NAMES = ("card.json", "config.json", "progress.jsonl", "checkpoint.keras")


class ProtectedPath(ValueError):
    """A write that would destroy what the user has; the message names the path."""


def check_writable(target: str | Path, inputs: list[str | Path | None] = ()) -> None:
    """Raise ProtectedPath when writing the file `target` would change models/default, replace an existing
    model (.keras) or a run's record, or touch one of the command's inputs (the same file, also through a link,
    or a file inside an input folder). Inputs that are None or empty are skipped.

    Example: check_writable("runs/a/model.keras", ["runs/a/model.keras"]) -> ProtectedPath("... is an input ...")
    """
    target = Path(target).expanduser()
    resolved = _resolved(target)
    for given in inputs:
        if not given:
            continue
        source = _resolved(Path(given).expanduser())
        if resolved == source or _same_file(target, Path(given).expanduser()):
            raise ProtectedPath(f"{target} is one of this command's inputs ({given}): writing it would destroy it; "
                                "choose another output (nothing was changed)")
        if source.is_dir() and resolved.is_relative_to(source):
            raise ProtectedPath(f"{target} is inside {given}, one of this command's inputs: choose an output "
                                "outside it (nothing was changed)")
    shipped = _resolved(MODELS_DIR)
    if resolved == shipped or resolved.is_relative_to(shipped):
        if os.environ.get(MAINTAINER_VARIABLE) == "1":
            return  # rebuilding a shipped model: its files are replaced on purpose
        raise ProtectedPath(f"{target} is in {portable_path(MODELS_DIR)}, the shipped models, which no command "
                            "changes: choose another output (nothing was changed)")
    if target.exists() and target.suffix == ".keras":
        raise ProtectedPath(f"{target} is an existing model: writing over it would destroy it; choose another "
                            "output or remove it yourself (nothing was changed)")
    folder = target.parent
    if target.name in RECORD_NAMES and target.exists() and \
            ((folder / "model.keras").exists() or (folder / "config.json").exists()):
        raise ProtectedPath(f"{target} is the record of the model or run in {folder}: choose another output "
                            "(nothing was changed)")


def check_model_folder(folder: str | Path, inputs: list[str | Path | None] = ()) -> None:
    """check_writable for a folder a command writes model.keras and card.json into (an ensemble, a run):
    refused in models/default, over a finished model, or where the folder is, holds or sits in an input."""
    folder = Path(folder).expanduser()
    for given in inputs:
        if not given:
            continue
        source = _resolved(Path(given).expanduser())
        if _resolved(folder) == source:
            raise ProtectedPath(f"{folder} is one of this command's inputs ({given}): choose another folder "
                                "(nothing was changed)")
    for name in ("model.keras", "card.json"):
        check_writable(folder / name, inputs)


def _resolved(path: Path) -> Path:
    """The path with links followed and made absolute, also where it does not exist yet."""
    return Path(os.path.realpath(path))


def _same_file(first: Path, second: Path) -> bool:
    """True for two names of one file (a hard link)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False
