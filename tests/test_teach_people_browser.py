"""The Teach page in headless Chromium with a webcam whose picture the test sets: getUserMedia answers, in every
frame (the webcam component's iframe included), with a canvas stream drawing the picture the test last gave.
Two people show two classes, a different FER-2013 face (PublicTest, enlarged to a frame) at each kept frame; one
click trains; the page scores each person with a model not taught on them; the live answer is checked on faces of
people not taught; a reload keeps the examples and the run; a second tab sees none of them.

Waits are on the page's text, never fixed sleeps. Skipped where Chromium, Playwright or FER-2013 is missing.
"""

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import CHROMIUM, CHROMIUM_FLAGS, PROJECT, require_browser, wait_for_app
from tests.test_teach_browser import (CAMERA_MS, LOAD_MS, OUTPUT, TRAIN_MS, VIEWPORT, add_class,
                                      click_until, diagnostics, no_exceptions, open_teach, recording, screenshot,
                                      start_camera, stop_camera, teach_server, text_shown, wait_for_text, watch)

FER = PROJECT.parent / "shared" / "datasets" / "fer2013" / "test"
SERVER_LOG = OUTPUT / "teach-people-server.log"
CLASSES = {"grin": "happy", "wow": "surprise"}  # own names (not FER-2013's), shown with FER-2013's faces
TAUGHT = ("anna", "bob")
PER_PERSON = 6  # different faces a person shows of each class (a score needs 6 a class, from 2 people)
TRIED = 6  # faces of other people tried live, of each class
FACE_WAIT_MS = 30_000  # a face MTCNN does not find in this time is passed over
FAKE_WEBCAM = """(() => {
  const canvas = document.createElement("canvas");
  canvas.width = 480; canvas.height = 360;
  const context = canvas.getContext("2d");
  let picture = null;  // decoded with createImageBitmap: an Image made by this script never loads in an iframe
  window.__showPicture = async (url) => { picture = await createImageBitmap(await (await fetch(url)).blob()); };
  setInterval(() => {
    context.fillStyle = "#808080";
    context.fillRect(0, 0, 480, 360);
    if (picture) context.drawImage(picture, 0, 0, 480, 360);
  }, 100);
  if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = async () => canvas.captureStream(10);
})();"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    if not FER.is_dir():
        pytest.skip("FER-2013 is not at ../shared/datasets/fer2013")
    yield from teach_server(tmp_path_factory, "teach-people", SERVER_LOG)


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])  # a camera to list; not shown
        yield launched
        launched.close()


def new_tab(browser):
    """A page in a browser context of its own (another tab, another session), whose webcam the test draws."""
    context = browser.new_context(viewport=VIEWPORT, permissions=["camera"])
    context.add_init_script(FAKE_WEBCAM)
    page = context.new_page()
    page.console = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    return page


def frame_pixels(face_file: Path) -> np.ndarray:
    """A 48x48 face enlarged to 200 pixels, its edges repeated out to a 480x360 RGB frame."""
    face = np.asarray(Image.open(face_file).convert("L").resize((200, 200), Image.BICUBIC))
    return np.repeat(np.pad(face, ((80, 80), (140, 140)), mode="edge")[..., None], 3, axis=2)


def frame_of(face_file: Path) -> str:
    """frame_pixels as a PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(frame_pixels(face_file)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def faces_found(files: list[Path], wanted: int) -> list[Path]:
    """The first wanted faces whose frame shows one face to the page's face finder: each one the webcam shows is
    then kept or answered at once, with no wait on a face that would never be found."""
    from core.vision.faces import PHOTO, locate_faces

    found = [file for file in files[:4 * wanted] if len(locate_faces(frame_pixels(file), PHOTO)) == 1][:wanted]
    assert len(found) == wanted, f"{len(found)} of {4 * wanted} FER-2013 faces found in their frames"
    return found


def blank_frame() -> str:
    """A plain gray frame (no face), as a PNG data URL."""
    buffer = io.BytesIO()
    Image.new("RGB", (480, 360), (128, 128, 128)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


BLANK = blank_frame()


def show(page, url: str) -> None:
    """Draw a picture on the fake webcam of every frame of the page."""
    for frame in page.frames:
        try:
            frame.evaluate("(url) => { if (window.__showPicture) window.__showPicture(url); }", url)  # no wait
        except Exception:  # a frame that went away meanwhile
            continue


def page_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def kept(page, name: str) -> int:
    match = re.search(rf"Recording '{re.escape(name)}': (\d+) faces kept", page_text(page))
    return int(match[1]) if match else 0


def record_faces(page, name: str, faces: list[Path], wanted: int) -> int:
    """Record a class while the webcam shows one face after another, each until it is kept (or passed over when
    no face is found in it); return how many were kept."""
    pattern = rf"Recording '{re.escape(name)}': (\d+) faces kept"
    recording(page, name, on=True)
    assert watch(page, 0, pattern, None, CAMERA_MS), f"recording '{name}' never began" + diagnostics(page)
    count = kept(page, name)
    for face in faces:
        if count >= wanted:
            break
        show(page, frame_of(face))
        if watch(page, 0, pattern, count + 1, FACE_WAIT_MS):
            show(page, BLANK)  # no face between faces: each face is kept once or twice, not for as long as it shows
        count = kept(page, name)
    recording(page, name, on=False)
    return count


def live_answer(page, face: Path) -> str | None:
    """The class the live camera names on a face (None when it finds no face there)."""
    show(page, BLANK)
    assert watch(page, 1, r"Live: no face in the latest frame", None, CAMERA_MS), diagnostics(page)
    show(page, frame_of(face))
    answer = watch(page, 1, r"Live, as drawn on the video: 1 (grin|wow) \d+%", None, FACE_WAIT_MS)
    return answer and answer[1]


def faces_of(emotion: str) -> list[Path]:
    return sorted((FER / emotion).iterdir())


def test_two_people_teach_two_classes_scored_and_tried_on_other_people(browser, server):
    from playwright.sync_api import expect

    url, root = server
    page = new_tab(browser)
    pools = {name: faces_of(emotion) for name, emotion in CLASSES.items()}
    try:
        open_teach(page, url)
        assert re.search(r"examples=[0-9a-f]{32}", page.url), page.url  # the tab's private id, in its address
        add_class(page, "grin", "Examples: grin 0")
        add_class(page, "wow", "Examples: grin 0, wow 0")
        start_camera(page, 0, "The camera is on")
        counts = {}
        for number, person in enumerate(TAUGHT):
            field = page.get_by_role("textbox", name="Who is in the examples you add", exact=True)
            field.fill(person)
            field.press("Tab")
            wait_for_app(page, LOAD_MS)
            for name, pool in pools.items():
                faces = faces_found(pool[number * 40:(number + 1) * 40], PER_PERSON + 2)  # each person's own
                counts[(person, name)] = record_faces(page, name, faces, PER_PERSON)
                assert counts[(person, name)] >= PER_PERSON, (person, name, counts, diagnostics(page))
        stop_camera(page, 0)
        wait_for_text(page, r"Examples: grin (\d+), wow (\d+)", LOAD_MS)
        no_exceptions(page)

        click_until(page, page.get_by_role("button", name="Train", exact=True),
                    lambda: any((root / "runs").glob("*-teach/faces/wow")))
        page.get_by_text(re.compile(r"Run \S+-teach finished in \d+ s")).wait_for(timeout=TRAIN_MS)
        wait_for_app(page, LOAD_MS)
        metric = page.locator("[data-testid='stMetric']").filter(has_text="On people it was not taught")
        metric.first.wait_for(timeout=LOAD_MS)  # a metric's script is fetched on its first use: it may draw last
        assert metric.count() == 1, diagnostics(page)
        assert re.search(r"\d+\.\d%", metric.inner_text())
        card = json.loads(next((root / "runs").glob("*-teach/card.json")).read_text())
        assert set(card["new_people"]["per_person"]) == set(TAUGHT), card["new_people"]  # each scored, untaught
        page.wait_for_function("""names => { const text = Array.from(document.querySelectorAll(
            "[data-testid='stDataFrame']")).map(table => table.textContent).join(" ");
            return names.every(name => text.includes(name)); }""", arg=list(TAUGHT), timeout=LOAD_MS)  # drawn last
        tables = " ".join(page.locator("[data-testid='stDataFrame']").all_text_contents())
        assert all(person in tables for person in TAUGHT), tables  # shown per person
        screenshot(page, "people-trained")

        # A reload: the examples, their classes and the finished run come back (counted now: a face recorded just
        # before the camera stopped may still have been on its way to the page before training).
        shown = wait_for_text(page, r"Examples: grin (\d+), wow (\d+)", LOAD_MS)
        page.reload()
        wait_for_app(page, LOAD_MS)
        wait_for_text(page, re.escape(shown[0]), LOAD_MS)
        page.get_by_text(re.compile(r"Run \S+-teach finished in \d+ s")).wait_for(timeout=LOAD_MS)
        field = page.get_by_role("textbox", name="Who is in the examples you add", exact=True)
        expect(field).to_have_value(TAUGHT[-1], timeout=LOAD_MS)  # who was recorded last

        # Live, on faces of people not taught (the pools' faces after those recorded).
        start_camera(page, 1, "Starting: the first frame|Live: no face|Live, as drawn")
        answers = {name: [live_answer(page, face) for face in faces_found(pool[200:], TRIED)]
                   for name, pool in pools.items()}
        found = [(name, answer) for name, given in answers.items() for answer in given if answer is not None]
        right = sum(name == answer for name, answer in found)
        assert len(found) >= TRIED and right >= 0.8 * len(found), (answers, diagnostics(page))
        no_exceptions(page)
        screenshot(page, "people-live")
        stop_camera(page, 1)

        # Another tab: none of this tab's examples, and not its model.
        other = new_tab(browser)
        try:
            open_teach(other, url)
            assert "Examples: none yet" in page_text(other) and "No taught model yet" in page_text(other)
            assert not text_shown(other, r"-teach")()
        finally:
            other.context.close()
    except Exception:
        screenshot(page, "people-failed")
        raise
    finally:
        page.context.close()
