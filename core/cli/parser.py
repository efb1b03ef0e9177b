"""The argument parser of `python -m core`: every command, its options and help, and the function that runs it."""

import argparse
import math

from core.cli.dataset_commands import shard_command, stats_command
from core.cli.evaluation_commands import evaluate_command, explain_command
from core.cli.export_commands import ensemble_command, export_command
from core.cli.prediction_commands import predict_command
from core.cli.serving_commands import serve_command
from core.cli.training_commands import cancel_command, default_command, runs_command, train_command
from core.models.inference import DEFAULT_VIEWS, VIEWS
from core.serving.batching import MAX_WAIT_SECONDS
from core.serving.limits import IDLE_SECONDS, MAX_IN_FLIGHT, REQUEST_SECONDS, Limits

# The choices --help lists, named here so that the parser does not import Keras (tests check them against
# core.models.architectures.ARCHITECTURES, core.data.balance.STRATEGIES and core.evaluation.export.RUNTIMES).
ARCHITECTURE_NAMES = ("vgg", "vgg_wide", "resnet", "seed", "transfer", "features")
PRESET_NAMES = ("quick", "full")
BALANCE_STRATEGIES = ("none", "oversample", "class_weights")
RUNTIME_NAMES = ("fast", "keras")
PRESET_DEFAULT = " (default: {}, or the preset's)%(default).0s"  # %(default).0s: no "(default: None)" added
DESCRIPTION = ("The command line: stats, train, shard, cancel, runs, default, evaluate, ensemble, predict, explain, "
               "export and serve.")


