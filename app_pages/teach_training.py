"""Not a page: the Teach page's training: one click starts `python -m core train` with the quick preset on a
copy of the examples kept in the run's folder (faces/), so a run goes on unchanged whatever is done to the
examples meanwhile; it is followed live with the Train page's progress and curves, and ends with its scores
against the majority baseline, the per-class table and the confusion matrix from its card."""

import shutil

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.accuracy_metric import accuracy_metric
from app_pages.confusion_matrix import confusion_figure
from app_pages.run_progress import epoch_history, launch, show_curves, show_progress, starting
from app_pages.teach_examples import plain
from core.data.captures import CaptureError, CaptureSet
from core.evaluation.scores import baseline_warning
from core.training.presets import PRESETS
from core.storage.runs import RunBusy, RunFolder, list_runs, new_run_dir

QUICK = PRESETS["quick"]
FACES = "faces"  # the run's own copy of the examples


def teach_runs() -> list[RunFolder]:
    """Runs started on the Teach page (they hold their examples), newest first."""
    return [run for run in list_runs() if (run.path / FACES).is_dir()]


def start_training(captures: CaptureSet, epochs: int) -> bool:
    """Copy the examples into a new run folder and start the quick preset on them there; False (saying why)
    when it cannot start."""
    run_dir = None
    try:
        run_dir = new_run_dir("teach")
        faces = captures.export(run_dir / FACES)
        arguments = [str(faces), "--preset", "quick"]
        if epochs != QUICK["epochs"]:  # the preset's share of frozen epochs, at least one left to fine-tune
            frozen = max(0, min(epochs - 1, round(epochs * QUICK["freeze_epochs"] / QUICK["epochs"])))
            arguments += ["--epochs", str(epochs), "--freeze-epochs", str(frozen)]
        launch(run_dir, arguments)
    except (CaptureError, RunBusy, OSError) as error:
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing started: no half run left in the runs folder
        st.error(f"The training could not be started: {error}. The examples are kept.")
        return False
    st.session_state.teach_run = str(run_dir)
    return True


def train_section(captures: CaptureSet) -> RunFolder | None:
    """The Train button (held back, saying why, while the examples cannot train a model), and this session's
    run followed; returns that run."""
    run = RunFolder(st.session_state.teach_run) if st.session_state.get("teach_run") else None
    busy = run is not None and (run.is_running() or (starting(run, run.status()) and not refused(run)))
    with st.expander("Training options"):
        epochs = st.number_input("Epochs", 1, 200, QUICK["epochs"], key="teach_epochs",
                                 help=f"The quick preset's {QUICK['epochs']}: the first third train only the new "
                                      "head on the shipped model's features, the rest fine-tune everything.")
    problems = captures.problems()
    for problem in problems:
        st.info(f"Before training: {plain(problem)}.")
    if st.button("Train", type="primary", key="teach_train", disabled=bool(problems) or busy,
                 help="A run is training: wait for it or cancel it" if busy else None):
        if start_training(captures, int(epochs)):
            st.rerun()  # drawn again: the button held back while the run trains
    if run is not None:
        changed_since(run, captures)
        status = run.status()
        follow(run, status["state"] == "running" or (starting(run, status) and not refused(run)))
    return run


def changed_since(run: RunFolder, captures: CaptureSet) -> None:
    """Say when the examples are no longer what the run learns from (a class emptied or deleted, more added)."""
    if not (run.path / FACES).is_dir():
        return
    then, now = CaptureSet(run.path / FACES).counts(), captures.counts()
    emptied = [name for name in then if not now.get(name)]
    if emptied:
        said = "; ".join(f"'{name}' has no examples now ({then[name]} when run {run.name} started)" for name in emptied)
        st.info(f"{plain(said)}: the run goes on with the examples as they were then, kept in its folder; train "
                "again once every class has examples.")
    elif then != now:
        st.caption(f"The examples changed since run {run.name} started ({sum(then.values())} then, "
                   f"{sum(now.values())} now): train again to learn from them.")


def follow(run: RunFolder, live: bool) -> None:
    @st.fragment(run_every=2 if live else None)
    def progress() -> None:
        status = run.status()
        state, history = status["state"], epoch_history(status)
        if live and not (state == "running" or (starting(run, status) and not refused(run))):
            st.rerun()  # the run ended: redraw the whole page (the Train button, the model to try)
        epochs = (status["start"] or {}).get("epochs") or (run.config() or {}).get("epochs") or 1
        done = history[-1]["epoch"] if history else 0
        if state == "new" and refused(run):
            st.error(f"The training stopped before it began: {refused(run)}. The examples are kept: fix what it "
                     "says and train again.")
        elif starting(run, status) or (state == "running" and not status["start"]):
            st.info(f"Starting run {run.name} (loading TensorFlow and the examples)...")
        elif state == "running":
            show_progress(status, history, epochs, done)
            if not run.cancel_file.exists():
                st.button("Cancel", key="teach_cancel", on_click=run.request_cancel)
        elif state == "finished":
            results(run)
        elif state == "failed":
            st.error(f"The training failed: {status['message'] or 'no reason was recorded'}. The examples are "
                     "kept: fix what it says and train again.")
        elif state in ("cancelled", "interrupted"):
            st.warning(f"Run {run.name} stopped after {done} of {epochs} epochs; the examples are kept: train again.")
        else:
            st.error(f"The training stopped before it began: {last_log_line(run)}. The examples are kept: fix what "
                     "it says and train again.")
        if history:
            show_curves(history)
    progress()


def last_log_line(run: RunFolder) -> str:
    text = run.log_file.read_text(errors="replace") if run.log_file.exists() else ""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ") if lines else "no reason was recorded"


def refused(run: RunFolder) -> str | None:
    """Why the training process refused to begin (its `error:` line), before it wrote any progress; else None."""
    if run.config_file.exists() or not run.log_file.exists():
        return None
    lines = [line for line in run.log_file.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ") if lines and lines[-1].startswith("error: ") else None


def results(run: RunFolder) -> None:
    """How the run did: its scores against always answering the commonest class, its warnings, and per class."""
    card = run.card() or {}
    validation, test = card.get("validation", {}), card.get("test", {})
    st.success(f"Run {run.name} finished in {card.get('training_seconds', 0):.0f} s: try it below.")
    left, right = st.columns(2)
    accuracy_metric(left, "Validation accuracy", validation,
                    help=f"{validation.get('images', 0)} examples held out while training")
    accuracy_metric(right, "Test accuracy", test, help=f"{test.get('images', 0)} examples never used in training")
    if card.get("learned_little"):
        st.warning(f"This run: {plain(card['learned_little'])}")
    elif warning := baseline_warning(validation):
        st.warning(f"This run: {warning}")
    for warning in (card.get("split") or {}).get("warnings", []):
        st.caption(f"Note: {plain(warning)}")
    shown = [name for name, metrics in (("validation", validation), ("test", test)) if metrics.get("per_class")]
    if not shown:
        return
    split = st.radio("Per class, on", shown, horizontal=True, key="teach_results_split")
    metrics = card[split]
    classes = metrics.get("classes") or card.get("classes")
    left, right = st.columns(2)
    left.dataframe(pd.DataFrame(metrics["per_class"]).T.rename_axis("class").round(3),
                   column_config={"support": st.column_config.NumberColumn("examples", format="%d")})
    matrix = np.array(metrics["confusion_matrix"])
    right.plotly_chart(confusion_figure(matrix, classes).update_layout(title=f"Confusion ({split})"),
                       key="teach_confusion")

