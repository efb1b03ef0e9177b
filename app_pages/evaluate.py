"""Evaluate: how a model does on a labelled split, where it errs, and how two models compare."""

import json

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages.accuracy_metric import accuracy_metric
from app_pages.export_panel import export_panel
from app_pages.dataset_reading import read_dataset
from app_pages.confusion_matrix import confusion_figure
from app_pages.scoring import asked, classify, model_of
from app_pages.tab_memory import kept_widget
from core.data.dataset import no_dataset
from core.evaluation.scores import baseline_warning
from core.vision.explain import explain_faces
from core.evaluation.export import RUNTIMES
from core.models.inference import DEFAULT_VIEWS, VIEWS
from core.models.store import ModelError, architecture_label, available_models, read_card
from core.data.classes import hex_colors
from core.evaluation.reports import report_file, stored_report


RUNTIME_LABELS = {"fast": "as Predict runs it (its checked int8 export, else Keras)", "keras": "Keras (the reference)"}
SAMPLE_SIZES = (500, 1000, 2000, 5000)
DEFAULT_SAMPLE = 1000  # 10,000 face views: about a minute on two cores; more from the list
VIEW_LABELS = {"single": "the face only (fastest)", "mirror": "face + mirror (2 images)",
               "shifted": "face + mirror, each shifted 2 px (10 images, most accurate)"}


def percent(metrics: dict, key: str = "accuracy") -> str:
    return f"{metrics[key]:.1%}" if key in metrics else "n/a"


def agreement_caption(report: dict, voted: bool) -> str:
    """What the accuracy is measured against, and what was left out or answered outside the data's classes."""
    parts = ["Against the class most of the people who labelled each face chose" if voted else "Against the labels"]
    if "plausible" in report:
        parts.append(f"{report['plausible']:.1%} of answers were given by at least 3 of the 10 people")
    if report.get("left_out"):
        parts.append("not scored: " + ", ".join(f"{count:,} {reason}" for reason, count in report["left_out"].items()))
    if report.get("answers_outside_data"):
        parts.append(f"{report['answers_outside_data']:,} answers in classes the data has no face of (counted wrong)")
    return "; ".join(parts) + "."


st.title("Evaluate")
models = available_models()
if not models:
    st.info("No trained model yet: train one on the Train page (or wait for the default model to finish).")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
left, right = st.columns(2)
name = kept_widget(left.selectbox, "evaluate_model", next(iter(models)), models, "Model", list(models))
others = ["(none)"] + [n for n in models if n != name]
other = kept_widget(right.selectbox, "evaluate_compare", "(none)", others, "Compare with (optional)", others)
chosen = {name: models[name]} | ({other: models[other]} if other != "(none)" else {})

card = read_card(models[name])
stored_val, stored_test = card.get("validation", {}), card.get("test", {})
columns = st.columns(4)
columns[0].metric("Architecture", architecture_label(card),
                  help=f"{card.get('architecture', '?')}: {card.get('parameters', 0):,} parameters")
accuracy_metric(columns[1], "Validation accuracy", stored_val,
                help=f"measured when the model was trained, on {stored_val.get('images', 0)} images")
accuracy_metric(columns[2], "Test accuracy", stored_test,
                help=f"measured when the model was trained, on the '{stored_test.get('split', 'test')}' split "
                     f"({stored_test.get('images', 0)} images)")
columns[3].metric("Test macro F1", percent(stored_test, "macro_f1"), help="measured when the model was trained")
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
    dataset = read_dataset(data)
    splits = list(dataset.splits)
    split_column, views_column, runtime_column, sample_column = st.columns(4)
    split = kept_widget(split_column.selectbox, "evaluate_split", "test" if "test" in splits else splits[0], splits,
                        "Split", splits)
    views = kept_widget(views_column.selectbox, "evaluate_views", DEFAULT_VIEWS, VIEWS, "Test-time views", VIEWS,
                        format_func=VIEW_LABELS.get)
    runtime = kept_widget(runtime_column.selectbox, "evaluate_runtime", RUNTIMES[0], RUNTIMES, "Runtime", RUNTIMES,
                          format_func=RUNTIME_LABELS.get)
    split_size = len(dataset.split(split))
    sizes = [size for size in SAMPLE_SIZES if size < split_size] + [0]
    known = [size for size in sizes if report_file(models[name], dataset, split, views, runtime, size).exists()]
    default = known[-1] if known else DEFAULT_SAMPLE if DEFAULT_SAMPLE in sizes else 0  # what is known first
    sample = sample_column.selectbox("Faces scored", sizes, index=sizes.index(default),  # each model's known first
                                     format_func=lambda size: f"{size:,}, a stratified sample" if size
                                     else f"all {split_size:,}")
    only_known = kept_widget(st.checkbox, "evaluate_only_known", False, (False, True),
                             "Leave out faces of classes a model lacks (counted), instead of refusing the data",
                             help="For example FER+'s contempt for a model trained on FER-2013's seven emotions.")
    reports = {model_name: stored_report(path, dataset, split, views, runtime, sample, only_known)
               for model_name, path in chosen.items()}
    unscored = [model_name for model_name, report in reports.items() if report is None]
    if unscored and not asked((str(data), split, views, runtime, sample, only_known, *unscored), unscored,
                              sample or split_size):
        st.stop()
    for model_name in unscored:
        reports[model_name] = classify(model_name, chosen[model_name], dataset, split, views, runtime, sample,
                                       only_known)
