"""Home: what the tool does, which model is active, whether a dataset is configured."""

import streamlit as st

from app_pages.accuracy_metric import accuracy_metric
from app_pages.dataset_choice import shown_name
from app_pages.plain_text import plain

from core.evaluation.scores import baseline_warning
from core.models.store import ModelError, active_run, architecture_label, read_card
from core.storage.runs import DEFAULT_MODEL_DIR, portable_path

st.title("FER Studio")
st.write(
    "Recognise facial expressions in photos, videos and a live webcam: explore a dataset (FER-2013, FER+ or "
    "folders of your own), train and compare models, see where each one fails, and teach your own classes."
)

st.subheader("Active model")
try:
    card = read_card("default")
except ModelError:
    st.info(f"No default model yet ({portable_path(DEFAULT_MODEL_DIR / 'model.keras')} does not exist): it may "
            "still be training. Train your own on the Train page; finished runs can be used on every page.")
else:
    if not card:
        st.warning("The default model has no readable card.json, so its origin and scores are unknown.")
    else:
        test, validation = card.get("test", {}), card.get("validation", {})
        active = active_run()
        if active:
            st.caption(f"Run {active.name}, made the default on the Runs page (the shipped model stays in "
                       "models/default).")
        classes = card.get("classes", [])
        st.markdown(f"It answers one of its {len(classes)} classes: {plain(', '.join(classes))}.")
        columns = st.columns(4)
        columns[0].metric("Architecture", architecture_label(card),
                          help=f"{card.get('architecture', '?')}: {card.get('parameters', 0):,} parameters")
        accuracy_metric(columns[1], "Test accuracy", test,
                        help=f"on the '{test.get('split', 'test')}' split, {test.get('images', 0):,} images")
        accuracy_metric(columns[2], "Validation accuracy", validation)
        if warning := baseline_warning(test or validation):
            st.warning(f"The default model: {warning}")
        columns[3].metric("Trained on", str(card.get("finished", "?"))[:10],
                          help=f"{card.get('training_seconds', 0) / 60:.0f} min on {card.get('hardware', '?')}")
        for number, member in enumerate(card.get("members") or [card], 1):
            backend = member.get("versions", {}).get("backend", "")
            prefix = f"Network {number} trained" if "members" in card else "Trained"
            st.caption(f"{prefix} with `{member.get('command', '?')}` on {member.get('hardware', '?')}"
                       + (f" (Keras on {backend})" if backend else ""))
            if member.get("initialised_from"):
                source = member["initialised_from"]
                st.caption(f"continuing a model trained for {source.get('training_seconds', 0) / 60:.0f} min "
                           f"with `{source.get('command', '?')}`")
        if "members" in card:
            st.caption(f"Their probabilities are averaged into one model with `{card.get('command', '?')}`; "
                       f"scores average {card['config'].get('views', 'shifted')} test-time views.")

st.subheader("Dataset")
data = st.session_state.get("data_path", "")
if data:
    st.success(f"Dataset: {shown_name(data)}; the Dataset, Train and Evaluate pages of this tab use it.")
else:
    st.info("No dataset chosen: type the path of a folder of class folders (or of train/ and test/ folders), a "
            "fer2013.csv or a .zip in the sidebar, or upload a .zip on the Dataset page. FER-2013 (Goodfellow et "
            "al., ICML 2013 challenge; 48x48 gray faces) comes from Kaggle as train/ and test/ or fer2013.csv.")

st.subheader("Pages")
st.page_link("app_pages/dataset.py", label="Dataset: counts, balance and example faces",
             icon=":material/photo_library:")
st.page_link("app_pages/train.py", label="Train: start, follow, cancel and resume runs",
             icon=":material/model_training:")
st.page_link("app_pages/teach.py", label="Teach: a model of your own classes from the webcam or photos",
             icon=":material/school:")
st.page_link("app_pages/runs.py", label="Runs: compare runs' curves and scores, choose the default model",
             icon=":material/compare_arrows:")
st.page_link("app_pages/evaluate.py", label="Evaluate: confusion matrix, per-class scores, mistakes",
             icon=":material/analytics:")
st.page_link("app_pages/predict.py", label="Predict: photos and the live webcam", icon=":material/mood:")
st.page_link("app_pages/video.py", label="Video: emotions through a video, face by face", icon=":material/movie:")
