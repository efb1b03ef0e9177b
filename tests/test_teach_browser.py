"""The Teach page end to end in headless Chromium against `streamlit run app.py`, with Chromium's fake webcam
playing a still video: two classes named, examples of each recorded from the camera, one class only refused,
one click trains (the quick recipe), a class emptied while it trains changes nothing in the run, and the live camera
names one of the two classes on the face. And a camera showing no face: said, nothing kept, nothing lost.

Every wait is on the page (text appearing) or on files, never a fixed sleep: a busy machine only makes it
slower. Screenshots go to test-output/screenshots/teach-*.png, the server's log to
test-output/teach-server.log. Skipped where Chromium or Playwright is missing.
"""

import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import CHROMIUM, CHROMIUM_FLAGS, PROJECT, require_browser, streamlit_server, wait_for_app, write_y4m

OUTPUT = PROJECT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
SERVER_LOG = OUTPUT / "teach-server.log"
VIEWPORT = {"width": 1400, "height": 1000}
LOAD_MS = 180_000  # the first visit imports TensorFlow; the machine may be busy
CAMERA_MS = 300_000  # the WebRTC connection, then MTCNN's first frames, on a starved CPU
TRAIN_MS = 600_000  # loading TensorFlow and the shipped features, 2 epochs, scoring and saving
WEBRTC_IFRAME = 'iframe[title*="streamlit_webrtc"]'
STOP_SHOWN_MS = 60_000  # Start turns into Stop at once in the browser; not within this time, the click is redone
KEPT = 6  # faces recorded a class (the page needs 5 to train)
CAMERA_ON = "The camera is on: choose the class to record."


def teach_server(tmp_path_factory, name: str, log: Path):
    """The app with empty runs and data folders and its own temporary folder (where sessions keep examples):
    yields (url, root)."""
    require_browser()
    root = tmp_path_factory.mktemp(name)
    for folder in ("runs", "data", "tmp"):
        (root / folder).mkdir()
    OUTPUT.mkdir(exist_ok=True)
    env = {"FER_RUNS_DIR": str(root / "runs"), "FER_DATA_DIR": str(root / "data"), "TMPDIR": str(root / "tmp")}
    with streamlit_server(env, log) as url:
        yield url, root


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from teach_server(tmp_path_factory, "teach-browser", SERVER_LOG)


