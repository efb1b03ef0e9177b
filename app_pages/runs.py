"""Runs: compare training runs side by side and choose which finished run is the default model."""

import pandas as pd
import plotly.express as px
import streamlit as st

from app_pages.run_progress import epoch_axes
from core.models.store import ModelError, active_run, set_active_run
from core.evaluation.comparison import run_summary, shipped_summaries, validation_curves
from core.storage.runs import list_runs

CURVES = {"Validation accuracy": "val_accuracy", "Validation loss": "val_loss"}
COLUMNS = {"recipe": st.column_config.TextColumn("recipe", width="large"),
           "minutes": st.column_config.NumberColumn("minutes", format="%.1f"),
           "best_val_accuracy": st.column_config.NumberColumn("best validation (training)", format="percent"),
           "validation": st.column_config.NumberColumn("validation (model)", format="percent"),
           "test": st.column_config.NumberColumn("test", format="percent")}

st.title("Runs")
runs = {run.name: run for run in list_runs()}
if not runs:
    st.dataframe(pd.DataFrame(shipped_summaries()), hide_index=True, column_config=COLUMNS)
    st.info("No training run yet: start one on the Train page, then compare runs here with the shipped model.")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

chosen = st.multiselect("Runs to compare", list(runs), default=list(runs)[:3], key="runs")
if not chosen:
    st.info("Choose one or more runs.")
    st.stop()
summaries = [run_summary(runs[name]) for name in chosen]
curves = pd.DataFrame(validation_curves([runs[name] for name in chosen]),
                      columns=["run", "epoch", *CURVES.values()])
curve = st.radio("Curve", list(CURVES), horizontal=True, key="curve")
if curves.empty:
    st.info("None of these runs has finished an epoch yet.")
else:
    figure = px.line(curves, x="epoch", y=CURVES[curve], color="run", markers=True, labels={CURVES[curve]: curve})
    st.plotly_chart(epoch_axes(figure, int(curves["epoch"].max()), CURVES[curve] == "val_accuracy"))
st.dataframe(pd.DataFrame([*shipped_summaries(), *summaries]), hide_index=True, column_config=COLUMNS)
st.caption("Click a column's name to sort by it. best validation (training): the best epoch as logged while "
           "training, one view; validation and test (model): the finished model's scores, with the test-time "
           "views, from its card; learned little: within 5 points of always answering the commonest class.")

st.subheader("Default model")
active = active_run()
st.write(f"The default model now is **{f'run {active.name}' if active else 'the shipped model (models/default)'}**: "
         "the first choice on every page, and `default` on the command line.")
finished = [summary["run"] for summary in summaries if summary["state"] == "finished"]
if not finished:
    st.info("None of the chosen runs has finished, so none can be made the default.")
else:
    left, right = st.columns([3, 1])
    candidate = left.selectbox("Finished run", finished, key="candidate")
    if right.button("Make default", key="make_default", disabled=active is not None and candidate == active.name):
        st.session_state["confirm_default"] = candidate
if active is not None and st.button("Go back to the shipped model", key="use_shipped"):
    set_active_run(None)
    st.rerun()

pending = st.session_state.get("confirm_default")
if pending in runs:
    st.warning(f"Make run {pending} the default model for every page and for `default` on the command line? "
               "The shipped model stays in models/default and can be made the default again here.")
    yes, no = st.columns(2)
    if yes.button("Yes, make it the default", key="confirm", type="primary"):
        st.session_state.pop("confirm_default")
        try:
            set_active_run(runs[pending])
        except ModelError as error:
            st.error(str(error))
        else:
            st.rerun()
    if no.button("Cancel", key="cancel"):
        st.session_state.pop("confirm_default")
        st.rerun()
