"""Comparing training runs: each run's recipe, length, cost and scores, and its validation curve.

Reads run folders only (core.storage.runs), so pages can call it without loading TensorFlow.
Example: run_summary(RunFolder("runs/B"))["best_val_accuracy"] -> 0.685
"""

import math

from core.storage.runs import DEFAULT_MODEL_DIR, FER2013_MODEL_DIR, RunFolder, read_json

TRAIN_COMMAND = "python -m core train "


def run_summary(run: RunFolder) -> dict:
    """One table row: state, classes, recipe (the training flags), epochs done, minutes, hardware and accuracies.

    best_val_accuracy is the best epoch's validation accuracy as logged while training (one view);
    validation and test are the finished model's scores from its card (None until it has one).
    """
    status = run.status()
    card = run.card() or {}
    config = card.get("config") or run.config() or {}
    history = status["history"] or card.get("history") or []
    seconds = card.get("training_seconds", sum(event.get("seconds", 0.0) for event in history))
    scores = [event["val_accuracy"] for event in history if not math.isnan(event.get("val_accuracy", math.nan))]
    classes = card.get("classes") or config.get("classes") or []
    return {"run": run.name, "state": status["state"], "classes": ", ".join(classes), "recipe": _recipe(card, config),
            "epochs": f"{len(history)} of {config.get('epochs', '?')}", "minutes": round(seconds / 60, 1),
            "hardware": card.get("hardware", ""), "best_val_accuracy": max(scores, default=None),
            "validation": card.get("validation", {}).get("accuracy"), "test": card.get("test", {}).get("accuracy"),
            "note": _note(card)}


def shipped_summaries() -> list[dict]:
    """The shipped models (models/default, and models/fer2013 when there) as rows of the same table, from their cards."""
    rows = [_shipped_row("shipped (models/default)", DEFAULT_MODEL_DIR)]
    if (FER2013_MODEL_DIR / "card.json").exists():
        rows.append(_shipped_row("shipped: FER-2013 labels (models/fer2013)", FER2013_MODEL_DIR))
    return rows


def _shipped_row(name: str, folder) -> dict:
    card = read_json(folder / "card.json") or {}
    return {"run": name, "state": "shipped", "classes": ", ".join(card.get("classes", [])),
            "recipe": card.get("architecture", ""), "epochs": "", "minutes": round(card.get("training_seconds", 0) / 60, 1),
            "hardware": card.get("hardware", ""), "best_val_accuracy": None,
            "validation": card.get("validation", {}).get("accuracy"), "test": card.get("test", {}).get("accuracy"),
            "note": _note(card)}


def learned_little_finding(card: dict) -> str:
    """A card's "it learned little: ..." ("" when it learned): what to try is said where it is shown (a card
    written by an earlier version carries its advice after " Try ", left out here)."""
    finding = card.get("learned_little")
    if not isinstance(finding, str):
        return ""
    return finding.split("'. Try ")[0] + "'." if "'. Try " in finding else finding


def _note(card: dict) -> str:
    """"learned little" for a model within a few points of always answering its commonest class."""
    return "learned little" if card.get("learned_little") else ""


def _recipe(card: dict, config: dict) -> str:
    """The training command's flags without the dataset path, e.g. "--arch vgg_wide --epochs 88"."""
    command = card.get("command", "")
    if command.startswith(TRAIN_COMMAND):
        flags = command.removeprefix(TRAIN_COMMAND).split(" --", 1)
        return "--" + flags[1] if len(flags) > 1 else ""
    return f"--arch {config.get('arch', '?')} --epochs {config.get('epochs', '?')}"


def validation_curves(runs: list[RunFolder]) -> list[dict]:
    """One row per run and epoch: run, epoch, val_accuracy, val_loss (from each run's progress log)."""
    return [{"run": run.name, "epoch": event["epoch"], "val_accuracy": event.get("val_accuracy"),
             "val_loss": event.get("val_loss")}
            for run in runs for event in run.status()["history"]]
