"""Small synthetic FER-style datasets that tests write into a temporary folder.

Each emotion gets its own learnable pattern (a bright bar at a class-specific height) on
noise, so a tiny network can tell them apart in a few epochs.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from core.emotions import EMOTIONS


def face_pattern(label: int, rng: np.random.Generator) -> np.ndarray:
    """A 48x48 uint8 image: noise with a bar whose height encodes the label."""
    image = rng.integers(0, 90, (48, 48), dtype=np.uint8)
    row = 3 + label * 6
    image[row:row + 4, 6:42] = 230
    return image


def write_folder_dataset(root: Path, per_class: int = 10, splits=("train", "test"), seed: int = 0) -> Path:
    """Write ROOT/<split>/<emotion>/<n>.png in the Kaggle layout and return ROOT."""
    rng = np.random.default_rng(seed)
    for split in splits:
        for label, emotion in enumerate(EMOTIONS):
            folder = root / split / emotion
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(per_class):
                Image.fromarray(face_pattern(label, rng)).save(folder / f"{split}_{index}.png")
    return root
