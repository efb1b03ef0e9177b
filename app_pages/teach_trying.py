"""Not a page: the Teach page's last steps: try a taught model (live on the webcam with its own classes in
their own colours, and on photos, with Grad-CAM on request), and keep it: the examples saved as a dataset
folder in the data folder, the model made the default (it is a run like any other)."""

import html

import streamlit as st

from app_pages.export_panel import export_panel
from app_pages.photo_prediction import predictor_of, show_prediction
from app_pages.teach_camera import live_camera
from core.data.captures import CaptureError, CaptureSet, data_dir
from core.data.classes import hex_colors
from core.models.store import ModelError, active_run, set_active_run
from core.prediction.recording import LivePredictor
from core.storage.runs import RunFolder, portable_path
from core.storage.uploads import PICTURE_TYPES, uploads_to_take


def legend(classes: list[str]) -> None:
    """Each class in the colour its boxes and bars have."""
    chips = [f'<span style="background:{color};color:#111;padding:2px 10px;border-radius:10px;margin-right:6px">'
             f"{html.escape(name)}</span>" for name, color in hex_colors(classes).items()]
    st.markdown("Classes: " + " ".join(chips), unsafe_allow_html=True)


def try_section(runs: list[RunFolder]) -> RunFolder | None:
    """Choose a finished taught model (this session's newest first) and try it; returns the run chosen."""
    finished = [run for run in runs if run.model_file.exists()]
    if not finished:
        st.info("No taught model yet: train one above, then try it here.")
        return None
    mine = st.session_state.get("teach_run")
    by_name = {run.name: run for run in sorted(finished, key=lambda run: str(run.path) != mine)}
    newest = next(iter(by_name))
    if str(by_name[newest].path) == mine and st.session_state.get("teach_offered") != mine:
        st.session_state.teach_offered, st.session_state.teach_try_model = mine, newest  # this session's new model
    run = by_name[st.selectbox("Model", list(by_name), key="teach_try_model")]
    model_key = (str(run.model_file), run.model_file.stat().st_mtime)
    try:
        predictor = predictor_of(*model_key)
    except (ModelError, OSError) as error:
        st.error(f"The model cannot be loaded: {error}")
        return run
    legend(predictor.classes)
    live = st.session_state.get("teach_live")
    if live is None or live.predictor is not predictor:
        live = st.session_state.teach_live = LivePredictor(predictor)
    calibrated = (predictor.card.get("new_people") or {}).get("scored")
    st.caption("Live: faces found as in the examples (MTCNN, upright on the eyes), classified a few times a "
               "second; every frame shows the latest answer, and the line beside it says the same answer in full. "
               + ("Its percentages are calibrated on the people left out when it was scored."
                  if calibrated else "Its percentages are not calibrated: there was no score on people not taught."))
    live_camera(live)
    uploads = st.file_uploader("Photos to try it on", type=PICTURE_TYPES, accept_multiple_files=True,
                               key="teach_try_photos") or []
    taken, left_out = uploads_to_take([upload.size for upload in uploads])
    if left_out:
        st.warning(left_out)
    for index, upload in enumerate(uploads[:taken]):
        show_prediction(predictor, model_key, upload, key=f"teach-photo-{index}")
    showing = {upload.file_id for upload in uploads[:taken]}
    st.session_state["predicted"] = {k: v for k, v in st.session_state.get("predicted", {}).items()
                                     if k[-1] in showing}
    return run


def keep_section(captures: CaptureSet, counts: dict[str, int], run: RunFolder | None) -> None:
    """Save the examples as a dataset folder; make the model the default; export it. counts: the examples kept per
    class, as the page counted them."""
    left, right = st.columns(2)
    with left:
        st.markdown(f"**The examples** ({sum(counts.values())}) are this browser tab's own until "
                    f"saved into the data folder ({portable_path(data_dir())}).")
        name = st.text_input("Save as", "my-classes", key="teach_save_name")
        originals = st.toggle("With the original frames and pictures (where kept)", key="teach_save_originals")
        if st.button("Save the examples", key="teach_save", disabled=not captures.classes()):
            try:
                folder = captures.save(name, originals)
            except (CaptureError, OSError) as error:
                st.error(f"Not saved: {error}")
            else:
                shown = portable_path(folder)  # the server's folders are no visitor's business
                st.success(f"Saved in {shown}: a folder of class folders. Train on it from the command line with "
                           f"`python -m core train {shown} --run-dir runs/{folder.name} --preset quick`, or "
                           "bring it back here later (Add the faces of a folder).")
        st.download_button("Download the examples (.zip)", lambda: captures.as_zip(name), file_name=f"{name}.zip",
                           mime="application/zip", on_click="ignore", disabled=not captures.classes())
    with right:
        if run is None or not run.model_file.exists():
            st.markdown("**The model**: " + ("train one first." if run is None else f"run {run.name}, once finished."))
            return
        st.markdown(f"**The model** is run {run.name}: on the Runs, Predict, Video and Evaluate pages like any "
                    "other run, with its own classes.")
        active = active_run()
        if active is not None and active.name == run.name:
            st.caption("It is the default model.")
        elif st.button("Make it the default model", key="teach_make_default"):
            try:
                set_active_run(run)
                st.success(f"Run {run.name} is now the default model on every page and on the command line.")
            except ModelError as error:
                st.error(str(error))
        export_panel(run.model_file, run.name, own_data=True)
