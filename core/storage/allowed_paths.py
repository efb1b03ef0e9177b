"""Which folders a dataset path typed in the app may name: those the operator allows, never the whole machine.

A visitor of the app types a path and the server reads it; without a bound, /etc or another user's files
could be listed or decoded. The command line is the operator's own and is not bound.
FER_ALLOWED_DATA_DIRS lists the allowed folders (separated by ":"); by default the project's parent folder
(where ../shared/datasets/fer2013 lies) and the user's home. Uploaded zips (core.storage.uploads.save_zip_upload's
folder) and the operator's FER_DATA are allowed too.
Example: check_allowed_data_path("/etc/passwd") -> PathNotAllowed("/etc/passwd is outside ...")
"""

import os
import tempfile
from pathlib import Path

from core.storage.runs import PROJECT_ROOT

ALLOWED_VARIABLE = "FER_ALLOWED_DATA_DIRS"
MAX_PATH_BYTES = 4096  # Linux's PATH_MAX; a folder's name is at most 255 bytes


class PathNotAllowed(ValueError):
    """A typed path outside the folders the operator allows; the message says how to allow it."""


def allowed_data_dirs() -> list[Path]:
    """The folders typed dataset paths may lie in (links followed)."""
    configured = [part for part in os.environ.get(ALLOWED_VARIABLE, "").split(os.pathsep) if part.strip()]
    folders = configured or [str(PROJECT_ROOT.parent), str(Path.home())]
    folders.append(os.path.join(tempfile.gettempdir(), "fer-uploads"))  # where uploaded zips are kept
    return [Path(os.path.realpath(os.path.expanduser(folder))) for folder in folders]


def check_allowed_data_path(path: str) -> str:
    """The path as typed when it lies in an allowed folder (or is the operator's FER_DATA); PathNotAllowed
    otherwise. Links are followed first, so a link in an allowed folder cannot lead outside it."""
    typed = path.strip()
    if not typed:
        return typed
    if "\0" in typed:
        raise PathNotAllowed("the path holds a NUL character, which no file name may")
    if len(os.fsencode(typed)) > MAX_PATH_BYTES or any(len(os.fsencode(part)) > 255 for part in Path(typed).parts):
        raise PathNotAllowed(f"the path is too long ({len(typed):,} characters): no folder has such a name")
    resolved = Path(os.path.realpath(os.path.expanduser(typed)))
    operator = os.environ.get("FER_DATA", "").strip()
    if operator and resolved == Path(os.path.realpath(os.path.expanduser(operator))):
        return typed
    if any(resolved == folder or resolved.is_relative_to(folder) for folder in allowed_data_dirs()):
        return typed
    raise PathNotAllowed(f"{typed} is outside the folders this server reads datasets from: the operator can allow "
                         f"its folder with {ALLOWED_VARIABLE} (folders separated by ':')")


def data_path_refusal(path: str) -> str:
    """Why a typed dataset path may not be read ("" when it may): check_allowed_data_path's reason."""
    try:
        check_allowed_data_path(path)
    except PathNotAllowed as error:
        return str(error)
    return ""
