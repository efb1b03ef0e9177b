"""Dataset: what is in the data, how balanced the training folds are, and what the faces look like."""

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages.dataset_choice import shown_name, upload_label
from app_pages.dataset_reading import read_dataset
from app_pages.tab_memory import kept_saved_upload, kept_widget
from core.data.balance import STRATEGIES
from core.data.dataset import DatasetError, check_dataset
from core.data.overview import (agreement, example_faces, fold_counts, left_out_counts, mean_faces, shown_classes,
                                 skipped_faces, split_counts, split_votes)
from core.storage.uploads import save_zip_upload


def use_everywhere(path: str, name: str) -> None:
    st.session_state.dataset = upload_label(path, name)  # named by the user's file, not the server's


st.title("Dataset")
SOURCES = ["The sidebar's dataset", "Upload a .zip"]
source = kept_widget(st.radio, "data_source", SOURCES[0], SOURCES, "Data", SOURCES, horizontal=True)
if source == "Upload a .zip":
    upload = kept_saved_upload("A .zip of class folders (or of train/ and test/ folders holding them), or of "
                               "fer2013.csv", "dataset_zip", ["zip"], save_zip_upload)
    if not upload:
        st.info("Drop a .zip here: it is checked (unpacked within bounds, its files listed) before you can use it.")
        st.stop()
    path, upload_name = upload
    st.session_state.setdefault("upload_names", {})[path] = upload_name
    try:
        with st.spinner(f"Checking {upload_name}..."):
            summary = check_dataset(path, shown_name=upload_name)
    except DatasetError as error:
        st.error(f"It cannot be used: {error}")
        st.stop()
    st.success(f"{upload_name}: {summary}")
    st.button(f"Use {upload_name} on every page", on_click=use_everywhere, args=(path, upload_name),
              disabled=st.session_state.get("data_path") == path)
else:
    path = st.session_state.get("data_path", "")
    if not path:
        st.info("Choose a dataset: type its path in the sidebar, or upload a .zip.")
        st.stop()
    st.caption(f"Dataset: {shown_name(path)} (change it in the sidebar: every page of this tab uses it)")
try:
    dataset = read_dataset(path)
except (ValueError, OSError) as error:  # DatasetError is a ValueError
    name = Path(shown_name(path)).name
    st.error(f"{name} cannot be read: {str(error).replace(Path(path).name, name)}")
    st.stop()

counts = split_counts(dataset)
st.subheader("Images per split")
for column, (name, classes) in zip(st.columns(len(counts)), counts.items()):
    column.metric(name, f"{sum(classes.values()):,}")
table = pd.DataFrame([{"split": name, "class": emotion, "images": n}
                      for name, classes in counts.items() for emotion, n in classes.items()])
st.plotly_chart(px.bar(table, x="class", y="images", color="split", barmode="group", text_auto=True,
                       title=f"Images per class and split ({len(shown_classes(dataset))} classes)"))
skipped = skipped_faces(dataset)
if skipped:
    st.warning("Pictures left out because no single face was found in them (Predict would not find one either): "
               + "; ".join(f"{name}: {len(kinds['no_face'])} without a face, {len(kinds['several_faces'])} with several"
                           for name, kinds in skipped.items()) + ". They are listed under Skipped files below.")

shares = {name: agreement(split) for name, split in dataset.splits.items()}
if any(shares.values()):
    st.subheader("How much people agreed")
    st.caption("Each face was labelled by several people; its class is the one most of them chose. The chart counts "
               "faces by the share of votes that class got: at 50% or less, people were split.")
    agree_table = pd.DataFrame([{"split": name, "share of votes for the majority": share, "faces": count}
                                for name, figures in shares.items() if figures
                                for share, count in figures["top_share"].items()])
    st.plotly_chart(px.bar(agree_table, x="share of votes for the majority", y="faces", color="split",
                           barmode="group"))
    for name, reasons in left_out_counts(dataset).items():
        st.info(f"'{name}': {sum(reasons.values()):,} faces left out, without a majority: "
                + ", ".join(f"{count:,} {reason}" for reason, count in reasons.items())
                + " (a tie, or most people saw no emotion or no face). Training and scores leave them out.")
    voted_split = next(name for name, figures in shares.items() if figures)
    most_split = split_votes(dataset, dataset.split(voted_split))
    st.markdown(f"**Faces where people split most** ('{voted_split}')")
    st.image([dataset.split(voted_split).images[face["index"]] for face in most_split], width=110,
             caption=[", ".join(f"{name} {n}" for name, n in face["votes"].items()) for face in most_split])

st.subheader("Balancing the training fold")
fold_split = "train" if "train" in dataset.splits else next(iter(dataset.splits))
left, right = st.columns(2)
strategy = left.selectbox("Strategy", STRATEGIES, index=STRATEGIES.index("oversample"),
                          help="Applied to the training fold only, after the validation fold is held out.")
val_fraction = right.slider("Validation fraction", 0.0, 0.5, 0.1, 0.05)
try:
    folds = fold_counts(dataset, dataset.split(fold_split), val_fraction, strategy)
except ValueError as error:
    st.info(f"No folds to show for '{fold_split}': {error}. Add pictures, or lower the validation fraction.")
else:
    fold_names = {"train": "training fold (before)", "train_balanced": "training fold (after)",
                  "validation": "validation fold"}
    fold_table = pd.DataFrame([{"fold": label, "class": emotion, "images": n} for key, label in fold_names.items()
                               for emotion, n in zip(dataset.classes, folds[key]) if emotion in dataset.present])
    st.plotly_chart(px.bar(fold_table, x="class", y="images", color="fold", barmode="group",
                           title=f"'{fold_split}' split with strategy '{strategy}'"))
    if folds["class_weights"]:
        st.caption("Class weights: " + ", ".join(f"{e} {w:.2f}" for e, w in folds["class_weights"].items()))

st.subheader("Example faces")
sample_split = st.selectbox("Split", list(dataset.splits), key="sample_split",
                            index=list(dataset.splits).index(fold_split))
shown = dataset.split(sample_split)
for emotion, faces in example_faces(dataset, shown, per_class=8, seed=st.session_state.get("shuffle", 0)).items():
    st.markdown(f"**{emotion}**" + ("" if len(faces) else ": no images"))
    if len(faces):  # one strip a row: 7 pictures for the browser to draw, not 56
        st.image(np.hstack(list(faces)), width=72 * len(faces))
if st.button("Other examples"):
    st.session_state["shuffle"] = st.session_state.get("shuffle", 0) + 1
    st.rerun()

st.subheader("Mean face of each class")
means = {emotion: face for emotion, face in mean_faces(dataset, shown).items() if face is not None}
st.image(list(means.values()), caption=list(means), width=110)

problems = len(dataset.skipped) + len(dataset.warnings)
with st.expander(f"Skipped files and warnings ({problems})", expanded=False):
    if dataset.converted:
        st.write(f"{dataset.converted:,} image{' was' if dataset.converted == 1 else 's were'} converted to 48x48 "
                 "grayscale on reading.")
    if not problems:
        st.write("Every file was read.")
    for line in dataset.warnings:
        st.warning(line)
    if dataset.skipped:
        st.dataframe(pd.DataFrame({"skipped": dataset.skipped}), hide_index=True)
