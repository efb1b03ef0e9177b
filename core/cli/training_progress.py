"""A training command's progress on stderr: the run folder's events, followed while it trains, drawn as a bar."""

import functools
import threading

from tqdm import tqdm

from core.cli.terminal import progress_bar


def showing_training(command):
    """Wrap a command that trains into args.run_dir: the run's progress events drawn as a bar on stderr."""
    @functools.wraps(command)
    def run(args) -> int:
        from core.storage.runs import RunFolder

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
    """Draw a run's status (see core.storage.runs.RunFolder.status) on a bar counting batches."""
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
