"""The dataset a new browser tab of the app starts with: the one the FER_DATA environment variable names,
the operator's choice. Each tab then chooses its own; no choice is kept for other visitors."""

import os


def default_dataset() -> str:
    """The FER_DATA environment variable's path ("" when unset).

    Example: with FER_DATA=../shared/datasets/fer2013, default_dataset() -> "../shared/datasets/fer2013"
    """
    return os.environ.get("FER_DATA", "").strip()
