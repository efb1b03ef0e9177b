"""Not a page: a model's predictions on uploaded pictures as the Predict page shows them, shared with the
Teach page: the cached predictor, each picture with its faces drawn, their probabilities and, on request,
why (Grad-CAM)."""

import plotly.express as px
import streamlit as st

from core.data.classes import hex_colors
from core.vision.faces import no_face_reason
from core.vision.imaging import ImageError, as_jpeg
from core.prediction.pictures import FacePrediction, FacePredictor, draw_predictions


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def predictor_of(path: str, mtime: float) -> FacePredictor:
    return FacePredictor(path).warm_up()


def predicted(predictor: FacePredictor, model_key: tuple, upload, store: str = "predicted"
              ) -> tuple[bytes, list[FacePrediction], str, dict]:
    """The picture with its faces drawn (JPEG, to show), its faces, why there are none (or "") and the Grad-CAM
    pictures made so far (face number -> picture): computed once per upload and model in this browser tab, kept
    in st.session_state[store], so a rerun (a toggle, one more file) is instant. Raises ImageError."""
    results = st.session_state.setdefault(store, {})
    key = (*model_key, upload.file_id)
    if key not in results:
        try:
            picture, faces = predictor.predict_file(upload.getvalue())
            note = "" if faces else no_face_reason(picture)
            results[key] = as_jpeg(draw_predictions(picture, faces)), faces, note, {}
        except ImageError as error:
            results[key] = error
    if isinstance(results[key], ImageError):
        raise results[key]
    return results[key]


def show_prediction(predictor: FacePredictor, model_key: tuple, upload, key: str, store: str = "predicted"
                    ) -> tuple[bytes, list[FacePrediction]] | None:
    """Draw one picture with its faces numbered and labelled, and each face's probabilities as bars
    and, on request, why (Grad-CAM).

    key: unique on the page (the same file may be uploaded twice); store: where the results are kept (predicted)."""
    name = upload.name
    try:
        shown, faces, note, explained = predicted(predictor, model_key, upload, store)
    except ImageError as error:
        st.error(f"{name}: cannot be read: {error}")
        return None
    picture_column, bars_column = st.columns([3, 2])
    picture_column.image(shown, caption=name)
    if note:
        bars_column.info(f"{name}: {note}")
    for number, face in enumerate(faces, 1):
        figure = px.bar(x=face.classes, y=face.probabilities, color=face.classes, range_y=[0, 1],
                        color_discrete_map=hex_colors(face.classes), labels={"x": "class", "y": "probability"},
                        title=f"Face {number}: {face.emotion} ({face.confidence:.0%})")
        bars_column.plotly_chart(figure.update_layout(showlegend=False, height=260), key=f"{key}-face-{number}")
        if bars_column.toggle("Why this label?", key=f"why-{key}-{number}",
                              help="Grad-CAM: the face with the parts that made the model say this emotion in red"):
            if number not in explained:
                with bars_column, st.spinner(f"Face {number}: finding where the model saw {face.emotion}..."):
                    explained[number] = predictor.explain([face])[0]
            bars_column.image(explained[number], caption=f"Face {number}: where it saw {face.emotion}")
    return shown, faces
