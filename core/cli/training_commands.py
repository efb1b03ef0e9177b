"""The training commands: `train` (its progress drawn as a bar), `cancel`, `runs` and `default`."""

import json
import os
import sys

from core.cli.terminal import to_json
from core.cli.training_progress import showing_training
from core.evaluation.comparison import learned_little_finding


@showing_training
def train_command(args) -> int:
    from core.models.store import model_file
    from core.training.job import train
    from core.training.precision import automatic_precision
    from core.training.presets import preset_values
    from core.training.config import TrainConfig

    distributed = args.distributed or "TF_CONFIG" in os.environ
    if args.resume:
        card = train(args.run_dir, resume=True, distributed_run=distributed, worker_dir=args.worker_dir)
    else:
        if not args.data:
            raise ValueError("give the dataset to train on (or --resume)")
        chosen = preset_values(args.preset, {"arch": args.arch, "epochs": args.epochs, "batch_size": args.batch_size,
                                             "learning_rate": args.learning_rate, "freeze_epochs": args.freeze_epochs,
                                             "precision": args.precision})
        precision = chosen.pop("precision", "auto")
        config = TrainConfig(data=os.path.abspath(args.data), **chosen, preset=args.preset,
                             weight_decay=args.weight_decay, balance=args.balance,
                             augment=args.augment, val_fraction=args.val_fraction, seed=args.seed,
                             train_split=args.train_split, test_split=args.test_split, max_images=args.max_images,
                             test_fraction=args.test_fraction,
                             init_from=args.init_from and str(model_file(args.init_from).resolve()),
                             init_member=args.init_member, targets=args.targets,
                             teachers=args.teachers and [os.path.abspath(spec) for spec in args.teachers],
                             teacher_weight=args.teacher_weight, distillation=args.distillation,
                             optimizer=args.optimizer, mix=args.mix, mix_alpha=args.mix_alpha, ema=args.ema,
                             precision=automatic_precision() if precision == "auto" else precision)
        card = train(args.run_dir, config, distributed_run=distributed, worker_dir=args.worker_dir)
    if card is None:
        print("cancelled: the last finished epoch is kept; --resume continues it")
        return 3
    if "worker" in card:
        print(f"worker {card['worker']} finished; worker 0 writes the model into {args.run_dir}")
        return 0
    _tell_split(card.get("split") or {})
    if finding := learned_little_finding(card):
        print(f"warning: {finding} Try {_advice(card['config'].get('arch'))}.", file=sys.stderr)
    print(json.dumps({"validation": card["validation"].get("accuracy"), "test": card["test"].get("accuracy"),
                      "majority_baseline": (card["validation"] or card["test"]).get("majority_baseline"),
                      "classes": card["classes"]}))
    return 0


def _advice(arch: str | None) -> str:
    """What to try after a run that learned little: a network that starts from learned features needs better
    examples; one learned from scratch can start from those features instead (--preset quick)."""
    from core.models.architectures import starts_from_features

    if starts_from_features(arch):
        return "more examples of each class, from more people, or classes that differ more in the face"
    return ("--preset quick (it starts from features learned on 28,709 faces), more pictures per class, more epochs, "
            "or --balance oversample when one class dominates")


def _tell_split(split: dict) -> None:
    """The split on stderr: by person or by picture, how many people on each side, and its warnings."""
    people = split.get("people") or {}
    if split.get("by") == "person":
        print("split by person: " + ", ".join(f"{n} in {side}" for side, n in people.items()) + " (nobody on two sides)",
              file=sys.stderr)
    for warning in split.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)


def cancel_command(args) -> int:
    from core.storage.runs import RunFolder

    run = RunFolder(args.run_dir)
    if not run.is_running():
        print(f"{args.run_dir} is not training", file=sys.stderr)
        return 1
    run.request_cancel()
    print("cancel requested: the run stops after its current batch")
    return 0


def runs_command(args) -> int:
    from core.evaluation.comparison import run_summary
    from core.storage.runs import RunFolder, list_runs

    rows = [run_summary(run) for run in ([RunFolder(path) for path in args.runs] or list_runs())]
    if args.json:
        print(to_json(rows))
        return 0
    percent = lambda value: "-" if value is None else f"{value:.1%}"  # noqa: E731
    print(f"{'run':<28}{'state':<12}{'epochs':>10}{'minutes':>9}{'best val':>10}{'test':>8}  recipe")
    for row in rows:
        print(f"{row['run']:<28}{row['state']:<12}{row['epochs']:>10}{row['minutes']:>9}"
              f"{percent(row['best_val_accuracy']):>10}{percent(row['test']):>8}  {row['recipe']}")
    return 0


def default_command(args) -> int:
    from pathlib import Path

    from core.models.store import active_run, set_active_run
    from core.storage.runs import RunFolder, runs_dir

    if args.choice == "shipped":
        set_active_run(None)
    elif args.choice:
        path = Path(args.choice)
        set_active_run(RunFolder(path if path.is_dir() else runs_dir() / args.choice))
    active = active_run()
    print(f"default model: {f'run {active.name} ({active.model_file})' if active else 'the shipped models/default'}")
    return 0
