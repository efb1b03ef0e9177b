"""Teach: a model of your own classes: name them, show examples (webcam, photos, a folder), train with one
click, try it live, keep it."""

import streamlit as st

from app_pages.teach_camera import recording_camera
from app_pages.plain_text import plain
from app_pages.teach_examples import (PAGE_RUNNING, add_class_form, class_section, drain, folder_form,
                                      session_captures, session_recorder, show_notice)
from app_pages.teach_training import teach_runs, train_section
from app_pages.teach_trying import keep_section, try_section
from core.data.captures import CaptureError, MIN_EXAMPLES

st.title("Teach")
st.write("Teach a model your own classes (a gesture, a look, focused or not): name two or more classes, show it "
         f"examples of each (at least {MIN_EXAMPLES}, a few dozen are better), train with one click, try it live, "
         "keep it. It starts from what the shipped model learned on 28,709 faces, so a few minutes of examples go "
         "a long way.")
try:
    captures = session_captures()
except (CaptureError, OSError) as error:
    st.error(f"No folder for the examples: {error}")
    st.stop()
recorder = session_recorder()
st.session_state[PAGE_RUNNING] = True  # the recording status below leaves adding faces to this run
drain(recorder, captures)  # faces recorded since the last run: added here only, then counted once
counts = captures.counts()  # every count of examples on the page is this one

st.subheader("1. Classes and examples")
show_notice()
left, right = st.columns(2)
person = left.text_input("Who is in the examples you add", captures.last_person() or "me", key="teach_person",
                         help="Saved in each file name (me__12.png): training scores each person with a model "
                              "not taught on them, so add other people's examples under their own names.")
keep_frames = right.toggle("Keep the original frames and pictures too", key="teach_keep_frames",
                           help="Beside the face crops, in a hidden .originals folder that training does not read.")
add_class_form(captures)
st.caption("Faces are found as when a dataset is read and as Predict finds them in photos: MTCNN, each face "
           "turned upright on its eyes; at most 4 frames a second are kept while recording, one face each. "
           "Trying the model live finds faces the same way.")
recording_camera(recorder, counts, person, keep_frames)
for name, count in counts.items():
    class_section(captures, name, count, person, keep_frames)
folder_form(captures)
for warning in captures.warnings():
    st.warning(plain(warning))

st.subheader("2. Train")
run = train_section(captures)

st.subheader("3. Try it")
tried = try_section(teach_runs())

st.subheader("4. Keep it")
keep_section(captures, counts, tried or run)
st.session_state[PAGE_RUNNING] = False  # from now on a poll of the recording status runs alone
