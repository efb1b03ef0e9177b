"""A phone video's rotation is honoured: frames stored sideways with a display matrix are turned upright before
faces are looked for, as a player shows them."""

import csv
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from core.prediction.pictures import FacePredictor
from core.prediction.video import predict_video, upright
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)


def upright_picture() -> np.ndarray:
    """A 240x160 (height x width) portrait frame: the astronaut's face in the upper part, a white block at the
    bottom left."""
    picture = np.full((240, 160, 3), 40, np.uint8)
    picture[10:160, 5:155] = cv2.resize(skimage_data.astronaut()[0:250, 110:360], (150, 150))
    picture[200:236, 4:40] = 255
    return picture


def write_video(path: Path, picture: np.ndarray, rotation: int | None, frames: int = 4) -> Path:
    """An H.264 MP4 whose frames are `picture` stored as a phone stores it: turned against `rotation` (degrees
    counter-clockwise, what players turn it by), with the display matrix saying so."""
    stored = np.ascontiguousarray(np.rot90(picture, -round((rotation or 0) / 90)))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = stored.shape[1], stored.shape[0], "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for _ in range(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("rotation", [90, -90, 180, 0])
def test_frames_are_turned_by_their_display_matrix(tmp_path, rotation):
    picture = upright_picture()
    path = write_video(tmp_path / "phone.mp4", picture, rotation)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert round(frame.rotation) % 360 == rotation % 360 and frame.width == (240 if rotation in (90, -90) else 160)
        shown = upright(frame)
    assert shown.shape == picture.shape
    assert shown[210:230, 10:30].min() > 200 and shown[210:230, 120:150].max() < 90  # the block where it belongs
    assert np.abs(shown.astype(int) - picture).mean() < 8


def test_a_sideways_phone_video_has_its_face_found_upright(tmp_path, tiny_model):
    path = write_video(tmp_path / "phone.mp4", upright_picture(), -90)
    counts = predict_video(FacePredictor(tiny_model), path, tmp_path / "faces.csv", every=2)
    with open(tmp_path / "faces.csv", newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["face"] != "0"]
    assert counts["classified"] == 2 and len(rows) == 2
    for row in rows:  # boxes in the upright frame (160 wide, 240 high): the face in its upper part
        x, y, w, h = (int(row[key]) for key in ("x", "y", "width", "height"))
        assert 0 <= x and x + w <= 165 and y + h <= 170 and w > 40
