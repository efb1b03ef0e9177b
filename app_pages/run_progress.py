"""Not a page: the Train page's view of a run, shared with the Teach page: starting a training process and
knowing it is starting, the epoch's batches (then the final scoring and saving, with counts), the run's
epochs, speed, time left and best validation accuracy so far, and its loss and accuracy curves."""

import math
import time
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from core.storage.runs import RunFolder, start_training_process

STARTUP_SECONDS = 180  # a launched process may take this long (TensorFlow, the data) to write progress


def launch(run_dir: Path, arguments: list[str]) -> None:
    """Start `python -m core train` for run_dir (core.storage.runs.start_training_process), remembered by this tab
    with its arguments."""
    start_training_process(run_dir, arguments)
    st.session_state.setdefault("launched", {})[str(run_dir)] = (time.time(), arguments)


def starting(run: RunFolder, status: dict) -> bool:
    """True while a process this tab launched has not yet begun (or re-begun) the run."""
    launched_at = st.session_state.get("launched", {}).get(str(run.path), (None,))[0]
    return (launched_at is not None and status["state"] != "running" and time.time() - launched_at < STARTUP_SECONDS
            and (status["start"] is None or status["start"]["time"] < launched_at))


def launched_twin(arguments: list[str]) -> str | None:
    """The run this tab launched with these very arguments that is starting or running (a second click, however
    fast the first run began), or None."""
    for path, (_, launched_with) in st.session_state.get("launched", {}).items():
        run = RunFolder(path)
        if launched_with == arguments and run.path.is_dir():
            status = run.status()
            if status["state"] == "running" or starting(run, status):
                return run.name
    return None


def epoch_history(status: dict) -> list[dict]:
    """The run's epoch events, one an epoch (a resumed epoch counts once)."""
    return list({e["epoch"]: e for e in status["history"]}.values())


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def show_progress(status: dict, history: list[dict], epochs: int, done: int) -> None:
    """status: core.storage.runs.RunFolder.status() of a running run; history: its epoch events, one an epoch;
    done: epochs finished."""
    batch = status["batch"] if status["batch"] and status["batch"]["epoch"] > done else None
    finish = status["finish"] if done >= epochs and status["finish"] and \
        status["finish"]["time"] >= status["start"]["time"] else None
    if batch:
        st.progress(batch["batch"] / batch["batches"], text=f"Epoch {done + 1}: batch {batch['batch']} of "
                    f"{batch['batches']}")
    elif finish:
        st.progress(finish["done"] / finish["total"] if finish["total"] else 0.0,
                    text=f"All epochs done: {finish['stage']}" + (f", {finish['done']:,} of {finish['total']:,} "
                                                                  "images" if finish["total"] else "..."))
    else:
        st.progress(0.0, text="All epochs done: scoring and saving the model" if done >= epochs
                    else f"Epoch {done + 1}: starting")
    st.progress(min(done / epochs, 1.0), text=f"Run: {done} of {epochs} epochs")
    latest = max([e for e in (status["batch"], status["epoch"]) if e], key=lambda e: e["time"], default={})
    left = (finish or {}).get("eta_s") if done >= epochs else latest.get("eta_s")
    speed, eta, best = st.columns(3)
    speed.metric("Images per second", f"{latest.get('images_per_s', 0):.0f}")
    stage = "training, then scoring" if done < epochs else finish["stage"] if finish else "scoring"
    eta.metric(f"Time left ({stage})", duration(left) if left is not None else "measuring...")
    scores = [e["val_accuracy"] for e in history if math.isfinite(e["val_accuracy"])]
    best.metric("Best validation accuracy", f"{max(scores):.1%}" if scores else "n/a")


def epoch_axes(figure, epochs: int, accuracy: bool):
    """Whole epochs along the bottom (at most about ten ticks); accuracy from 0 to 100%, a loss from 0 up."""
    figure.update_xaxes(tick0=1, dtick=max(1, math.ceil(epochs / 10)), rangemode="tozero")
    figure.update_yaxes(range=[0, 1], tickformat=".0%") if accuracy else figure.update_yaxes(rangemode="tozero")
    return figure


def show_curves(history: list[dict]) -> None:
    """Loss and accuracy, training and validation, an epoch a point, side by side."""
    frame = pd.DataFrame(history)
    left, right = st.columns(2)
    for column, metric in ((left, "loss"), (right, "accuracy")):
        lines = frame.rename(columns={metric: "train", f"val_{metric}": "validation"})
        figure = px.line(lines, x="epoch", y=["train", "validation"], markers=True, title=metric,
                         labels={"value": metric, "variable": "fold"})
        column.plotly_chart(epoch_axes(figure, int(frame["epoch"].max()), metric == "accuracy"))
