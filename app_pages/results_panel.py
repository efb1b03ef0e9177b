"""The Predict page's results panel (drawn inside that page, not a page of its own): every face of the
uploaded pictures as numbers in a table, and downloads of them (CSV, JSON) and of the annotated pictures."""

import streamlit as st

from core.prediction.pictures import FacePrediction
from core.prediction.results import pictures_zip, results_json, results_table


def results_panel(pictures: list[tuple[str, bytes, list[FacePrediction]]]) -> None:
    """pictures: (name, annotated JPEG, faces in the order they are numbered on it)."""
    faces = [(name, found) for name, _, found in pictures]
    table = results_table(faces)
    st.subheader("Results in numbers")
    if table.empty:
        st.caption("No face found in these pictures.")
    else:
        st.dataframe(table, hide_index=True, column_config={
            emotion: st.column_config.ProgressColumn(emotion, min_value=0, max_value=1, format="%.3f")
            for emotion in (*table.columns[table.columns.get_loc("confidence") + 1:], "confidence")})
    left, middle, right = st.columns(3)
    left.download_button("Faces as CSV", table.to_csv(index=False), file_name="faces.csv", mime="text/csv",
                         on_click="ignore", disabled=table.empty)
    middle.download_button("Pictures and faces as JSON", results_json(faces), file_name="faces.json",
                           mime="application/json", on_click="ignore")
    right.download_button("Annotated pictures (.zip)", lambda: pictures_zip([(name, jpeg) for name, jpeg, _ in
                                                                            pictures]),
                          file_name="annotated-pictures.zip", mime="application/zip", on_click="ignore")
