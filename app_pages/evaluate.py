"""Evaluate: how a model does on a labelled split, where it errs, and how two models compare."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages.export_panel import export_panel
from core.dataset import Dataset, load_dataset
from core.emotions import EMOTIONS
from core.evaluation import baseline_note, baseline_warning
from core.explain import explain_faces
from core.inference import DEFAULT_VIEWS, VIEWS
from core.model_store import ModelError, available_models, load_model, read_card
from core.prediction import EMOTION_COLORS
from core.reports import evaluate_and_store, stored_report


VIEW_LABELS = {"single": "the face only (fastest)", "mirror": "face + mirror (2 images)",
               "shifted": "face + mirror, each shifted 2 px (10 images, most accurate)"}


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def model_of(path: str, mtime: float):
    return load_model(path)


@st.cache_resource(show_spinner="Reading the dataset (the first time decodes every image)...", max_entries=2)
def dataset_of(data: str, stamp: int) -> Dataset:
    return load_dataset(data)


def cancel() -> None:
    st.session_state.evaluation_cancelled = True


def classify(model_name: str, path: Path, dataset: Dataset, split: str, views: str) -> dict | None:
    """Score a model with a progress bar and a Cancel button, and store the report; None while cancelled."""
    if st.session_state.get("evaluation_cancelled"):
        st.info(f"Scoring {model_name} on '{split}' was cancelled.")
        st.button("Score it", on_click=st.session_state.pop, args=("evaluation_cancelled", None))
        return None
    model = model_of(str(path), path.stat().st_mtime)
    stop = st.empty()
    stop.button("Cancel", key="cancel_evaluation", on_click=cancel)
    bar, start = st.progress(0.0, text=f"{model_name}: classifying {len(dataset.split(split)):,} faces..."), \
        time.monotonic()

    def follow(done: int, total: int) -> None:
        left = (time.monotonic() - start) / done * (total - done)
        bar.progress(done / total, text=f"{model_name}: classified {done:,} of {total:,} faces ({views} views), "
                                        f"about {left:.0f} s left")
    report = evaluate_and_store(model, path, dataset, split, views, follow)
    stop.empty()
    bar.progress(1.0, text=f"{model_name}: classified {report['images']:,} of {report['images']:,} faces in "
                           f"{time.monotonic() - start:.0f} s; the report is stored, so it shows at once from now on")
    return report


def percent(metrics: dict, key: str = "accuracy") -> str:
    return f"{metrics[key]:.1%}" if key in metrics else "n/a"


st.title("Evaluate")
models = available_models()
if not models:
    st.info("No trained model yet: train one on the Train page (or wait for the default model to finish).")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
left, right = st.columns(2)
name = left.selectbox("Model", list(models))
other = right.selectbox("Compare with (optional)", ["(none)"] + [n for n in models if n != name])
chosen = {name: models[name]} | ({other: models[other]} if other != "(none)" else {})

card = read_card(models[name])
stored_val, stored_test = card.get("validation", {}), card.get("test", {})
columns = st.columns(4)
columns[0].metric("Architecture", card.get("architecture", "?"), help=f"{card.get('parameters', 0):,} parameters")
columns[1].metric("Validation accuracy (when trained)", percent(stored_val), baseline_note(stored_val),
                  help=f"{stored_val.get('images', 0)} images")
columns[2].metric("Test accuracy (when trained)", percent(stored_test), baseline_note(stored_test),
                  help=f"the '{stored_test.get('split', 'test')}' split, {stored_test.get('images', 0)} images")
columns[3].metric("Test macro F1 (when trained)", percent(stored_test, "macro_f1"))
slug = name.removeprefix("run: ")
left, right = st.columns(2)
left.download_button("Download the model (.keras)", lambda path=models[name]: path.read_bytes(),
                     file_name=f"{slug}.keras", mime="application/octet-stream", on_click="ignore")
right.download_button("Download its card (card.json)", json.dumps(card, indent=2), file_name=f"{slug}-card.json",
                      mime="application/json", on_click="ignore", disabled=not card)
export_panel(models[name], slug)

data = st.session_state.get("data_path", "")
if not data:
    st.info("Give a dataset path in the sidebar (or set FER_DATA) to score the model on one of its splits; "
            "the scores above were stored when the model was trained.")
    st.stop()
try:
    dataset = dataset_of(data, Path(data).expanduser().stat().st_mtime_ns)
    splits = list(dataset.splits)
    split_column, views_column = st.columns(2)
    split = split_column.selectbox("Split", splits, index=splits.index("test") if "test" in splits else 0)
    views = views_column.selectbox("Test-time views", VIEWS, index=VIEWS.index(DEFAULT_VIEWS),
                                   format_func=VIEW_LABELS.get)
    reports = {}
    for model_name, path in chosen.items():
        reports[model_name] = stored_report(path, dataset, split, views) or classify(model_name, path, dataset,
                                                                                      split, views)
        if reports[model_name] is None:
            st.stop()  # cancelled: the page waits for "Score it"
except FileNotFoundError:
    st.error(f"The dataset {data} does not exist.")
    st.stop()
except (ModelError, ValueError, OSError) as error:  # DatasetError is a ValueError
    st.error(f"The evaluation failed: {error}")
    st.stop()
for column, (model_name, report) in zip(st.columns(len(reports)), reports.items()):
    column.markdown(f"**{model_name}** on '{split}' ({report['images']:,} images, scored {report['scored']})")
    accuracy, f1 = column.columns(2)
    accuracy.metric("Accuracy", percent(report), baseline_note(report))
    if warning := baseline_warning(report):
        column.warning(f"{model_name}: {warning}")
    f1.metric("Macro F1", percent(report, "macro_f1"))
report = reports[name]

st.subheader(f"Confusion matrix: {name}")
normalised = st.toggle("Row-normalised (each true emotion sums to 1)", value=False)
matrix = np.array(report["confusion_matrix_normalized" if normalised else "confusion_matrix"])
st.plotly_chart(px.imshow(matrix, x=list(EMOTIONS), y=list(EMOTIONS), text_auto=".2f" if normalised else True,
                          color_continuous_scale="Blues", labels={"x": "predicted", "y": "true", "color": "share"
                                                                  if normalised else "images"}))

st.subheader("Accuracy per emotion")
per_class = pd.DataFrame([{"model": n, "emotion": e, "accuracy": r["per_class"][e]["accuracy"]}
                          for n, r in reports.items() for e in EMOTIONS])
figure = px.bar(per_class, x="emotion", y="accuracy", color="model", barmode="group", range_y=[0, 1]) \
    if len(reports) > 1 else px.bar(per_class, x="emotion", y="accuracy", color="emotion", range_y=[0, 1],
                                    color_discrete_map=EMOTION_COLORS)
st.plotly_chart(figure)
st.dataframe(pd.DataFrame(report["per_class"]).T.rename_axis("emotion").round(3),
             column_config={"support": st.column_config.NumberColumn("images", format="%d")})

st.subheader("Most confident mistakes")
if report["worst_mistakes"]:
    faces = dataset.split(split).images[[mistake["index"] for mistake in report["worst_mistakes"]]]
    if st.toggle("Why these labels? (Grad-CAM: in red, what made the model say the wrong emotion)"):
        predicted = [EMOTIONS.index(mistake["predicted"]) for mistake in report["worst_mistakes"]]
        pictures = explain_faces(model_of(str(models[name]), models[name].stat().st_mtime), faces, predicted)
    else:
        pictures = [np.kron(face, np.ones((3, 3), np.uint8)) for face in faces]
    st.image(pictures, width=144,
             caption=[f"{m['true']} → {m['predicted']} ({m['confidence']:.0%})" for m in report["worst_mistakes"]])
else:
    st.success("No mistakes on this split.")
