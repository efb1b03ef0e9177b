"""Not a page: who may use the app. On this machine only (the server bound to a loopback address, as
.streamlit/config.toml sets it) nobody signs in; served on a network, every session first signs in with the
password the operator set (FER_PASSWORD in st.secrets or the environment), and without one no page is served.
See docs/security.md."""

import hmac
import ipaddress
import os
import time

import streamlit as st

PASSWORD_NAME = "FER_PASSWORD"
WRONG_PASSWORD_PAUSE_S = 1.0  # each wrong password costs this long: guessing is slow


def configured_password() -> str:
    """The operator's password: st.secrets' FER_PASSWORD, else the environment's; "" when neither is set."""
    try:
        secret = st.secrets.get(PASSWORD_NAME, "")
    except Exception:  # no secrets.toml at all (Streamlit raises its own error type on any access then)
        secret = ""
    return str(secret or os.environ.get(PASSWORD_NAME, ""))


def is_loopback(address: str | None) -> bool:
    """True for an address only this machine reaches (127.0.0.1, ::1, localhost); False for none (Streamlit
    then listens on every interface) and for any other.

    Example: is_loopback("0.0.0.0") -> False
    """
    if not address:
        return False
    if address.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a network address


def password_matches(given: str, expected: str) -> bool:
    """A constant-time comparison (its time tells nothing about how much of the password was right)."""
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def require_sign_in() -> None:
    """Stop the script (no page renders) until this session may see the app; draw the sign-in form or the
    reason it cannot be served."""
    password = configured_password()
    if not password:
        if is_loopback(st.get_option("server.address")):
            return
        st.error("This app is served on a network without a password, so no page is shown. Set one, then restart: "
                 f"`{PASSWORD_NAME}=... streamlit run app.py` (or `{PASSWORD_NAME} = \"...\"` in "
                 ".streamlit/secrets.toml), or serve it to this machine only: `--server.address 127.0.0.1`.")
        st.stop()
    if st.session_state.get("signed_in"):
        return
    with st.form("sign_in"):
        st.subheader("FER Studio: sign in")
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        if password_matches(given, password):
            st.session_state.signed_in = True
            st.rerun()
        time.sleep(WRONG_PASSWORD_PAUSE_S)
        st.error("Wrong password.")
    st.stop()
