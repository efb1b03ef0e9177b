"""The real app end to end in headless Chromium (Playwright, sync API) against `streamlit run app.py`.

One server for the module, with FER_RUNS_DIR holding a copy of the tiny trained model (so Predict and
Evaluate have a model) and FER_DATA the tiny synthetic dataset, and the test-only hook tests.scoring_hold
(FER_TEST_HOOK), which holds a model's scoring open while its run folder holds a hold file, so that a
click lands mid-scoring whatever the machine's speed. Every test saves full-page screenshots
to test-output/screenshots/<name>.png for a person to look at; the server's log is
test-output/browser-server.log. Skipped where Chromium or Playwright is missing.
"""

import base64
import io
import json
import os
import re
import shutil
import signal
import time
import warnings
from pathlib import Path
from urllib.parse import urljoin

import cv2
import numpy as np
import pytest
from PIL import Image

from core.data.emotions import EMOTIONS
from core.models.store import model_classes
from core.storage.runs import DEFAULT_MODEL_DIR, RunFolder, list_runs, portable_path
from tests.browser import (CHROMIUM, CHROMIUM_FLAGS, PROJECT, require_browser, streamlit_server, wait_for_app,
                           watch_for_a_run, write_y4m)
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.scoring_hold import HOLD

OUTPUT = PROJECT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
SERVER_LOG = OUTPUT / "browser-server.log"
VIEWPORT = {"width": 1400, "height": 1000}
LOAD_MS = 120_000  # the first visit imports TensorFlow; the machine may be busy
PAGES = {"/": "FER Studio", "/dataset": "Dataset", "/train": "Train", "/evaluate": "Evaluate", "/predict": "Predict"}
FACE_TITLE = re.compile(r"Face 1: (\w+) \((\d+)%\)")
TRAIN_EPOCHS = 10  # the run is stopped after its first epoch until the page shows it (stop_after_first_epoch)
WEBRTC_IFRAME = 'iframe[title*="streamlit_webrtc"]'
# Seconds to wait for an annotated webcam frame: on a starved CPU the connection and the first frames take
# minutes (the page warms the model up when it loads it, so no single frame pays the graph tracing).
WEBCAM_WAIT_S = 240

# The Plotly charts' traces: how many x values (epochs) each has. Plotly.py sends arrays base64-encoded
# ({dtype, bdata}); Plotly.js decodes them into each trace's full data.
PLOT_POINTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .flatMap(plot => (plot._fullData || plot.data || []).map(trace =>
        trace.x && typeof trace.x.length === 'number' ? trace.x.length : (trace._length || 0)))"""
# The frame a <video> shows, drawn on a canvas, as a PNG data URL (null before the first frame).
VIDEO_FRAME_JS = """video => {
    if (!video.videoWidth) return null;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    return canvas.toDataURL('image/png');
}"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The server's FER_RUNS_DIR."""
    return tmp_path_factory.mktemp("browser") / "runs"


@pytest.fixture(scope="module")
def app_url(request, runs):
    """`streamlit run app.py` on 127.0.0.1 with the tiny model as its only run and the tiny dataset."""
    require_browser()  # before the model is trained, which takes a while
    tiny_model, tiny_data = request.getfixturevalue("tiny_model"), request.getfixturevalue("tiny_data")
    shutil.copytree(tiny_model, runs / "tiny")
    OUTPUT.mkdir(exist_ok=True)
    with streamlit_server({"FER_RUNS_DIR": str(runs), "FER_DATA": str(tiny_data),
                           "FER_TEST_HOOK": "tests.scoring_hold"}, SERVER_LOG) as url:
        yield url


@pytest.fixture(scope="module")
def playwright():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.console = []  # what the page logged, for failure messages
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """A screenshot of the whole page. Streamlit scrolls inside its own container, not the document,
    so the viewport is stretched to the content's height for the picture, then restored."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = page.evaluate("""() => Math.max(window.innerHeight, ...Array.from(
        document.querySelectorAll("[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main"))
        .map(element => element.scrollHeight))""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(500)  # let charts and images lay out at the new size
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)
    return path


def open_page(page, url: str, title: str) -> None:
    """Go to a page and wait until its script has run (the title shows first, so the wait cannot
    pass on a page whose run has not begun)."""
    page.goto(url)
    page.locator("h1").filter(has_text=title).first.wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)


def exceptions(page) -> list[str]:
    return page.locator("[data-testid='stException']").all_inner_texts()


def worker_errors() -> int:
    """How many times a streamlit-webrtc video thread has failed in this server (its log says)."""
    return SERVER_LOG.read_text(errors="replace").count("Error occurred in the WebRTC thread")


