"""A served app names no folder of the server: datasets, runs and saved examples are named relative to the
project (`../shared/datasets/fer2013`, `data/my-classes`) or by their own name, never by an absolute path."""

from tests.app_fixtures import make_dataset
from tests.test_app import environment, page, texts  # noqa: F401 (environment: a fixture)
from core.storage.runs import new_run_dir, write_json


def everything_shown(at) -> str:
    return "\n".join(texts(at.get(kind)) for kind in ("markdown", "success", "info", "caption", "warning", "error"))


def test_home_names_the_typed_dataset_by_its_name_not_the_servers_path(tmp_path):
    data = make_dataset(tmp_path / "faces")
    at = page("home")
    at.sidebar.text_input(key="dataset").set_value(str(data)).run()
    shown = everything_shown(at) + texts(at.sidebar.caption)
    assert "Dataset: faces;" in texts(at.success) and str(tmp_path) not in shown, shown


def test_train_names_a_runs_data_without_the_servers_path(tmp_path):
    run = new_run_dir("seed")
    write_json(run / "config.json", {"data": str(tmp_path / "faces"), "arch": "seed", "epochs": 1})
    at = page("train")
    shown = everything_shown(at)
    assert "data faces)" in texts(at.markdown) and str(tmp_path) not in shown, shown


def test_teach_names_the_data_folder_relative_to_the_project(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    at = page("teach")
    shown = everything_shown(at)
    assert "saved into the data folder (data)" in shown and str(tmp_path) not in shown, shown
