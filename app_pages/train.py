"""Train: start a run, follow it live (from any tab, after a reload), cancel or resume it, see how it ended."""

from pathlib import Path

import streamlit as st

from app_pages.run_progress import duration, epoch_history, launch, show_curves, show_progress, starting
from core.allowed_paths import data_path_refusal
from core.architectures import ARCHITECTURES
from core.balance import STRATEGIES
from core.evaluation import baseline_note, baseline_warning
from core.model_store import available_models, read_card
from core.runs import RunBusy, RunFolder, list_runs, new_run_dir


st.title("Train")
with st.form("new_run"):
    st.subheader("New run")
    left, middle, right = st.columns([2, 1, 1])
    arch = left.selectbox("Architecture", list(ARCHITECTURES), key="arch",
                          format_func=lambda name: f"{name}: {ARCHITECTURES[name].description}")
    epochs = middle.number_input("Epochs", 1, 1000, 40, key="epochs")
    batch_size = right.number_input("Batch size", 1, 4096, 128, key="batch_size")
    learning_rate = left.number_input("Learning rate (0: the architecture's own)", 0.0, 1.0, 0.0, step=1e-4,
                                      format="%.5f", key="learning_rate")
    balance = middle.selectbox("Imbalance strategy", STRATEGIES, key="balance")
    val_fraction = right.slider("Validation fraction", 0.0, 0.5, 0.1, 0.05, key="val_fraction")
    max_images = left.number_input("Max training images (0: all; fewer for a quick run)", 0, 10_000_000, 0,
                                   step=1000, key="max_images")
    augment = middle.toggle("Augmentation", True, key="augment", help="Flips, rotations, shifts, zoom and "
                                                                     "random erasing of the training images")
    starts = {"random weights": None} | {f"{name} ({read_card(path).get('architecture', '?')})": path
                                         for name, path in available_models().items()}
    start = right.selectbox("Start from", list(starts), key="init_from",
                            help="Continue or fine-tune a trained model; it must have the architecture chosen.")
    teachers = left.multiselect("Learn from (distillation)", [name for name, path in starts.items() if path],
                                key="teachers", help="Trained models whose averaged probabilities join the "
                                                     "labels as training targets: one network learns an ensemble.")
    teacher_weight = middle.slider("Teachers' share of the targets", 0.0, 1.0, 0.5, 0.1, key="teacher_weight")
    weight_decay = right.number_input("Weight decay (0: the architecture's own)", 0.0, 1.0, 0.0, step=1e-3,
                                      format="%.4f", key="weight_decay")
    data = st.text_input("Dataset path", st.session_state.get("data_path", ""), key="data",
                         help="The dataset chosen in the sidebar, unless changed here for this run.").strip()
    submitted = st.form_submit_button("Start training", type="primary")
if submitted:
    start_arch = read_card(starts[start]).get("architecture", arch) if starts[start] else arch
    if refusal := data_path_refusal(data):  # only folders the operator allows (core/allowed_paths.py)
        st.error(refusal)
    elif not data or not Path(data).expanduser().exists():
        st.error(f"Give an existing dataset folder, fer2013.csv or .zip to train on (not '{data}').")
    elif start_arch != arch:
        st.error(f"'{start}' has the architecture '{start_arch}', so it cannot start a {arch} run: choose its "
                 "architecture, or random weights (it can still be a teacher).")
    else:
        arguments = [str(Path(data).expanduser().resolve()), "--arch", arch, "--epochs", str(epochs),
                     "--batch-size", str(batch_size), "--balance", balance, "--val-fraction", str(val_fraction)]
        arguments += ["--learning-rate", str(learning_rate)] if learning_rate > 0 else []
        arguments += [] if augment else ["--no-augment"]
        arguments += ["--max-images", str(max_images)] if max_images else []
        arguments += ["--init-from", str(starts[start])] if starts[start] else []
        arguments += ["--weight-decay", str(weight_decay)] if weight_decay > 0 else []
        if teachers:
            arguments += ["--teachers", *(str(starts[name]) for name in teachers),
                          "--teacher-weight", str(teacher_weight)]
        try:
            run_dir = new_run_dir(arch)
            launch(run_dir, arguments)
            st.session_state["run"] = str(run_dir)
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
    st.markdown(f"**{run.name}**: {state}" + (f" ({config.get('arch')}, {epochs} epochs, data {config.get('data')})"
                                             if config else ""))
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
        st.success(f"Finished: {len(history)} epochs in {duration(card.get('training_seconds', 0))}.")
        left, right = st.columns(2)
        left.metric("Validation accuracy", f"{validation['accuracy']:.1%}" if "accuracy" in validation else "n/a",
                    baseline_note(validation))
        right.metric("Test accuracy", f"{test['accuracy']:.1%}" if "accuracy" in test else "n/a", baseline_note(test),
                     help=f"on the '{test.get('split', 'test')}' split" if test else "the data has no test split")
        if warning := card.get("learned_little") or baseline_warning(test or validation):
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
