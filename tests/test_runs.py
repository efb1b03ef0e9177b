"""Run-folder files: atomic writes survive a failure mid-save, status follows the progress log."""

import errno

import pytest

from core.storage.runs import RunFolder, atomic_path, read_json, write_json


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "card.json"
    write_json(target, {"accuracy": 0.6})
    with pytest.raises(OSError, match="No space left"):
        with atomic_path(target) as temporary:
            temporary.write_text('{"accuracy": 0.')  # half written when the disk fills
            raise OSError(errno.ENOSPC, "No space left on device")
    assert read_json(target) == {"accuracy": 0.6}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]


def test_a_value_that_cannot_be_saved_leaves_the_previous_file(tmp_path):
    target = tmp_path / "config.json"
    write_json(target, {"epochs": 3})
    with pytest.raises(TypeError):
        write_json(target, {"epochs": object()})
    assert read_json(target) == {"epochs": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_status_reads_the_log_and_skips_a_torn_last_line(tmp_path):
    run = RunFolder(tmp_path)
    assert run.status()["state"] == "new"
    run.append_event("start", epochs=2)
    run.append_event("epoch", epoch=1, epochs=2, val_accuracy=0.5)
    with open(run.progress_file, "a") as log:
        log.write('{"event": "epoch", "epo')  # a kill mid-line
    status = run.status()
    assert status["state"] == "interrupted" and status["epoch"]["epoch"] == 1 and len(status["history"]) == 1
    run.append_event("end", status="cancelled", message="cancelled")
    assert run.status()["state"] == "cancelled"
    assert "" not in run.progress_file.read_text().splitlines()[:2]  # whole lines stay whole, no blank ones
