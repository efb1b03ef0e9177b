"""The server: this machine only by default; on a network only behind a password (asked before any page
renders, none configured: no page at all); dataset paths typed in the app only inside the allowed folders."""

import os
import tomllib
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

import app_pages.sign_in
import core.storage.allowed_paths
from app_pages.sign_in import is_loopback, password_matches
from core.storage.allowed_paths import ALLOWED_VARIABLE, PathNotAllowed, allowed_data_dirs, check_allowed_data_path
from tests.test_app import environment, texts  # noqa: F401 (environment: a fixture)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def network_address():
    """The server as `--server.address 0.0.0.0` starts it."""
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def test_the_server_listens_on_this_machine_only_with_xsrf_protection_by_default():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert settings["address"] == "127.0.0.1" and settings["enableXsrfProtection"] is True
    assert is_loopback(settings["address"]) and is_loopback("::1") and is_loopback("localhost")
    assert not any(is_loopback(a) for a in ("0.0.0.0", "", None, "192.168.1.5", "::", "fer.example.org"))


def test_passwords_are_compared_in_constant_time_and_never_empty():
    assert password_matches("s3cret é", "s3cret é") and not password_matches("s3cret", "s3cret é")
    assert not password_matches("", "")


def test_on_this_machine_without_a_password_pages_render_as_before(monkeypatch):
    monkeypatch.delenv("FER_PASSWORD", raising=False)
    at = app()
    assert not at.get("form") and at.sidebar.text_input(key="dataset") is not None


def test_on_a_network_without_a_password_no_page_is_served(monkeypatch, network_address):
    monkeypatch.delenv("FER_PASSWORD", raising=False)
    at = app()
    assert "served on a network without a password" in texts(at.error) and "FER_PASSWORD" in texts(at.error)
    assert not at.sidebar.text_input and not at.title  # no page, no sidebar


def test_with_a_password_every_session_signs_in_before_any_page_renders(monkeypatch, network_address):
    monkeypatch.setenv("FER_PASSWORD", "correct horse")
    monkeypatch.setattr(app_pages.sign_in, "WRONG_PASSWORD_PAUSE_S", 0)
    at = app()
    assert [box.label for box in at.text_input] == ["Password"] and not at.sidebar.text_input
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password" in texts(at.error) and not at.sidebar.text_input
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert not at.exception and at.sidebar.text_input(key="dataset") is not None  # the app, now
    assert [box.label for box in app().text_input] == ["Password"]  # another session signs in again


def test_typed_dataset_paths_stay_in_the_allowed_folders(monkeypatch, tmp_path):
    monkeypatch.setenv(ALLOWED_VARIABLE, str(tmp_path / "allowed"))
    monkeypatch.delenv("FER_DATA", raising=False)
    (tmp_path / "allowed").mkdir()
    (tmp_path / "allowed" / "escape").symlink_to("/etc")
    assert check_allowed_data_path(str(tmp_path / "allowed" / "fer2013")) == str(tmp_path / "allowed" / "fer2013")
    for path in ("/etc", "/etc/passwd", str(tmp_path / "allowed" / "escape"), str(tmp_path / "allowed" / "..")):
        with pytest.raises(PathNotAllowed, match="outside the folders this server reads datasets from"):
            check_allowed_data_path(path)
    monkeypatch.setenv("FER_DATA", "/etc")  # the operator's own choice is allowed
    assert check_allowed_data_path("/etc") == "/etc"


def test_the_default_allowed_folders_are_the_projects_parent_and_home(monkeypatch, tmp_path):
    """Laid out as a checkout whose ../shared is a link to a folder elsewhere: links are followed, so the
    folder it leads to must be allowed by name; the project's parent and home are allowed as they are."""
    tmp_path = tmp_path.resolve()
    parent, home, elsewhere = tmp_path / "work", tmp_path / "home", tmp_path / "disk"
    for folder in (parent / "project", parent / "datasets" / "fer2013", home / "faces", elsewhere / "datasets"):
        folder.mkdir(parents=True)
    (parent / "shared").symlink_to(elsewhere)
    monkeypatch.setattr(core.storage.allowed_paths, "PROJECT_ROOT", parent / "project")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(ALLOWED_VARIABLE, raising=False)
    monkeypatch.delenv("FER_DATA", raising=False)
    folders = allowed_data_dirs()
    assert parent in folders and home in folders and elsewhere not in folders
    for allowed in (parent / "datasets" / "fer2013", home / "faces"):
        assert check_allowed_data_path(str(allowed)) == str(allowed)
    linked = str(parent / "shared" / "datasets")
    with pytest.raises(PathNotAllowed, match=ALLOWED_VARIABLE):
        check_allowed_data_path(linked)
    monkeypatch.setenv(ALLOWED_VARIABLE, os.pathsep.join([str(parent), str(elsewhere)]))
    assert check_allowed_data_path(linked) == linked


def test_a_path_outside_is_refused_in_the_sidebar_and_on_the_train_page(monkeypatch, tmp_path):
    monkeypatch.setenv(ALLOWED_VARIABLE, str(tmp_path / "allowed"))
    at = app()
    at.sidebar.text_input(key="dataset").set_value("/etc").run()
    assert "/etc is outside the folders this server reads datasets from" in texts(at.sidebar.error)
    assert at.session_state.data_path == ""
    at.switch_page("app_pages/train.py").run()
    at.text_input(key="data").set_value("/usr/share")
    at.button[0].click().run()
    assert "/usr/share is outside the folders" in texts(at.error) and not at.exception
