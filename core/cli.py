"""The command line: stats, train, shard, cancel, runs, default, evaluate, ensemble, predict, explain and export.

Example: python -m core stats ../shared/datasets/fer2013 --json
"""

import argparse
import json
import math
import os
import sys
import threading
from contextlib import contextmanager

from tqdm import tqdm

# The choices --help lists, named here so that the parser does not import Keras (tests check them against
# core.architectures.ARCHITECTURES and core.balance.STRATEGIES).
ARCHITECTURE_NAMES = ("vgg", "vgg_wide", "resnet", "seed")
BALANCE_STRATEGIES = ("none", "oversample", "class_weights")

from core.emotions import EMOTIONS
from core.inference import DEFAULT_VIEWS, VIEWS


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code (2 for bad input, with a one-line reason)."""
    parser = _parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from core.dataset import DatasetError
    from core.imaging import ImageError
    from core.model_store import ModelError
    from core.distributed import WorkerLost
    from core.runs import RunBusy

    try:
        return args.run(args) or 0
    except (DatasetError, ModelError, ImageError, RunBusy, WorkerLost, ValueError, OSError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)  # one line, even from h5py or TensorFlow
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    stats = commands.add_parser("stats", help="images per split and emotion")
    stats.add_argument("data", help="dataset folder, fer2013.csv or .zip")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(run=_stats)

    train = commands.add_parser("train", help="train a model into a run folder",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("data", nargs="?", help="dataset folder, fer2013.csv or .zip (not needed with --resume)")
    train.add_argument("--run-dir", required=True, help="the run folder to write")
    train.add_argument("--resume", action="store_true", help="continue the run folder from its last checkpoint")
    train.add_argument("--arch", default="vgg", choices=ARCHITECTURE_NAMES, help="the network (core/architectures.py)")
    train.add_argument("--epochs", type=int, default=40, help="passes over the training fold")
    train.add_argument("--batch-size", type=int, default=128, help="images a training step")
    train.add_argument("--learning-rate", type=float, default=None, help="None: the architecture's own")
    train.add_argument("--weight-decay", type=float, default=None, help="AdamW weight decay (cosine archs)")
    train.add_argument("--balance", default="none", choices=BALANCE_STRATEGIES,
                       help="class imbalance, on the training fold only")
    train.add_argument("--no-augment", dest="augment", action="store_false",
                       help="train on the images as they are (no flips, rotations, shifts, erasing)")
    train.add_argument("--val-fraction", type=float, default=0.1, help="share of the train split held out")
    train.add_argument("--seed", type=int, default=0, help="the split, the weights and the augmentation")
    train.add_argument("--train-split", default="train", help="split to train (and validate) on")
    train.add_argument("--test-split", default="test", help="split to score the final model on")
    train.add_argument("--max-images", type=int, default=None, help="train on a random subset this large")
    train.add_argument("--init-from", default=None, metavar="MODEL",
                       help="start from this model's weights (same --arch): continue or fine-tune it")
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
    train.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16"))
    train.set_defaults(run=_showing_training(_train))

    shard = commands.add_parser("shard", help="write a dataset as TFRecord shards to stream from when training")
    shard.add_argument("data", help="dataset folder (any image size), fer2013.csv or .zip")
    shard.add_argument("--out", required=True, help="the new folder for the shards and shards.json")
    shard.add_argument("--shards", type=int, default=8, help="files for the training fold (at least one per worker)")
    shard.add_argument("--val-fraction", type=float, default=0.1, help="validation slice cut from train (as train's)")
    shard.add_argument("--seed", type=int, default=0)
    shard.set_defaults(run=_shard)

    cancel = commands.add_parser("cancel", help="stop a running training after its current batch")
    cancel.add_argument("run_dir")
    cancel.set_defaults(run=_cancel)

    runs = commands.add_parser("runs", help="compare training runs: recipe, epochs, time, hardware, accuracies")
    runs.add_argument("runs", nargs="*", metavar="RUN", help="run folders (default: every run in the runs folder)")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(run=_runs)

    default = commands.add_parser("default", help="show or choose the default model (a finished run or the shipped one)")
    default.add_argument("choice", nargs="?", metavar="RUN|shipped",
                         help="a finished run's folder or name, or 'shipped' for models/default")
    default.set_defaults(run=_default)

    evaluate = commands.add_parser("evaluate", help="score a model on a labelled split")
    evaluate.add_argument("model", help="models/default, a run folder or a .keras file")
    evaluate.add_argument("data", help="dataset folder, split folder, fer2013.csv or .zip")
    evaluate.add_argument("--split", default=None, help="split to score (default: test, else the only one)")
    evaluate.add_argument("--views", default=DEFAULT_VIEWS, choices=VIEWS,
                          help="test-time views averaged: the face, + its mirror, + both shifted 2 px (default)")
    evaluate.add_argument("--sample", type=int, default=None, metavar="N",
                          help="score a stratified random sample of N images (each emotion in its share)")
    evaluate.add_argument("--seed", type=int, default=0, help="which sample --sample draws (default 0)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=_evaluate)

    ensemble = commands.add_parser("ensemble", help="average trained models into one model file")
    ensemble.add_argument("models", nargs="+", metavar="MODEL", help="two or more models trained on one split")
    ensemble.add_argument("--out", required=True, help="folder to write model.keras and card.json into")
    ensemble.add_argument("--data", default=None, help="dataset to score it on (default: the members' own)")
    ensemble.add_argument("--views", default=DEFAULT_VIEWS, choices=VIEWS, help="test-time views for its scores")
    ensemble.set_defaults(run=_ensemble)

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
    predict.set_defaults(run=_predict)

    explain = commands.add_parser("explain", help="draw where each face shows its emotion (Grad-CAM)")
    explain.add_argument("model", help="default, shipped, models/default, a run folder or a .keras file")
    explain.add_argument("image", help="a picture file")
    explain.add_argument("--out", required=True, metavar="DIR", help="folder for one PNG per face")
    explain.set_defaults(run=_explain)

    export = commands.add_parser("export", help="write a model for LiteRT (.tflite) or ONNX, checked against Keras")
    export.add_argument("model", help="default, shipped, models/default, a run folder or a .keras file")
    export.add_argument("--format", required=True, choices=("tflite", "onnx"))
    export.add_argument("--quantize", choices=("float16", "int8"), default=None,
                        help="smaller weights (default: float32); int8 calibrates on training faces")
    export.add_argument("--out", default=None, help="file to write (default: beside the model, e.g. model-int8.tflite)")
    export.add_argument("--data", default=None, help="labelled dataset for the check (default: the model's own)")
    export.add_argument("--check-faces", type=int, default=1000, help="test faces the export is checked on")
    export.add_argument("--json", action="store_true")
    export.set_defaults(run=_export)
    return parser


def _stats(args) -> int:
    from core.overview import split_counts

    dataset = read_dataset(args.data)
    report = {"splits": {name: {"total": sum(c.values()), "classes": c} for name, c in split_counts(dataset).items()},
              "converted": dataset.converted, "skipped": dataset.skipped, "warnings": dataset.warnings}
    if args.json:
        print(_json(report))
        return 0
    print(f"{'split':<10}{'total':>8}" + "".join(f"{name:>10}" for name in EMOTIONS))
    for name, split in report["splits"].items():
        print(f"{name:<10}{split['total']:>8}" + "".join(f"{split['classes'][e]:>10}" for e in EMOTIONS))
    print(f"converted {dataset.converted} images; skipped {len(dataset.skipped)}")
    for line in dataset.skipped + dataset.warnings:
        print(f"  {line}")
    return 0


def _train(args) -> int:
    from core.model_store import model_file
    from core.training import TrainConfig, train

    distributed = args.distributed or "TF_CONFIG" in os.environ
    if args.resume:
        card = train(args.run_dir, resume=True, distributed_run=distributed, worker_dir=args.worker_dir)
    else:
        if not args.data:
            raise ValueError("give the dataset to train on (or --resume)")
        config = TrainConfig(data=os.path.abspath(args.data), arch=args.arch, epochs=args.epochs,
                             batch_size=args.batch_size, learning_rate=args.learning_rate,
                             weight_decay=args.weight_decay, balance=args.balance,
                             augment=args.augment, val_fraction=args.val_fraction, seed=args.seed,
                             train_split=args.train_split, test_split=args.test_split, max_images=args.max_images,
                             init_from=args.init_from and str(model_file(args.init_from).resolve()),
                             teachers=args.teachers and [os.path.abspath(spec) for spec in args.teachers],
                             teacher_weight=args.teacher_weight, distillation=args.distillation,
                             optimizer=args.optimizer, mix=args.mix, mix_alpha=args.mix_alpha, ema=args.ema,
                             precision=args.precision)
        card = train(args.run_dir, config, distributed_run=distributed, worker_dir=args.worker_dir)
    if card is None:
        print("cancelled: the last finished epoch is kept; --resume continues it")
        return 3
    if "worker" in card:
        print(f"worker {card['worker']} finished; worker 0 writes the model into {args.run_dir}")
        return 0
    print(json.dumps({"validation": card["validation"].get("accuracy"), "test": card["test"].get("accuracy")}))
    return 0


def _shard(args) -> int:
    from core.shards import write_shards

    with progress_bar("sharding", "image") as bar:
        manifest = write_shards(args.data, args.out, args.shards, args.val_fraction, args.seed, bar.follow)
    print(", ".join(f"{name}: {split['images']:,} images in {len(split['files'])} file(s)"
                    for name, split in manifest["splits"].items()) + f"; skipped {len(manifest['skipped'])}")
    for line in manifest["skipped"][:20]:
        print(f"  {line}")
    return 0


def _cancel(args) -> int:
    from core.runs import RunFolder

    run = RunFolder(args.run_dir)
    if not run.is_running():
        print(f"{args.run_dir} is not training", file=sys.stderr)
        return 1
    run.request_cancel()
    print("cancel requested: the run stops after its current batch")
    return 0


def _runs(args) -> int:
    from core.run_comparison import run_summary
    from core.runs import RunFolder, list_runs

    rows = [run_summary(run) for run in ([RunFolder(path) for path in args.runs] or list_runs())]
    if args.json:
        print(_json(rows))
        return 0
    percent = lambda value: "-" if value is None else f"{value:.1%}"  # noqa: E731
    print(f"{'run':<28}{'state':<12}{'epochs':>10}{'minutes':>9}{'best val':>10}{'test':>8}  recipe")
    for row in rows:
        print(f"{row['run']:<28}{row['state']:<12}{row['epochs']:>10}{row['minutes']:>9}"
              f"{percent(row['best_val_accuracy']):>10}{percent(row['test']):>8}  {row['recipe']}")
    return 0


def _default(args) -> int:
    from pathlib import Path

    from core.model_store import active_run, set_active_run
    from core.runs import RunFolder, runs_dir

    if args.choice == "shipped":
        set_active_run(None)
    elif args.choice:
        path = Path(args.choice)
        set_active_run(RunFolder(path if path.is_dir() else runs_dir() / args.choice))
    active = active_run()
    print(f"default model: {f'run {active.name} ({active.model_file})' if active else 'the shipped models/default'}")
    return 0


def _evaluate(args) -> int:
    import numpy as np

    from core.evaluation import evaluate_model, stratified_sample
    from core.model_store import load_model

    model = load_model(args.model)
    dataset = read_dataset(args.data)
    name = args.split or ("test" if "test" in dataset.splits else next(iter(dataset.splits)))
    split = dataset.split(name)
    chosen = stratified_sample(split.labels, args.sample, args.seed) if args.sample else np.arange(len(split))
    sources = [split.sources[i] for i in chosen]
    with progress_bar("classifying", "face") as bar:
        report = evaluate_model(model, split.images[chosen], split.labels[chosen], sources, views=args.views,
                                progress=bar.follow)
    report["split"] = name
    if args.json:
        print(_json(report))
        return 0
    print(f"{name}: {report['images']} images, accuracy {report['accuracy']:.4f} (always answering the commonest "
          f"emotion: {report['majority_baseline']:.4f}), macro F1 {report['macro_f1']:.4f}")
    print(f"{'emotion':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for emotion, row in report["per_class"].items():
        print(f"{emotion:<10}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>9}")
    return 0


def _ensemble(args) -> int:
    from core.ensemble import build_ensemble

    card = build_ensemble(args.models, args.out, args.data, args.views)
    scores = [f"{name} accuracy {card[name]['accuracy']:.4f}" for name in ("validation", "test") if card[name]]
    print(f"{args.out}: {card['architecture']}, {card['parameters']:,} parameters; " + ", ".join(scores))
    return 0


def _predict(args) -> int:
    from pathlib import Path

    from core.video import VIDEO_SUFFIXES

    if len(args.images) == 1 and Path(args.images[0]).is_dir():
        return _predict_folder(args)
    if len(args.images) == 1 and Path(args.images[0]).suffix.lower() in VIDEO_SUFFIXES:
        return _predict_video(args)
    if any(Path(path).is_dir() or Path(path).suffix.lower() in VIDEO_SUFFIXES for path in args.images):
        raise ValueError("give one folder or one video at a time, without picture files beside it")
    return _predict_pictures(args)


def _predict_video(args) -> int:
    from pathlib import Path

    from core.prediction import FacePredictor
    from core.video import VIEWS as VIDEO_VIEWS, predict_video

    source = Path(args.images[0])
    csv_path = Path(args.csv or f"{source.stem}-emotions.csv")
    annotated = Path(args.annotate) / f"{source.stem}-annotated.mp4" if args.annotate else None
    for output in (csv_path, annotated):
        if output and output.exists():
            raise ValueError(f"{output} already exists: give another name or remove it (nothing was overwritten)")
    if annotated:
        annotated.parent.mkdir(parents=True, exist_ok=True)
    predictor = FacePredictor(args.model)
    with progress_bar(source.name, "frame") as bar:
        counts = predict_video(predictor, source, csv_path, args.every, annotated, bar.follow,
                               args.views or VIDEO_VIEWS)
    print(f"{csv_path}: {counts['classified']} of {counts['frames']} frames classified, {counts['faces']} faces "
          f"followed, {counts['rows']} rows" + (f"; annotated video: {annotated}" if annotated else ""))
    return 0


def _predict_folder(args) -> int:
    from core.folder_prediction import predict_folder
    from core.prediction import FacePredictor

    if not args.csv:
        raise ValueError("a folder's results go to a CSV file: add --csv FILE")
    predictor = FacePredictor(args.model, views=args.views or DEFAULT_VIEWS)
    with progress_bar(args.images[0], "photo") as bar:
        counts = predict_folder(predictor, args.images[0], args.csv, args.workers, bar.follow)
    print(f"{args.csv}: {counts['photos']} photos ({counts['resumed']} from an earlier run), {counts['faces']} faces "
          f"found now, {counts['no_face']} photos without a face, {counts['errors']} unreadable")
    return 0


def _predict_pictures(args) -> int:
    from pathlib import Path

    from PIL import Image

    from core.faces import no_face_reason
    from core.imaging import ImageError
    from core.prediction import FacePredictor, draw_predictions

    predictor = FacePredictor(args.model, views=args.views or DEFAULT_VIEWS)
    results, failures, written = [], 0, set()
    for path in args.images:
        try:
            picture, faces = predictor.predict_file(path)
        except (ImageError, OSError) as error:
            failures += 1
            results.append({"image": path, "error": str(error), "faces": []})
            continue
        results.append({"image": path, "faces": [face.as_dict() for face in faces]})
        if not faces:
            results[-1]["no_face"] = no_face_reason(picture)
        if args.annotate:
            Path(args.annotate).mkdir(parents=True, exist_ok=True)
            target = _unused_name(Path(args.annotate), Path(path).stem, written)
            Image.fromarray(draw_predictions(picture, faces)).save(target)
            results[-1]["annotated"] = str(target)
    if args.json:
        print(_json(results))
    else:
        for result in results:
            if "error" in result:
                print(f"{result['image']}: error: {result['error']}")
            elif not result["faces"]:
                print(f"{result['image']}: {result['no_face']}")
            for face in result["faces"]:
                print(f"{result['image']}: {face['emotion']} {face['confidence']:.0%} at box {face['box']}")
    return 2 if failures == len(results) else 0


def _explain(args) -> int:
    from pathlib import Path

    from PIL import Image

    from core.prediction import FacePredictor

    predictor = FacePredictor(args.model)
    _, faces = predictor.predict_file(args.image)
    if not faces:
        print(f"{args.image}: no face found")
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for number, (face, picture) in enumerate(zip(faces, predictor.explain(faces)), 1):
        path = out / f"{Path(args.image).stem}_face{number}.png"
        Image.fromarray(picture).save(path)
        print(f"{args.image}: face {number}: {face.emotion} {face.confidence:.0%} at box {list(face.box)} -> {path}")
    return 0


def _export(args) -> int:
    from core.export import export_model

    report = export_model(args.model, args.format, args.quantize, args.out, args.data, args.check_faces)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['path']}: {report['format']} {report['quantize']}, {report['bytes']:,} bytes")
        print(f"checked on {report['faces']} test faces: top-1 agreement with Keras {report['top1_agreement']:.2%}, "
              f"probability difference max {report['max_probability_difference']:.4f} "
              f"mean {report['mean_probability_difference']:.5f}; accuracy {report['export_accuracy']:.2%} "
              f"(Keras {report['keras_accuracy']:.2%})")
    if not report["passed"]:
        print(f"error: the export agrees with Keras on only {report['top1_agreement']:.2%} of the faces "
              "(at least 99% needed)", file=sys.stderr)
        return 1
    return 0


@contextmanager
def progress_bar(description: str, unit: str):
    """A tqdm bar on stderr (on a terminal only, so logs and --json stay clean); its follow(done, total)
    is a core Progress callback."""
    with tqdm(desc=description, unit=unit, file=sys.stderr, disable=None, dynamic_ncols=True) as bar:
        def follow(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        bar.follow = follow
        yield bar


def _showing_training(command):
    """Wrap a command that trains into args.run_dir: the run's progress events drawn as a bar on stderr."""
    def run(args) -> int:
        from core.runs import RunFolder

        with progress_bar("training", "batch") as bar:
            if bar.disable:
                return command(args)
            stop = threading.Event()

            def follow() -> None:
                while not stop.wait(1.0):
                    _show_run(RunFolder(args.run_dir).status(), bar)
            follower = threading.Thread(target=follow, daemon=True)
            follower.start()
            try:
                return command(args)
            finally:
                stop.set()
                follower.join()
                _show_run(RunFolder(args.run_dir).status(), bar)
    return run


