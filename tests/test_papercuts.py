"""A newcomer's papercuts, each fixed and kept fixed: commands as the README writes them, train --help with
choices and defaults, the file watcher off .venv, no zombie after a training start, the snapshot camera
asked for only on request, no "frozen" caption during a normal webcam start, words that fit and read right."""

import contextlib
import io
import re
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit_webrtc

import core.models.store
import core.storage.runs
from core.models.architectures import ARCHITECTURES
from core.data.balance import STRATEGIES
from core.cli import main
from core.cli.parser import ARCHITECTURE_NAMES, BALANCE_STRATEGIES, RUNTIME_NAMES
from core.evaluation.export import RUNTIMES
from core.vision.frame_rate import FrameRate
from core.storage.runs import RunFolder, start_training_process
from tests.test_app import environment, page, texts  # noqa: F401 (environment: a fixture)

ROOT = Path(__file__).resolve().parent.parent


def help_of(*command: str) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    return output.getvalue()


def test_train_help_lists_every_choice_and_default():
    assert set(ARCHITECTURE_NAMES) == set(ARCHITECTURES) and set(BALANCE_STRATEGIES) == set(STRATEGIES)
    assert RUNTIME_NAMES == RUNTIMES
    shown = " ".join(help_of("train").split())  # argparse wraps lines
    assert "--arch {" + ",".join(ARCHITECTURE_NAMES) + "}" in shown and "(default: vgg, or the preset's)" in shown
    assert "{none,oversample,class_weights}" in shown
    for option, default in (("--epochs EPOCHS", 40), ("--batch-size BATCH_SIZE", 128), ("--seed SEED", 0)):
        assert re.search(re.escape(option) + r" [^-]*\(default: " + str(default) + r"[),]", shown), option


def test_readme_commands_work_as_written_with_the_virtualenv():
    section = ROOT.joinpath("README.md").read_text().split("## Command line", 1)[1].split("\n## ", 1)[0]
    assert "source .venv/bin/activate" in section.split("python -m core", 1)[0]  # said before the first command
    commands = set(re.findall(r"^\s*(?:\S+=\S+\s+)?python -m core (\w+)", section, re.M))
    assert {"stats", "train", "evaluate", "predict"} <= commands
    for command in commands:  # each exists, with its options
        assert "usage: python -m core " + command in help_of(command)


def test_streamlit_does_not_watch_the_virtualenv_or_the_runs():
    server = tomllib.loads(ROOT.joinpath(".streamlit", "config.toml").read_text())["server"]
    assert server["fileWatcherType"] == "poll"  # watchdog watches the project folder recursively, .venv too
    assert {".venv", "runs"} <= set(server["folderWatchBlacklist"])


def process_state(pid: int) -> str | None:
    """'Z' for a zombie, None once the process is gone (reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see process states")
def test_a_training_process_that_ends_is_reaped_not_left_a_zombie(tmp_path):
    process = start_training_process(tmp_path / "run", ["--epochs", "not-a-number"])  # exits at once
    deadline = time.time() + 120
    while process_state(process.pid) is not None and time.time() < deadline:
        time.sleep(0.2)
    assert process_state(process.pid) is None, "the ended training process is still a zombie"
    assert "invalid int value" in RunFolder(tmp_path / "run").log_file.read_text()


class PlayingWebcam:
    """Stands in for webrtc_streamer (which needs a browser): the video is playing."""

    def __call__(self, key, **options):
        return SimpleNamespace(state=SimpleNamespace(playing=True))


def test_predict_asks_for_the_camera_only_on_request_and_tells_a_start_from_a_freeze(monkeypatch, trained_runs):
    monkeypatch.setenv("FER_RUNS_DIR", str(trained_runs))
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", PlayingWebcam())
    at = page("predict")
    assert not at.camera_input  # st.camera_input would ask the browser for the camera at once
    at.toggle(key="snapshot_camera").set_value(True).run()
    assert len(at.camera_input) == 1

    captions = texts(at.caption)
    assert "Starting" in captions and "frozen" not in captions  # playing, no frame yet: a normal start
    rate = at.session_state["frame_rate"]
    rate.tick(now=time.monotonic() - 30)  # frames came, then none for 30 s
    at.run()
    assert "frozen" in texts(at.caption)


def test_frame_rate_tells_a_stalled_video_from_one_not_started():
    rate = FrameRate()
    assert not rate.stalled(now=1000.0)  # no frame yet
    rate.tick(now=100.0)
    rate.tick(now=100.1)
    assert not rate.stalled(now=102.0) and rate.stalled(seconds=5, now=106.0)
    rate.reset()
    assert not rate.stalled(now=1000.0)


def test_train_page_names_an_ensembles_architecture_without_a_ensemble(monkeypatch, synthetic):
    monkeypatch.setattr(core.models.store, "FER2013_MODEL_DIR", core.storage.runs.FER2013_MODEL_DIR)  # an ensemble
    at = page("train")
    at.selectbox(key="init_from").set_value(next(o for o in at.selectbox(key="init_from").options
                                                 if o.startswith(core.models.store.FER2013_NAME)))
    at.text_input(key="data").set_value(str(synthetic))
    next(button for button in at.button if button.label == "Start training").click().run()
    error = texts(at.error)
    assert "has the architecture 'ensemble of" in error and " a ensemble" not in error
    assert len(next(t for t in at.toggle if t.proto.label.startswith("Augmentation")).proto.label) <= 20