def diagnostics(page) -> str:
    """The page's last console lines and the server log's tail, for a failure message."""
    log = SERVER_LOG.read_text(errors="replace")[-3000:] if SERVER_LOG.exists() else ""
    return "\nconsole:\n" + "\n".join(page.console[-40:]) + "\nserver log:\n" + log


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_loads_without_an_exception(page, app_url, path):
    title = PAGES[path]
    open_page(page, app_url + path, title)
    assert page.locator("h1").filter(has_text=title).first.is_visible()
    assert exceptions(page) == [], diagnostics(page)
    screenshot(page, "page-" + (path.strip("/") or "home"))


def test_predict_names_the_emotion_of_an_uploaded_photo(page, app_url, tmp_path):
    from skimage.data import astronaut

    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut()).save(photo, quality=95)
    open_page(page, app_url + "/predict", "Predict")
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(photo)

    title = page.get_by_text(FACE_TITLE).first
    title.wait_for(timeout=LOAD_MS)
    emotion, percent = FACE_TITLE.search(title.text_content()).groups()
    assert emotion in EMOTIONS, emotion
    assert 0 <= int(percent) <= 100
    wait_for_app(page, LOAD_MS)
    assert exceptions(page) == [], diagnostics(page)

    # The picture shown is the upload with a box and a label drawn on the face.
    image = page.locator("[data-testid='stImage']").filter(has_text="astronaut.jpg").locator("img").first
    image.wait_for(timeout=30_000)
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0
    response = page.request.get(urljoin(app_url + "/", image.get_attribute("src")))
    assert response.ok, response.status
    shown = np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB")).astype(int)
    uploaded = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    assert shown.shape == uploaded.shape
    changed = (np.abs(shown - uploaded).max(axis=2) > 80).mean()
    assert changed > 0.001, f"the shown picture is not annotated ({changed:.4%} of pixels differ)"
    screenshot(page, "predict-photo")
    readme_picture(page)


def test_predict_keeps_an_upload_across_pages(page, app_url, tmp_path):
    from skimage.data import astronaut

    photo = tmp_path / "kept.jpg"
    Image.fromarray(astronaut()).save(photo, quality=95)
    open_page(page, app_url + "/predict", "Predict")
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(photo)
    page.get_by_text(FACE_TITLE).first.wait_for(timeout=LOAD_MS)
    # the webcam, moved down by the results, is drawn anew and asks for a run of its own: let it end first (a page
    # asked for while that run is pending would be merged into it, and lost)
    page.frame_locator(WEBRTC_IFRAME).get_by_role("button", name="Start", exact=True).wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)
    navigation = page.locator("[data-testid='stSidebarNav']")
    navigation.get_by_text("Video", exact=True).click()  # within the app: a new address would be a new tab
    page.locator("h1").filter(has_text="Video").first.wait_for(timeout=LOAD_MS)
    navigation.get_by_text("Predict", exact=True).click()
    page.get_by_text("Kept from before in this browser tab: kept.jpg").wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)
    page.get_by_text(FACE_TITLE).first.wait_for(timeout=LOAD_MS)  # a chart's title is drawn once it has its width
    assert exceptions(page) == [], diagnostics(page)
    assert page.locator("[data-testid='stImage']").filter(has_text="kept.jpg").count() == 1


def readme_picture(page) -> None:
    """The README's picture of the app, taken from this test's own run so it stays true: the Predict page
    with the annotated photo, the viewport only, without the sidebar (it shows the test's temporary dataset
    path), shrunk to 640 pixels wide in 128 colours."""
    sidebar = page.locator("[data-testid='stSidebar']").first.bounding_box() or {"width": 0}
    picture = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    picture = picture.crop((int(sidebar["width"]), 0, picture.width, picture.height))
    picture.thumbnail((640, 640))
    picture.quantize(128).save(PROJECT / "docs" / "screenshot.png", optimize=True)


