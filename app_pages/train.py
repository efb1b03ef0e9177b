"""Train: start a run, follow it live (from any tab, after a reload), cancel or resume it, see how it ended."""

from pathlib import Path

import streamlit as st

from app_pages.accuracy_metric import accuracy_metric
from app_pages.dataset_choice import shown_name, typed_name, typed_path
from app_pages.plain_text import plain
from app_pages.tab_memory import keep, recall
from app_pages.run_progress import (duration, epoch_history, launch, launched_twin, show_curves, show_progress,
                                    starting)
from core.storage.allowed_paths import data_path_refusal
from core.models.architectures import ARCHITECTURES, starts_from_features
from core.data.balance import STRATEGIES
from core.data.dataset import DatasetError, check_dataset
from core.evaluation.comparison import learned_little_finding
from core.evaluation.scores import baseline_warning
from core.models.store import available_models, read_card
from core.storage.runs import RunBusy, RunFolder, list_runs, new_run_dir, portable_path, recorded_path


FORM = {"arch": next(iter(ARCHITECTURES)), "epochs": 40, "batch_size": 128, "learning_rate": 0.0,
        "balance": STRATEGIES[0], "val_fraction": 0.1, "max_images": 0, "augment": True,
        "init_from": "random weights", "teachers": [], "teacher_weight": 0.5, "weight_decay": 0.0}


def training_arguments(data: str, starts: dict) -> list[str]:
    """`python -m core train` arguments for the form's settings."""
    state = st.session_state
    arguments = [str(Path(data).expanduser().resolve()), "--arch", state.arch, "--epochs", str(state.epochs),
                 "--batch-size", str(state.batch_size), "--balance", state.balance,
                 "--val-fraction", str(state.val_fraction)]
    arguments += ["--learning-rate", str(state.learning_rate)] if state.learning_rate > 0 else []
    arguments += [] if state.augment else ["--no-augment"]
    arguments += ["--max-images", str(state.max_images)] if state.max_images else []
    arguments += ["--init-from", str(starts[state.init_from])] if starts[state.init_from] else []
    arguments += ["--weight-decay", str(state.weight_decay)] if state.weight_decay > 0 else []
    if state.teachers:
        arguments += ["--teachers", *(str(starts[name]) for name in state.teachers),
                      "--teacher-weight", str(state.teacher_weight)]
    return arguments


st.title("Train")
starts = {"random weights": None} | {f"{name} ({read_card(path).get('architecture', '?')})": path
                                     for name, path in available_models().items()}
recall(FORM, {"init_from": starts})  # a model kept from the last visit may be gone
# The dataset path: the sidebar's, or what was typed here, kept across pages until the sidebar's changes.
sidebar = typed_name(st.session_state.get("data_path", ""))  # an upload by its label, not the server's file
recall({"data": sidebar, "data_from": sidebar})
if st.session_state.data_from != sidebar:  # another dataset chosen in the sidebar: this field follows it
    st.session_state.data, st.session_state.data_from = sidebar, sidebar
st.session_state.teachers = [name for name in st.session_state.teachers if starts.get(name)]
with st.container(border=True, key="new_run"):  # no st.form: a change is kept even when nothing is started
    st.subheader("New run")
    left, middle, right = st.columns([2, 1, 1])
    left.selectbox("Architecture", list(ARCHITECTURES), key="arch",
                   format_func=lambda name: f"{name}: {ARCHITECTURES[name].description}")
    middle.number_input("Epochs", 1, 1000, key="epochs")
    right.number_input("Batch size", 1, 4096, key="batch_size")
    left.number_input("Learning rate (0: the architecture's own)", 0.0, 1.0, step=1e-4, format="%.5f",
                      key="learning_rate")
    middle.selectbox("Imbalance strategy", STRATEGIES, key="balance")
    right.slider("Validation fraction", 0.0, 0.5, step=0.05, key="val_fraction")
    left.number_input("Max training images (0: all; fewer for a quick run)", 0, 10_000_000, step=1000,
                      key="max_images")
    middle.toggle("Augmentation", key="augment", help="Flips, rotations, shifts, zoom and random erasing of the "
                                                     "training images")
    right.selectbox("Start from", list(starts), key="init_from",
                    help="Continue or fine-tune a trained model; it must have the architecture chosen.")
    left.multiselect("Learn from (distillation)", [name for name, path in starts.items() if path], key="teachers",
                     help="Trained models whose averaged probabilities join the labels as training targets: one "
                          "network learns an ensemble.")
    middle.slider("Teachers' share of the targets", 0.0, 1.0, step=0.1, key="teacher_weight")
    right.number_input("Weight decay (0: the architecture's own)", 0.0, 1.0, step=1e-3, format="%.4f",
                       key="weight_decay")
    data = st.text_input("Dataset path", key="data",
                         help="The dataset chosen in the sidebar, unless changed here: what is typed here stays "
                              "for this tab until another dataset is chosen in the sidebar.").strip()
    data = typed_path(data)  # an uploaded zip's label: the file it is kept in
    submitted = st.button("Start training", type="primary")
