"""Not a page: the Teach page's classes and their examples: this session's capture set, adding and renaming
classes, each class with its uploads and its thumbnails, a folder brought in, and what every change reported."""

import numpy as np
import streamlit as st

from app_pages.plain_text import plain
from core.storage.allowed_paths import data_path_refusal
from core.data.captures import (Added, CaptureError, CaptureSet, data_dir, new_session_id, session_exists,
                                session_folder)
from core.prediction.recording import Recorder
from core.storage.uploads import PICTURE_TYPES, uploads_to_take

PER_PAGE = 24  # thumbnails shown a class at once (newest first)
THUMBNAIL_SCALE = 2  # 48x48 faces drawn at 96x96
TYPED = "(type a path)"
ADDRESS_KEY = "examples"  # the page address's parameter holding the tab's private id
PAGE_RUNNING = "teach_page_running"  # set while the whole page runs (not a fragment's poll alone)


def session_captures() -> CaptureSet:
    """This browser tab's capture set, in a private folder of its own, keyed by a random id kept in the tab's
    address (?examples=...), so that a reload finds it again; no other tab knows the id."""
    if "teach_session" not in st.session_state:
        given = st.query_params.get(ADDRESS_KEY, "")
        st.session_state.teach_session = given if session_exists(given) else new_session_id()
    st.query_params[ADDRESS_KEY] = st.session_state.teach_session
    return CaptureSet(session_folder(st.session_state.teach_session))


def session_recorder() -> Recorder:
    return st.session_state.setdefault("teach_recorder", Recorder())


def drain(recorder: Recorder, captures: CaptureSet) -> int:
    """Add the faces the recorder kept since last time to their classes; return how many (a class deleted
    meanwhile loses its late faces, and says so)."""
    taken, added = recorder.take(), 0
    for name in dict.fromkeys(capture.class_name for capture in taken):
        faces = [(c.face, c.person, c.frame) for c in taken if c.class_name == name]
        try:
            added += len(captures.add_faces(name, faces))
        except CaptureError as error:
            st.session_state.teach_notice = ("warning", f"{len(faces)} faces recorded for '{name}' were not kept: "
                                                        f"{error}")
    return added


def act(action, *arguments, done: str = "") -> bool:
    """Run a capture set change (a widget callback); keep its outcome to show on the next run; whether it was done."""
    try:
        action(*arguments)
        st.session_state.teach_notice = ("success", done) if done else None
        return True
    except CaptureError as error:
        st.session_state.teach_notice = ("error", str(error))
        return False


def show_notice() -> None:
    """The last change's outcome, in a container that is always there: the elements below keep their places
    (a webcam whose place changes is drawn anew, and its stream stops)."""
    box = st.container()
    kind, text = st.session_state.pop("teach_notice", None) or (None, "")
    if text:
        getattr(box, kind)(plain(text))


def add_class_form(captures: CaptureSet) -> None:
    def add() -> None:
        if act(captures.add_class, st.session_state.teach_new_class):  # a refused name stays, to be mended
            st.session_state.teach_new_class = ""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input("New class", key="teach_new_class", placeholder="e.g. thumbs up, wave, focused",
                    help="Any name, kept as you type it (spaces tidied).")
    right.button("Add class", on_click=add, key="teach_add_class")


def report_added(name: str, added: Added, note: str = "") -> None:
    """Keep what an addition did (faces added, pictures left out by name) to show under its class."""
    lines = [f"{added.added} face(s) added to '{name}'."] + ([note] if note else [])
    lines += [f"No face found in: {', '.join(added.no_face)}."] if added.no_face else []
    lines += [f"Several faces in: {', '.join(added.several_faces)} (one face a picture: crop it)."] \
        if added.several_faces else []
    lines += [f"Not read: {'; '.join(added.unreadable)}."] if added.unreadable else []
    st.session_state.teach_report = (name, added.left_out() > 0 or not added.added, lines)


