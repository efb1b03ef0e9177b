"""Your own classes from one folder of class folders: read, split by person, trained from the shipped model's
features (--preset quick: scored on each person left out, then taught on everyone), and taken by every consumer under their own names."""

import csv
import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.balance import split_by_person
from core.cli import main
from core.data.dataset import load_dataset
from core.data.emotions import EMOTIONS
from core.data.votes import CLASSES as FERPLUS_CLASSES
from core.models.store import model_classes
from core.prediction.pictures import FacePredictor, draw_predictions
from core.storage.runs import RunFolder
from tests.hostile import command, refused
from tests.synthetic import face_pattern, write_moving_faces_video

CLASSES = ("bored", "confused", "focused")  # not FER-2013's: sorted by name


def write_own_classes(root: Path, people: int = 6, per_person: int = 3, seed: int = 0) -> Path:
    """ROOT/<class>/p<k>__<n>.png: a learnable bar pattern per class, `people` people a class."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASSES):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for person in range(people):
            for index in range(per_person):
                Image.fromarray(face_pattern(label * 2, rng)).save(folder / f"p{person:02d}__{index}.png")
    return root


@pytest.fixture(scope="module")
def own_data(tmp_path_factory) -> Path:
    return write_own_classes(tmp_path_factory.mktemp("own") / "classroom")


@pytest.fixture(scope="module")
def own_run(own_data, tmp_path_factory) -> Path:
    """A run trained with the quick preset through the command line."""
    run_dir = tmp_path_factory.mktemp("own-runs") / "quick"
    assert main(["train", str(own_data), "--run-dir", str(run_dir), "--preset", "quick", "--seed", "0"]) == 0
    return run_dir


def astronaut_frame(size: int = 400, scale: int = 220, left: int = 90, top: int = 60) -> np.ndarray:
    """A full-frame picture: the astronaut's head and shoulders on a plain background, larger than a crop."""
    from skimage import data as skimage_data

    portrait = np.asarray(Image.fromarray(skimage_data.astronaut()[0:300, 100:400]).resize((scale, scale)))
    frame = np.full((size, size, 3), 90, np.uint8)
    frame[top:top + scale, left:left + scale] = portrait
    return frame


# --- classes come from the data ------------------------------------------------------------------

def test_a_folder_of_own_class_folders_is_a_dataset_with_their_names_and_people(own_data):
    dataset = load_dataset(own_data)
    assert dataset.classes == list(CLASSES) and list(dataset.splits) == ["classroom"]
    split = dataset.split("classroom")
    assert len(split) == 3 * 6 * 3 and set(split.people) == {f"p{k:02d}" for k in range(6)}


