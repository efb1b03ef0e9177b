"""Not a page: a form's settings kept for this browser tab. Streamlit forgets a widget's value when its page
is left; the values are copied aside on every run and put back before the widgets are drawn again."""

import streamlit as st


def recall(form: str, defaults: dict) -> None:
    """Give each widget key of the form its value from the last visit, else its default; draw the widgets
    with these keys and no value of their own."""
    kept = st.session_state.setdefault("kept_forms", {}).get(form, {})
    for key, default in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = kept.get(key, default)


def keep(form: str, keys) -> None:
    """Copy the form's current values aside, for the next visit."""
    st.session_state.setdefault("kept_forms", {})[form] = {key: st.session_state[key] for key in keys
                                                          if key in st.session_state}
