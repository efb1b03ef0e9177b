"""The app works offline: every request the browser makes goes to the app's own server (Streamlit 1.67 bundles
its fonts and the Material Symbols icon font; only a page's :material: icon used as the tab's icon would be
fetched from fonts.gstatic.com, so app.py sets its own). Uploads fit the datasets the app accepts."""

import tomllib
from pathlib import Path

import pytest

from core.vision.imaging import ImageError, read_image
from core.storage.safe_files import MAX_FILE_BYTES
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_browser, streamlit_server, wait_for_app

ROOT = Path(__file__).resolve().parent.parent
FER_ZIP_MB = 62  # FER-2013 as the Kaggle zip


def test_the_upload_limit_takes_the_fer2013_zip_and_pictures_stay_bounded():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert FER_ZIP_MB < settings["maxUploadSize"] <= 200
    with pytest.raises(ImageError, match="over the 64 MB a picture may be"):
        read_image(bytes(MAX_FILE_BYTES + 1))


def test_no_page_asks_anything_of_another_server(tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    elsewhere = []
    with streamlit_server({"FER_RUNS_DIR": str(tmp_path / "runs")}, tmp_path / "server.log") as url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: elsewhere.append(request.url)
                    if not request.url.startswith((url, "data:", "blob:")) else None)
            for path in ("", "/predict", "/train"):
                page.goto(url + path)
                page.locator("h1").first.wait_for(timeout=120_000)  # the page's run has begun (the first imports
                wait_for_app(page)  # TensorFlow), so this waits for its end
                page.wait_for_timeout(1500)  # icons and the favicon load after the script ran
            icon = page.locator("link[rel='shortcut icon']").get_attribute("href")
            page.locator("[data-testid='stSidebarNav']").first.wait_for(timeout=120_000)
            assert page.locator("[data-testid='stSidebarNav']").count() == 1
        finally:
            browser.close()
    assert elsewhere == [] and not icon.startswith("https://"), (elsewhere, icon)
