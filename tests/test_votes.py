"""FER+: ten votes a face read from its layouts, the majority rule, bad label files, and scores against people."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.data import votes
from core.data.dataset import DatasetError, check_dataset, load_dataset
from core.data.votes import CLASSES, VOTE_COLUMNS, majority
from tests.ferplus_files import COLUMN_OF_CLASS, learnable_rows, votes_for, write_pair, write_split_folder
from tests.synthetic import face_pattern

PROJECT = Path(__file__).resolve().parent.parent
SHARED_FERPLUS = PROJECT.parent / "shared" / "datasets" / "ferplus"


def column(name: str) -> int:
    return VOTE_COLUMNS.index(name)


def counts(**given: int) -> list[int]:
    row = [0] * 10
    for name, count in given.items():
        row[column(name)] = count
    return row


def test_the_majority_is_one_emotion_with_more_votes_than_every_other_column():
    rows = np.array([counts(neutral=4, anger=3, disgust=3),  # neutral
                     counts(happiness=5, surprise=5),  # tie
                     counts(unknown=6, sadness=4),  # unknown voted most
                     counts(NF=7, neutral=3),  # not a face
                     counts(contempt=4, unknown=4, anger=2),  # an emotion tied with unknown: a tie
                     counts(),  # nobody voted
                     counts(contempt=3, neutral=2, fear=2, anger=2, unknown=1)])  # contempt
    labels, reasons = majority(rows)
    assert reasons == ["", "tie", "unknown", "not a face", "tie", "no votes", ""]
    assert [CLASSES[i] if i >= 0 else None for i in labels] == ["neutral", None, None, None, None, None, "contempt"]


def test_a_split_folder_keeps_every_faces_votes_and_counts_those_without_a_majority(tmp_path):
    rng = np.random.default_rng(0)
    rows = [(face_pattern(0, rng), counts(happiness=7, surprise=3)),
            (face_pattern(1, rng), counts(sadness=4, neutral=4, anger=2)),  # tie
            (face_pattern(2, rng), counts(unknown=5, fear=5)),  # tie with unknown
            (face_pattern(3, rng), counts(NF=8, neutral=2)),  # not a face
            (face_pattern(4, rng), counts(contempt=6, disgust=4))]
    folder = write_split_folder(tmp_path / "FER2013Test", rows)
    dataset = load_dataset(folder)
    test = dataset.split("test")
    assert dataset.classes == list(CLASSES) and len(CLASSES) == 8
    assert [CLASSES[i] for i in test.labels] == ["happy", "contempt"]
    assert test.votes[0].tolist() == [7 if name == "happy" else 3 if name == "surprise" else 0 for name in CLASSES]
    assert np.allclose(test.targets(8).sum(axis=1), 1) and test.targets(8)[1, CLASSES.index("contempt")] == 0.6
    assert {reason: len(names) for reason, names in dataset.left_out["test"].items()} == {"tie": 2, "not a face": 1}
    assert dataset.left_out["test"]["not a face"] == ["fer0000003.png"]
    assert not dataset.skipped


def test_a_ferplus_root_reads_as_train_val_and_test_and_is_described_without_decoding(tmp_path):
    root = tmp_path / "ferplus"
    for number, folder in enumerate(("FER2013Train", "FER2013Valid", "FER2013Test")):
        write_split_folder(root / folder, learnable_rows(2, seed=number), start=number * 100)
    assert check_dataset(root) == "FER+ with ten votes a face: 3 split(s) (test 16, train 16, val 16 faces), 8 classes"
    dataset = load_dataset(root)
    assert sorted(dataset.splits) == ["test", "train", "val"]
    assert all(len(split) == 16 and split.votes.shape == (16, 8) for split in dataset.splits.values())
    archive = tmp_path / "ferplus.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in root.rglob("*"):
            zipped.write(file, file.relative_to(tmp_path))
    assert sorted(load_dataset(archive).splits) == ["test", "train", "val"]


def test_the_fer2013_csv_pair_reads_row_by_row_with_not_faces_counted(tmp_path):
    rng = np.random.default_rng(1)
    rows = [(face_pattern(0, rng), votes_for("angry", 6, rng), "Training"),
            (face_pattern(1, rng), None, "Training"),  # FER+ judged it not a face
            (face_pattern(2, rng), votes_for("sad", 8, rng), "PublicTest"),
            (face_pattern(3, rng), votes_for("fear", 5, rng), "PrivateTest")]
    folder = write_pair(tmp_path / "pair", rows)
    assert check_dataset(folder) == "FER+ with ten votes a face: 3 split(s) (train 2, val 1, test 1 faces), 8 classes"
    dataset = load_dataset(folder)
    assert {name: [CLASSES[i] for i in split.labels] for name, split in dataset.splits.items()} == \
        {"train": ["angry"], "val": ["sad"], "test": ["fear"]}
    assert np.array_equal(dataset.split("val").images[0], rows[2][0])
    assert dataset.left_out["train"] == {"not a face": ["row 3"]}
    lines = (folder / "fer2013new.csv").read_text().splitlines()
    (folder / "fer2013new.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DatasetError, match=r"fer2013new.csv has 3 rows but fer2013.csv has 4"):
        load_dataset(folder)


def test_bad_label_rows_are_named_by_file_and_line_and_the_good_rows_kept(tmp_path):
    folder = write_split_folder(tmp_path / "FER2013Train", learnable_rows(1, seed=2))
    lines = (folder / "label.csv").read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0]  # 11 columns
    lines[2] = lines[2].rsplit(",", 1)[0] + ",1.5"  # not a whole number
    lines[3] = lines[3].rsplit(",", 1)[0] + ",-1"  # negative
    lines[4] = lines[4].replace("fer0000004.png", "missing.png")  # no such picture (and fer0000004.png has no row)
    lines[5] = lines[5].split('"', 2)[0] + '"(0, 0, 48, 48)",' + ",".join(["0"] * 10)  # nobody voted
    (folder / "label.csv").write_text("\n".join(lines) + "\n")
    dataset = load_dataset(folder)
    assert len(dataset.split("train")) == 3
    assert "FER2013Train/label.csv line 2: 11 columns, expected 12" in dataset.skipped[0]
    assert any("line 3: the vote '1.5' is not a whole number" in line for line in dataset.skipped)
    assert any("line 4: the vote '-1' is not a whole number" in line for line in dataset.skipped)
    assert any("line 5: no picture 'missing.png'" in line for line in dataset.skipped)
    assert "FER2013Train/fer0000004.png: no row in label.csv" in dataset.skipped
    assert dataset.left_out["train"] == {"no votes": ["fer0000005.png"]}


def test_the_pair_matches_rows_by_their_order_with_or_without_a_header_or_blank_lines(tmp_path):
    rng = np.random.default_rng(4)
    rows = [(face_pattern(index, rng), votes_for(emotion, 7, rng), "Training")
            for index, emotion in enumerate(["angry", "sad", "happy", "fear"])]
    folder = write_pair(tmp_path / "pair", rows)
    lines = (folder / "fer2013new.csv").read_text().splitlines()
    (folder / "fer2013new.csv").write_text("\n".join(lines[1:3] + [""] + lines[3:]) + "\n")  # no header, a blank line
    train = load_dataset(folder, cache_dir=tmp_path / "cache").split("train")
    assert [CLASSES[i] for i in train.labels] == ["angry", "sad", "happy", "fear"]
    assert all(np.array_equal(image, pixels) for image, (pixels, _, _) in zip(train.images, rows))


def test_a_bom_a_repeated_name_and_a_digit_int_cannot_read_cost_only_their_own_rows(tmp_path):
    folder = write_split_folder(tmp_path / "FER2013Train", learnable_rows(1, seed=5))
    lines = (folder / "label.csv").read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",\u00b2"  # a digit to str.isdigit, not to int
    lines.append(lines[3].rsplit(",", 1)[0] + ",9")  # fer0000003.png a second time
    (folder / "label.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    dataset = load_dataset(folder, cache_dir=tmp_path / "cache")
    assert dataset.split("train").sources == [f"fer{i:07d}.png" for i in (0, 1, 3, 4, 5, 6, 7)]
    assert dataset.skipped == ["FER2013Train/label.csv line 3: the vote '\u00b2' is not a whole number of votes (0 "
                               "or more)", "FER2013Train/label.csv line 9: 'fer0000003.png' is on line 4 already; "
                               "only that row is read"]


def test_a_label_file_not_separated_by_commas_says_so(tmp_path):
    folder = write_split_folder(tmp_path / "FER2013Train", learnable_rows(1, seed=6))
    lines = (folder / "label.csv").read_text().splitlines()
    (folder / "label.csv").write_text("\n".join(line.replace(",", "\t") for line in lines) + "\n")
    for read in (load_dataset, check_dataset):
        with pytest.raises(DatasetError, match=r"FER2013Train/label.csv has no row of 12 comma-separated cells; "
                                               r"1 columns, expected 12"):
            read(folder, cache_dir=tmp_path / "cache")


def test_a_cell_longer_than_the_csv_reader_takes_is_named_by_file_and_line(tmp_path):
    folder = write_split_folder(tmp_path / "FER2013Train", learnable_rows(1, seed=5))
    lines = (folder / "label.csv").read_text().splitlines()
    lines.insert(2, 'fer0000099.png,"' + "x" * 140_000 + '",1,0,0,0,0,0,0,0,0,9')
    (folder / "label.csv").write_text("\n".join(lines) + "\n")
    for read in (load_dataset, check_dataset):
        with pytest.raises(DatasetError, match=r"^FER2013Train/label.csv line 3: cannot be read \(field larger"):
            read(folder, cache_dir=tmp_path / "cache")


def test_a_label_file_of_too_many_rows_is_refused_before_any_picture_is_read(tmp_path, monkeypatch):
    folder = write_split_folder(tmp_path / "FER2013Train", learnable_rows(1, seed=3))
    monkeypatch.setattr(votes, "MAX_ROWS", 5)
    with pytest.raises(DatasetError, match=r"FER2013Train/label.csv has more than 5 rows"):
        load_dataset(folder)
    (folder / "label.csv").write_text("\n".join(["fer0000000.png"] * 6) + "\n")  # rows of the wrong shape count too
    with pytest.raises(DatasetError, match=r"FER2013Train/label.csv has more than 5 rows"):
        load_dataset(folder)
    with pytest.raises(DatasetError, match=r"more than 5 rows"):
        check_dataset(folder)


@pytest.mark.skipif(not (SHARED_FERPLUS / "FER2013Valid").is_dir(),
                    reason="FER+ not found at ../shared/datasets/ferplus (FER2013Valid/ expected there)")
def test_the_real_ferplus_validation_split_has_its_readmes_counts():
    dataset = load_dataset(SHARED_FERPLUS / "FER2013Valid")
    left_out = {reason: len(names) for reason, names in dataset.left_out["val"].items()}
    assert len(dataset.split("val")) == 3396 and left_out["tie"] == 159
    assert left_out["unknown"] + left_out["not a face"] == 24


def evaluate(model: Path, data: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "evaluate", str(model), str(data), "--runtime", "keras",
                           *flags], cwd=PROJECT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def voted_run(tmp_path_factory) -> tuple[Path, Path]:
    """A FER+ root of learnable synthetic faces (votes 6 of 10 for the face's class), and a small network
    trained on its votes by the project's own job."""
    from core.training.config import TrainConfig
    from core.training.job import train

    root = tmp_path_factory.mktemp("ferplus")
    write_split_folder(root / "FER2013Train", learnable_rows(24, seed=4))
    tie = [(face_pattern(0, np.random.default_rng(9)), counts(happiness=5, sadness=5))]  # left out of scores
    write_split_folder(root / "FER2013Test", learnable_rows(6, seed=5) + tie, start=1000)
    run = tmp_path_factory.mktemp("runs") / "voted"
    # small batches: enough steps for BatchNormalization's moving statistics to settle on 192 faces
    train(run, TrainConfig(data=str(root), arch="seed", epochs=16, batch_size=4, augment=False, seed=0))
    return root, run


def test_a_network_learns_from_votes_and_is_judged_against_the_majority(voted_run, tmp_path):
    root, run = voted_run
    result = evaluate(run, root / "FER2013Test", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["images"] == 48 and report["left_out"] == {"tie": 1}
    assert report["against"] == "the majority of votes"
    assert report["accuracy"] >= 0.8 > report["majority_baseline"] + 0.5  # told apart, on faces not taught
    assert set(report["per_class"]) == set(CLASSES)
    assert report["plausible"] >= report["accuracy"]  # every majority answer had at least 5 votes


def test_an_eight_class_model_on_seven_class_data_counts_its_other_answers_wrong(voted_run, tmp_path):
    _, run = voted_run
    from tests.synthetic import write_folder_dataset  # FER-2013's layout: seven classes, no contempt

    data = write_folder_dataset(tmp_path / "fer", per_class=3, splits=("test",))
    report = json.loads(evaluate(run, data, "--json").stdout)
    assert report["images"] == 21 and report["against"] == "labels"
    outside = sum(1 for index in report["predicted"] if report["classes"][index] == "contempt")
    assert report["answers_outside_data"] == outside
    assert report["per_class"]["contempt"]["support"] == 0


def test_a_seven_class_model_is_refused_on_eight_classes_unless_asked_to_leave_them_out(tiny_model, voted_run):
    root, _ = voted_run
    refused = evaluate(tiny_model, root / "FER2013Test")
    assert refused.returncode != 0 and "contempt, which the model does not know" in refused.stderr
    kept = evaluate(tiny_model, root / "FER2013Test", "--only-known-classes", "--json")
    report = json.loads(kept.stdout)
    assert report["images"] == 42 and report["left_out"] == {"tie": 1, "a class the model lacks (contempt)": 6}


def test_training_targets_are_each_faces_share_of_votes_and_balancing_follows_the_majority(tmp_path):
    from core.training.config import TrainConfig
    from core.training.data import prepare_training_data

    rows = learnable_rows(10, seed=6, agree=6)[:30] + learnable_rows(5, seed=7, agree=9)[15:]  # 10 of 3 classes, 5 of 5
    write_split_folder(tmp_path / "FER2013Train", rows)
    dataset = load_dataset(tmp_path / "FER2013Train")
    config = TrainConfig(data=str(tmp_path), val_fraction=0.2, test_split=None, balance="oversample")
    data = prepare_training_data(dataset, config)
    split = dataset.split("train")
    assert data["voted"] and np.allclose(data["targets"], split.votes / 10)
    assert np.array_equal(data["targets"].argmax(axis=1), data["labels"])
    balanced = np.bincount(data["labels"][data["train_indices"]], minlength=8)
    assert len(set(balanced.tolist())) == 1  # every majority class as often as the largest
    majority_only = prepare_training_data(dataset, TrainConfig(data=str(tmp_path), test_split=None, targets="majority"))
    assert set(np.unique(majority_only["targets"]).tolist()) == {0.0, 1.0} and not majority_only["voted"]


def test_a_warm_start_from_an_ensemble_network_keeps_the_columns_of_the_classes_both_know(tiny_model, tmp_path):
    from core.models.architectures import build_seed
    from core.models.store import load_model, save_model
    from core.training.ensemble import combine
    from core.training.model import load_initial_weights

    ensemble_dir = tmp_path / "ensemble"
    ensemble_dir.mkdir()
    save_model(combine([load_model(tiny_model), load_model(tiny_model)]), ensemble_dir / "model.keras")
    network = build_seed(len(CLASSES))
    with pytest.raises(ValueError, match="ensemble of 2 networks: name the one to start from with --init-member"):
        load_initial_weights(network, str(ensemble_dir), list(CLASSES))
    with pytest.raises(ValueError, match="has no network 'member_7'"):
        load_initial_weights(network, str(ensemble_dir), list(CLASSES), "member_7")
    fresh = network.get_weights()[-2].copy()
    load_initial_weights(network, str(ensemble_dir), list(CLASSES), "member_1")
    source = load_model(tiny_model).get_weights()
    kernel = network.get_weights()[-2]
    seven = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    for name in seven:
        assert np.array_equal(kernel[:, CLASSES.index(name)], source[-2][:, seven.index(name)])
    contempt = CLASSES.index("contempt")
    assert np.array_equal(kernel[:, contempt], fresh[:, contempt])
    assert all(np.array_equal(a, b) for a, b in zip(network.get_weights()[:-2], source[:-2]))
