"""A .keras file's config.json is read before Keras builds anything: only the layer kinds this product makes,
and at most MAX_PARAMETERS counted from the input shape; a refusal is one line, under 2 GB of memory."""

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import keras
import pytest

from core.models import checks as model_checks
from core.models.architectures import ARCHITECTURES
from core.training.ensemble import combine
from core.models.checks import MAX_PARAMETERS, check_model_archive
from core.data.emotions import EMOTIONS
from core.evaluation.export import fast_export
from core.models.store import ModelError, load_model, model_classes, read_card
from core.storage.safe_files import MAX_JSON_BYTES
from tests.hostile import PRINT_OWN_PEAK, refused
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def small_model() -> keras.Model:
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(x))
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))


def rewritten(source: Path, target: Path, change) -> Path:
    """A copy of a .keras archive whose config.json is change(config)."""
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return target


def layer(config: dict, kind: str) -> dict:
    return next(entry for entry in config["config"]["layers"] if entry["class_name"] == kind)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "small.keras"
    small_model().save(path)
    return path


def huge_dense(config: dict) -> None:
    layer(config, "Dense")["config"]["units"] = 300_000  # 2,304 x 300,000 weights: 2.8 GB as float32


def test_a_dense_layer_of_300000_units_is_refused_by_its_count_before_keras_builds_it(capsys, saved, tmp_path):
    path = rewritten(saved, tmp_path / "huge.keras", huge_dense)
    line = refused(capsys, "predict", path, tmp_path / "any.png", match="huge.keras declares 693,600,007 parameters")
    assert f"over the {MAX_PARAMETERS:,} this product loads" in line


