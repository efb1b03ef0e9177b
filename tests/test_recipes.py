"""Training recipes: augmentation and mixing as batched ops, online teachers, EMA, final fits, bfloat16."""

import json

import keras
import numpy as np
import pytest

from core.storage.runs import portable_path  # cards name models without the machine's folders
from core.models.architectures import build_seed
from core.training.augmentation import FaceAugmentation, mix_batch, random_erasing
from core.models.store import load_model
from core.training.recipes import TrainingModel, build_optimizer, ema_weights_callback
from core.storage.runs import RunFolder
from core.training.job import train
from core.training.config import TrainConfig
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)


def one_hot(labels) -> np.ndarray:
    return keras.utils.to_categorical(labels, 7)


def test_augmentation_flips_about_half_the_faces_and_leaves_them_alone_outside_training():
    faces = np.zeros((400, 48, 48, 1), np.float32)
    faces[:, :, :24] = 200  # bright on the left
    layer = FaceAugmentation(seed=1)
    np.testing.assert_array_equal(np.asarray(layer(faces, training=False)), faces)
    augmented = np.asarray(layer(faces, training=True))
    assert augmented.shape == faces.shape and augmented.min() >= 0 and augmented.max() <= 255
    flipped = augmented[:, :, 24:].mean(axis=(1, 2, 3)) > augmented[:, :, :24].mean(axis=(1, 2, 3))
    assert 0.4 < flipped.mean() < 0.6
    assert not np.allclose(augmented[~flipped], faces[~flipped]), "rotations, shifts or zoom should move pixels"


def test_random_erasing_covers_2_to_15_percent_of_about_half_the_faces():
    faces = np.full((400, 48, 48, 1), 128, np.float32)
    erased = np.asarray(random_erasing(faces, keras.random.SeedGenerator(2))) != 128
    share = erased.mean(axis=(1, 2, 3))
    assert 0.4 < (share > 0).mean() < 0.6
    # Pixel-grid rounding lets a box cover a little more or less than its drawn area.
    assert share[share > 0].min() > 0.01 and share.max() < 0.2


@pytest.mark.parametrize("mix", ["mixup", "cutmix"])
def test_mixing_blends_each_face_with_its_partner_and_the_labels_in_the_same_shares(mix):
    faces = np.stack([np.full((48, 48, 1), 10.0 * i, np.float32) for i in range(1, 7)])
    labels = one_hot(range(6))
    mixed, targets = (np.asarray(t) for t in mix_batch(faces, labels, mix, keras.random.SeedGenerator(3)))
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-5)
    for i in range(6):
        own, partner = targets[i, i], targets[i, 5 - i]  # the partner is the face at the mirrored position
        np.testing.assert_allclose(own + partner, 1, atol=1e-5)
        if mix == "mixup":
            np.testing.assert_allclose(mixed[i], own * faces[i] + partner * faces[5 - i], rtol=1e-4)
        else:
            from_own = np.isclose(mixed[i], faces[i])
            assert np.all(from_own | np.isclose(mixed[i], faces[5 - i]))
            assert from_own.mean() == pytest.approx(own, abs=1e-5)
    unchanged = mix_batch(faces, labels, "none", keras.random.SeedGenerator(3))
    np.testing.assert_array_equal(np.asarray(unchanged[1]), labels)


def test_online_teachers_set_the_targets_on_the_batch_the_student_sees():
    teacher, student = build_seed(7), build_seed(7)
    faces = np.random.default_rng(0).integers(0, 255, (5, 48, 48, 1)).astype(np.uint8)
    labels = one_hot([0, 1, 2, 3, 4])
    model = TrainingModel(student, augment=False, teachers=[teacher], teacher_weight=0.25)
    probabilities, targets = model((faces, labels), training=True)
    expected = 0.75 * labels + 0.25 * np.asarray(teacher(faces.astype(np.float32), training=False))
    np.testing.assert_allclose(np.asarray(targets), expected, atol=1e-5)
    assert not teacher.trainable and model.trainable_weights == student.trainable_weights
    _, plain = model((faces, labels), training=False)  # validation scores against the labels alone
    np.testing.assert_array_equal(np.asarray(plain), labels)


def trainable(model) -> list[np.ndarray]:
    return [np.asarray(weight) for weight in model.trainable_weights]


def small_network() -> keras.Model:
    """A few-weight net without dropout, whose training is repeatable to the last bit on a CPU."""
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(8, 3)(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.BatchNormalization()(x))
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))


def test_ema_is_what_is_validated_and_checkpointed_and_a_resume_continues_it_exactly(tmp_path):
    faces = np.random.default_rng(0).integers(0, 255, (40, 48, 48, 1)).astype(np.uint8)
    labels = one_hot(np.arange(40) % 7)
    fit = {"batch_size": 20, "shuffle": False, "verbose": 0, "epochs": 4,
           "validation_data": ((faces[:10], labels[:10]), labels[:10])}

    def trained(ema: float | None, callbacks) -> TrainingModel:
        keras.utils.set_random_seed(0)
        model = TrainingModel(small_network(), augment=False)
        model.compile(optimizer=build_optimizer("sgd", 0.5, "constant", 0.5, None, 1e-4, 8, 2, ema=ema),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit((faces, labels), labels, callbacks=callbacks, **fit)
        return model

    class CheckpointFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.save(tmp_path / "checkpoint.keras")

    averaged = trained(0.9, [ema_weights_callback(resumed=False), CheckpointFirstEpoch()])
    raw = trained(None, [])
    assert max(np.abs(a - r).max() for a, r in zip(trainable(averaged), trainable(raw))) > 1e-3

    resumed = keras.saving.load_model(tmp_path / "checkpoint.keras", safe_mode=True)
    resumed.fit((faces, labels), labels, initial_epoch=1, callbacks=[ema_weights_callback(resumed=True)], **fit)
    for mine, whole in zip(trainable(resumed), trainable(averaged), strict=True):
        np.testing.assert_allclose(mine, whole, atol=1e-6)


def test_final_fit_without_validation_keeps_the_last_epoch_in_float32_after_bfloat16_training(tiny_data, tiny_model,
                                                                                             tmp_path):
    run_dir = tmp_path / "final"  # every recipe option at once, online teacher included, on train + validation
    card = train(run_dir, TrainConfig(data=str(tiny_data), arch="seed", epochs=2, batch_size=8, val_fraction=0,
                                      teachers=[str(tiny_model)], distillation="online", optimizer="sgd", mix="mixup",
                                      ema=0.99, precision="mixed_bfloat16"))
    assert card["command"].endswith(f"--teachers {portable_path(tiny_model)} --distillation online --optimizer sgd --mix mixup "
                                    "--ema 0.99 --precision mixed_bfloat16")
    assert card["validation"] == {} and card["test"]["images"] == 42
    assert sum(card["data_counts"]["train_balanced"]) == 42
    model = load_model(run_dir)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    last = keras.saving.load_model(RunFolder(run_dir).checkpoint_file, safe_mode=True).network
    assert {layer.dtype_policy.name for layer in last.layers[2:-1]} == {"mixed_bfloat16"}
    for saved, trained in zip(trainable(model), trainable(last), strict=True):
        np.testing.assert_array_equal(saved, trained)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_unknown_recipe_options_are_clear_errors():
    for option, value in (("mix", "blend"), ("optimizer", "lion"), ("distillation", "later"),
                          ("precision", "float8")):
        with pytest.raises(ValueError, match=f"unknown {option} '{value}'"):
            TrainConfig(data="x", **{option: value})
    with pytest.raises(ValueError, match="EMA momentum"):
        TrainConfig(data="x", ema=1.5)
