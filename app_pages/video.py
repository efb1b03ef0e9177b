"""Video: every n-th frame of an uploaded video classified, each face followed, its emotions over time; the
video and its results kept for this browser tab."""

import shutil
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages.tab_memory import kept_uploads, kept_widget
from core.data.classes import hex_colors
from core.models.store import ModelError, available_models, model_classes
from core.prediction.pictures import FacePredictor
from core.storage.temporary_files import new_private_folder, short_file_name
from core.prediction.video import EVERY, VIDEO_SUFFIXES, VideoError, predict_video


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def predictor_of(path: str, mtime: float) -> FacePredictor:
    return FacePredictor(path)


def analyse(predictor: FacePredictor, name: str, data: bytes, every: int) -> dict:
    """Run the video through core.prediction.video in a fresh folder; return where the CSV and annotated video are."""
    folder = new_private_folder("fer-video-")  # mode 0700; folders left over for a day are removed first
    source = folder / short_file_name(Path(name).name)
    source.write_bytes(data)
    bar = st.progress(0.0, text="Reading the video...")

    def show(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"Frame {done:,} of about {total:,}")

    try:
        counts = predict_video(predictor, source, folder / "faces.csv", every, folder / "annotated.mp4", show)
    except BaseException:  # nothing of a failed analysis is kept (a rerun or a stop included)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    source.unlink()
    bar.empty()
    return {"counts": counts, "csv": folder / "faces.csv", "video": folder / "annotated.mp4", "stem": Path(name).stem}


st.title("Video")
models = available_models()
if not models:
    st.warning("No trained model yet: train one on the Train page to classify videos.")
    st.stop()
name = kept_widget(st.selectbox, "video_model", next(iter(models)), models, "Model", list(models))
uploads = kept_uploads("A video with faces", "video_upload", sorted(suffix[1:] for suffix in VIDEO_SUFFIXES),
                       many=False)
every = kept_widget(st.slider, "video_every", EVERY, range(1, 31), "Classify every n-th frame", 1, 30,
                    help="1: every frame (slowest); the annotated video keeps every frame, with the boxes of the "
                         "last classified one.")
result = st.session_state.get("video_result")
if not uploads:
    if result is not None:  # cleared: its outputs go too
        shutil.rmtree(result["csv"].parent, ignore_errors=True)
        st.session_state.pop("video_result")
    st.info("Upload a video (mp4, webm, mov...): faces are found and classified every n-th frame, each face is "
            "followed across frames (new numbers after a scene cut), and you get a timeline per face, an annotated "
            "video and a CSV.")
    st.stop()

upload = uploads[0]
key = (upload.file_id, every, name)  # the video by content
if result is None or result["key"] != key:
    if not st.button("Analyse the video", type="primary"):
        st.stop()
    if result is not None:
        shutil.rmtree(result["csv"].parent, ignore_errors=True)  # the previous video's outputs
        st.session_state.pop("video_result")
    try:
        predictor = predictor_of(str(models[name]), models[name].stat().st_mtime)
        result = analyse(predictor, upload.name, upload.getvalue(), every) | {
            "key": key, "classes": model_classes(models[name])}
        st.session_state["video_result"] = result
    except VideoError as error:
        st.error(str(error))
        st.stop()
    except (ModelError, OSError) as error:
        st.error(f"The video could not be classified: {error}")
        st.stop()

counts = result["counts"]
cuts = f" across {counts['cuts']} scene cut(s)" if counts["cuts"] else ""
st.success(f"{counts['classified']:,} of {counts['frames']:,} frames classified; {counts['faces']} face(s) "
           f"followed{cuts}.")
left, right = st.columns(2)
left.download_button("Download the CSV", result["csv"].read_bytes(), file_name=f"{result['stem']}-emotions.csv",
                     mime="text/csv", on_click="ignore")
right.download_button("Download the annotated video", result["video"].read_bytes(),
                      file_name=f"{result['stem']}-annotated.mp4", mime="video/mp4", on_click="ignore")
st.video(str(result["video"]))

rows = pd.read_csv(result["csv"])
classes = result["classes"]  # every class of the model, in its order, in each legend: never predicted ones too
faces = rows[rows["face"] > 0]
if faces.empty:
    st.info("No face was found in the classified frames. Faces should be frontal and not too small.")
for number, face in faces.groupby("face"):
    figure = px.line(face, x="time_s", y=classes, color_discrete_map=hex_colors(classes), range_y=[0, 1],
                     labels={"time_s": "time (s)", "value": "probability", "variable": "class"},
                     title=f"Face {number}: mostly {face['emotion'].mode()[0]}")
    st.plotly_chart(figure.update_layout(height=340, legend={"orientation": "h", "yanchor": "top", "y": -0.25}))