def test_the_refusal_stays_under_2_gb(saved, tmp_path):
    path = rewritten(saved, tmp_path / "huge.keras", huge_dense)
    probe = textwrap.dedent("""
        import sys
        from core.models.store import ModelError, load_model
        try:
            load_model(sys.argv[1])
        except ModelError as error:
            print(error)
    """) + PRINT_OWN_PEAK
    result = subprocess.run([sys.executable, "-c", probe, str(path)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=300)
    message, peak = result.stdout.strip().splitlines()
    assert "declares 693,600,007 parameters" in message and int(peak) < 2 * 2**30, (message, peak)


@pytest.mark.parametrize("change, match", [
    (lambda c: layer(c, "Flatten").update(class_name="Lambda"), "holds keras.layers.Lambda, which no network"),
    (lambda c: layer(c, "Flatten").update(module="os", class_name="system"), "holds os.system, which no network"),
    (lambda c: layer(c, "Dense")["config"].update(kernel_initializer={"module": "keras.initializers",
                                                                        "class_name": "Lambda", "config": {}}),
     "holds keras.initializers.Lambda"),
    (lambda c: layer(c, "Dense")["config"].update(units=-3), "declares a size of -3"),
    (lambda c: layer(c, "Dense")["config"].update(units="7"), "declares a size of 7"),
    (lambda c: c.update(class_name="TrainingModel", module="core.training.recipes"), "holds core.training.recipes.TrainingModel"),
])
def test_a_layer_or_setting_the_product_never_makes_is_refused_by_name(saved, tmp_path, change, match):
    path = rewritten(saved, tmp_path / "odd.keras", change)
    with pytest.raises(ModelError, match=match):
        load_model(path)


def test_every_network_the_product_builds_is_counted_exactly(tmp_path):
    members = []
    for name, architecture in ARCHITECTURES.items():
        network = architecture.build(5)
        network.save(tmp_path / f"{name}.keras")
        assert check_model_archive(tmp_path / f"{name}.keras")["parameters"] == network.count_params(), name
        members.append(network)
    ensemble = combine(members[:2] + members[3:4])
    ensemble.save(tmp_path / "ensemble.keras")
    assert check_model_archive(tmp_path / "ensemble.keras")["parameters"] == ensemble.count_params()


def test_the_shipped_model_and_a_runs_checkpoint_pass(tiny_model):
    for shipped, parameters in (("fer2013", 8_819_349), ("default", 5_293_408)):
        assert check_model_archive(PROJECT_ROOT / "models" / shipped / "model.keras")["parameters"] == parameters
    check_model_archive(tiny_model / "checkpoint.keras", checkpoint=True)  # the training wrapper, its optimiser
    with pytest.raises(ModelError, match="core.training.recipes.TrainingModel"):
        check_model_archive(tiny_model / "checkpoint.keras")  # never as a model to predict with


def test_an_entry_far_larger_than_the_parameters_need_is_refused(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(model_checks, "ENTRY_SPARE_BYTES", 1000)
    path = rewritten(saved, tmp_path / "padded.keras", lambda c: None)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("padding.bin", bytes(20 * 2**20))
    with pytest.raises(ModelError, match="padding.bin unpacks to 20 MB, far more than its 36,999 parameters need"):
        check_model_archive(path)


def test_a_config_that_is_not_json_is_one_line(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["config.json"] = b"{" * 100_000
    with zipfile.ZipFile(tmp_path / "deep.keras", "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelError, match="deep.keras's config.json is not readable JSON"):
        check_model_archive(tmp_path / "deep.keras")


def test_a_model_saved_after_compiling_is_loaded(tmp_path):
    """Its config names the optimiser and loss (compile_config), which loading for prediction never builds."""
    model = small_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "compiled.keras")
    assert check_model_archive(tmp_path / "compiled.keras")["parameters"] == model.count_params()
    load_model(tmp_path / "compiled.keras")
    path = rewritten(tmp_path / "compiled.keras", tmp_path / "odd.keras",
                     lambda c: layer(c, "Flatten").update(class_name="Lambda"))
    with pytest.raises(ModelError, match="holds keras.layers.Lambda"):  # the network itself is still checked
        load_model(path)


@pytest.mark.parametrize("shipped, classes", [("default", [f"class {i}" for i in range(1, 9)]),
                                              ("fer2013", list(EMOTIONS))])
def test_a_model_file_without_its_card_is_named_by_its_own_number_of_outputs(tmp_path, shipped, classes):
    """An ensemble's last layer (an average of its members) has no width of its own: its members' outputs give
    it, so the eight-class default copied alone is not read with FER-2013's seven names."""
    bare = tmp_path / f"{shipped}.keras"
    bare.write_bytes((PROJECT_ROOT / "models" / shipped / "model.keras").read_bytes())
    assert model_classes(bare) == classes
    assert len(model_classes(bare)) == load_model(bare).output_shape[-1]


def test_files_beside_a_model_are_read_within_bounds_or_passed_over(tmp_path):
    """card.json and the fast export's files are read only as regular files of a bounded size: a link to
    /dev/zero, a huge or deeply nested card, or a card that is not an object leaves the model without a card
    (or its export), never reading without end."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("model.keras", "model-int8.tflite", "model-int8.tflite.json"):
        (folder / name).write_bytes((PROJECT_ROOT / "models" / "default" / name).read_bytes())
    assert fast_export(folder) is not None
    for name in ("model-int8.tflite", "model-int8.tflite.json"):
        kept = (folder / name).read_bytes()
        (folder / name).unlink()
        (folder / name).symlink_to("/dev/zero")
        assert fast_export(folder) is None  # Keras does the work
        (folder / name).unlink()
        (folder / name).write_bytes(kept)
    (folder / "card.json").symlink_to("/dev/zero")
    assert read_card(folder) == {}
    for text in ("[1, 2, 3]", "[" * 200_000 + "]" * 200_000, " " * (MAX_JSON_BYTES + 1) + "{}"):
        (folder / "card.json").unlink()
        (folder / "card.json").write_text(text)
        assert read_card(folder) == {}
    assert model_classes(folder) == [f"class {i}" for i in range(1, 9)]
