"""Reading a .keras file's config.json before Keras builds anything from it: only the kinds of layer this
product makes, and a network small enough to load.

A .keras file is a zip holding config.json (the network, as JSON) and the weights. Keras allocates every
weight the config declares while it builds the model, so a 27-byte edit (Dense(300000)) would take
gigabytes before any check on the built model could run. Here the config is read as data: every object
in it must be a layer class the product builds (core.models.architectures, core.training.ensemble.combine, Keras'
augmentation layers in older models; the TrainingModel wrapper in checkpoints only), and the parameters
are counted from the input shape through the graph, without importing Keras.
Example: check_model_archive("models/fer2013/model.keras") -> {"parameters": 8819349, "layers": 126, "outputs": 7}
"""

import json
import math
import zipfile
from pathlib import Path

MAX_PARAMETERS = 50_000_000  # the shipped ensemble has 8.8M; 50M float32 weights are 200 MB
MAX_CONFIG_BYTES = 16 * 2**20  # config.json, metadata.json, a checkpoint's state
BYTES_PER_PARAMETER = 16  # a checkpoint's weights entry holds the weights, Adam's two slots and spare
ENTRY_SPARE_BYTES = 64 * 2**20
MAX_SIDE = 2**24  # the largest count one config field (units, filters, a kernel side, a dimension) may give

# The layer classes core.models.architectures, core.training.ensemble.combine and the older networks' augmentation use.
LAYERS = {"InputLayer", "Rescaling", "Conv2D", "BatchNormalization", "Activation", "MaxPooling2D", "Flatten",
          "Dropout", "Dense", "Add", "GlobalAveragePooling2D", "Average", "Concatenate",
          "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomErasing"}
