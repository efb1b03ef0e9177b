"""FER Studio: the entry file. It sets the frame and the navigation; each page is a script in app_pages/.

The folder is deliberately not called pages/: while a pages/ folder exists, Streamlit serves a first
visit to a deep link such as /train in its legacy multipage mode (the page runs without this file:
wrong navigation, and TensorFlow loaded before aiortc, below), until some visit runs st.navigation.
"""

# aiortc (the webcam's WebRTC, via pylibsrtp's bundled OpenSSL) must be loaded before TensorFlow:
# initialising libsrtp after TensorFlow is loaded crashes the whole server with a segmentation fault.
import aiortc  # noqa: F401  (isort: skip)
import streamlit as st

from app_pages.dataset_choice import checked_dataset, typed_path
from app_pages.sign_in import require_sign_in
from app_pages.tab_memory import keep_changes
from core.storage.settings import default_dataset

keep_changes()  # before any Streamlit call (a run can be interrupted at each): a page left mid-run keeps its changes
# The tab's icon set here: without it the browser fetches each page's :material: icon from fonts.gstatic.com, the
# one asset not served by this server (docs/security.md).
st.set_page_config(page_title="FER Studio", layout="wide", page_icon="🙂")
require_sign_in()  # served on a network, nothing renders before the session signs in (docs/security.md)

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/dataset.py", title="Dataset", icon=":material/photo_library:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/teach.py", title="Teach", icon=":material/school:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/compare_arrows:"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("app_pages/predict.py", title="Predict", icon=":material/mood:"),
    st.Page("app_pages/video.py", title="Video", icon=":material/movie:"),
]

# One dataset for every page of this browser tab (Dataset, Train, Evaluate), checked when given.
if "dataset" not in st.session_state:
    st.session_state.dataset = default_dataset()
st.sidebar.text_input("Dataset (every page of this tab)", key="dataset",
                      help="A folder of class folders (or of train/ and test/ folders holding them), fer2013.csv "
                           "or a .zip on this machine; empty: the operator's default (FER_DATA).")
st.session_state.data_path = checked_dataset(typed_path(st.session_state.dataset.strip() or default_dataset()))
st.navigation(PAGES).run()
