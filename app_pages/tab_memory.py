"""Not a page: what a page keeps for this browser tab. Streamlit forgets a widget's value when its page is left:
an uploader's files are kept here (their bytes, within the upload bounds) and shown again on return until
cleared or replaced, and a choice (a model, a setting) is put back before its widget is drawn again."""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.storage.temporary_files import content_key
from core.storage.uploads import uploads_to_take


@dataclass(frozen=True)
class KeptFile:
    """An uploaded file's name and bytes, read as Streamlit's UploadedFile is; file_id names it by content."""

    name: str
    data: bytes
    file_id: str

    @property
    def size(self) -> int:
        return len(self.data)

    def getvalue(self) -> bytes:
        return self.data


def kept_uploads(label: str, key: str, types: list[str], many: bool = True) -> list[KeptFile]:
    """Draw the uploader; return its files, or, while it is empty after a visit to another page, the files it
    held before. Pictures (many) are bounded by core.storage.uploads; one file by Streamlit's maxUploadSize."""
    forgotten = key not in st.session_state  # the first visit, or back from another page
    uploads = st.file_uploader(label, type=types, accept_multiple_files=many, key=key)
    uploads = (uploads or []) if many else [uploads] if uploads else []
    kept = st.session_state.setdefault(f"{key}_kept", {"files": [], "from_uploader": False})
    if uploads:
        taken, left_out = uploads_to_take([upload.size for upload in uploads]) if many else (1, "")
        if left_out:
            st.warning(left_out)
        known = kept.get("by_upload", {})  # read and hashed once an upload
        kept["by_upload"] = {upload.file_id: known.get(upload.file_id) or _read(upload) for upload in uploads[:taken]}
        kept["files"] = [kept["by_upload"][upload.file_id] for upload in uploads[:taken]]
    elif kept["from_uploader"] and not forgotten:
        kept["files"] = []  # removed from the uploader
    kept["from_uploader"] = bool(uploads)
    if kept["files"] and not uploads:
        _kept_note(key, [file.name for file in kept["files"]])
    return kept["files"]


def kept_saved_upload(label: str, key: str, types: list[str], save) -> tuple[str, str] | None:
    """Draw a one-file uploader whose file is kept on disk by save(bytes, its name) -> path; return its (path, name), or,
    while the uploader is empty after a visit to another page, those of the file it held before (while that file
    is still there). Large files (a dataset zip) are kept by path, not in the tab's memory."""
    forgotten = key not in st.session_state  # the first visit, or back from another page
    upload = st.file_uploader(label, type=types, key=key)
    kept = st.session_state.get(f"{key}_kept")
    if upload:
        if not kept or kept["file_id"] != upload.file_id or not Path(kept["path"]).exists():  # new, or trimmed
            kept = {"path": str(save(upload.getvalue(), upload.name)), "name": upload.name, "file_id": upload.file_id}
        kept["from_uploader"] = True
    elif kept and (kept["from_uploader"] and not forgotten or not Path(kept["path"]).exists()):
        kept = None  # removed from the uploader, or its file is gone
    elif kept:
        kept["from_uploader"] = False
    st.session_state[f"{key}_kept"] = kept
    if kept and not upload:
        _kept_note(key, [kept["name"]])
    return (kept["path"], kept["name"]) if kept else None


def recall(defaults: dict, allowed: dict | None = None) -> None:
    """Give each widget key its value from the last visit in this tab, else its default; a value no longer one
    of allowed[key] (where given), kept or current, becomes the default. Draw the widgets with these keys and no
    value of their own, then keep() them."""
    kept = st.session_state.setdefault("kept_values", {})
    for key, default in defaults.items():
        choices = (allowed or {}).get(key)
        if key not in st.session_state:
            value = kept.get(key, default)
            st.session_state[key] = value if choices is None or value in choices else default
        elif choices is not None and st.session_state[key] not in choices:  # set only when it must change: a
            st.session_state[key] = default  # value set is sent to the browser, over what is being typed there


def keep(keys) -> None:
    """Copy the widgets' current values aside, for the next visit, and again at the start of every later run of
    any page (keep_changes): a change followed at once by a click to another page interrupts this page's run
    before it reaches keep()."""
    kept = st.session_state.setdefault("kept_values", {})
    kept.update({key: st.session_state[key] for key in keys if key in st.session_state})


def keep_changes() -> None:
    """At the start of a run (app.py, before any widget): copy aside the latest values of the widgets kept before.
    They are still in the session state then, whichever page runs; Streamlit drops them only at its end."""
    kept = st.session_state.get("kept_values", {})
    kept.update({key: st.session_state[key] for key in kept if key in st.session_state})


def kept_widget(widget, key: str, default, allowed, *args, **options):
    """Draw widget(*args, key=key, **options) with its value from the last visit (if still allowed, else
    default) and return its value. Give the widget no value of its own."""
    recall({key: default}, {key: allowed})
    value = widget(*args, key=key, **options)
    keep([key])
    return value


def _read(upload) -> KeptFile:
    data = upload.getvalue()
    return KeptFile(upload.name, data, content_key(data))


def _kept_note(key: str, names: list[str]) -> None:
    """The line naming an uploader's files kept from before, and its Clear button."""
    note, clear = st.columns([5, 1], vertical_alignment="center")
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    their = "their" if len(names) > 1 else "its"
    note.caption(f"Kept from before in this browser tab: {shown}. A new upload takes {their} place.")
    clear.button("Clear", key=f"{key}_clear", on_click=_forget, args=(key,))


def _forget(key: str) -> None:
    st.session_state.pop(f"{key}_kept", None)
