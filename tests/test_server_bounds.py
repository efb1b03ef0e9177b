"""What the app's visitors can start is bounded: at most FER_MAX_TRAININGS trainings at once, temporary folders
private (0700) and swept after a day, uploads named by their content."""

import os
import stat
import subprocess
import time

import pytest

from core.storage import runs
from core.storage.runs import MAX_TRAININGS_VARIABLE, RunBusy, RunFolder, running_trainings, start_training_process, write_json
from core.storage.temporary_files import (content_key, file_content_key, new_private_folder, private_folder,
                                  sweep_old_folders)


@pytest.fixture
def busy(tmp_path, monkeypatch):
    """One training this server started, still running (a sleeping process stands for it)."""
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    sleeper = subprocess.Popen(["sleep", "60"])
    monkeypatch.setitem(runs._launched, (tmp_path / "first").resolve(), sleeper)
    yield tmp_path / "first"
    sleeper.kill()
    sleeper.wait()


def test_a_training_beyond_the_servers_bound_is_refused_and_nothing_starts(busy, tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_TRAININGS_VARIABLE, "1")
    assert running_trainings() == {busy.resolve()}
    with pytest.raises(RunBusy, match=r"1 training\(s\) are running already, the most this server runs at once "
                                      r"\(FER_MAX_TRAININGS=1\)"):
        start_training_process(tmp_path / "second", ["--epochs", "1"])
    assert not (tmp_path / "second").exists()


def test_a_training_of_the_cli_in_the_runs_folder_counts_too(busy, tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_TRAININGS_VARIABLE, "2")
    other = RunFolder(tmp_path / "runs" / "from-the-command-line")
    other.path.mkdir(parents=True)
    write_json(other.config_file, {"data": "x"})
    with other.lock():
        assert running_trainings() == {busy.resolve(), other.path.resolve()}
        with pytest.raises(RunBusy, match=r"2 training\(s\) are running already"):
            start_training_process(tmp_path / "third", [])
    process = start_training_process(tmp_path / "third", ["--epochs", "not-a-number"])  # a slot is free again
    assert process.wait(timeout=120) != 0


def test_the_bound_defaults_to_two_and_ignores_nonsense(monkeypatch):
    monkeypatch.delenv(MAX_TRAININGS_VARIABLE, raising=False)
    assert runs.max_trainings() == 2
    monkeypatch.setenv(MAX_TRAININGS_VARIABLE, "many")
    assert runs.max_trainings() == 2
    monkeypatch.setenv(MAX_TRAININGS_VARIABLE, "0")
    assert runs.max_trainings() == 1


def test_temporary_folders_are_private_and_swept_after_a_day(tmp_path):
    old = tmp_path / "fer-video-old"
    old.mkdir()
    (old / "faces.csv").write_text("time_s")
    two_days_ago = time.time() - 2 * 86400
    for path in (old / "faces.csv", old):
        os.utime(path, (two_days_ago, two_days_ago))
    recent = tmp_path / "fer-video-recent"
    recent.mkdir()
    os.utime(recent, (two_days_ago, two_days_ago))
    (recent / "annotated.mp4").write_bytes(b"being written")  # a file changed now: in use
    (tmp_path / "elsewhere").mkdir()
    os.utime(tmp_path / "elsewhere", (two_days_ago, two_days_ago))
    (tmp_path / "fer-video-link").symlink_to(tmp_path / "elsewhere")
    folder = new_private_folder("fer-video-", root=tmp_path)
    assert not old.exists() and recent.exists() and (tmp_path / "elsewhere").exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.name.startswith("fer-video-")
    assert sweep_old_folders("fer-video-", root=tmp_path) == []


def test_an_existing_upload_folder_open_to_all_is_made_private(tmp_path):
    shared = tmp_path / "fer-uploads"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    assert stat.S_IMODE(private_folder(shared).stat().st_mode) == 0o700


def test_uploads_are_named_by_their_content_not_their_name_size_or_time(tmp_path):
    first, second = tmp_path / "a" / "talk.mp4", tmp_path / "b" / "talk.mp4"
    for path, data in ((first, b"video one"), (second, b"video two")):
        path.parent.mkdir()
        path.write_bytes(data)
        os.utime(path, (1, 1))
    assert first.stat().st_size == second.stat().st_size
    assert file_content_key(first) != file_content_key(second) == content_key(b"video two")