@pytest.fixture(scope="module")
def playwright():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def camera_page(playwright, video: Path):
    """A new browser whose fake webcam plays video, and a page in it (the caller closes page.context.browser)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    page = browser.new_page(viewport=VIEWPORT)
    page.console = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    return page


def screenshot(page, name: str) -> None:
    """A picture of the page for whoever reads a failure: never itself a failure (a starved machine can take
    longer than Playwright's 30 s to draw a long page, and a failed test's own error must not be hidden)."""
    from playwright.sync_api import Error as PlaywrightError

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    try:
        height = page.evaluate("""() => Math.max(window.innerHeight, ...Array.from(
            document.querySelectorAll("[data-testid='stMain'], [data-testid='stAppViewContainer']"))
            .map(element => element.scrollHeight))""")
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 9000)})
        page.screenshot(path=SCREENSHOTS / f"teach-{name}.png", full_page=True)
        page.set_viewport_size(size)
    except PlaywrightError as error:
        warnings.warn(f"no screenshot 'teach-{name}': {error.message.splitlines()[0]}")


def diagnostics(page) -> str:
    log = SERVER_LOG.read_text(errors="replace")[-3000:] if SERVER_LOG.exists() else ""
    return "\nconsole:\n" + "\n".join(page.console[-30:]) + "\nserver log:\n" + log


def no_exceptions(page) -> None:
    assert page.locator("[data-testid='stException']").all_inner_texts() == [], diagnostics(page)


def wait_for_text(page, pattern: str, timeout_ms: int, at_least: int | None = None) -> re.Match:
    """Wait until the page's text matches pattern (and its first group, a number, reaches at_least)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function("""([pattern, least]) => {
            const match = document.body.innerText.match(new RegExp(pattern));
            return match && (least === null || Number(match[1]) >= least);
        }""", arg=[pattern, at_least], timeout=timeout_ms)
    except PlaywrightTimeoutError:
        raise AssertionError(f"the page never showed {pattern!r} (at least {at_least})" + diagnostics(page)) from None
    return re.search(pattern, page.evaluate("() => document.body.innerText"))


def open_teach(page, url: str) -> None:
    page.goto(url + "/teach")
    page.locator("h1").filter(has_text="Teach").first.wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)


def idle_without(page, done) -> bool:
    """Wait for the app to finish its runs; True when done() holds then. Several idle looks a second apart,
    since the rerun a click asks for may not have begun at the first."""
    for _ in range(5):
        wait_for_app(page, LOAD_MS)
        if done():
            return True
        page.wait_for_timeout(1000)
    return done()


def click_until(page, button, done) -> None:
    """Click a Streamlit button until done() holds (see until); a button gone since the last click took it."""
    until(page, button.click, done, f"a click on {button}", lambda: button.count() > 0 and button.is_enabled())


def until(page, action, done, what: str, again=lambda: True) -> None:
    """Do an action on the page until done() holds. Now and then Streamlit drops a click or an upload that lands
    while the page is redrawn (the webcam component's own reruns, a fragment's): a person does it again; so does
    this, at most 3 times, saying so. Where again() no longer holds (the button clicked is gone), the last action
    was taken and is still at work on a slow machine: its result is waited for instead."""
    for attempt in range(3):
        if attempt and not again():
            deadline = time.monotonic() + LOAD_MS / 1000
            while not done():
                assert time.monotonic() < deadline, f"{what} never took effect" + diagnostics(page)
                page.wait_for_timeout(500)
            return
        if attempt:
            warnings.warn(f"{what} did nothing: did it again")
        action()
        if idle_without(page, done):
            return
    raise AssertionError(f"{what} did nothing, three times" + diagnostics(page))


def text_shown(page, pattern: str):
    return lambda: re.search(pattern, page.evaluate("() => document.body.innerText")) is not None


def add_class(page, name: str, listed: str) -> None:
    field = page.get_by_role("textbox", name="New class", exact=True)
    field.fill(name)
    field.press("Tab")
    wait_for_app(page, LOAD_MS)
    click_until(page, page.get_by_role("button", name="Add class"), text_shown(page, re.escape(listed)))


def recording(page, name: str, on: bool) -> None:
    """Choose a class in "Record from the camera" (on), or choose it again to stop (off), and see it so once the
    app is idle (a click Streamlit dropped is done again)."""
    choice = page.get_by_role("radiogroup", name="Record from the camera").get_by_role("radio", name=name,
                                                                                        exact=True)
    until(page, choice.click, lambda: (choice.get_attribute("aria-checked") == "true") == on,
          f"{'choosing' if on else 'leaving'} '{name}' to record")


def start_camera(page, index: int, playing: str) -> None:
    """Start a webcam and wait until the page says it plays (its text matches playing). Where the WebRTC
    connection fails (the component shows Start again), start it again, as a person would, at most 3 times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    camera = page.frame_locator(WEBRTC_IFRAME).nth(index)
    start = camera.get_by_role("button", name="Start", exact=True)
    for attempt in range(3):
        if attempt:
            warnings.warn("the webcam's connection did not come up: started it again; console: "
                          + " | ".join(page.console[-5:]))
        start.click(timeout=LOAD_MS)
        try:
            camera.get_by_role("button", name="Stop", exact=True).wait_for(timeout=STOP_SHOWN_MS)
        except PlaywrightTimeoutError:  # the click was lost, or the component fell into an error at once
            continue
        deadline = time.monotonic() + CAMERA_MS / 1000
        while time.monotonic() < deadline:
            if text_shown(page, playing)():
                return
            if start.is_visible():  # the connection failed
                break
            page.wait_for_timeout(500)
    raise AssertionError("the webcam never played" + diagnostics(page))


def watch(page, index: int, pattern: str, least: int | None, timeout_ms: int) -> re.Match | None:
    """Wait until the page's text matches pattern (its first group, a number, at least least) and return the match;
    where the webcam's connection drops meanwhile (the component shows Start again), start it again, as a person
    would, at most 3 times. None when the time runs out."""
    start = page.frame_locator(WEBRTC_IFRAME).nth(index).get_by_role("button", name="Start", exact=True)
    deadline, restarts = time.monotonic() + timeout_ms / 1000, 0
    while time.monotonic() < deadline:
        match = re.search(pattern, page.evaluate("() => document.body.innerText"))
        if match and (least is None or int(match[1]) >= least):
            return match
        if start.is_visible() and restarts < 3:
            restarts += 1
            warnings.warn("the webcam's connection dropped: started it again; console: "
                          + " | ".join(page.console[-5:]))
            start_camera(page, index, "The camera is on|Recording|Live")
            deadline = time.monotonic() + timeout_ms / 1000
        page.wait_for_timeout(300)
    return None


def record(page, name: str, at_least: int) -> None:
    """Choose a class to record and wait until it has kept at_least faces (see watch)."""
    recording(page, name, on=True)
    assert watch(page, 0, rf"Recording '{re.escape(name)}': (\d+) faces kept", at_least, CAMERA_MS), \
        f"'{name}' never kept {at_least} faces" + diagnostics(page)


def stop_camera(page, index: int) -> None:
    """Stop a webcam and wait until it can start again and the page has taken that in."""
    camera = page.frame_locator(WEBRTC_IFRAME).nth(index)
    camera.get_by_role("button", name="Stop", exact=True).click(timeout=LOAD_MS)
    camera.get_by_role("button", name="Start", exact=True).wait_for(timeout=LOAD_MS)
    wait_for_app(page, LOAD_MS)