def video_frame(webrtc) -> np.ndarray | None:
    """The picture the webcam component's <video> shows now (RGB), or None before it has one."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    video = webrtc.locator("video").first
    if video.count() == 0:  # the component is still (re)drawing itself
        return None
    try:
        data = video.evaluate(VIDEO_FRAME_JS, timeout=LOAD_MS)
    except PlaywrightTimeoutError:
        return None
    if not data:
        return None
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1]))).convert("RGB"))


def is_annotated(frame: np.ndarray, source: np.ndarray) -> bool:
    """True when the frame carries the app's drawing on the source picture's face: it differs from the
    source far more on that face's box and its "emotion NN%" label than elsewhere (video compression alone
    changes both alike)."""
    from core.vision.faces import VIDEO, detect_faces

    if frame.shape != source.shape:
        return False
    x, y, w, h = detect_faces(cv2.cvtColor(source, cv2.COLOR_RGB2GRAY), VIDEO)[0]  # the webcam's detector
    thickness, scale = max(1, round(max(source.shape[:2]) / 400)), max(0.4, max(source.shape[:2]) / 1000)
    (text_w, text_h), base = cv2.getTextSize("sad 0%", cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)  # the shortest
    mask = np.zeros(source.shape[:2], np.uint8)
    cv2.rectangle(mask, (x, y), (x + w, y + h), 1, thickness)
    top = max(0, y - text_h - base - 2)
    cv2.rectangle(mask, (x, top), (x + text_w + 4, top + text_h + base + 2), 1, -1)
    difference = np.abs(frame.astype(int) - source.astype(int)).max(axis=2)
    drawn, elsewhere = difference[mask == 1].mean(), difference[mask == 0].mean()
    return drawn > 30 and drawn > 3 * elsewhere


def watch_webcam(page, webrtc, source: np.ndarray, seconds: float) -> tuple[float, np.ndarray | None]:
    """Poll the frame-rate metric and the video until an annotated frame has shown and the metric has
    counted processed frames; return the best rate seen and the annotated frame (None: none came)."""
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Frames per second (processed)")
    best, annotated, deadline = 0.0, None, time.time() + seconds
    while time.time() < deadline and not (best > 0 and annotated is not None):
        page.wait_for_timeout(1000)
        value = metric.locator("[data-testid='stMetricValue']").inner_text(timeout=LOAD_MS).strip()
        best = max(best, float(value) if re.fullmatch(r"\d+(\.\d+)?", value) else 0.0)
        frame = video_frame(webrtc) if annotated is None else None
        if frame is not None and is_annotated(frame, source):
            annotated = frame
    return best, annotated


def test_webcam_frames_come_back_annotated(playwright, app_url, tmp_path):
    """A fake camera plays the astronaut; the frames come back through WebRTC with the model's drawing."""
    from skimage.data import astronaut

    source = np.asarray(Image.fromarray(astronaut()[0:384, 32:544]).resize((480, 360)))  # the face kept large
    video = write_y4m(tmp_path / "face.y4m", source)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.console = []
        page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
        open_page(page, app_url + "/predict", "Predict")
        webrtc = page.frame_locator(WEBRTC_IFRAME)
        errors_before = worker_errors()
        webrtc.get_by_role("button", name="Start", exact=True).click(timeout=LOAD_MS)
        fps, frame = watch_webcam(page, webrtc, source, WEBCAM_WAIT_S)
        if frame is None and worker_errors() > errors_before:
            # streamlit-webrtc ends its video thread for good when one frame takes over 10 s (a starved CPU):
            # the video freezes until Stop and Start. Do that once, and say so.
            warnings.warn("the webcam's video thread died (a frame took over 10 s; see test-output/"
                          "browser-server.log); restarted the stream once")
            webrtc.get_by_role("button", name="Stop", exact=True).click()
            webrtc.get_by_role("button", name="Start", exact=True).click(timeout=LOAD_MS)
            fps, frame = watch_webcam(page, webrtc, source, WEBCAM_WAIT_S)
        assert frame is not None, "no annotated frame came back" + diagnostics(page)
        assert fps > 0, "the page never counted a processed frame" + diagnostics(page)
        assert exceptions(page) == [], diagnostics(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).save(SCREENSHOTS / "predict-webcam-frame.png")
        print(f"webcam: up to {fps} processed frames per second")
        screenshot(page, "predict-webcam")
        webrtc.get_by_role("button", name="Stop", exact=True).click()
    finally:
        browser.close()


def stop_after_first_epoch(runs: Path, known: set[str]) -> tuple[str, int]:
    """The training process the Train page just started, stopped (SIGSTOP) right after it logs its first
    epoch, so that the page has a run mid-way to show however fast the machine trains; its run's name and
    pid. The process writes its pid into the run's .lock before it builds the model, seconds before an
    epoch, and an epoch ends with a checkpoint written: the stop lands between epochs 1 and 10."""
    deadline = time.time() + LOAD_MS / 1000
    while time.time() < deadline:
        started = [path for path in runs.iterdir() if path.name not in known and (path / ".lock").exists()]
        if started and (pid := (started[0] / ".lock").read_text().strip()):
            run = RunFolder(started[0])
            while time.time() < deadline:
                if any(event["event"] == "epoch" for event in run.events()):
                    os.kill(int(pid), signal.SIGSTOP)
                    return started[0].name, int(pid)
                time.sleep(0.005)
        time.sleep(0.01)
    raise AssertionError("the training process did not start or log an epoch")


