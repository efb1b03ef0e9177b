"""Not a page: the Teach page's training: one click starts `python -m core train` with the quick preset on a
copy of the examples kept in the run's folder (faces/), so a run goes on unchanged whatever is done to the
examples meanwhile; it is followed live, and ends with its score on people it was not taught (each person left
out in turn: core.training.feature_head), per class and per person, or what to add to have one."""

import shutil

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.accuracy_metric import accuracy_metric
from app_pages.confusion_matrix import confusion_figure
from app_pages.run_progress import epoch_history, launch, show_curves, show_progress, starting
from app_pages.plain_text import plain
from core.data.captures import CaptureError, CaptureSet, session_mark
from core.evaluation.comparison import learned_little_finding
from core.evaluation.scores import baseline_warning
from core.models.store import active_run
from core.storage.runs import RunBusy, RunFolder, list_runs, new_run_dir

FACES = "faces"  # the run's own copy of the examples
TAB_MARK = "teach-tab"  # whose tab started the run (core.data.captures.session_mark)


def teach_runs() -> list[RunFolder]:
    """Runs this tab started on the Teach page (they hold their examples and its mark), newest first, and the
    default model where it is a taught one: until kept, a taught model is its tab's own."""
    mark, active = session_mark(st.session_state.teach_session), active_run()
    return [run for run in list_runs() if (run.path / FACES).is_dir() and (
        _mark_of(run) == mark or (active is not None and run.path == active.path))]


def _mark_of(run: RunFolder) -> str:
    try:
        return (run.path / TAB_MARK).read_text().strip()
    except OSError:
        return ""


def start_training(captures: CaptureSet) -> bool:
    """Copy the examples into a new run folder and start the quick preset on them there; False (saying why)
    when it cannot start."""
    run_dir = None
    try:
        run_dir = new_run_dir("teach")
        faces = captures.export(run_dir / FACES)
        (run_dir / TAB_MARK).write_text(session_mark(st.session_state.teach_session))
        launch(run_dir, [str(faces), "--preset", "quick"])
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
    if not st.session_state.get("teach_run"):  # after a reload: this tab's newest run
        newest = next((run for run in teach_runs() if _mark_of(run) == session_mark(st.session_state.teach_session)),
                      None)
        st.session_state.teach_run = str(newest.path) if newest else None
    run = RunFolder(st.session_state.teach_run) if st.session_state.get("teach_run") else None
    busy = run is not None and (run.is_running() or (starting(run, run.status()) and not refused(run)))
    st.caption("Training reads what the three shipped networks see in each face and teaches a small head your "
               "classes: each person in turn is left out and scored by a head taught on the others (the score on "
               "people it was not taught), then the model you keep is taught on everyone's examples.")
    problems = captures.problems()
    for problem in problems:
        st.info(f"Before training: {plain(problem)}.")
    if st.button("Train", type="primary", key="teach_train", disabled=bool(problems) or busy,
                 help="A run is training: wait for it or cancel it" if busy else None):
        if start_training(captures):
            st.rerun()  # drawn again: the button held back while the run trains
    if run is not None:
        changed_since(run, captures)
        status = run.status()
        follow(run, status["state"] == "running" or (starting(run, status) and not refused(run)))
    return run


def changed_since(run: RunFolder, captures: CaptureSet) -> None:
    """Say what changed in the examples since the run started (a class renamed, deleted or emptied, more
    added): the run goes on with its own copy."""
    if not (run.path / FACES).is_dir():
        return
    then, now = CaptureSet(run.path / FACES).counts(), captures.counts()
    gone, new = [name for name in then if name not in now], [name for name in now if name not in then]
    changes = [f"'{old}' was renamed '{new[0]}'" for old in gone if len(gone) == len(new) == 1]
    changes += [f"'{name}' was deleted" for name in gone if not changes]
    changes += [f"'{name}' was emptied ({then[name]} examples when run {run.name} started)" for name in then
                if name in now and not now[name]]
    if changes:
        st.info(f"Since run {run.name} started, {plain('; '.join(changes))}: the run goes on with the classes and "
                "examples as they were then (its own copy); train again to learn them as they are now.")
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
        elif state == "running" and not history and status["finish"]:  # the quick preset: stages, no epochs
            st.info(f"Run {run.name}: {status['finish']['stage']}...")
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
    """How the run did on people it was not taught (the headline), per class and per person; or, with too little
    to score, that there is no score and what to add."""
    card = run.card() or {}
    report = card.get("new_people")
    st.success(f"Run {run.name} finished in {card.get('training_seconds', 0):.0f} s: try it below.")
    if report is None:  # a run of another recipe: its own held-out scores
        left, right = st.columns(2)
        accuracy_metric(left, "Validation accuracy", card.get("validation", {}))
        accuracy_metric(right, "Test accuracy", card.get("test", {}))
        return
    repeats = (f" {report['repeats']} faces that repeat one before them (a still camera) count once."
               if report["repeats"] else "")
    if not report["scored"]:
        st.warning("No score on people it was not taught: " + "; ".join(map(plain, report["to_add"])) + "." + repeats)
        return
    accuracy_metric(st, "On people it was not taught", card["validation"],
                    help=f"{report['faces']} different faces of {len(report['people'])} people, each scored by a "
                         "model taught on the others only." + repeats)
    if finding := learned_little_finding(card):
        st.warning(f"This run: {plain(finding)} Try more examples of each class, from more people, or classes "
                   "that differ more in the face.")
    elif warning := baseline_warning(card["validation"]):
        st.warning(f"This run: {warning}")
    st.caption("The model you keep was then taught on everyone's examples; its probabilities are calibrated on the "
               f"people left out.{repeats}")
    left, right = st.columns(2)
    left.dataframe(tally_table(report["per_class"], "class"))
    right.dataframe(tally_table(report["per_person"], "person"))
    classes = card["classes"]
    figure = confusion_figure(np.array(card["validation"]["confusion_matrix"]), classes)
    st.plotly_chart(figure.update_layout(title="On people it was not taught"), key="teach_confusion")


def tally_table(rows: dict, what: str) -> pd.DataFrame:
    """Different faces scored (a near repeat of one before counts once), right answers and the share right (where
    there are enough faces to say) per class or person."""
    return pd.DataFrame({what: list(rows), "different faces": [row["faces"] for row in rows.values()],
                         "right": [row["correct"] for row in rows.values()],
                         "accuracy": [f"{row['accuracy']:.0%}" if row["accuracy"] is not None else "too few to say"
                                      for row in rows.values()]}).set_index(what)