def number_in(convert, low: float, high: float = math.inf, above: bool = False):
    """An argparse type: a finite number from low (or above it) to high, else a usage error naming the range.

    Example: number_in(int, 0, 65535)("70000") -> ArgumentTypeError("70000 is not from 0 to 65535")
    """
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if convert is int else 'a number'}")
        if not (math.isfinite(value) and (value > low if above else value >= low) and value <= high):
            wanted = (f"above {low:g}" if above else f"{low:g} or more") if high == math.inf else \
                f"from {low:g} to {high:g}"
            raise argparse.ArgumentTypeError(f"{text} is not {wanted}")
        return value

    parse.__name__ = convert.__name__  # argparse names the type in its message
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The parser; each command's parsed arguments carry `run`, the function that runs it."""
    parser = argparse.ArgumentParser(prog="python -m core", description=DESCRIPTION)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    stats = commands.add_parser("stats", help="images per split and class, and the pictures skipped (no face...)")
    stats.add_argument("data", help="dataset folder, fer2013.csv or .zip")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(run=stats_command)

    train = commands.add_parser("train", help="train a model into a run folder",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("data", nargs="?", help="a folder of class folders (any names; split into train, validation "
                       "and test by person), a folder of split folders, fer2013.csv or .zip (not needed with --resume)")
    train.add_argument("--run-dir", required=True, help="the run folder to write")
    train.add_argument("--resume", action="store_true", help="continue the run folder from its last checkpoint")
    train.add_argument("--preset", default=None, choices=PRESET_NAMES,
                       help="quick: the shipped model's features + a new head for your classes, minutes on a CPU "
                            "(transfer, 30 epochs, 10 frozen, batch 32); full: from scratch (vgg, 40 epochs, batch "
                            "128). The options below override a preset's values")
    train.add_argument("--arch", default=None, choices=ARCHITECTURE_NAMES,
                       help="the network (core/models/architectures.py)" + PRESET_DEFAULT.format("vgg"))
    train.add_argument("--epochs", type=int, default=None,
                       help="passes over the training fold" + PRESET_DEFAULT.format(40))
    train.add_argument("--freeze-epochs", type=int, default=None,
                       help="transfer: first epochs training the new head alone" + PRESET_DEFAULT.format(0))
    train.add_argument("--batch-size", type=int, default=None, help="images a training step" + PRESET_DEFAULT.format(128))
    train.add_argument("--learning-rate", type=float, default=None, help="None: the architecture's own")
    train.add_argument("--weight-decay", type=float, default=None, help="AdamW weight decay (cosine archs)")
    train.add_argument("--balance", default="none", choices=BALANCE_STRATEGIES,
                       help="class imbalance, on the training fold only")
    train.add_argument("--no-augment", dest="augment", action="store_false",
                       help="train on the images as they are (no flips, rotations, shifts, erasing)")
    train.add_argument("--val-fraction", type=float, default=0.1, help="share of the train split held out")
    train.add_argument("--test-fraction", type=float, default=0.1,
                       help="share held out as the test split when the data has none")
    train.add_argument("--seed", type=int, default=0, help="the split, the weights and the augmentation")
    train.add_argument("--train-split", default="train", help="split to train (and validate) on")
    train.add_argument("--test-split", default="test",
                       help="split to score the final model on (held out of the data when it has none; 'none': no test)")
    train.add_argument("--max-images", type=int, default=None, help="train on a random subset this large")
    train.add_argument("--init-from", default=None, metavar="MODEL",
                       help="start from this model's weights (same --arch): continue or fine-tune it; a model of "
                            "other classes gives its features and the columns of the classes both know")
    train.add_argument("--init-member", default=None, metavar="NAME",
                       help="the network of an ensemble --init-from to start from (member_0, member_1...)")
    train.add_argument("--targets", default="votes", choices=("votes", "majority"),
                       help="where people voted (FER+): learn each face's share of votes, or its majority label only")
    train.add_argument("--teachers", nargs="+", default=None, metavar="MODEL",
                       help="distil: learn from these models' averaged probabilities as well as the labels")
    train.add_argument("--teacher-weight", type=float, default=0.5,
                       help="share of the teachers in the targets, 0-1")
    train.add_argument("--distributed", action="store_true",
                       help="one worker of TF_CONFIG's cluster (MultiWorkerMirroredStrategy; on when TF_CONFIG is set)")
    train.add_argument("--worker-dir", default=None, metavar="DIR",
                       help="where a worker other than 0 writes its own log and checkpoints (default: a temporary folder)")
    train.add_argument("--distillation", default="offline", choices=("offline", "online"),
                       help="teachers score each unaugmented image once (offline) or every augmented batch (online)")
    train.add_argument("--optimizer", default=None, choices=("adam", "adamw", "sgd"),
                       help="default: the architecture's own; sgd is Nesterov momentum 0.9, rate 0.01, decay 5e-4")
    train.add_argument("--mix", default="none", choices=("none", "mixup", "cutmix"),
                       help="blend each batch's faces and labels in pairs, inside the training step")
    train.add_argument("--mix-alpha", type=float, default=None, help="Beta(a, a) share (default 0.2 mixup, 1 cutmix)")
    train.add_argument("--ema", type=float, default=None, metavar="MOMENTUM",
                       help="validate and save a moving average of the weights (e.g. 0.999)")
    train.add_argument("--precision", default=None, choices=("auto", "float32", "mixed_bfloat16"),
                       help="auto, the default unless a preset sets it: float32 on every machine, so one command "
                            "trains the same model on any CPU; mixed_bfloat16 (opt-in): bfloat16 compute with float32 "
                            "weights and softmax, 1.1-1.4x faster on a CPU with native bfloat16 (avx512_bf16 or "
                            "amx_bf16), but its numbers differ between CPU kinds (docs/benchmarks.md); the run's "
                            "config records the one used%(default).0s")
    train.set_defaults(run=train_command)

    shard = commands.add_parser("shard", help="write a dataset as TFRecord shards to stream from when training")
    shard.add_argument("data", help="dataset folder (any image size), fer2013.csv or .zip")
    shard.add_argument("--out", required=True, help="the new folder for the shards and shards.json")
    shard.add_argument("--shards", type=int, default=8, help="files for the training fold (at least one per worker)")
    shard.add_argument("--val-fraction", type=float, default=0.1, help="validation slice cut from train (as train's)")
    shard.add_argument("--seed", type=int, default=0)
    shard.set_defaults(run=shard_command)

    cancel = commands.add_parser("cancel", help="stop a running training after its current batch")
    cancel.add_argument("run_dir")
    cancel.set_defaults(run=cancel_command)

    runs = commands.add_parser("runs", help="compare training runs: recipe, epochs, time, hardware, accuracies")
    runs.add_argument("runs", nargs="*", metavar="RUN", help="run folders (default: every run in the runs folder)")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(run=runs_command)

    default = commands.add_parser("default", help="show or choose the default model (a finished run or the shipped one)")
    default.add_argument("choice", nargs="?", metavar="RUN|shipped",
                         help="a finished run's folder or name, or 'shipped' for models/default")
    default.set_defaults(run=default_command)

    evaluate = commands.add_parser("evaluate", help="score a model on a labelled split")
    evaluate.add_argument("model", help="models/default, a run folder or a .keras file")
    evaluate.add_argument("data", help="dataset folder, split folder, fer2013.csv or .zip")
    evaluate.add_argument("--split", default=None, help="split to score (default: test, else the only one)")
    evaluate.add_argument("--views", default=DEFAULT_VIEWS, choices=VIEWS,
                          help="test-time views averaged: the face, + its mirror, + both shifted 2 px (default)")
    evaluate.add_argument("--sample", type=int, default=None, metavar="N",
                          help="score a stratified random sample of N images (each emotion in its share)")
    evaluate.add_argument("--seed", type=int, default=0, help="which sample --sample draws (default 0)")
    evaluate.add_argument("--runtime", default="fast", choices=RUNTIME_NAMES,
                          help="fast: as predictions run, on the model's checked int8 export when it has one, "
                               "else Keras; keras: always Keras, the reference (default: fast)")
    evaluate.add_argument("--only-known-classes", action="store_true",
                          help="leave out (and count) faces of classes the model lacks, instead of refusing the data")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=evaluate_command)

    ensemble = commands.add_parser("ensemble", help="average trained models into one model file")
    ensemble.add_argument("models", nargs="+", metavar="MODEL", help="two or more models trained on one split")
    ensemble.add_argument("--out", required=True, help="folder to write model.keras and card.json into")
    ensemble.add_argument("--data", default=None, help="dataset to score it on (default: the members' own)")
    ensemble.add_argument("--views", default=DEFAULT_VIEWS, choices=VIEWS, help="test-time views for its scores")
    ensemble.set_defaults(run=ensemble_command)

    predict = commands.add_parser("predict", help="find faces in pictures, a folder or a video; name their emotions")
    predict.add_argument("model", help="default, shipped, models/default, a run folder or a .keras file")
    predict.add_argument("images", nargs="+", metavar="INPUT",
                         help="picture files (jpg, png, webp, bmp...), or one folder (with --csv), or one video")
    predict.add_argument("--views", default=None, choices=VIEWS,
                         help=f"test-time views averaged (see evaluate; default {DEFAULT_VIEWS}, for videos mirror)")
    predict.add_argument("--json", action="store_true")
    predict.add_argument("--annotate", metavar="DIR",
                         help="also save each picture (or the video) with boxes and labels here")
    predict.add_argument("--csv", metavar="FILE", help="a folder's or a video's rows: one per face "
                         "(a folder's run, stopped, continues where it stopped when given the same file)")
    predict.add_argument("--workers", type=int, default=None, help="threads finding faces in a folder (default: cores)")
    predict.add_argument("--every", type=int, default=5, metavar="N", help="a video: classify every N-th frame (5)")
    predict.set_defaults(run=predict_command)

    explain = commands.add_parser("explain", help="draw where each face shows its emotion (Grad-CAM)")
    explain.add_argument("model", help="default, shipped, models/default, a run folder or a .keras file")
    explain.add_argument("image", help="a picture file")
    explain.add_argument("--out", required=True, metavar="DIR", help="folder for one PNG per face")
    explain.set_defaults(run=explain_command)

    export = commands.add_parser("export", help="write a model for LiteRT (.tflite) or ONNX, checked against Keras")
    export.add_argument("model", help="default, shipped, models/default, a run folder or a .keras file")
    export.add_argument("--format", required=True, choices=("tflite", "onnx"))
    export.add_argument("--quantize", choices=("float16", "int8"), default=None,
                        help="smaller weights (default: float32); int8 calibrates on training faces")
    export.add_argument("--out", default=None, help="file to write (default: beside the model, e.g. model-int8.tflite)")
    export.add_argument("--data", default=None, help="labelled dataset for the check (default: the model's own)")
    export.add_argument("--check-faces", type=int, default=1000, help="test faces the export is checked on")
    export.add_argument("--json", action="store_true")
    export.set_defaults(run=export_command)

    serve = commands.add_parser("serve", help="an HTTP API for apps: POST /v1/predict, GET /v1/model (docs/api.md)")
    serve.add_argument("model", nargs="?", default="default", help="default (the default), shipped, a run folder...")
    serve.add_argument("--host", default="127.0.0.1",
                       help="127.0.0.1: this machine only (default); any other address needs FER_API_TOKEN")
    serve.add_argument("--port", type=number_in(int, 0, 65535), default=8000,
                       help="0: any free port (the log names it)")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="a browser origin allowed to call it, e.g. https://app.example (repeat; none: CORS off)")
    serve.add_argument("--max-in-flight", type=number_in(int, 1), default=MAX_IN_FLIGHT,
                       help="requests at once; beyond: 503 (default: %(default)s)")
    serve.add_argument("--max-body-mb", type=number_in(float, 0, above=True), default=Limits().max_body_bytes / 2**20,
                       help="MB a request may send (default: %(default)g)")
    serve.add_argument("--timeout", type=number_in(float, 0, above=True), default=REQUEST_SECONDS,
                       help="seconds a request may take; beyond: 504 (default: %(default)g)")
    serve.add_argument("--idle-timeout", type=number_in(float, 0, above=True), default=IDLE_SECONDS,
                       help="seconds a request's body may stop arriving; beyond: 408 (default: %(default)g)")
    serve.add_argument("--workers", type=number_in(int, 1), default=None,
                       help="threads finding faces (default: cores, at most 4)")
    serve.add_argument("--batch-wait-ms", type=number_in(float, 0, 1000), default=MAX_WAIT_SECONDS * 1000,
                       help="how long a face waits for faces of other requests to share a network call "
                            "(default: %(default)g)")
    serve.set_defaults(run=serve_command)
    return parser
