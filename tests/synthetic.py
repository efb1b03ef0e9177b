"""Small synthetic FER-style datasets that tests write into a temporary folder.

Each emotion gets its own learnable pattern (a bright bar at a class-specific height) on
noise, so a tiny network can tell them apart in a few epochs.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from core.data.emotions import EMOTIONS


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


def write_moving_faces_video(path: Path, frames: int = 24, fps: int = 10, step: int = 2) -> Path:
    """An H.264 MP4 (480x220) of two faces sliding towards each other, `step` pixels a frame: the
    astronaut of skimage.data on the left moving right, her mirror image on the right moving left.
    Up to 40 frames at step 2 the two stay apart and OpenCV's detector finds both in every frame.
    """
    import av
    import cv2
    from skimage import data as skimage_data

    portrait = cv2.resize(skimage_data.astronaut(), (200, 200))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 480, 220, "yuv420p"
        for index in range(frames):
            shift = (step * index) % 60  # long videos slide back and forth
            picture = np.full((220, 480, 3), 40, np.uint8)
            picture[10:210, shift:200 + shift] = portrait
            picture[10:210, 270 - shift:470 - shift] = portrait[:, ::-1]
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return path
