"""The dataset the whole app works on, remembered across pages, reloads and restarts.

Kept in dataset.json in the runs folder (beside active-model.json); until a dataset is chosen there, the
FER_DATA environment variable names it.
"""

import os
from pathlib import Path

from core.runs import read_json, runs_dir, write_json


def dataset_setting_file() -> Path:
    return runs_dir() / "dataset.json"


def chosen_dataset() -> tuple[str, str]:
    """(the dataset path, where that choice comes from: "chosen", "FER_DATA" or "" when there is none)."""
    chosen = (read_json(dataset_setting_file()) or {}).get("path")
    if chosen:
        return chosen, "chosen"
    from_environment = os.environ.get("FER_DATA", "").strip()
    return from_environment, "FER_DATA" if from_environment else ""


def choose_dataset(path: str) -> None:
    """Remember a dataset path for every page (an empty path: fall back to FER_DATA)."""
    path = path.strip()
    if not path:
        dataset_setting_file().unlink(missing_ok=True)
        return
    dataset_setting_file().parent.mkdir(parents=True, exist_ok=True)
    write_json(dataset_setting_file(), {"path": path})
