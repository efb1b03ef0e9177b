"""Not a page: the Evaluate page's scoring, asked for with a button, with a progress bar, a Cancel button
and stored reports (core.evaluation.reports), and the cached model it works on."""

import time
from pathlib import Path

import streamlit as st

from core.data.dataset import Dataset
from core.evaluation.export import classifier, fast_export_file
from core.models.store import load_model
from core.evaluation.reports import evaluate_and_store
from core.evaluation.time_left import TimeLeft, about_left


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def model_of(path: str, mtime: float):
    return load_model(path)


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def _scorer_of(path: str, mtime: float, runtime: str, export_mtime: float | None):
    return classifier(path, runtime, lambda _: model_of(path, mtime))  # Keras loaded only when it scores


def scorer_of(path: Path, runtime: str) -> tuple[object, str]:
    """core.evaluation.export.classifier's (runner, runtime name), cached until the model or its export change."""
    export = fast_export_file(path)
    return _scorer_of(str(path), path.stat().st_mtime, runtime, export.stat().st_mtime if export.exists() else None)


def asked(request: tuple, models: list[str], faces: int) -> bool:
    """Whether scoring these models with these settings was asked for in this tab; until it is, a line (saying
    too when a scoring was cancelled) and a button that asks: two elements, where classify() then draws its
    Cancel button and progress bar, so that the button is replaced at once, not left faded while scoring runs."""
    if st.session_state.get("scoring_request") == request:
        return True
    line = (f"{' and '.join(models)} {'has' if len(models) == 1 else 'have'} not been scored with these settings: "
            f"scoring classifies {faces:,} faces, with its progress shown, and stores the report.")
    if st.session_state.pop("scoring_cancelled", False):
        line = f"Scoring was cancelled; nothing was stored. {line}"
    st.info(line)
    st.button(f"Score {faces:,} faces", type="primary", on_click=st.session_state.update,
              args=({"scoring_request": request},))
    return False


def cancel() -> None:
    st.session_state.pop("scoring_request", None)
    st.session_state.scoring_cancelled = True


def classify(model_name: str, path: Path, dataset: Dataset, split: str, views: str, runtime: str,
             sample: int = 0, only_known: bool = False) -> dict:
    """Score a model (on a stratified sample of its split's faces, 0: all) with a Cancel button and a progress
    bar saying the time left (core.evaluation.time_left: from the pace of the recent batches, the first batch's
    warm-up left out), and store the report."""
    stop = st.empty()  # drawn first, where the Score button was
    stop.button("Cancel", key=f"cancel-{model_name}", on_click=cancel)
    faces = sample or len(dataset.split(split))
    bar = st.progress(0.0, text=f"{model_name}: loading the model to classify {faces:,} faces...")
    start, left = time.monotonic(), TimeLeft()

    def follow(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{model_name}: classified {done:,} of {total:,} faces ({views} views), "
                                        f"{about_left(left.update(done, total))}")
    try:
        scorer = scorer_of(path, runtime)
        bar.progress(0.0, text=f"{model_name}: classifying {faces:,} faces with {scorer[1]}...")
        report = evaluate_and_store(scorer, path, dataset, split, views, runtime, follow, sample, only_known)
    except Exception:  # the page says why: no Cancel button or progress bar left behind
        stop.empty()
        bar.empty()
        raise
    stop.empty()
    bar.progress(1.0, text=f"{model_name}: classified {report['images']:,} of {report['images']:,} faces in "
                           f"{time.monotonic() - start:.0f} s; the report is stored, so it shows at once from now on")
    return report