def run_with(page, action) -> None:
    """Do an action that changes a widget, and wait until the page has run with it. A change still waiting for
    the server when another page is asked for is lost (Streamlit merges the two requests, and the browser sends no
    widget of the page it leaves); waiting for 'notRunning' alone can pass before the run begins."""
    watch_for_a_run(page)
    action()
    page.wait_for_function("() => window.__ran", timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)


def change(page, field, value: str) -> None:
    """Type a value into a field and commit it (see run_with); nothing to wait for where it holds it already."""
    if field.input_value() != value:
        run_with(page, lambda: (field.fill(value), field.press("Tab")))


def test_train_shows_a_run_growing_live_until_it_finishes(page, app_url, runs, tiny_data):
    open_page(page, app_url + "/train", "Train")
    form, nav = page.locator(".st-key-new_run"), page.get_by_test_id("stSidebarNav")
    architecture = form.get_by_role("combobox", name="Architecture")
    architecture.click()
    run_with(page, page.get_by_role("option", name=re.compile(r"^seed: ")).click)
    for label, value in (("Batch size", 8), ("Max training images", 70), ("Dataset path", tiny_data)):
        change(page, form.get_by_label(re.compile("^" + re.escape(label))), str(value))

    def away_and_back() -> None:  # each page's title is drawn by the server after every message sent before
        for name in ("Runs", "Train"):
            nav.get_by_role("link", name=name, exact=True).click()
            page.locator("h1").filter(has_text=name).first.wait_for(timeout=LOAD_MS)
            wait_for_app(page, LOAD_MS)

    away_and_back()
    assert form.get_by_label(re.compile("^Max training images")).input_value() == "70"
    # A last change, then another page as soon as the server has begun the run it asked for: the page's run is
    # interrupted before its end. (Sent before that run begins, the switch would replace the change: the browser
    # sends no widget of the page it leaves.) No earlier run is pending, so the run seen is this change's.
    watch_for_a_run(page)
    epochs = form.get_by_label(re.compile("^Epochs"))
    epochs.fill(str(TRAIN_EPOCHS))
    epochs.press("Tab")
    page.wait_for_function("() => window.__ran", timeout=LOAD_MS)
    away_and_back()  # the settings are this tab's until changed
    assert architecture.input_value().startswith("seed: ")
    assert form.get_by_label(re.compile("^Epochs")).input_value() == str(TRAIN_EPOCHS)
    known, stopped = {path.name for path in runs.iterdir()}, None
    try:
        form.get_by_role("button", name="Start training").dblclick()  # one click or two, one run
        name, stopped = stop_after_first_epoch(runs, known)
        assert re.fullmatch(r"\d{8}-\d{6}-seed", name), name
        # The page showed the tiny run (with its charts) before: wait until it shows the new one.
        chosen = page.get_by_role("combobox", name="Run (newest first)")
        page.wait_for_function("([element, name]) => element.value === name", arg=[chosen.element_handle(), name],
                               timeout=LOAD_MS)
        wait_for_app(page, LOAD_MS)
        screenshot(page, "train-starting")

        seen = []  # (seconds since the start, epochs drawn), each time the count changes
        start = time.time()
        finished = page.get_by_text(re.compile(r"Finished: \d+ epochs? in"))
        while time.time() - start < 240:
            points = max(page.evaluate(PLOT_POINTS_JS) or [0])
            if points and (not seen or points != seen[-1][1]):
                seen.append((round(time.time() - start, 1), points))
            if points and stopped:  # the page drew the stopped run mid-way: let it go on
                screenshot(page, "train-running")
                os.kill(stopped, signal.SIGCONT)
                stopped = None
            if finished.count() and points >= TRAIN_EPOCHS:
                break
            assert exceptions(page) == [], diagnostics(page)
            page.wait_for_timeout(300)
        print("epochs drawn over time (seconds, epochs):", seen)
        assert finished.count(), f"the run did not finish in time; epochs seen {seen}" + diagnostics(page)
        counts = [count for _, count in seen]
        assert counts == sorted(counts), f"the epoch count went down: {seen}"
        assert len(counts) >= 2 and counts[0] < counts[-1] == TRAIN_EPOCHS, f"the chart did not grow live: {seen}"
        assert f"Finished: {TRAIN_EPOCHS} epochs" in finished.first.inner_text()
        assert page.get_by_text(f"{name}: finished (seed, {TRAIN_EPOCHS} epochs, data {portable_path(tiny_data)})").count()
        assert {path.name for path in runs.iterdir()} - known == {name}, "a double click started two runs"
        wait_for_app(page, LOAD_MS)
        assert exceptions(page) == [], diagnostics(page)
        screenshot(page, "train-finished")
    finally:  # never leave a training process behind, stopped or running
        if stopped:
            os.kill(stopped, signal.SIGCONT)
        for run in list_runs(runs):
            if run.is_running():
                run.request_cancel()


