"""Exporting a model to other runtimes, LiteRT (.tflite) and ONNX, and checking the export against Keras.

The export is the inference network only: the training-time augmentation layers are taken out (they
do nothing at inference, and ONNX has no kernels for their random ops). Weights stay float32, or are
stored as float16, or quantized to int8 with a representative sample of training faces calibrating
the activations. Inputs and outputs stay as in Keras: (N, 48, 48, 1) float32 pixels 0-255 in,
(N, 7) probabilities out.
"""

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

import keras
import numpy as np

from core.models.architectures import AUGMENTATION_LAYERS
from core.data.dataset import load_dataset
from core.evaluation.scores import labels_for_model
from core.models.inference import face_probabilities
from core.models.store import ModelError, load_model, model_classes, model_file, training_data_path
from core.storage.protected_paths import check_writable
from core.storage.runs import atomic_path, write_json
from core.storage.safe_files import read_json_file, read_regular_file

FORMATS = {"tflite": ".tflite", "onnx": ".onnx"}
QUANTIZATIONS = ("float16", "int8")  # None: float32
MIN_AGREEMENT = 0.99  # top-1 agreement with Keras an export must reach to pass its check
CHECK_FACES = 1000  # labelled faces the command line checks an export on
# The export that predictions use when it sits beside the model, checked (the report beside it,
# "<file>.json", passed and names the model file's hash): on 2 cores LiteRT int8 classified a face
# 2.8-6.8x faster than Keras, every other runtime at best 1.1x (docs/benchmarks.md).
FAST_EXPORT = ("tflite", "int8")
RUNTIMES = ("fast", "keras")  # fast: FAST_EXPORT when the model has a checked one, else Keras
MAX_EXPORT_BYTES = 256 * 2**20  # a fast export read to classify faces (the shipped ones: 5-9 MB)
REPRESENTATIVE_FACES = 1000  # training faces that calibrate int8 activations (200 left the shipped model at 98.4%)


def inference_copy(model: keras.Model) -> keras.Model:
    """The same network (sharing its weights) without augmentation layers, also inside ensemble members."""
    def call(layer, *args, **kwargs):
        return args[0] if isinstance(layer, AUGMENTATION_LAYERS) else layer(*args, **kwargs)

    copy = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call, recursive=True)
    copy(np.zeros((1, *model.input_shape[1:]), np.float32))  # exporters need a model that has been called
    return copy


def convert(model: keras.Model, fmt: str, quantize: str | None = None,
            representative: np.ndarray | None = None) -> bytes:
    """The model as a .tflite or .onnx file's bytes; int8 needs representative (N, 48, 48) uint8 faces."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
    if quantize not in (None, *QUANTIZATIONS):
        raise ValueError(f"unknown quantization '{quantize}': choose one of {', '.join(QUANTIZATIONS)}")
    if quantize == "int8" and (representative is None or not len(representative)):
        raise ValueError("int8 quantization needs a representative sample of training faces")
    model = inference_copy(model)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model" + FORMATS[fmt])
        if fmt == "tflite":
            model.export(path, format="litert", verbose=False, **_litert_options(quantize, representative))
        else:
            model.export(path, format="onnx", verbose=False)
            _quantize_onnx(path, quantize, representative)
        return Path(path).read_bytes()


def _litert_options(quantize: str | None, representative: np.ndarray | None) -> dict:
    import tensorflow as tf

    if quantize == "float16":
        return {"optimizations": [tf.lite.Optimize.DEFAULT], "target_spec": {"supported_types": [tf.float16]}}
    if quantize == "int8":
        return {"optimizations": [tf.lite.Optimize.DEFAULT],
                "representative_dataset": lambda: ([face[None, :, :, None].astype(np.float32)]
                                                   for face in representative)}
    return {}


def _quantize_onnx(path: str, quantize: str | None, representative: np.ndarray | None) -> None:
    """Rewrite the .onnx file at path with float16 weights or int8 (QDQ) weights and activations."""
    import onnx

    if quantize == "float16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        onnx.save(convert_float_to_float16(onnx.load(path), keep_io_types=True), path)
    elif quantize == "int8":
        from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, quantize_static

        name = onnx.load(path).graph.input[0].name

        class Faces(CalibrationDataReader):
            def __init__(self):
                self.faces = iter(representative)

            def get_next(self):
                face = next(self.faces, None)
                return None if face is None else {name: face[None, :, :, None].astype(np.float32)}

        quantized = path + ".int8"
        # Percentile ranges (99.999%) rather than min/max: on the shipped model 99.5% top-1 agreement with
        # Keras against 98.9% (entropy also 98.9%), on 1,000 test faces (docs/benchmarks.md).
        with contextlib.redirect_stdout(sys.stderr):  # its calibrator prints progress, which would spoil --json
            quantize_static(path, quantized, Faces(), per_channel=True, calibrate_method=CalibrationMethod.Percentile)
        os.replace(quantized, path)


class ExportedModel:
    """An exported model run by its own runtime, with Keras's predict_on_batch(x) -> (N, 7) interface,
    so core.models.inference.face_probabilities can use it in place of the Keras model. Calls are serialised:
    one loaded export may be shared by several threads (the Evaluate page caches it for every session),
    and a LiteRT interpreter must not run two calls at once."""

    def __init__(self, content: bytes, fmt: str, threads: int | None = None):
        threads = threads or os.cpu_count() or 1
        self.format = fmt
        self._lock = threading.Lock()
        if fmt == "tflite":
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_content=content, num_threads=threads)
            self._input = self._interpreter.get_input_details()[0]["index"]
            self._output = self._interpreter.get_output_details()[0]["index"]
            self._shape = None
        else:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            self._session = onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])
            self._input = self._session.get_inputs()[0].name

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            probabilities = self._run(np.ascontiguousarray(x, np.float32))
        return probabilities / probabilities.sum(axis=1, keepdims=True)  # int8 steps can leave sums off 1

    def _run(self, x: np.ndarray) -> np.ndarray:
        if self.format == "onnx":
            return self._session.run(None, {self._input: x})[0]
        if self._shape != x.shape:
            self._interpreter.resize_tensor_input(self._input, x.shape)
            self._interpreter.allocate_tensors()
            self._shape = x.shape
        self._interpreter.set_tensor(self._input, x)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output)


def compare(model: keras.Model, exported: ExportedModel, faces: np.ndarray, labels: np.ndarray) -> dict:
    """How far an export's probabilities are from the Keras model's on labelled faces (one view each)."""
    expected = face_probabilities(model, faces, "single")
    got = face_probabilities(exported, faces, "single")
    difference = np.abs(got - expected)
    agreement = float((got.argmax(axis=1) == expected.argmax(axis=1)).mean())
    return {"faces": int(len(faces)), "top1_agreement": agreement, "passed": agreement >= MIN_AGREEMENT,
            "max_probability_difference": float(difference.max()),
            "mean_probability_difference": float(difference.mean()),
            "keras_accuracy": float((expected.argmax(axis=1) == labels).mean()),
            "export_accuracy": float((got.argmax(axis=1) == labels).mean())}


def sample_faces(data: str, split: str | None, count: int, seed: int = 0,
                 classes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A random sample of a dataset split's faces and labels (split None: test, else the first); with
    classes, the labels index those (a model's) classes, matched by name."""
    dataset = load_dataset(data)
    name = split if split in dataset.splits else ("test" if "test" in dataset.splits else next(iter(dataset.splits)))
    faces = dataset.split(name)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(faces.labels))[:count])
    labels = labels_for_model(faces.labels, dataset.classes, classes) if classes else faces.labels
    return faces.images[chosen], labels[chosen]


