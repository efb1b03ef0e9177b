"""FER Studio: the entry file. It sets the frame and the navigation; each page is a script in app_pages/.

The folder is deliberately not called pages/: while a pages/ folder exists, Streamlit serves a first
visit to a deep link such as /train in its legacy multipage mode (the page runs without this file:
wrong navigation, and TensorFlow loaded before aiortc, below), until some visit runs st.navigation.
"""

# aiortc (the webcam's WebRTC, via pylibsrtp's bundled OpenSSL) must be loaded before TensorFlow:
# initialising libsrtp after TensorFlow is loaded crashes the whole server with a segmentation fault.
import aiortc  # noqa: F401  (isort: skip)
import streamlit as st

from app_pages.sign_in import require_sign_in
from core.allowed_paths import PathNotAllowed, check_allowed_data_path
from core.settings import choose_dataset, chosen_dataset

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



def remember_dataset() -> None:
    choose_dataset(st.session_state.dataset)


# One dataset for every page (Dataset, Train, Evaluate), remembered across reloads in the runs folder.
if "dataset" not in st.session_state:
    st.session_state.dataset = chosen_dataset()[0]
st.sidebar.text_input("Dataset (every page)", key="dataset", on_change=remember_dataset,
                      help="A FER-2013 folder, fer2013.csv or .zip on this machine; remembered across pages, "
                           "reloads and restarts (empty: the FER_DATA environment variable).")
try:  # what the pages read: only a path in the folders the operator allows (core/allowed_paths.py)
    st.session_state.data_path = check_allowed_data_path(st.session_state.dataset.strip() or chosen_dataset()[0])
except PathNotAllowed as error:
    st.sidebar.error(str(error))
    st.session_state.data_path = ""
st.navigation(PAGES).run()