MODELS = {("keras.src.models.functional", "Functional")}
# In a run's checkpoint.keras only; older versions of the product wrote the class from core.recipes.
TRAINING_WRAPPERS = {("core.training.recipes", "TrainingModel"), ("core.recipes", "TrainingModel")}
# What else a config names: dtype policies, initializers, regularizers, constraints (all plain values), and in a
# checkpoint the optimiser, its schedule and the loss.
SETTINGS = {
    "keras": {"DTypePolicy", "FloatDTypePolicy"},
    "keras.initializers": {"GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
                           "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
                           "VarianceScaling", "Orthogonal"},
    "keras.regularizers": {"L1", "L2", "L1L2"},
    "keras.constraints": {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"},
}
CHECKPOINT_SETTINGS = {
    "keras.optimizers": {"Adam", "AdamW", "SGD"},
    "keras.optimizers.schedules": {"CosineDecay", "ExponentialDecay", "PiecewiseConstantDecay"},
    "keras.losses": {"CategoricalCrossentropy"},
    "keras.metrics": {"CategoricalAccuracy", "MeanMetricWrapper"},
}
IDENTITY = {"Rescaling", "Activation", "Dropout", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
            "RandomErasing"}

Shape = tuple  # a tensor's shape, batch first; None where unknown


class ModelError(ValueError):
    """A model that cannot be found or loaded; the message says why."""


def check_model_archive(path: str | Path, checkpoint: bool = False) -> dict:
    """Refuse (ModelError, one line) a .keras archive whose config.json names a class this
    product never makes, whose network has over MAX_PARAMETERS parameters, or whose entries are far larger
    than its parameters need; read nothing but the zip's directory and its JSON. checkpoint: a run's
    checkpoint.keras (the training wrapper, its optimiser and loss allowed too).
    Returns the parameter and layer counts, and the width of the network's output (None where unknown).

    Example: check_model_archive("huge.keras") -> ModelError("huge.keras declares 693,600,007 parameters, ...")
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = {info.filename: info.file_size for info in archive.infolist()}
            if "config.json" not in entries:
                raise ModelError(f"{path.name} is not a Keras model (no config.json inside)")
            for name in ("config.json", "metadata.json"):
                if entries.get(name, 0) > MAX_CONFIG_BYTES:
                    raise ModelError(f"{path.name}'s {name} is {entries[name] / 2**20:,.0f} MB, over the "
                                     f"{MAX_CONFIG_BYTES // 2**20} MB any model of this product needs")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError) as error:
        raise ModelError(f"{path.name} is not a valid .keras file ({error})") from None
    except (ValueError, RecursionError):
        raise ModelError(f"{path.name}'s config.json is not readable JSON") from None
    try:
        counts = _check(config, checkpoint)
    except _Refused as refusal:
        raise ModelError(f"{path.name} {refusal}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError) as error:
        raise ModelError(f"{path.name}'s config.json does not describe a network this product reads "
                         f"({type(error).__name__}: {error})") from None
    if counts["parameters"] > MAX_PARAMETERS:
        raise ModelError(f"{path.name} declares {counts['parameters']:,} parameters, over the {MAX_PARAMETERS:,} "
                         "this product loads (its own networks have under 10 million): refused before building it")
    bound = BYTES_PER_PARAMETER * counts["parameters"] + ENTRY_SPARE_BYTES
    for name, size in entries.items():
        if size > bound:
            raise ModelError(f"{path.name}'s {name} unpacks to {size / 2**20:,.0f} MB, far more than its "
                             f"{counts['parameters']:,} parameters need: refused")
    return counts


class _Refused(Exception):
    """A reason, worded to follow the file's name."""


def _check(config: dict, checkpoint: bool) -> dict:
    layers = _check_classes(config, checkpoint)
    if (config.get("module"), config.get("class_name")) in TRAINING_WRAPPERS:
        inner = config["config"]
        networks = [inner["network"], *inner.get("teachers", [])]
    else:
        networks = [config]
    parameters, outputs = 0, []
    for network in networks:
        if (network.get("module"), network.get("class_name")) not in MODELS:
            raise _Refused(f"is a {network.get('class_name')!s:.40}, not a functional network")
        shapes, count = _trace(network["config"], None)
        parameters, outputs = parameters + count, outputs or shapes
    return {"parameters": parameters, "layers": layers, "outputs": outputs[0][-1]}


def _check_classes(config, checkpoint: bool) -> int:
    """Every object the config names must be an allowed class; returns how many layers it names."""
    allowed = {**SETTINGS, **(CHECKPOINT_SETTINGS if checkpoint else {})}
    layers, pending = 0, [config]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        # A model saved after compiling names its optimiser and loss in compile_config; load_model
        # (compile=False) never builds them, a checkpoint's load does (its settings are checked then).
        pending.extend(value for key, value in item.items() if checkpoint or key != "compile_config")
        if "class_name" not in item or item.get("class_name") == "__keras_tensor__":
            continue
        kind = (item.get("module"), item.get("class_name"))
        layer = kind[0] == "keras.layers" and kind[1] in LAYERS
        if layer or kind in MODELS or (checkpoint and kind in TRAINING_WRAPPERS):
            layers += 1
        elif kind[1] not in allowed.get(kind[0], ()):
            what = f"{kind[0]}.{kind[1]}" if kind[0] else str(kind[1])
            raise _Refused(f"holds {what[:80]}, which no network of this product uses (only its own layer "
                           "kinds are loaded): refused before building it")
    return layers


def _trace(config: dict, inputs: list[Shape] | None) -> tuple[list[Shape], int]:
    """The output shapes and parameter count of a functional network's config, given its input shapes
    (None: the shapes its InputLayers declare)."""
    shapes: dict[tuple, Shape] = {}
    parameters = 0
    input_names = [entry[0] for entry in _triples(config["input_layers"])]
    for layer in config["layers"]:
        name, kind, settings = layer["name"], layer["class_name"], layer["config"]
        if kind == "InputLayer":
            declared = settings.get("batch_shape") or [None, *settings["shape"]]
            given = inputs[input_names.index(name)] if inputs is not None and name in input_names else None
            shapes[(name, 0, 0)] = _shape(given or declared)
            continue
        for node_index, node in enumerate(layer["inbound_nodes"]):
            arguments = [shapes[tuple(reference)] for reference in _references(node["args"])]
            if not arguments:
                raise _Refused(f"has a layer '{str(name)[:40]}' called on nothing")
            if kind == "Functional":
                outputs, count = _trace(settings, arguments)
            else:
                outputs, count = _layer(kind, settings, arguments)
            if node_index == 0:
                parameters += count  # a layer called twice shares its weights
            for tensor_index, shape in enumerate(outputs):
                shapes[(name, node_index, tensor_index)] = shape
    return [shapes[tuple(entry)] for entry in _triples(config["output_layers"])], parameters


def _layer(kind: str, settings: dict, inputs: list[Shape]) -> tuple[list[Shape], int]:
    """Output shapes and parameters of one layer of the allowed kinds."""
    shape = inputs[0]
    if kind in IDENTITY:
        return [shape], 0
    if kind in ("Add", "Average"):
        return [shape], 0
    if kind == "Concatenate":  # side by side on the last axis (core.models.features)
        if settings.get("axis", -1) != -1 or any(len(given) != len(shape) for given in inputs):
            raise _Refused("has a Concatenate this product never makes (not on the last axis of like tensors)")
        widths = [given[-1] for given in inputs]
        return [(*shape[:-1], None if None in widths else sum(widths))], 0
    if kind == "Flatten":
        inner = shape[1:]
        return [(shape[0], None if None in inner else math.prod(inner))], 0
    if kind == "GlobalAveragePooling2D":
        return [(shape[0], *([1, 1] if settings.get("keepdims") else []), shape[-1])], 0
    if kind == "Dense":
        units, width = _count(settings["units"]), _known(shape[-1], "Dense")
        return [(*shape[:-1], units)], width * units + (units if settings.get("use_bias", True) else 0)
    if kind == "BatchNormalization":
        axis = settings.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) else axis
        channels = _known(shape[axis], "BatchNormalization")
        return [shape], channels * (2 + bool(settings.get("center", True)) + bool(settings.get("scale", True)))
    if kind == "Conv2D":
        _channels_last(settings)
        filters, (kernel_h, kernel_w) = _count(settings["filters"]), _pair(settings["kernel_size"])
        groups = _count(settings.get("groups", 1))
        channels = _known(shape[-1], "Conv2D")
        sides = _spatial(shape, (kernel_h, kernel_w), _pair(settings.get("strides", 1)),
                         settings.get("padding", "valid"), _pair(settings.get("dilation_rate", 1)))
        bias = filters if settings.get("use_bias", True) else 0
        weights = kernel_h * kernel_w * (channels // groups) * filters + bias
        return [(shape[0], *sides, filters)], weights
    if kind == "MaxPooling2D":
        _channels_last(settings)
        pool = _pair(settings.get("pool_size", 2))
        strides = _pair(settings.get("strides") or pool)
        return [(shape[0], *_spatial(shape, pool, strides, settings.get("padding", "valid"), (1, 1)), shape[-1])], 0
    raise _Refused(f"holds a layer of kind {kind[:40]}, which no network of this product uses")


def _spatial(shape: Shape, kernel, strides, padding: str, dilation) -> list:
    if len(shape) != 4:
        raise _Refused(f"applies a 2-D layer to a tensor of shape {shape}")
    sides = []
    for side, size, stride, rate in zip(shape[1:3], kernel, strides, dilation):
        if side is None:
            sides.append(None)
        elif padding == "same":
            sides.append(math.ceil(side / stride))
        else:
            sides.append(max(0, (side - rate * (size - 1) - 1) // stride + 1))
    return sides


def _channels_last(settings: dict) -> None:
    if settings.get("data_format", "channels_last") not in (None, "channels_last"):
        raise _Refused("has a channels-first layer; this product's networks are channels-last")


def _shape(values) -> Shape:
    return tuple(None if value is None else _count(value) for value in values)


def _count(value) -> int:
    """A whole count from the config, 1 to MAX_SIDE."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIDE:
        raise _Refused(f"declares a size of {str(value)[:20]}, outside 1 to {MAX_SIDE:,}")
    return value


def _pair(value) -> tuple[int, int]:
    values = value if isinstance(value, list) else [value, value]
    if len(values) != 2:
        raise _Refused(f"declares a 2-D size of {str(value)[:20]}")
    return _count(values[0]), _count(values[1])


def _known(value, kind: str) -> int:
    if value is None:
        raise _Refused(f"has a {kind} layer on an input of unknown size")
    return _count(value)


def _triples(value) -> list[list]:
    """input_layers / output_layers: one [name, node, tensor] or a list of them."""
    return [value] if value and isinstance(value[0], str) else list(value)


def _references(arguments) -> list[list]:
    """The [layer, node, tensor] of every tensor passed to a layer call, in order (lists nested)."""
    found, pending = [], [arguments]
    while pending:
        item = pending.pop(0)
        if isinstance(item, list):
            pending[:0] = item
        elif isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            found.append(item["config"]["keras_history"])
    return found