def face_video(path: Path) -> Path:
    from skimage.data import astronaut

    return write_y4m(path, np.asarray(Image.fromarray(astronaut()[0:384, 32:544]).resize((480, 360))))


def test_record_two_classes_train_and_see_them_live(playwright, server, tmp_path):
    url, root = server
    page = camera_page(playwright, face_video(tmp_path / "face.y4m"))
    try:
        open_teach(page, url)
        add_class(page, "thumbs up", "Examples: thumbs up 0")
        page.get_by_text("one class only: a model needs at least 2 classes").wait_for(timeout=LOAD_MS)
        assert page.get_by_role("button", name="Train", exact=True).is_disabled()  # one class only: held back
        add_class(page, "wave", "Examples: thumbs up 0, wave 0")

        start_camera(page, 0, CAMERA_ON)
        record(page, "thumbs up", KEPT)
        record(page, "wave", KEPT)  # 'thumbs up' stops: one class records at a time
        screenshot(page, "recording")
        recording(page, "wave", on=False)
        stop_camera(page, 0)
        wait_for_text(page, r"Examples: thumbs up (\d+)", LOAD_MS, at_least=KEPT)  # the last kept face counted
        wait_for_text(page, r"Examples: thumbs up \d+, wave (\d+)", LOAD_MS, at_least=KEPT)
        no_exceptions(page)

        click_until(page, page.get_by_role("button", name="Train", exact=True),
                    lambda: any((root / "runs").glob("*-teach/faces/wave")))
        page.get_by_text(re.compile(r"Starting run|Run \S+-teach: |finished in")).first.wait_for(
            timeout=LOAD_MS)
        runs = [path for path in (root / "runs").iterdir() if path.name.endswith("-teach")]
        assert len(runs) == 1 and (runs[0] / "faces" / "wave").is_dir()

        # Emptied while it trains: said, and the run goes on with its own copy of the examples.
        page.get_by_text("Rename or delete 'wave'").click()
        click_until(page, page.get_by_role("button", name=re.compile(r"^Delete its \d+ examples$")),
                    text_shown(page, "Delete every example of 'wave'"))
        click_until(page, page.get_by_role("button", name="Yes, delete"),
                    text_shown(page, r"Examples: thumbs up \d+, wave 0"))
        wait_for_text(page, r"'wave' was emptied \((\d+) examples when run", LOAD_MS, at_least=KEPT)
        assert page.get_by_role("button", name="Train", exact=True).is_disabled()  # an empty class: held back

        page.get_by_text(re.compile(r"Run \S+-teach finished in \d+ s")).wait_for(timeout=TRAIN_MS)
        wait_for_app(page, LOAD_MS)
        # one person (the camera's examples are all "me"): no score on people it was not taught, said plainly
        page.get_by_text("No score on people it was not taught").wait_for(timeout=LOAD_MS)
        assert page.locator("[data-testid='stMetric']").filter(has_text="On people it was not taught").count() == 0
        assert len(list((runs[0] / "faces" / "wave").glob("*.png"))) >= KEPT  # the run's copy is whole
        no_exceptions(page)
        screenshot(page, "trained")

        # the second camera: try the model live
        start_camera(page, 1, "Starting: the first frame|Live: no face|Live, as drawn")
        seen = wait_for_text(page, r"Live, as drawn on the video: 1 (thumbs up|wave) \d+%", CAMERA_MS)
        assert seen[1] in ("thumbs up", "wave")
        no_exceptions(page)
        screenshot(page, "live")
        stop_camera(page, 1)
    except Exception:
        screenshot(page, "failed")
        raise
    finally:
        page.context.browser.close()


def test_a_camera_without_a_face_says_so_and_loses_nothing(playwright, server, tmp_path):
    url, _ = server
    page = camera_page(playwright, write_y4m(tmp_path / "wall.y4m", np.full((360, 480, 3), 170, np.uint8)))
    try:
        open_teach(page, url)
        add_class(page, "nobody", "Examples: nobody 0")
        face = tmp_path / "crop.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8)).save(face)
        uploader = page.locator("[data-testid='stFileUploader']").first
        until(page, lambda: uploader.locator("input[type=file]").set_input_files(face),
              text_shown(page, re.escape("Examples: nobody 1")), "an upload",
              lambda: uploader.filter(has_text="crop.png").count() == 0)  # not still on its way: dropped
        start_camera(page, 0, CAMERA_ON)
        recording(page, "nobody", on=True)
        page.get_by_text("No face found in the camera's frames").wait_for(timeout=CAMERA_MS)
        assert wait_for_text(page, r"Recording 'nobody': (\d+) faces kept", LOAD_MS)[1] == "0"
        wait_for_text(page, re.escape("Examples: nobody 1"), LOAD_MS)  # nothing lost (the status redraws each second)
        assert page.get_by_text("nobody: 1 example", exact=True).count() == 1
        no_exceptions(page)
        screenshot(page, "no-face")
        stop_camera(page, 0)
    except Exception:
        screenshot(page, "no-face-failed")
        raise
    finally:
        page.context.browser.close()
