"""Predict: find the faces in photos or the live webcam and name their emotions."""

import av
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from app_pages.tab_memory import kept_uploads, kept_widget
from app_pages.photo_prediction import predictor_of, show_prediction
from app_pages.results_panel import results_panel
from core.vision.faces import VIDEO
from core.vision.frame_rate import FrameRate, draw_frame_rate
from core.models.inference import LIVE_VIEWS
from core.models.store import ModelError, available_models
from core.prediction.pictures import draw_predictions
from core.storage.uploads import PICTURE_TYPES


st.title("Predict")
models = available_models()
if not models:
    st.warning("No trained model yet, so nothing can be predicted: train one on the Train page "
               "(or wait for the default model to finish training).")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
name = kept_widget(st.selectbox, "predict_model", next(iter(models)), models, "Model", list(models))
model_key = (str(models[name]), models[name].stat().st_mtime)
try:
    predictor = predictor_of(*model_key)
except (ModelError, OSError) as error:
    st.error(f"The model cannot be loaded: {error}")
    st.stop()

st.subheader("Photos")
st.caption("Faces are found with MTCNN, turned upright on their eyes and framed as FER-2013's faces are. "
           "Each face is classified 10 times, as itself and its mirror image, each also moved 2 pixels four ways, "
           "and the probabilities averaged; the live webcam uses the face and its mirror only, to keep up.")
uploads = kept_uploads("Pictures with faces", "predict_photos", PICTURE_TYPES)  # kept while this tab is open
taken = len(uploads)
progress = st.progress(0.0) if taken > 1 else None
shown_pictures = []
for index, upload in enumerate(uploads):
    if progress:
        progress.progress(index / taken, text=f"Picture {index + 1} of {taken}: {upload.name}")
    if result := show_prediction(predictor, model_key, upload, key=f"photo-{index}", store="predict_results"):
        shown_pictures.append((upload.name, *result))
if progress:
    progress.empty()
if shown_pictures:
    results_panel(shown_pictures)

st.subheader("Live webcam")
rate = st.session_state.setdefault("frame_rate", FrameRate())


def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
    """Runs on the video thread: no st.* calls here."""
    picture = frame.to_ndarray(format="rgb24")
    faces = predictor.predict_rgb(picture, VIDEO, LIVE_VIEWS)
    canvas = draw_frame_rate(draw_predictions(picture, faces), rate.tick())
    return av.VideoFrame.from_ndarray(canvas, format="rgb24")


try:
    stream = webrtc_streamer(key="webcam", mode=WebRtcMode.SENDRECV, video_frame_callback=on_frame,
                             media_stream_constraints={"video": True, "audio": False}, async_processing=True,
                             rtc_configuration={"iceServers": []})
except Exception as error:  # the component needs a real browser session; never let it take the page down
    st.warning(f"The live video is not available here ({type(error).__name__}: {error}).")
    stream = None


@st.fragment(run_every=1 if stream and stream.state.playing else None)
def show_frame_rate() -> None:
    playing = stream is not None and stream.state.playing
    fps = rate.fps
    st.metric("Frames per second (processed)", f"{fps:.1f}" if playing else "-")
    if playing and rate.stalled():
        st.caption("No frame processed in the last seconds: if the video stays frozen (a busy CPU can stop "
                   "the video thread), press Stop, then Start.")
    elif playing and fps == 0:
        st.caption("Starting: the first frames can take a few seconds on a busy machine.")


if stream is not None:
    if stream.state.playing and not st.session_state.get("webcam_playing"):
        rate.reset()  # a new start: frames of an earlier one do not count
    st.session_state.webcam_playing = stream.state.playing
    show_frame_rate()

# Behind a toggle: st.camera_input asks the browser for the camera as soon as it is drawn.
snapshot = st.camera_input("Take a snapshot") if st.toggle(
    "Take a snapshot instead (when the live video cannot connect)", key="snapshot_camera") else None
if snapshot is not None:
    show_prediction(predictor, model_key, snapshot, key="snapshot", store="predict_results")

showing = {upload.file_id for upload in [*uploads, snapshot] if upload}  # forget pictures gone
st.session_state["predict_results"] = {k: v for k, v in st.session_state.get("predict_results", {}).items()
                                       if k[-1] in showing}
