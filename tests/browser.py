"""Driving the real app in headless Chromium: a Streamlit server, a browser, a fake webcam video."""

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def require_browser():
    """Skip, saying why, where Debian's Chromium or Playwright is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make test installs it with apt-get as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")


# `python -m streamlit`, after sending streamlit-webrtc's errors to the server's log: the library has no
# handler of its own, so an error in its video thread (which stops the live video) is otherwise silent.
# First, where FER_TEST_HOOK names a test-only module (e.g. tests.scoring_hold), its install() is called.
STREAMLIT_MAIN = """
import importlib, logging, os, sys
if os.environ.get("FER_TEST_HOOK"):
    importlib.import_module(os.environ["FER_TEST_HOOK"]).install()
handler = logging.StreamHandler()
handler.setLevel(logging.ERROR)
handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
logging.getLogger("streamlit_webrtc").addHandler(handler)
from streamlit.web.cli import main
sys.argv[0] = "streamlit"
main()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str], log: Path):
    """Run `streamlit run app.py` on a free local port; yield its URL."""
    port = free_port()
    command = [sys.executable, "-c", STREAMLIT_MAIN, "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with open(log, "w") as output:
        server = subprocess.Popen(command, cwd=PROJECT, env={**os.environ, **env}, stdout=output,
                                  stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None, log.read_text()
                    time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def write_y4m(path: Path, picture: np.ndarray, frames: int = 30) -> Path:
    """Write an RGB picture as a still Y4M video (4:2:0) for Chromium's fake camera."""
    height, width = (s - s % 2 for s in picture.shape[:2])
    yuv = cv2.cvtColor(np.ascontiguousarray(picture[:height, :width]), cv2.COLOR_RGB2YUV_I420)
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + yuv.tobytes())
    return path


def wait_for_app(page, timeout_ms: int = 120_000) -> None:
    """Wait until Streamlit has finished running the page's script."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)


def watch_for_a_run(page) -> None:
    """From now on, note (window.__ran) when Streamlit begins running the page's script, however briefly."""
    page.evaluate("""() => { window.__ran = false; new MutationObserver(records => { if (records.some(record =>
        record.target.dataset.testid === "stApp" && (record.oldValue === "running"
        || record.target.dataset.testScriptState === "running"))) window.__ran = true; }).observe(document.body,
        {attributes: true, subtree: true, attributeFilter: ["data-test-script-state"], attributeOldValue: true}); }""")
