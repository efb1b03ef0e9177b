"""Where the Predict page's "Why this label?" (Grad-CAM) spends its time, in a fresh process: the page through
AppTest (the upload, the first toggle, a rerun with the toggle on, the second face's toggle), then the shipped
model's explanations of one face, called again and again, without the page.

Usage: .venv/bin/python bench/grad_cam.py [--root CHECKOUT] [--photo ../shared/photos/couple.jpg]
(--root: measure another checkout of the project, e.g. an older commit unpacked with git archive)
"""

import argparse
import os
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def seconds(start: float) -> str:
    return f"{time.perf_counter() - start:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT)
    parser.add_argument("--photo", type=Path, default=PROJECT_ROOT.parent / "shared" / "photos" / "couple.jpg")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    os.chdir(root)
    os.environ["FER_RUNS_DIR"] = str(root / "no-runs-here")  # the shipped model only

    start = time.perf_counter()
    import aiortc  # noqa: F401  (before TensorFlow, as app.py does: libsrtp loaded after it crashes the process)

    from core.prediction.pictures import FacePredictor
    print(f"import: {seconds(start)}")
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(root / "app.py"), default_timeout=600)
    at.run()
    at.switch_page("app_pages/predict.py").run()
    start = time.perf_counter()
    at.file_uploader[0].set_value([(args.photo.name, args.photo.read_bytes(), "image/jpeg")]).run()
    print(f"page: the picture uploaded, its faces found and classified: {seconds(start)}")
    toggles = [toggle for toggle in at.toggle if toggle.label == "Why this label?"]
    start = time.perf_counter()
    toggles[0].set_value(True).run()
    print(f"page: first toggle: {seconds(start)}")
    start = time.perf_counter()
    at.run()
    print(f"page: a rerun with the toggle on: {seconds(start)}")
    if len(toggles) > 1:
        start = time.perf_counter()
        [toggle for toggle in at.toggle if toggle.label == "Why this label?"][1].set_value(True).run()
        print(f"page: second face's toggle: {seconds(start)}")
    start = time.perf_counter()
    predictor = FacePredictor("default").warm_up()
    print(f"another copy of the model loaded and warmed up: {seconds(start)}")
    _, faces = predictor.predict_file(args.photo.read_bytes())
    for attempt in range(1, 4):
        start = time.perf_counter()
        predictor.explain(faces[:1])
        print(f"explain face 1, call {attempt}: {seconds(start)}")
    start = time.perf_counter()
    predictor.explain(faces)
    print(f"explain all {len(faces)} faces at once: {seconds(start)}")

    assert not at.exception, [error.value for error in at.exception]
    return 0


if __name__ == "__main__":
    sys.exit(main())