def class_section(captures: CaptureSet, name: str, count: int, person: str, keep_frames: bool) -> None:
    """A class with its examples; count: how many it has, as the page counted them (teach.py's counts)."""
    examples = captures.examples(name)
    with st.container(border=True):
        st.markdown(f"**{plain(name)}**: {count} example{'s' * (count != 1)}")
        nonce = st.session_state.setdefault("teach_upload_nonce", 0)
        uploads = st.file_uploader(f"Photos or a .zip of '{plain(name)}'", type=[*PICTURE_TYPES, "zip"],
                                   accept_multiple_files=True, key=f"teach_upload_{name}_{nonce}")
        if uploads:
            taken, note = uploads_to_take([upload.size for upload in uploads])
            try:
                with st.spinner("Finding the face in each picture..."):
                    added = captures.add_pictures(name, [(u.name, u.getvalue()) for u in uploads[:taken]], person,
                                                  keep_frames)
                report_added(name, added, note)
            except CaptureError as error:
                st.session_state.teach_notice = ("error", f"Nothing was added to '{name}': {error}")
            st.session_state.teach_upload_nonce += 1  # an empty uploader next: each file is added once
            st.rerun()
        report = st.session_state.get("teach_report")
        if report and report[0] == name:
            (st.warning if report[1] else st.success)("\n\n".join(map(plain, report[2])))
        thumbnails(captures, name, examples)
        manage(captures, name, count)


def thumbnails(captures: CaptureSet, name: str, examples: list) -> None:
    """The newest examples first, a page at a time, each with a button deleting it."""
    if not examples:
        return
    pages = (len(examples) - 1) // PER_PAGE + 1
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key=f"teach_page_{name}") if pages > 1 else 1
    shown = examples[::-1][(page - 1) * PER_PAGE:page * PER_PAGE]
    columns = st.columns(12)
    for index, path in enumerate(shown):
        column = columns[index % 12]
        column.image(np.kron(captures.face(path), np.ones((THUMBNAIL_SCALE, THUMBNAIL_SCALE), np.uint8)),
                     caption=path.stem.split("__")[-1])
        column.button(":material/delete:", key=f"teach_delete_{name}_{path.name}", help=f"Delete {path.name}",
                      on_click=act, args=(captures.delete_example, name, path.name))


def manage(captures: CaptureSet, name: str, count: int) -> None:
    """Rename the class, delete its examples or the class itself (after a confirmation)."""
    with st.expander(f"Rename or delete '{plain(name)}'"):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.text_input("New name", key=f"teach_rename_{name}")
        right.button("Rename", key=f"teach_rename_button_{name}", on_click=lambda: act(
            captures.rename_class, name, st.session_state[f"teach_rename_{name}"]))
        left, right = st.columns(2)
        left.button(f"Delete its {count} examples", key=f"teach_clear_{name}", disabled=not count,
                    on_click=lambda: st.session_state.update(teach_confirm=("clear", name)))
        right.button("Delete the class", key=f"teach_drop_{name}",
                     on_click=lambda: st.session_state.update(teach_confirm=("drop", name)))
    if st.session_state.get("teach_confirm") in (("clear", name), ("drop", name)):
        what = st.session_state.teach_confirm[0]
        which = "the class" if what == "drop" else "every example of"
        st.warning(f"Delete {which} '{plain(name)}' ({count} examples)? A run already started keeps its own copy "
                   "of the examples.")
        yes, no = st.columns(2)
        yes.button("Yes, delete", key=f"teach_confirm_yes_{name}", type="primary", on_click=lambda: (
            session_recorder().forget(name),  # faces recorded before, not yet added, go too
            act(captures.delete_class if what == "drop" else captures.clear_class, name,
                done=f"Deleted {which} '{name}'."),
            st.session_state.pop("teach_confirm", None)))
        no.button("Cancel", key=f"teach_confirm_no_{name}", on_click=lambda: st.session_state.pop("teach_confirm"))


def folder_form(captures: CaptureSet) -> None:
    """Bring in every face of a folder of class folders (or a .zip) on this machine: a saved set, or any."""
    saved = sorted(path.name for path in data_dir().glob("*") if path.is_dir() and not path.name.startswith("."))
    with st.expander("Add the faces of a folder of class folders (a saved set, or any dataset folder)"):
        choice = st.selectbox("Folder", [TYPED, *saved], key="teach_folder_choice",
                              format_func=lambda n: n if n == TYPED else f"saved set: {n}")
        path = st.text_input("Path on this machine", key="teach_folder_path") if choice == TYPED \
            else str(data_dir() / choice)
        if st.button("Add its faces", key="teach_folder_add", disabled=not path.strip()):
            refusal = data_path_refusal(path) if choice == TYPED else ""  # only folders the operator allows
            try:
                if refusal:
                    raise CaptureError(refusal)
                with st.spinner(f"Reading {path if choice == TYPED else 'saved set ' + repr(choice)}..."):
                    added = captures.add_folder(path.strip())
            except CaptureError as error:
                st.error(f"Nothing was added: {error}")
            else:
                report_added(", ".join(added.classes), added)
                st.session_state.teach_notice = ("success" if not added.left_out() else "warning",
                                                 " ".join(st.session_state.pop("teach_report")[2]))
                st.rerun()
