"""One dataset for the whole app: chosen in the sidebar, used by Dataset, Train and Evaluate, shown on Home,
and remembered across reloads and restarts (dataset.json in the runs folder); the Dataset page says what
it is doing while it reads, and a revisit does not read again."""

import os
import shutil
from pathlib import Path

import streamlit as st

import app_pages.dataset_reading
import core.dataset
from core.settings import chosen_dataset
from tests.test_app import environment, page, texts  # noqa: F401 (environment: a fixture)


def test_a_dataset_chosen_once_is_used_by_every_page_and_survives_a_reload(monkeypatch, tmp_path, synthetic,
                                                                           trained_runs):
    monkeypatch.setenv("FER_DATA", str(tmp_path / "elsewhere"))
    shutil.copytree(trained_runs, Path(os.environ["FER_RUNS_DIR"]))  # a model, for the Evaluate page
    at = page("home")
    assert at.sidebar.text_input(key="dataset").value == str(tmp_path / "elsewhere")  # FER_DATA until chosen
    assert f"no dataset at {tmp_path / 'elsewhere'}" in texts(at.warning)  # the same words for any bad path
    missing = page("evaluate")
    assert f"no dataset at {tmp_path / 'elsewhere'}" in texts(missing.error) and not missing.exception
    at.sidebar.text_input(key="dataset").set_value(str(synthetic)).run()
    assert chosen_dataset() == (str(synthetic), "chosen")
    assert f"Dataset: {synthetic} (chosen in the sidebar" in texts(at.success)

    at.switch_page("app_pages/train.py").run()
    assert at.text_input(key="data").value == str(synthetic)
    at.switch_page("app_pages/dataset.py").run()
    assert not at.exception and {m.label for m in at.metric} == {"train", "test"}

    reloaded = page("evaluate")  # a new session, as after a reload or a restart
    assert reloaded.sidebar.text_input(key="dataset").value == str(synthetic)
    assert {"Split", "Test-time views"} <= {box.label for box in reloaded.selectbox}


def test_dataset_page_shows_its_reading_then_a_revisit_reads_nothing(monkeypatch, tmp_path, synthetic):
    monkeypatch.setenv("FER_DATA", str(synthetic))
    st.cache_resource.clear()
    reads = []
    real = core.dataset.load_dataset
    monkeypatch.setattr(app_pages.dataset_reading, "load_dataset", lambda *a, **k: reads.append(a) or real(*a, **k))
    at = page("dataset")
    [status] = at.status
    assert status.label.startswith(f"Read {7 * 11} images from {synthetic}") and len(reads) == 1
    again = page("dataset")  # another visit
    assert not again.status and len(reads) == 1 and {m.label for m in again.metric} == {"train", "test"}