def test_fer_aliases_still_map_to_the_seven_and_other_folders_are_classes_of_their_own(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("Anger", "contempt", "Happiness", "fearful"):
        (tmp_path / "lab" / name).mkdir(parents=True)
        Image.fromarray(face_pattern(1, rng)).save(tmp_path / "lab" / name / "S005_001_00000011.png")
    dataset = load_dataset(tmp_path / "lab")
    assert dataset.classes == ["angry", "contempt", "fear", "happy"]
    assert dataset.split("lab").people == ["S005"] * 4


# --- the split by person -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_the_split_by_person_never_puts_one_person_on_both_sides(seed):
    rng = np.random.default_rng(seed)
    people = [f"person{rng.integers(40)}" for _ in range(400)]
    labels = rng.integers(0, 4, 400)
    kept, held, by_person = split_by_person(labels, people, 0.15, seed)
    assert by_person and len(held) and len(kept) + len(held) == 400
    assert not {people[i] for i in kept} & {people[i] for i in held}
    assert set(labels[held]) == set(range(4))  # stratified: every class held out too


def test_a_quick_run_scores_each_person_left_out_and_keeps_a_model_taught_on_everyone(own_run):
    people = [f"p{k:02d}" for k in range(6)]
    split = json.loads((own_run / "split.json").read_text())
    assert split["people"] == {"train": people, "validation": [], "test": []}
    assert len(split["pictures"]["train"]) == 54 and split["pictures"]["validation"] == []
    card = json.loads((own_run / "card.json").read_text())
    assert card["classes"] == list(CLASSES) and card["config"]["classes"] == list(CLASSES)
    assert card["config"]["arch"] == "features" and card["config"]["preset"] == "quick"
    report = card["new_people"]
    assert report["scored"] and sorted(report["per_person"]) == people and report["to_add"] == []
    assert all(row["faces"] == 9 for row in report["per_person"].values())  # 3 classes of 3 different faces each
    assert card["validation"]["images"] == report["faces"] == 54 and card["validation"]["split"].startswith("people")
    assert card["validation"]["accuracy"] == report["accuracy"] > report["majority_baseline"]
    assert (own_run / "model.keras").stat().st_size < 20_000_000  # kept as small as the shipped networks


# --- every consumer takes the model's own classes ------------------------------------------------

def test_evaluate_prints_the_own_classes(own_run, own_data, capsys):
    assert main(["evaluate", str(own_run), str(own_data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["per_class"]) == list(CLASSES) and report["images"] == 54
    assert report["accuracy"] > report["majority_baseline"]  # the bars are learnable in a few epochs


def test_predict_json_csv_and_drawing_use_the_own_classes(own_run, tmp_path, capsys):
    Image.fromarray(astronaut_frame()).save(tmp_path / "photo.jpg")
    assert main(["predict", str(own_run), str(tmp_path / "photo.jpg"), "--json"]) == 0
    faces = json.loads(capsys.readouterr().out)[0]["faces"]
    assert len(faces) == 1 and list(faces[0]["probabilities"]) == list(CLASSES) and faces[0]["emotion"] in CLASSES
    assert main(["predict", str(own_run), str(tmp_path), "--csv", str(tmp_path / "faces.csv")]) == 0
    with open(tmp_path / "faces.csv", newline="") as file:
        header = next(csv.reader(file))
    assert header[-4:] == [*CLASSES, "error"] and not set(EMOTIONS) & set(header)
    predictor = FacePredictor(own_run)
    assert predictor.classes == list(CLASSES)
    drawn = draw_predictions(astronaut_frame(), predictor.predict_rgb(astronaut_frame()))
    assert drawn.shape == (400, 400, 3)


def test_video_rows_and_grad_cam_use_the_own_classes(own_run, tmp_path, capsys):
    from core.prediction.video import columns, predict_video

    predictor = FacePredictor(own_run)
    video = write_moving_faces_video(tmp_path / "two.mp4", frames=6)
    predict_video(predictor, video, tmp_path / "two.csv", every=3)
    with open(tmp_path / "two.csv", newline="") as file:
        assert next(csv.reader(file)) == columns(list(CLASSES))
    Image.fromarray(astronaut_frame()).save(tmp_path / "photo.png")
    assert main(["explain", str(own_run), str(tmp_path / "photo.png"), "--out", str(tmp_path / "why")]) == 0
    out = capsys.readouterr().out
    assert any(name in out for name in CLASSES), out
    assert len(list((tmp_path / "why").glob("*.png"))) == 1


def test_export_names_the_own_classes(own_run, tmp_path, capsys):
    out = tmp_path / "own.tflite"
    assert main(["export", str(own_run), "--format", "tflite", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == list(CLASSES)
    assert json.loads(Path(str(out) + ".json").read_text())["classes"] == list(CLASSES)


def test_ensemble_members_must_share_their_classes(own_run, tmp_path, capsys):
    refused(capsys, "ensemble", own_run, "models/default", "--out", tmp_path / "mixed",
            match="ensemble members must share their classes")
    assert not (tmp_path / "mixed").exists()


def test_a_model_of_other_classes_than_the_data_is_refused_clearly(own_run, own_data, tiny_data, capsys):
    refused(capsys, "evaluate", "models/default", own_data, match="which the model does not know")
    refused(capsys, "evaluate", own_run, tiny_data / "test", match="which the model does not know")


def test_the_shipped_models_keep_their_classes(tmp_path):
    assert model_classes("models/fer2013") == list(EMOTIONS)
    assert model_classes("models/default") == list(FERPLUS_CLASSES)


# --- faces at ingest -----------------------------------------------------------------------------

def test_full_frame_pictures_have_their_face_found_and_the_others_are_listed(tmp_path, capsys):
    happy = tmp_path / "portraits" / "happy"
    happy.mkdir(parents=True)
    for index, (left, top) in enumerate(((90, 60), (20, 150), (160, 10))):
        Image.fromarray(astronaut_frame(left=left, top=top)).save(happy / f"frame{index}.jpg")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8)).save(happy / "noise.png")
    pair = np.hstack([astronaut_frame(), astronaut_frame()])
    Image.fromarray(pair).save(happy / "two-people.jpg")
    Image.fromarray(face_pattern(3, np.random.default_rng(1))).save(happy / "crop.png")  # a crop goes in as it is
    assert main(["stats", str(tmp_path / "portraits"), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["splits"]["portraits"]["classes"] == {"happy": 4} and stats["faces_found"] == 3
    assert stats["skipped_faces"] == {"happy": {"no_face": ["happy/noise.png"], "several_faces": ["happy/two-people.jpg"]}}


def test_evaluate_on_full_frames_scores_the_faces_predict_finds(tmp_path, capsys):
    happy = tmp_path / "portraits" / "happy"
    happy.mkdir(parents=True)
    for index, (left, top, scale) in enumerate(((90, 60, 220), (20, 150, 180), (160, 10, 240))):
        Image.fromarray(astronaut_frame(scale=scale, left=left, top=top)).save(happy / f"frame{index}.jpg")
    assert main(["evaluate", "models/default", str(tmp_path / "portraits"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    predictor = FacePredictor("models/default")
    predicted = [predictor.predict_file(happy / f"frame{index}.jpg")[1][0].emotion for index in range(3)]
    assert report["images"] == 3 and [report["classes"][i] for i in report["predicted"]] == predicted


# --- bad input: a clear line, nothing written ---------------------------------------------------

def one_picture(folder: Path, name: str = "p01__0.png", label: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(face_pattern(label, np.random.default_rng(label))).save(folder / name)


@pytest.mark.parametrize("case, match", [
    ("one-class", "one class only"),
    ("empty-class", "no usable pictures in the class(es) bored"),
    ("one-picture", "too few pictures to learn from in: bored"),
    ("case-only", "differ only in case"),
    ("unicode-form-only", "how an accented letter is encoded"),
    ("too-many", "at most 50 classes"),
    ("no-face", "no face found in any picture"),
])
def test_data_a_run_cannot_learn_from_is_refused_before_the_run_is_written(tmp_path, capsys, case, match):
    data = tmp_path / "data"
    if case == "one-class":
        for person in range(4):
            one_picture(data / "focused", f"p{person}__0.png")
    elif case in ("empty-class", "one-picture"):
        write_own_classes(data, people=3, per_person=2)
        for file in (data / "bored").iterdir():
            file.unlink()
        if case == "one-picture":
            one_picture(data / "bored")
    elif case == "case-only":
        write_own_classes(data, people=3, per_person=2)
        one_picture(data / "Bored")
    elif case == "unicode-form-only":  # "café" as written on one machine and on another
        for index, form in enumerate(("NFC", "NFD")):
            for person in range(3):
                one_picture(data / unicodedata.normalize(form, "café"), f"p{person}__0.png", index)
    elif case == "too-many":
        for index in range(51):
            one_picture(data / f"class{index:02d}")
    else:
        for name in CLASSES:
            (data / name).mkdir(parents=True)
            Image.fromarray(np.full((200, 200), 128, np.uint8)).save(data / name / "blank.png")
    refused(capsys, "train", data, "--run-dir", tmp_path / "run", "--preset", "quick", match=match)
    assert not (tmp_path / "run").exists()


def test_a_class_folder_name_that_is_not_utf8_is_refused(tmp_path, capsys):
    write_own_classes(tmp_path / "data", people=3, per_person=2)
    import os

    os.mkdir(os.fsencode(str(tmp_path / "data")) + b"/caf\xe9")
    one_picture(Path(os.fsdecode(os.fsencode(str(tmp_path / "data")) + b"/caf\xe9")))
    refused(capsys, "stats", tmp_path / "data", match="not UTF-8")


def test_the_same_picture_in_two_classes_is_reported(tmp_path, capsys):
    write_own_classes(tmp_path / "data", people=3, per_person=2)
    copy = (tmp_path / "data" / "bored" / "p00__0.png").read_bytes()
    (tmp_path / "data" / "focused" / "p09__9.png").write_bytes(copy)
    code, out, _ = command(capsys, "stats", tmp_path / "data", "--json")
    assert code == 0
    warnings = json.loads(out)["warnings"]
    assert any("the same picture is in two classes: bored/p00__0.png (bored) and focused/p09__9.png (focused)" in line
               for line in warnings)


def test_a_run_that_learns_little_says_so(tmp_path, capsys):
    """Every picture the same flat gray: no model can do better than always answering one class, and the
    run says so at its end, with what to try."""
    for name in ("left", "right"):
        for index in range(16):
            folder = tmp_path / "flat" / name
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((48, 48), 128 + index % 2, np.uint8)).save(folder / f"p{index:02d}__0.png")
    code, out, err = command(capsys, "train", tmp_path / "flat", "--run-dir", tmp_path / "run", "--arch", "seed",
                             "--epochs", "1", "--batch-size", "8", "--no-augment", "--precision", "float32")
    assert code == 0, err
    card = RunFolder(tmp_path / "run").card()
    assert card["learned_little"] and "it learned little" in err and "--preset quick" in err


@pytest.mark.parametrize("arch", ["features", "transfer"])
def test_a_network_that_starts_from_learned_features_is_not_told_to_start_from_them(arch):
    """--preset quick --arch transfer learns from the shipped networks' features already: what it is told to try
    after learning little is better examples, not --preset quick."""
    from core.cli.training_commands import _advice

    assert "--preset quick" not in _advice(arch) and "more examples of each class" in _advice(arch)
    assert "--preset quick" in _advice("vgg")
