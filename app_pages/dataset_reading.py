"""Not a page: reading the chosen dataset once per server for the Dataset and Evaluate pages, its decoding
shown (st.status with a progress bar) the first time, nothing shown on later visits (an empty place, so that
what follows keeps its place on the page: a browser shows the last run's elements, faded, until the next run
draws over their places, and Evaluate's Score button would otherwise stay under its progress bar)."""

from pathlib import Path

import streamlit as st

from app_pages.dataset_choice import shown_name
from core.data.dataset import Dataset, load_dataset


@st.cache_resource(show_spinner=False)
def _loaded() -> dict[tuple, Dataset]:
    """Datasets already read in this server, shared by every session: (path, mtime) -> Dataset."""
    return {}


def read_dataset(path: str) -> Dataset:
    """Load a dataset once per server, with a progress bar while images are decoded."""
    key = (str(Path(path).expanduser().resolve()), Path(path).expanduser().stat().st_mtime_ns)
    loaded = _loaded()
    place = st.empty()  # one element whether the dataset is read now or was before
    if key not in loaded:
        with place.container(), st.status(f"Reading {shown_name(path)}: listing its files...") as status:
            bar = st.progress(0.0, text="Checking the cache of decoded images...")
            dataset = load_dataset(path, progress=lambda done, total: bar.progress(
                done / total, text=f"Decoding images: {done:,} of {total:,}"))
            bar.empty()
            status.update(label=f"Read {sum(map(len, dataset.splits.values())):,} images from {shown_name(path)}; kept in "
                                "memory, so the next visit is immediate", state="complete")
        loaded.clear()  # keep one dataset in memory
        loaded[key] = dataset
    return loaded[key]
