"""The Train page's form: a path that is no dataset is refused at once, before any run exists; a second
click while the first run is starting or running starts nothing; the settings stay for this tab across pages, the
dataset path too (the sidebar's, or one typed here until the sidebar chooses another)."""

import fcntl
import shutil

import app_pages.run_progress
from core.storage.runs import RunFolder, list_runs, runs_dir
from tests.test_app import environment, page, texts  # noqa: F401 (environment: a fixture)


def start(at) -> None:
    next(button for button in at.button if button.label == "Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_path_that_cannot_be_trained_on_is_refused_at_once(tmp_path, synthetic):
    at = page("train")
    at.text_input(key="data").set_value(str(tmp_path / "nowhere"))
    start(at)
    assert "Not started: no dataset at nowhere: give a folder" in texts(at.error)  # no server folder named
    (tmp_path / "one" / "happy").mkdir(parents=True)
    shutil.copy(next((synthetic / "train" / "happy").iterdir()), tmp_path / "one" / "happy")
    at.text_input(key="data").set_value(str(tmp_path / "one"))
    start(at)
    assert "Not started: one class only (happy)" in texts(at.error)
    assert list_runs() == []  # no run folder, no process


def test_a_second_click_while_the_run_is_starting_starts_nothing(monkeypatch, synthetic):
    started = []
    monkeypatch.setattr(app_pages.run_progress, "start_training_process",
                        lambda run_dir, arguments: started.append((run_dir, arguments)))
    at = page("train")
    at.text_input(key="data").set_value(str(synthetic))
    start(at)
    start(at)  # the same settings again before the first process has begun: a double click
    assert len(started) == 1 and "already starting" in texts(at.info)
    assert [path for path in runs_dir().iterdir() if path.is_dir()] == [started[0][0]]  # one run folder
    at.number_input(key="epochs").set_value(3)
    start(at)  # other settings: another run, on purpose
    assert len(started) == 2 and "--epochs" in started[1][1] and "3" in started[1][1]


def test_the_settings_stay_for_this_tab_across_pages(synthetic):
    at = page("train")
    at.selectbox(key="arch").set_value("seed")
    at.number_input(key="epochs").set_value(7)
    at.toggle(key="augment").set_value(False).run()
    for name in ("home", "runs", "train"):
        at.switch_page(f"app_pages/{name}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="arch").value == "seed" and at.number_input(key="epochs").value == 7
    assert at.toggle(key="augment").value is False
    assert page("train").number_input(key="epochs").value == 40  # another tab starts from the defaults


def test_a_typed_dataset_path_stays_across_pages_until_the_sidebar_chooses_another(tmp_path, synthetic):
    at = page("train")
    assert at.text_input(key="data").value == ""  # none chosen in the sidebar
    at.text_input(key="data").set_value(str(tmp_path / "typed")).run()
    for name in ("home", "evaluate", "train"):
        at.switch_page(f"app_pages/{name}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="data").value == str(tmp_path / "typed")
    at.sidebar.text_input(key="dataset").set_value(str(synthetic)).run()
    assert at.text_input(key="data").value == str(synthetic)  # the sidebar's new choice, on this page
    at.text_input(key="data").set_value(str(tmp_path / "typed again")).run()
    at.switch_page("app_pages/home.py").run()
    at.sidebar.text_input(key="dataset").set_value("").run()
    at.switch_page("app_pages/train.py").run()
    assert at.text_input(key="data").value == ""  # the sidebar's choice changed while away: followed


def test_a_second_click_once_the_run_has_begun_starts_nothing(monkeypatch, synthetic):
    """A small dataset: the training process holds its run before the second click (1.5 s later) comes."""
    held = []

    def begin_at_once(run_dir, arguments):
        handle = open(RunFolder(run_dir).running_file, "w")
        fcntl.flock(handle, fcntl.LOCK_EX)  # what the training process holds while it runs
        held.append(handle)

    monkeypatch.setattr(app_pages.run_progress, "start_training_process", begin_at_once)
    at = page("train")
    at.text_input(key="data").set_value(str(synthetic))
    start(at)
    [run_dir] = [path for path in runs_dir().iterdir() if path.is_dir()]
    assert RunFolder(run_dir).status()["state"] == "running"  # begun: no longer starting
    start(at)
    assert len(held) == 1 and "already starting or running" in texts(at.info)
    for handle in held:
        handle.close()

