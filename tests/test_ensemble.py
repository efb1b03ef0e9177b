"""Test-time views, half-precision model files, and ensembles of trained models."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.storage.runs import portable_path  # cards name models without the machine's folders
from core.training.ensemble import build_ensemble, combine
from core.models.inference import face_probabilities, face_views
from core.models.store import load_model, model_file, save_model
from core.training.job import train
from core.training.config import TrainConfig
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def second_model(tiny_data, tmp_path_factory) -> Path:
    """Another seed network on the same data and validation split, from a different start."""
    run_dir = tmp_path_factory.mktemp("runs") / "second"
    train(run_dir, TrainConfig(data=str(tiny_data), arch="seed", epochs=2, batch_size=8, augment=False, seed=0,
                               learning_rate=3e-3))
    return run_dir


def faces(count: int = 5) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (count, 48, 48), dtype=np.uint8)


def test_shifted_views_are_the_face_and_its_mirror_moved_two_pixels():
    face = faces(1)
    views = face_views(face, "shifted")
    assert len(views) == 10 and all(v.shape == face.shape for v in views)
    np.testing.assert_array_equal(views[0], face)
    np.testing.assert_array_equal(views[5], face[:, :, ::-1])
    np.testing.assert_array_equal(views[1][:, :, :-2], face[:, :, 2:])  # moved 2 px left
    np.testing.assert_array_equal(views[1][:, :, -2:], np.repeat(face[:, :, -1:], 2, axis=2))  # edge repeated
    np.testing.assert_array_equal(views[3][:, :-2], face[:, 2:])  # moved 2 px up
    assert len(face_views(face, "mirror")) == 2 and len(face_views(face, "single")) == 1


def test_view_probabilities_are_the_mean_over_the_views(tiny_model):
    model, batch = load_model(tiny_model), faces(300)  # more faces than one model call takes with 10 views
    each = [np.asarray(model.predict_on_batch(v.astype(np.float32)[..., None])) for v in face_views(batch, "shifted")]
    np.testing.assert_allclose(face_probabilities(model, batch, "shifted"), np.mean(each, axis=0), atol=1e-5)
    np.testing.assert_allclose(face_probabilities(model, batch, "single"), each[0], atol=1e-5)
    with pytest.raises(ValueError, match="unknown views 'ten'"):
        face_probabilities(model, batch, "ten")


def test_half_precision_file_is_half_the_size_and_predicts_the_same(tiny_model, tmp_path):
    model = load_model(tiny_model)
    save_model(model, tmp_path / "full.keras")
    save_model(model, tmp_path / "half.keras", half_precision=True)
    full, half = (tmp_path / "full.keras").stat().st_size, (tmp_path / "half.keras").stat().st_size
    assert full - half > 0.95 * 2 * model.count_params()  # two bytes saved per weight
    loaded = load_model(tmp_path / "half.keras")
    assert {str(w.dtype) for w in loaded.weights} == {"float32"}
    np.testing.assert_allclose(face_probabilities(loaded, faces()), face_probabilities(model, faces()), atol=5e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.keras", "half.keras"]  # no temporary left


def test_ensemble_averages_its_members_and_scores_itself(tiny_data, tiny_model, second_model, tmp_path):
    members = [load_model(tiny_model), load_model(second_model)]
    expected = np.mean([face_probabilities(m, faces()) for m in members], axis=0)
    np.testing.assert_allclose(face_probabilities(combine(members), faces()), expected, atol=1e-5)

    result = subprocess.run([sys.executable, "-m", "core", "ensemble", str(tiny_model), str(second_model),
                             "--out", str(tmp_path / "both")], cwd=PROJECT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "both").iterdir()) == ["card.json", "model.keras"]
    card = json.loads((tmp_path / "both" / "card.json").read_text())
    saved = load_model(tmp_path / "both")
    np.testing.assert_allclose(face_probabilities(saved, faces()), expected, atol=5e-3)
    # named without the machine's folders: the run folder and its model file
    assert [m["model"] for m in card["members"]] == [f"{model_file(run).parent.name}/model.keras"
                                                     for run in (tiny_model, second_model)]
    assert card["members"][0]["command"].startswith("python -m core train")
    assert card["architecture"] == "ensemble of seed + seed" and card["config"]["views"] == "shifted"
    # Scored on the members' own validation split (10% of 42 training images) and on the test split.
    assert card["validation"]["images"] == 5 and card["test"]["images"] == 42
    assert card["test"]["accuracy"] == pytest.approx(np.trace(card["test"]["confusion_matrix"]) / 42)
    assert card["command"].startswith(f"python -m core ensemble {portable_path(tiny_model)} {portable_path(second_model)} --out")


def test_ensemble_refuses_members_with_different_validation_splits(tiny_data, tiny_model, tmp_path):
    other = tmp_path / "other-split"
    train(other, TrainConfig(data=str(tiny_data), arch="seed", epochs=1, batch_size=8, augment=False, seed=1))
    with pytest.raises(ValueError, match="seed=1 .* their validation splits differ"):
        build_ensemble([str(tiny_model), str(other)], tmp_path / "mixed")
    with pytest.raises(ValueError, match="at least two"):
        build_ensemble([str(tiny_model)], tmp_path / "alone")
    assert not (tmp_path / "mixed").exists() and not (tmp_path / "alone").exists()
