"""Grad-CAM: the map must light up the region that decides the class, for a network, an ensemble and a
network without convolutions (gradient saliency), and the command line writes one overlay per face."""

import keras
import numpy as np
import pytest
from PIL import Image

from core import cli
from core.training.ensemble import combine
from core.vision.explain import explain_faces, heatmaps

REGION = (slice(4, 20), slice(4, 20))  # the top-left square that decides the class
BLOB = 10  # side of a bright square


def region_faces(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noise faces, each with a bright square elsewhere; class 1 also has one inside REGION, class 0 not."""
    rng = np.random.default_rng(seed)
    faces = rng.integers(0, 80, (count, 48, 48), dtype=np.uint8)
    labels = np.arange(count) % 2
    for face, label in zip(faces, labels):
        y, x = rng.integers(26, 48 - BLOB, 2)  # a distractor in the lower right, in both classes
        face[y:y + BLOB, x:x + BLOB] = 230
        if label:
            y, x = rng.integers(REGION[0].start, REGION[0].stop - BLOB + 1, 2)
            face[y:y + BLOB, x:x + BLOB] = 230
    return faces, labels


def fit(model: keras.Model, epochs: int) -> keras.Model:
    faces, labels = region_faces(600)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(faces[..., None].astype(np.float32), labels, epochs=epochs, batch_size=32, verbose=0)
    return model


def conv_net() -> keras.Model:
    """Two conv blocks down to 12x12, then a dense softmax that can tell where a feature was."""
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for filters in (8, 16):
        x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(x)))


def dense_net() -> keras.Model:
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))


@pytest.fixture(scope="module")
def conv_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return fit(conv_net(), epochs=8)


def assert_region_lit(model: keras.Model) -> np.ndarray:
    faces, labels = region_faces(40, seed=1)
    faces = faces[labels == 1]
    predicted = np.asarray(model.predict_on_batch(faces[..., None].astype(np.float32))).argmax(axis=1)
    assert (predicted == 1).mean() >= 0.9, "the tiny model did not learn the synthetic task"
    maps, classes = heatmaps(model, faces)
    assert (classes == predicted).all()
    inside = np.zeros((48, 48), bool)
    inside[REGION] = True
    inside_mean, outside_mean = maps[:, inside].mean(), maps[:, ~inside].mean()
    assert inside_mean > 2 * outside_mean, (inside_mean, outside_mean)
    peaks = [np.unravel_index(m.argmax(), m.shape) for m in maps]
    assert np.mean([inside[p] for p in peaks]) >= 0.8
    return maps


def test_grad_cam_is_high_on_the_deciding_region(conv_model):
    assert_region_lit(conv_model)


def test_an_ensemble_averages_its_members_maps(conv_model):
    copy = keras.models.clone_model(conv_model)
    copy.set_weights(conv_model.get_weights())
    single = assert_region_lit(conv_model)
    together = assert_region_lit(combine([conv_model, copy]))  # identical members: the same map
    np.testing.assert_allclose(together, single, atol=1e-4)


def test_a_network_without_convolutions_gets_a_gradient_saliency_map():
    keras.utils.set_random_seed(0)
    assert_region_lit(fit(dense_net(), epochs=15))


def test_overlays_are_face_sized_colour_pictures(conv_model):
    faces, _ = region_faces(3)
    pictures = explain_faces(conv_model, faces, np.array([1, 1, 1]))
    assert len(pictures) == 3 and pictures[0].shape == (192, 192, 3) and pictures[0].dtype == np.uint8
    assert pictures[0].std(axis=2).mean() > 5  # coloured, not the gray face alone


def test_cli_explain_writes_an_overlay_per_face(conv_model, tmp_path, capsys):
    model_path = tmp_path / "region.keras"
    conv_model.save(model_path)
    faces, _ = region_faces(2)
    Image.fromarray(faces[1]).save(tmp_path / "face.png")
    assert cli.main(["explain", str(model_path), str(tmp_path / "face.png"), "--out", str(tmp_path / "out")]) == 0
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["face_face1.png"]
    assert Image.open(written[0]).size == (192, 192)
    printed = capsys.readouterr().out
    assert "face.png: face 1: " in printed and printed.strip().endswith("face_face1.png")
    assert cli.main(["explain", str(model_path), str(tmp_path / "missing.png"), "--out", str(tmp_path)]) == 2


def test_a_mixed_bfloat16_network_is_explained_too():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")  # as `train --precision mixed_bfloat16` builds it
    try:
        model = conv_net()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    maps, _ = heatmaps(model, region_faces(2)[0], np.array([0, 1]))  # was: OpenCV refused bfloat16 maps
    assert maps.dtype == np.float32 and maps.shape == (2, 48, 48) and np.isfinite(maps).all()
