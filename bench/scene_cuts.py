"""Where to draw the line between a scene cut and ordinary motion (core.vision.tracking.scene_change): the score of
consecutive sampled frames for ordinary motion (pans, zooms, exposure changes, a face moving, sensor noise)
and for cuts between different pictures (the real photos of ../shared/photos and skimage's pictures).

Usage: .venv/bin/python bench/scene_cuts.py
"""

import itertools
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data as skimage_data
from skimage.util import img_as_ubyte

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core.vision.tracking import scene_change  # noqa: E402

SIDE = (640, 360)  # every picture as a 16:9 frame
PHOTOS = PROJECT_ROOT.parent / "shared" / "photos"
SKIMAGE = ("astronaut", "camera", "coffee", "chelsea", "rocket", "page", "moon", "text", "clock", "horse",
           "coins", "retina", "grass", "gravel", "brick", "immunohistochemistry", "hubble_deep_field")


def frame(picture: np.ndarray, box: tuple[float, float, float, float] = (0, 0, 1, 1)) -> np.ndarray:
    """The box (left, top, width, height as fractions) of an RGB picture as a 640x360 frame."""
    h, w = picture.shape[:2]
    x, y, bw, bh = box
    crop = picture[int(y * h):int((y + bh) * h), int(x * w):int((x + bw) * w)]
    return cv2.resize(crop, SIDE, interpolation=cv2.INTER_AREA)


def pictures() -> dict[str, np.ndarray]:
    found = {path.name: np.asarray(Image.open(path).convert("RGB")) for path in sorted(PHOTOS.glob("*.jpg"))}
    for name in SKIMAGE:
        picture = img_as_ubyte(getattr(skimage_data, name)())
        found[name] = np.dstack([picture] * 3) if picture.ndim == 2 else picture[..., :3]
    return found


def motion_pairs(picture: np.ndarray, rng: np.random.Generator):
    """(what, frame, next sampled frame) for ordinary motion within one shot."""
    start = frame(picture, (0.1, 0.1, 0.8, 0.8))
    for shift in (0.02, 0.05, 0.1):
        yield f"pan {shift:.0%}", start, frame(picture, (0.1 + shift, 0.1, 0.8, 0.8))
    for zoom in (1.05, 1.1, 1.2):
        side = 0.8 / zoom
        yield f"zoom {zoom}x", start, frame(picture, (0.5 - side / 2, 0.5 - side / 2, side, side))
    for gain in (0.8, 1.2):
        yield f"exposure x{gain}", start, np.clip(start * gain, 0, 255).astype(np.uint8)
    noisy = np.clip(start + rng.normal(0, 8, start.shape), 0, 255).astype(np.uint8)
    yield "sensor noise", start, noisy
    face = cv2.resize(skimage_data.astronaut(), (200, 200))
    for step in (20, 60):  # a face moving 20 or 60 pixels between sampled frames over this picture
        a, b = start.copy(), start.copy()
        a[80:280, 100:300] = face
        b[80:280, 100 + step:300 + step] = face
        yield f"a face moving {step} px", a, b


def main() -> int:
    rng = np.random.default_rng(0)
    found = pictures()
    motion = [(what, scene_change(a, b)) for picture in found.values() for what, a, b in motion_pairs(picture, rng)]
    frames = {name: frame(picture) for name, picture in found.items()}
    cuts = [(f"{x} -> {y}", scene_change(frames[x], frames[y])) for x, y in itertools.combinations(frames, 2)]
    for label, scores in (("ordinary motion", motion), ("cuts", cuts)):
        values = np.array([score for _, score in scores])
        print(f"{label}: {len(values)} pairs, score min {values.min():.3f}, 5% {np.percentile(values, 5):.3f}, "
              f"median {np.median(values):.3f}, 95% {np.percentile(values, 95):.3f}, max {values.max():.3f}")
    print("highest motion:", sorted(motion, key=lambda pair: -pair[1])[:5])
    print("lowest cuts:", sorted(cuts, key=lambda pair: pair[1])[:5])
    missed = sum(score < 1 for _, score in cuts)
    false = sum(score >= 1 for _, score in motion)
    print(f"{false} of {len(motion)} motion pairs taken for cuts, "
          f"{missed} of {len(cuts)} cuts missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