def export_model(spec: str | Path, fmt: str, quantize: str | None = None, out: str | Path | None = None,
                 data: str | None = None, check_faces: int = CHECK_FACES) -> dict:
    """Export a model, write the file (default: beside the model) and check it against Keras; return the report.

    data: a labelled dataset (default: the one the model was trained on, from its card); the check uses
    a sample of its test split, int8 calibration a sample of its train split.
    """
    data = data or training_data_path(spec)
    if not data or not Path(data).expanduser().exists():
        raise ModelError("no labelled dataset to check the export on: give one (--data)")
    source = model_file(spec)
    out = Path(out) if out else export_path(source, fmt, quantize)
    for written in (out, Path(str(out) + ".json")):  # the export and its report; refused before anything is done
        check_writable(written, [source, data])
    model = load_model(spec)
    representative = sample_faces(data, "train", REPRESENTATIVE_FACES, seed=1)[0] if quantize == "int8" else None
    content = convert(model, fmt, quantize, representative)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as temporary:
        temporary.write_bytes(content)
    classes = model_classes(spec)
    faces, labels = sample_faces(data, "test", check_faces, classes=classes)
    report = {"path": str(out), "format": fmt, "quantize": quantize or "float32", "bytes": len(content),
              "model": source.name, "model_sha256": file_hash(source), "classes": classes} \
        | compare(model, ExportedModel(content, fmt), faces, labels)
    write_json(Path(str(out) + ".json"), report)
    return report


def export_path(model: Path, fmt: str, quantize: str | None) -> Path:
    """Where an export of a model file goes by default: beside it, e.g. model-int8.tflite."""
    return model.with_name(model.stem + (f"-{quantize}" if quantize else "") + FORMATS[fmt])


def fast_export(spec: str | Path) -> ExportedModel | None:
    """The model's checked FAST_EXPORT, loaded, or None: absent, failed its check, made from another
    version of the model file, or its runtime missing or unable to load it (then Keras does the work)."""
    path = fast_export_file(spec)
    try:
        report = read_json_file(Path(str(path) + ".json"))
        if not report.get("passed") or report.get("model_sha256") != file_hash(model_file(spec)):
            return None
        return ExportedModel(read_regular_file(path, MAX_EXPORT_BYTES), FAST_EXPORT[0])
    except Exception:  # a missing or broken file, a runtime that is not installed: all mean "use Keras"
        return None


def classifier(spec: str | Path, runtime: str = "fast", load=load_model) -> tuple[object, str]:
    """What classifies faces for a model, and its runtime's name: with runtime "fast" its checked fast
    export when it has one ("tflite int8"), else the Keras model, load(spec) ("keras"); load is called
    only then (a caller that keeps the Keras model loaded passes it through load)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime '{runtime}': choose one of {', '.join(RUNTIMES)}")
    exported = fast_export(spec) if runtime == "fast" else None
    if exported:
        return exported, " ".join(FAST_EXPORT)
    return load(spec), "keras"


def fast_export_file(spec: str | Path) -> Path:
    """Where the model's fast export sits when it has one (see fast_export)."""
    return export_path(model_file(spec), *FAST_EXPORT)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