def _show_run(status: dict, bar: tqdm) -> None:
    """Draw a run's status (see core.runs.RunFolder.status) on a bar counting batches."""
    start = status["start"]
    if not start:
        return
    epoch = status["epoch"]["epoch"] if status["epoch"] else start["initial_epoch"]
    batch = status["batch"] if status["batch"] and status["batch"]["epoch"] > epoch else None
    bar.total = start["epochs"] * start["batches"]
    bar.update(epoch * start["batches"] + (batch["batch"] if batch else 0) - bar.n)
    finish = status["finish"]
    if finish and finish["time"] >= start["time"] and epoch >= start["epochs"]:
        bar.set_description(finish["stage"] + (f" {finish['done']}/{finish['total']}" if finish["total"] else ""))
    elif status["epoch"]:
        bar.set_description(f"epoch {epoch}/{start['epochs']}, validation accuracy "
                            f"{status['epoch']['val_accuracy']:.3f}")


def _unused_name(folder, stem: str, taken: set) -> "Path":
    """folder/stem.png, or stem-2.png, stem-3.png... when an earlier input of this command took the name."""
    number = 1
    while (name := f"{stem}.png" if number == 1 else f"{stem}-{number}.png") in taken:
        number += 1
    taken.add(name)
    return folder / name


def _json(data) -> str:
    """Indented JSON in which a non-finite number is null (bare NaN is not JSON)."""
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(item) for item in value]
        return value

    return json.dumps(clean(data), indent=2, allow_nan=False)


def read_dataset(path: str):
    """core.dataset.load_dataset, its decoding (the first time: every image) drawn as a bar on stderr."""
    from core.dataset import load_dataset

    with progress_bar("reading images", "image") as bar:
        return load_dataset(path, progress=bar.follow)
