"""Exports to LiteRT and ONNX: each format and quantization agrees with the Keras model on labelled
synthetic faces, quantized files are smaller, augmentation is left out, and the command line reports."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import pytest

from core import cli
from core.models.architectures import AUGMENTATION_LAYERS, build_seed
from core.training.ensemble import combine
from core.data.dataset import load_dataset
from core.evaluation.export import ExportedModel, convert, export_model, inference_copy, sample_faces
from core.prediction.pictures import FacePredictor
from core.evaluation.reports import report_file
from tests.synthetic import write_folder_dataset


@pytest.fixture(scope="module")
def bars(tmp_path_factory) -> Path:
    """ROOT/{train,test}/<emotion>/*.png: 30 faces per class and split, the class a bar's height."""
    return write_folder_dataset(tmp_path_factory.mktemp("bars"), per_class=30)


@pytest.fixture(scope="module")
def model_path(bars, tmp_path_factory) -> Path:
    """A small conv net with a training-time flip, trained on the bars (quick to train and to convert)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.RandomFlip("horizontal")(keras.layers.Rescaling(1 / 255)(inputs))
    for filters in (8, 16):
        x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x))
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(x)))
    faces, labels = sample_faces(str(bars), "train", 10_000)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(faces[..., None].astype(np.float32), labels, epochs=10, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_every_quantization_agrees_with_keras_and_shrinks_the_file(fmt, model_path, bars, tmp_path):
    reports = {quantize: export_model(model_path, fmt, quantize, out=tmp_path / f"m-{quantize}.{fmt}", data=str(bars))
               for quantize in (None, "float16", "int8")}
    for quantize, report in reports.items():
        assert report["passed"] and report["top1_agreement"] >= 0.99, (quantize, report)
        assert report["keras_accuracy"] > 0.9, "the model did not learn the bars"
        assert report["faces"] == 210 and Path(report["path"]).stat().st_size == report["bytes"]
    assert reports[None]["max_probability_difference"] < 1e-4
    assert reports["float16"]["max_probability_difference"] < 0.02
    assert reports["int8"]["max_probability_difference"] < 0.2
    assert reports["float16"]["bytes"] < 0.6 * reports[None]["bytes"]
    assert reports["int8"]["bytes"] < 0.5 * reports[None]["bytes"]  # int8 weights; scales and graph overhead


def seed_with_keras_augmentation() -> keras.Model:
    """The seed net as trained before augmentation moved into the training step: Keras' layers after scaling."""
    network = build_seed(7)
    inputs = keras.Input((48, 48, 1))
    x = network.layers[1](inputs)  # the scaling
    for layer in (keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.03),
                  keras.layers.RandomTranslation(0.1, 0.1), keras.layers.RandomZoom(0.1), keras.layers.RandomErasing()):
        x = layer(x)
    for layer in network.layers[2:]:
        x = layer(x)
    return keras.Model(inputs, x)


def test_exports_leave_augmentation_out_also_inside_ensemble_members():
    model = combine([seed_with_keras_augmentation(), seed_with_keras_augmentation()])
    copy = inference_copy(model)
    inner = [layer for member in copy.layers if isinstance(member, keras.Model) for layer in member.layers]
    assert len(inner) > 20 and not any(isinstance(layer, AUGMENTATION_LAYERS) for layer in inner)
    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(copy.predict_on_batch(faces), model.predict_on_batch(faces), atol=1e-6)
    assert copy.count_params() == model.count_params()


def test_an_exported_model_classifies_like_keras_in_batches_of_any_size(model_path):
    model = keras.saving.load_model(model_path)
    exported = ExportedModel(convert(model, "tflite"), "tflite")
    for count in (1, 3, 1):  # the interpreter is resized when the batch changes
        faces = np.random.default_rng(count).integers(0, 256, (count, 48, 48, 1)).astype(np.float32)
        np.testing.assert_allclose(exported.predict_on_batch(faces), model.predict_on_batch(faces), atol=1e-5)


def test_int8_without_training_faces_and_unknown_formats_are_refused(model_path):
    model = keras.saving.load_model(model_path)
    with pytest.raises(ValueError, match="representative"):
        convert(model, "tflite", "int8")
    with pytest.raises(ValueError, match="unknown format"):
        convert(model, "coreml")


def test_cli_export_writes_the_file_and_reports_the_check(model_path, bars, tmp_path, capsys):
    out = tmp_path / "phone.tflite"
    assert cli.main(["export", str(model_path), "--format", "tflite", "--quantize", "float16", "--out", str(out),
                     "--data", str(bars), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == str(out) and out.stat().st_size == report["bytes"] and report["quantize"] == "float16"
    assert report["top1_agreement"] >= 0.99
    out = tmp_path / "int8.onnx"  # onnxruntime's calibrator prints its progress: stdout must stay pure JSON
    assert cli.main(["export", str(model_path), "--format", "onnx", "--quantize", "int8", "--out", str(out),
                     "--data", str(bars), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == str(out) and report["passed"] and report["quantize"] == "int8"
    assert cli.main(["export", str(model_path), "--format", "onnx", "--data", str(tmp_path / "nowhere")]) == 2
    assert "no labelled dataset" in capsys.readouterr().err


def test_predictions_use_the_checked_int8_export_and_fall_back_to_keras(model_path, bars, tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(model_path.read_bytes())
    faces, _ = sample_faces(str(bars), "test", 20)
    keras_only = FacePredictor(model)
    assert keras_only.runtime == "keras"  # no export beside the model yet
    report = export_model(model, "tflite", "int8", data=str(bars))
    assert Path(report["path"]) == tmp_path / "model-int8.tflite" and report["passed"]
    fast = FacePredictor(model)
    assert fast.runtime == "tflite int8" and isinstance(fast.runner, ExportedModel)
    expected, got = keras_only.classify_faces(faces), fast.classify_faces(faces)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.95
    assert np.abs(got - expected).max() < 0.2 and not np.array_equal(got, expected)  # int8: close, not equal
    assert FacePredictor(model, use_export=False).runtime == "keras"
    runner, sizes = fast.runner, [1, 7, 20] * 10  # one loaded export, shared by threads (as the pages do)
    serial = {size: runner.predict_on_batch(faces[:size, ..., None].astype(np.float32)) for size in sizes}
    with ThreadPoolExecutor(4) as pool:
        shared = list(pool.map(lambda size: runner.predict_on_batch(faces[:size, ..., None].astype(np.float32)), sizes))
    assert all(np.array_equal(got, serial[size]) for size, got in zip(sizes, shared))

    sidecar, original = Path(report["path"] + ".json"), Path(report["path"] + ".json").read_text()
    sidecar.write_text(json.dumps(report | {"passed": False}))
    assert FacePredictor(model).runtime == "keras"  # an export that failed its check is not used
    sidecar.write_text(original)
    model.write_bytes(model_path.read_bytes() + b"\0")  # another version of the model file: the export is stale
    assert FacePredictor(model).runtime == "keras"
    model.write_bytes(model_path.read_bytes())
    Path(report["path"]).write_bytes(b"not a model")
    assert FacePredictor(model).runtime == "keras"  # a broken file: Keras, no crash


def test_evaluation_scores_as_predictions_run_unless_asked_for_keras(model_path, bars, tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.setenv("FER_RUNS_DIR", str(tmp_path / "runs"))
    model = tmp_path / "model.keras"
    model.write_bytes(model_path.read_bytes())
    dataset = load_dataset(bars)

    def evaluate(*options) -> dict:
        assert cli.main(["evaluate", str(model), str(bars), "--views", "mirror", "--json", *options]) == 0
        return json.loads(capsys.readouterr().out)
    before = report_file(model, dataset, "test", "mirror")
    assert evaluate()["runtime"] == "keras"  # no export yet: fast falls back to Keras
    export_model(model, "tflite", "int8", data=str(bars))
    assert report_file(model, dataset, "test", "mirror") != before  # a new export is scored afresh
    assert report_file(model, dataset, "test", "mirror", "keras") != report_file(model, dataset, "test", "mirror")
    fast, reference = evaluate(), evaluate("--runtime", "keras")
    assert fast["runtime"] == "tflite int8" and reference["runtime"] == "keras"
    agreement = np.mean(np.array(fast["predicted"]) == np.array(reference["predicted"]))
    assert agreement >= 0.95 and abs(fast["accuracy"] - reference["accuracy"]) <= 0.05
    with pytest.raises(SystemExit):  # not a choice: argparse's usage message
        cli.main(["evaluate", str(model), str(bars), "--runtime", "onnx"])
