"""How many real face crops Predict's small-picture check refuses: every picture of FER-2013's test split
through core.vision.faces.not_a_face_crop (flat or noise), and with --mtcnn a sample through MTCNN on the crop
upscaled 2x (with and without a 24-pixel border), the stricter check considered instead.

Usage: .venv/bin/python bench/face_crops.py [--data ../shared/datasets/fer2013/test] [--mtcnn 12]
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.vision.faces import PHOTO, locate_faces, not_a_face_crop  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013" / "test")
    parser.add_argument("--mtcnn", type=int, default=0, help="also run MTCNN on every n-th crop (0: not at all)")
    args = parser.parse_args()
    files = sorted(path for path in args.data.rglob("*") if path.is_file())
    reasons = Counter()
    for path in files:
        reason = not_a_face_crop(np.asarray(Image.open(path).convert("L")))
        reasons[reason.split(" (")[0] or "taken"] += 1
        if reason:
            print(f"refused: {path.relative_to(args.data)}: {reason}")
    refused = len(files) - reasons["taken"]
    print(f"{len(files)} crops: {refused} refused ({refused / len(files):.2%}): {dict(reasons)}")
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (side, side), dtype=np.uint8) for side in (48, 64, 96) for _ in range(10)]
    flat = [np.full((side, side), shade, np.uint8) for side in (48, 90) for shade in (0, 128, 255)]
    print(f"noise refused: {sum(bool(not_a_face_crop(p)) for p in noise)}/{len(noise)}, "
          f"flat refused: {sum(bool(not_a_face_crop(p)) for p in flat)}/{len(flat)}")
    if args.mtcnn:
        sample = files[::args.mtcnn]
        found = Counter()
        for path in sample:
            upscaled = cv2.resize(np.asarray(Image.open(path).convert("L")), None, fx=2, fy=2)
            found["2x"] += bool(locate_faces(upscaled, PHOTO))
            found["2x + border"] += bool(locate_faces(cv2.copyMakeBorder(upscaled, 24, 24, 24, 24,
                                                                         cv2.BORDER_REPLICATE), PHOTO))
        print(f"MTCNN on {len(sample)} crops: " + ", ".join(f"{name}: {count} found, "
                                                              f"{1 - count / len(sample):.1%} refused"
                                                              for name, count in found.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