SCORE_BUTTON = re.compile(r"^Score [\d,]+ faces$")


def test_evaluate_opens_without_scoring_then_a_confusion_matrix_cell_click_shows_its_faces(page, app_url):
    open_page(page, app_url + "/evaluate", "Evaluate")
    score = page.get_by_role("button", name=SCORE_BUTTON)
    score.wait_for(timeout=LOAD_MS)
    # what the card knows, at once (a metric's script is fetched on its first use: it may draw after the button)
    page.get_by_text("Validation accuracy").wait_for(timeout=LOAD_MS)
    assert page.locator(".js-plotly-plot").count() == 0, "Evaluate scored on opening"
    score.click()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)
    classes = model_classes(DEFAULT_MODEL_DIR)  # the matrix's rows and columns, in the model's order
    cell = chart.locator(".scatterlayer .points path").nth(  # row 'surprise', column 'angry'
        classes.index("surprise") * len(classes) + classes.index("angry"))
    chart.evaluate("plot => plot.scrollIntoView({block: 'center'})")  # not under the app's sticky header
    page.wait_for_timeout(500)
    box = cell.bounding_box()  # plotly finds the point under the mouse itself (its drag layer is on top)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    screenshot(page, "evaluate-cell-clicked")
    page.get_by_text(re.compile(r"\d+ 'surprise' faces called 'angry'")).first.wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)
    assert exceptions(page) == [], diagnostics(page)
    screenshot(page, "evaluate-cell")


def held_reports(runs: Path, model_file: Path) -> list[Path]:
    """The reports stored in the server's runs folder for this model file."""
    return [path for path in (runs / "evaluations").glob("*.json")
            if Path(json.loads(path.read_text())["model"]).resolve() == model_file.resolve()]


def test_evaluate_cancel_mid_scoring_stores_nothing_until_scored_again(page, app_url, runs):
    """A fresh copy of the tiny model, so no report of it is stored yet; tests.scoring_hold keeps its scoring
    going (reporting progress) while the run folder holds the hold file, so the click lands mid-run
    whatever the machine's speed."""
    model_file = shutil.copytree(runs / "tiny", runs / "held") / "model.keras"
    hold = runs / "held" / HOLD
    hold.touch()
    try:
        open_page(page, app_url + "/evaluate", "Evaluate")
        page.get_by_role("combobox", name="Model", exact=True).click()
        page.get_by_role("option", name="run: held", exact=True).click()
        # the first model's Score button has the same label: click the one drawn for this model
        page.get_by_text(re.compile(r"^run: held has not been scored")).wait_for(timeout=LOAD_MS)
        page.get_by_role("button", name=SCORE_BUTTON).click()
        page.get_by_text(re.compile(r"run: held: classified [\d,]+ of [\d,]+ faces")).first.wait_for(
            timeout=LOAD_MS)
        screenshot(page, "evaluate-scoring-held")
        page.get_by_role("button", name="Cancel", exact=True).click()
        page.get_by_text("Scoring was cancelled; nothing was stored.").wait_for(timeout=LOAD_MS)
        score_it = page.get_by_role("button", name=SCORE_BUTTON)
        score_it.wait_for(timeout=LOAD_MS)
        wait_for_app(page, LOAD_MS)
        assert exceptions(page) == [], diagnostics(page)
        assert held_reports(runs, model_file) == [], "a cancelled scoring stored a report"
        screenshot(page, "evaluate-cancelled")

        hold.unlink()
        score_it.click()
        stored = re.compile(r"run: held: classified [\d,]+ of [\d,]+ faces in \d+ s; the report is stored")
        page.get_by_text(stored).wait_for(timeout=LOAD_MS)
        wait_for_app(page, LOAD_MS)
        assert exceptions(page) == [], diagnostics(page)
        assert len(held_reports(runs, model_file)) == 1, "the finished scoring stored no report"
        screenshot(page, "evaluate-scored-after-cancel")
    finally:
        hold.unlink(missing_ok=True)  # never leave the server holding a scoring
