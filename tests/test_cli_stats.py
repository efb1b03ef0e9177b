"""`python -m core stats`: the text table, --json, and the exit code for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from core.cli import main
from core.data.emotions import EMOTIONS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAIN = {"angry": 3, "disgust": 1, "fear": 2, "happy": 5, "neutral": 2, "sad": 0, "surprise": 1}
TEST = {"angry": 1, "happy": 2}


def make_dataset(root: Path) -> Path:
    """Synthetic Kaggle layout: TRAIN/TEST images, one colour image, one broken file, one empty folder."""
    rng = np.random.default_rng(0)
    for split, counts in (("train", TRAIN), ("test", TEST)):
        for emotion, count in counts.items():
            folder = root / split / emotion
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(folder / f"{i}.png")
    Image.fromarray(np.zeros((60, 60, 3), np.uint8)).save(root / "test" / "happy" / "colour.png")
    (root / "train" / "fear" / "broken.jpg").write_bytes(b"")
    return root


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600)


def test_stats_text_table(tmp_path, capsys):
    data = make_dataset(tmp_path / "fer")
    assert main(["stats", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["split", "total", *EMOTIONS]
    rows = {line.split()[0]: line.split()[1:] for line in out[1:3]}
    assert rows["train"] == ["14"] + [str(TRAIN[e]) for e in EMOTIONS]
    assert rows["test"] == ["4"] + [str({**TEST, "happy": 3}.get(e, 0)) for e in EMOTIONS]
    assert out[3] == "converted 1 images (0 faces found and aligned in larger pictures); skipped 1"
    assert out[4].strip() == "class folder 'train/sad' is empty"
    assert out[5].strip() == "train/fear/broken.jpg: empty file (0 bytes)"


def test_stats_json(tmp_path, capsys):
    data = make_dataset(tmp_path / "fer")
    assert main(["stats", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["splits"]["train"] == {"total": 14, "classes": TRAIN}
    assert report["splits"]["test"] == {"total": 4, "classes": {e: {**TEST, "happy": 3}.get(e, 0) for e in EMOTIONS}}
    assert list(report["splits"]["train"]["classes"]) == list(EMOTIONS)
    assert report["converted"] == 1
    assert report["skipped"] == ["train/fear/broken.jpg: empty file (0 bytes)"]
    assert report["warnings"] == ["class folder 'train/sad' is empty"]


def test_stats_on_a_missing_path_exits_2_with_an_error_line(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = run_cli("stats", str(missing))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: no dataset at {missing}: give a folder of class folders "
                                                  "(or of split folders holding them), a fer2013.csv or a .zip"]


def test_stats_on_an_unreadable_dataset_exits_2(tmp_path, capsys):
    (tmp_path / "fer" / "train" / "contempt").mkdir(parents=True)
    assert main(["stats", str(tmp_path / "fer")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: split 'train' has no readable images") and captured.out == ""


def test_stats_json_on_the_real_data(shared_fer):
    result = run_cli("stats", str(shared_fer), "--json")  # FER_CACHE_DIR: the session cache (conftest)
    assert result.returncode == 0, result.stderr
    splits = json.loads(result.stdout)["splits"]
    assert splits["train"] == {"total": 28_709, "classes": {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215,
                                                            "neutral": 4965, "sad": 4830, "surprise": 3171}}
    assert splits["test"]["total"] == 3_589 and sum(splits["test"]["classes"].values()) == 3_589


def test_stats_lists_at_most_fifty_skipped_files_and_counts_the_rest(tmp_path, capsys):
    data = make_dataset(tmp_path / "fer")
    for index in range(60):
        (data / "train" / "happy" / f"empty{index:02d}.png").write_bytes(b"")
    assert main(["stats", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = [line for line in out if line.startswith("  ") and "empty file" in line]
    assert len(listed) == 50 and out[-1].strip() == "... and 11 more skipped (every one: --json)"  # of 61
    assert "  class folder 'train/sad' is empty" in out  # every warning, before the skipped files
    assert main(["stats", str(data), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["skipped"]) == 61
