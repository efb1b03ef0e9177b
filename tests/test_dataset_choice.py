"""One dataset for a browser tab: chosen in the sidebar and checked there at once, used by Dataset, Train and
Evaluate, shown on Home, never kept for other visitors; the Dataset page says what it is doing while it
reads, and a revisit does not read again."""

import os
import shutil
from pathlib import Path

import streamlit as st

import app_pages.dataset_reading
import core.data.dataset
from core.storage.runs import portable_path
from tests.test_app import environment, page, texts  # noqa: F401 (environment: a fixture)


def test_a_dataset_chosen_in_the_sidebar_is_checked_at_once_used_by_every_page_and_kept_to_this_tab(
        monkeypatch, tmp_path, synthetic, trained_runs):
    monkeypatch.setenv("FER_DATA", str(tmp_path / "elsewhere"))
    shutil.copytree(trained_runs, Path(os.environ["FER_RUNS_DIR"]))  # a model, for the Evaluate page
    at = page("home")
    assert at.sidebar.text_input(key="dataset").value == str(tmp_path / "elsewhere")  # FER_DATA until chosen
    assert "no dataset at elsewhere: give a folder" in texts(at.sidebar.error)  # the same words for any bad path
    assert str(tmp_path) not in texts(at.sidebar.error)  # and no folder of the server named
    assert "No dataset chosen" in texts(at.info)
    (tmp_path / "one-class" / "happy").mkdir(parents=True)
    shutil.copy(next((synthetic / "train" / "happy").iterdir()), tmp_path / "one-class" / "happy")
    at.sidebar.text_input(key="dataset").set_value(str(tmp_path / "one-class")).run()
    assert "one class only (happy)" in texts(at.sidebar.error)  # said on the spot, before any page reads it
    for typed, words in (("~/" + "b" * 300, "the path is too long"), ("/tmp/x\x00y", "NUL character")):
        at.sidebar.text_input(key="dataset").set_value(typed).run()
        assert not at.exception and words in texts(at.sidebar.error)
    at.sidebar.text_input(key="dataset").set_value(str(synthetic)).run()
    files = {split: sum(1 for path in (synthetic / split).rglob("*") if path.is_file()) for split in ("train", "test")}
    assert not at.sidebar.error and texts(at.sidebar.caption) == (
        f"{synthetic.name}: 2 splits (train {files['train']}, test {files['test']} files), 7 classes")
    assert f"Dataset: {portable_path(synthetic)}; the Dataset, Train and Evaluate pages" in texts(at.success)

    at.switch_page("app_pages/train.py").run()
    assert at.text_input(key="data").value == str(synthetic)
    at.switch_page("app_pages/dataset.py").run()
    assert not at.exception and {m.label for m in at.metric} == {"train", "test"}

    other = page("evaluate")  # another visitor (or this one after a reload) starts from the operator's default
    assert other.sidebar.text_input(key="dataset").value == str(tmp_path / "elsewhere")
    assert not list((Path(os.environ["FER_RUNS_DIR"])).glob("dataset.json"))  # nothing kept for others


def test_dataset_page_shows_its_reading_then_a_revisit_reads_nothing(monkeypatch, tmp_path, synthetic):
    monkeypatch.setenv("FER_DATA", str(synthetic))
    st.cache_resource.clear()
    reads = []
    real = core.data.dataset.load_dataset
    monkeypatch.setattr(app_pages.dataset_reading, "load_dataset", lambda *a, **k: reads.append(a) or real(*a, **k))
    at = page("dataset")
    [status] = at.status
    assert status.label.startswith(f"Read {7 * 11} images from {portable_path(synthetic)}") and len(reads) == 1
    again = page("dataset")  # another visit
    assert not again.status and len(reads) == 1 and {m.label for m in again.metric} == {"train", "test"}
