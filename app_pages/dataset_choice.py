"""Not a page: the sidebar's dataset for this browser tab, checked when given (core.data.dataset.check_dataset:
its files listed, nothing decoded) and said at once: what it holds, or why it cannot be used."""

from pathlib import Path

import streamlit as st

from core.storage.allowed_paths import PathNotAllowed, check_allowed_data_path
from core.data.dataset import DatasetError, check_dataset
from core.storage.runs import portable_path


def shown_name(path: str) -> str:
    """How the app names a dataset: an upload by the user's own file name, anything else by a path that names
    no server folder (core.storage.runs.portable_path: `../shared/datasets/fer2013`, or its own name)."""
    uploaded = st.session_state.get("upload_names", {}).get(path)
    return uploaded or portable_path(path)


def upload_label(path: str, name: str) -> str:
    """How the sidebar names an uploaded zip ("upload: fer.zip"), not by the file the server keeps it in."""
    label = f"upload: {name}"
    st.session_state.setdefault("upload_paths", {})[label] = path
    return label


def typed_path(typed: str) -> str:
    """The path a typed dataset names: an upload's kept file for its label, else what was typed."""
    return st.session_state.get("upload_paths", {}).get(typed.strip(), typed)


def typed_name(path: str) -> str:
    """What to type for a path: an upload's label where it is one, else the path."""
    return next((label for label, kept in st.session_state.get("upload_paths", {}).items() if kept == path), path)


def checked_dataset(given: str) -> str:
    """The path the pages read ("" when none is given or it cannot be used), with a line in the sidebar."""
    if not given:
        return ""
    try:
        path = check_allowed_data_path(given)  # only folders the operator allows (core/storage/allowed_paths.py)
        try:
            stamp = Path(path).expanduser().stat().st_mtime_ns
        except OSError:  # missing, or not to be looked at: check_dataset says why below
            stamp = None
        checked = st.session_state.setdefault("checked_datasets", {})
        if (path, stamp) not in checked:
            with st.sidebar, st.spinner("Checking the dataset..."):
                try:
                    checked[(path, stamp)] = (True, check_dataset(path, shown_name=Path(shown_name(path)).name))
                except DatasetError as error:
                    checked[(path, stamp)] = (False, str(error))
        usable, line = checked[(path, stamp)]
    except PathNotAllowed as error:
        usable, line = False, str(error)
    if not usable:
        st.sidebar.error(line)
        return ""
    st.sidebar.caption(f"{Path(shown_name(path)).name}: {line}")
    return path
