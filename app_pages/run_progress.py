"""Not a page: the Train page's view of a running run: the epoch's batches (then the final scoring and
saving, with counts), the run's epochs, speed, time left and best validation accuracy so far."""

import math

import streamlit as st


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def show_progress(status: dict, history: list[dict], epochs: int, done: int) -> None:
    """status: core.runs.RunFolder.status() of a running run; history: its epoch events, one an epoch;
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
    stage = "estimate" if done < epochs else finish["stage"] if finish else "scoring"
    eta.metric(f"Time left ({stage})", duration(left) if left is not None else "measuring...")
    scores = [e["val_accuracy"] for e in history if math.isfinite(e["val_accuracy"])]
    best.metric("Best validation accuracy", f"{max(scores):.1%}" if scores else "n/a")