keep([*FORM, "data", "data_from"])
if submitted:
    arch, start = st.session_state.arch, st.session_state.init_from
    start_arch = read_card(starts[start]).get("architecture", arch) if starts[start] else arch
    if not data:
        st.error("Not started: give a dataset in the sidebar or here.")
    elif refusal := data_path_refusal(data):  # only folders the operator allows (core/storage/allowed_paths.py)
        st.error(refusal)
    elif start_arch != arch:
        st.error(f"'{start}' has the architecture '{start_arch}', so it cannot start a {arch} run: choose its "
                 "architecture, or random weights (it can still be a teacher).")
    else:
        try:
            with st.spinner("Checking the dataset..."):
                summary = check_dataset(data, shown_name=Path(shown_name(data)).name)
        except DatasetError as error:
            st.error(f"Not started: {error}")
        else:
            arguments = training_arguments(data, starts)
            if twin := launched_twin(arguments):
                st.info(f"This training is already starting or running as {twin}: one click, one run.")
            else:
                try:
                    run_dir = new_run_dir(arch)
                    launch(run_dir, arguments)
                    st.session_state["run"] = str(run_dir)
                    st.toast(f"Started {run_dir.name} on {summary}.")
                except (RunBusy, OSError) as error:
                    st.error(f"The training could not be started: {error}")

st.subheader("Runs")
runs = [str(run.path) for run in list_runs()]
runs = [p for p in st.session_state.get("launched", {}) if p not in runs and Path(p).is_dir()][::-1] + runs
if not runs:
    st.info("No training runs yet: start one above.")
    st.stop()
if st.session_state.get("run") not in runs:  # a fresh session: the running run, else the newest
    st.session_state["run"] = next((p for p in runs if RunFolder(p).is_running()), runs[0])
run = RunFolder(st.selectbox("Run (newest first)", runs, format_func=lambda p: Path(p).name, key="run"))
first = run.status()
live = first["state"] == "running" or starting(run, first)


@st.fragment(run_every=2 if live else None)
def show_run(run: RunFolder, was_live: bool) -> None:
    status = run.status()
    state = status["state"]
    if was_live and not (state == "running" or starting(run, status)):
        st.rerun()  # the run ended: redraw the whole page (buttons, polling off)
    config = run.config() or {}
    history = epoch_history(status)
    epochs = (status["start"] or {}).get("epochs") or config.get("epochs") or 1
    done = history[-1]["epoch"] if history else (status["start"] or {}).get("initial_epoch", 0)
    data = portable_path(recorded_path(config["data"])) if config.get("data") else "?"  # no server folder named
    st.markdown(f"**{run.name}**: {state}" + (f" ({config.get('arch')}, {epochs} epochs, data {data})" if config else ""))
    if starting(run, status) or (state == "running" and not status["start"]):
        st.info("Starting the training process (loading TensorFlow and the data)...")
    if state == "running" and status["start"]:
        show_progress(status, history, epochs, done)
        if run.cancel_file.exists():
            st.caption("Cancel requested: the run stops after the current batch.")
        elif st.button("Cancel", key="cancel"):
            run.request_cancel()
            st.toast("Cancel requested: the run stops after the current batch and keeps its last epoch.")
    elif state == "finished":
        card = run.card() or {}
        validation, test = card.get("validation", {}), card.get("test", {})
        epochs_done = f"{len(history)} epoch{'s' * (len(history) != 1)}"
        st.success(f"Finished: {epochs_done} in {duration(card.get('training_seconds', 0))}.")
        left, right = st.columns(2)
        accuracy_metric(left, "Validation accuracy", validation)
        accuracy_metric(right, "Test accuracy", test,
                        help=f"on the '{test.get('split', 'test')}' split" if test else "the data has no test split")
        if finding := learned_little_finding(card):
            advice = ("more pictures per class, from more people, or classes that differ more in the face"
                      if starts_from_features(card.get("config", {}).get("arch")) else "more pictures per class, more "
                      "epochs, or 'oversample' as the imbalance strategy when one class dominates; for classes of "
                      "your own, the Teach page trains from features learned on 28,709 faces")
            st.warning(f"This run: {plain(finding)} Try {advice}.")
        elif warning := baseline_warning(test or validation):
            st.warning(f"This run: {warning}")
    elif state in ("cancelled", "interrupted") and not starting(run, status):
        st.warning(f"This run was {'cancelled' if state == 'cancelled' else 'interrupted (its process stopped)'} "
                   f"after {done} of {epochs} epochs. Resume continues from the last finished epoch.")
        if st.button("Resume", key="resume", type="primary"):
            try:
                launch(run.path, ["--resume"])
            except (RunBusy, OSError) as error:
                st.error(f"The run could not be resumed: {error}")
            else:
                st.rerun()
    elif state == "failed":
        st.error(f"The training failed: {status['message'] or 'no reason was recorded'}.")
    elif state == "new" and not starting(run, status):
        st.warning("This run never started: its training process stopped before writing any progress.")
    if history:
        show_curves(history)
    with st.expander("Log (last lines of log.txt)", expanded=state in ("failed", "new") and not live):
        log = run.log_file.read_text(errors="replace")[-4000:] if run.log_file.exists() else ""
        st.code(log or "(empty)", language=None)


show_run(run, live)
