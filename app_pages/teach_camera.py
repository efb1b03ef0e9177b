"""Not a page: the Teach page's webcams. One records examples: beside it, one control chooses the class
recorded; its frames go to this session's core.prediction.recording.Recorder, and a fragment polling every
second tells what it kept and left out; when it kept faces, the whole page runs again, adds them
(teach_examples.drain, once, at the top of the page) and counts them: every count on the page comes from that
one count of the examples kept. The other tries a model: a core.prediction.recording.LivePredictor draws its
latest answer on every frame, and a fragment says that same answer (LivePredictor.shown) beside the video."""

import av
import streamlit as st
import streamlit_webrtc  # looked up at each call (a module, not a page: tests replace the streamer)

from app_pages.plain_text import plain
from app_pages.teach_examples import PAGE_RUNNING
from core.prediction.recording import LivePredictor, Recorder

FEW_FRAMES = 4  # frames examined before "no face found" is said
RECORDING_KEY = "teach_recording"  # the class recorded, as the browser holds it (None: none)


def camera(key: str, on_frame) -> bool | None:
    """A webcam streamer whose frames (RGB) go through on_frame (on the video thread); True while it plays,
    None where there is no webcam component (no browser session)."""
    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(on_frame(frame.to_ndarray(format="rgb24")), format="rgb24")
    try:
        stream = streamlit_webrtc.webrtc_streamer(
            key=key, mode=streamlit_webrtc.WebRtcMode.SENDRECV, video_frame_callback=callback,
            media_stream_constraints={"video": True, "audio": False}, async_processing=True,
            rtc_configuration={"iceServers": []})
    except Exception as error:  # the component needs a real browser session; never let it take the page down
        st.warning(f"The webcam is not available here ({type(error).__name__}: {error}): add photos instead.")
        return None
    return bool(stream.state.playing)


def recording_choice(classes: list[str]) -> str | None:
    """The class being recorded, None for none: one control whose value only the person changes. (Per-class
    toggles that turn each other off cannot be kept right: a poll the browser sends before the server's change
    reaches it carries the other toggle still on, and turns it back on.)"""
    if not classes:
        st.caption("Add a class below to record its examples from the camera.")
        return None
    return st.segmented_control("Record from the camera", classes, format_func=plain, key=RECORDING_KEY,
                                help="Choose the class you are showing; choose it again to stop. While one is "
                                     "chosen, one face a frame is kept, at most 4 a second.")


def recording_camera(recorder: Recorder, counts: dict[str, int], person: str, keep_frames: bool) -> None:
    """The camera that records, beside it the class it records (recording_choice), what it is recording and the
    examples kept per class (counts: the page's one count of them)."""
    left, right = st.columns([3, 2])
    with left:
        playing = camera("teach-camera", recorder.on_frame)
    if playing is False:
        recorder.warm_up()  # its face detector ready before the camera starts
    with right:
        recording = recording_choice(list(counts))
    if recording:
        recorder.record(recording, person, keep_frames)
    else:
        recorder.stop()

    @st.fragment(run_every=1 if playing else None)
    def recording_status() -> None:
        if recorder.waiting() and not st.session_state.get(PAGE_RUNNING):  # a poll: the page adds and counts them
            st.rerun()
        tally, recording = recorder.tally(), recorder.recording
        if recording and not playing:
            st.caption(f"Start the camera: nothing is recorded for '{plain(recording)}' until it plays.")
        elif recording:
            st.markdown(f"Recording '{plain(tally.class_name)}': {tally.kept} faces kept, {tally.no_face} frames "
                        f"without a face, {tally.several_faces} with several faces")
            if tally.kept == 0 and tally.no_face >= FEW_FRAMES:
                st.warning("No face found in the camera's frames: face the camera, closer and in better light "
                           "(frames without a face are not kept).")
            if tally.several_faces >= FEW_FRAMES and tally.several_faces > tally.kept:
                st.warning("Several faces in the frames: one person at a time in front of the camera.")
        elif tally.class_name:
            st.caption(f"Last recording ('{plain(tally.class_name)}'): {tally.kept} faces kept, {tally.no_face} frames "
                       f"without a face, {tally.several_faces} with several faces (not kept).")
        elif playing:
            st.caption("The camera is on: choose the class to record.")
        else:
            st.caption("Start the camera, then choose the class to record.")
        if tally.dropped:
            st.warning(f"{tally.dropped} faces were dropped: the page did not take them in time.")
        if recorder.error:
            st.error(f"Finding faces failed: {recorder.error}")
        st.markdown("Examples: " + (", ".join(f"{plain(name)} {count}" for name, count in counts.items())
                                    or "none yet"))

    with right:
        recording_status()


def live_camera(live: LivePredictor) -> None:
    """The camera that tries the model, and what it sees now."""
    left, right = st.columns([3, 2])
    with left:
        playing = camera("teach-try", live.on_frame)
    if playing is False:
        live.warm_up()

    @st.fragment(run_every=1 if playing else None)
    def seen() -> None:
        answer = live.shown()  # the answer drawn on the video now: the same prediction as its labels
        if not playing:
            st.caption("Start the camera to see the model's answer on every face, live.")
        elif not live.frames:
            st.caption("Starting: the first frame is being classified...")
        elif not answer.faces:
            st.markdown("Live: no face in the latest frame")
        else:
            st.markdown(f"Live, as drawn on the video: {plain(answer.text())}")
        if live.error:
            st.error(f"Classifying the frames failed: {live.error}")

    with right:
        seen()