except FileNotFoundError:
    st.error(f"The evaluation failed: {no_dataset(data)}")
    st.stop()
except (ModelError, ValueError, OSError) as error:  # DatasetError is a ValueError
    st.error(f"The evaluation failed: {error}")
    st.stop()
for column, (model_name, report) in zip(st.columns(len(reports)), reports.items()):
    column.markdown(f"**{model_name}** on '{split}' ({report['images']:,} images, {report['runtime']}, "
                    f"scored {report['scored']})")
    accuracy, f1 = column.columns(2)
    accuracy_metric(accuracy, "Accuracy", report)
    if warning := baseline_warning(report):
        column.warning(f"{model_name}: {warning}")
    f1.metric("Macro F1", percent(report, "macro_f1"))
    column.caption(agreement_caption(report, dataset.split(split).votes is not None))
report = reports[name]
classes = report["classes"]  # the model's own, in its order
colors = hex_colors(classes)
scored = np.array(report["indices"])  # the split's faces the report scored, in its order

st.subheader(f"Confusion matrix: {name}")
# Squares, not a heatmap: Streamlit's selection events carry no cell for a heatmap (streamlit#8760).
clicked = st.plotly_chart(confusion_figure(np.array(report["confusion_matrix"]), classes), key="confusion",
                          on_select="rerun", selection_mode="points").selection.points
if clicked and (clicked[0]["y"], clicked[0]["x"]) != st.session_state.get("clicked_cell"):  # a new click
    st.session_state.clicked_cell = (clicked[0]["y"], clicked[0]["x"])
    st.session_state.cell_true, st.session_state.cell_called = st.session_state.clicked_cell
if "cell_true" not in st.session_state:  # the largest confusion first
    off_diagonal = np.array(report["confusion_matrix"]) * (1 - np.eye(len(classes)))
    true_index, called_index = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
    st.session_state.cell_true, st.session_state.cell_called = classes[true_index], classes[called_index]
if st.session_state.cell_true not in classes or st.session_state.cell_called not in classes:  # another model's
    st.session_state.cell_true, st.session_state.cell_called = classes[0], classes[-1]
left, right = st.columns(2)
true = left.selectbox("Faces that are (or click a cell)", classes, key="cell_true")
called = right.selectbox("called", classes, key="cell_called")
truth = np.asarray(dataset.classes)[dataset.split(split).labels[scored]]
cell = scored[(truth == true) & (np.array(report["predicted"]) == classes.index(called))]
st.caption(f"{len(cell):,} '{true}' faces called '{called}'" + (", the first 48:" if len(cell) > 48 else ""))
if len(cell):
    st.image(list(dataset.split(split).images[cell[:48]]), width=72)

st.subheader("Accuracy per class")
per_class = pd.DataFrame([{"model": n, "class": e, "accuracy": r["per_class"][e]["accuracy"]}
                          for n, r in reports.items() for e in classes if e in r["per_class"]])
figure = px.bar(per_class, x="class", y="accuracy", color="model", barmode="group", range_y=[0, 1]) \
    if len(reports) > 1 else px.bar(per_class, x="class", y="accuracy", color="class", range_y=[0, 1],
                                    color_discrete_map=colors)
st.plotly_chart(figure)
st.dataframe(pd.DataFrame(report["per_class"]).T.rename_axis("class").round(3),
             column_config={"support": st.column_config.NumberColumn("images", format="%d")})

st.subheader("Most confident mistakes")
if report["worst_mistakes"]:
    faces = dataset.split(split).images[scored[[mistake["index"] for mistake in report["worst_mistakes"]]]]
    if st.toggle("Why these labels? (Grad-CAM: in red, what made the model say the wrong emotion)"):
        predicted = [classes.index(mistake["predicted"]) for mistake in report["worst_mistakes"]]
        shown = (str(models[name]), models[name].stat().st_mtime, str(data), split, views, runtime, sample,
                 only_known, report["scored"])
        if st.session_state.get("mistakes_explained", (None,))[0] != shown:  # kept for reruns (a cell click)
            model = model_of(*shown[:2])
            with st.spinner(f"Grad-CAM: finding what made the model say the wrong emotion on {len(faces)} faces..."):
                st.session_state.mistakes_explained = shown, explain_faces(model, faces, predicted)
        pictures = st.session_state.mistakes_explained[1]
    else:
        pictures = [np.kron(face, np.ones((3, 3), np.uint8)) for face in faces]
    st.image(pictures, width=144,
             caption=[f"{m['true']} → {m['predicted']} ({m['confidence']:.0%})" for m in report["worst_mistakes"]])
else:
    st.success("No mistakes on this split.")
