"""Emotions through a video: every n-th frame classified, faces followed (new numbers after a scene cut), a CSV
and an annotated copy.

Frames are decoded, classified, drawn and encoded one at a time (PyAV), and each classified frame's
rows go straight to the CSV, so memory stays flat however long the video is.
Example: predict_video(FacePredictor("default"), "talk.mp4", "talk.csv", every=5, annotated="talk-faces.mp4")
"""

import csv
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from core.vision.faces import PHOTO
from core.models.inference import LIVE_VIEWS
from core.prediction.pictures import FacePredictor, draw_predictions, row_columns
from core.vision.tracking import FaceTracker, SceneCuts

VIDEO_SUFFIXES = {".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v"}
EVERY = 5  # classify one frame in this many by default
MIN_SIDE = 2  # pixels: an H.264 (yuv420p) frame holds at least 2x2
MAX_FRAME_PIXELS = 9_000_000  # 4K (4096x2160) and less: a larger frame costs gigabytes to decode, draw and encode
VIEWS = LIVE_VIEWS  # test-time views for video frames: the face and its mirror


def columns(classes: list[str]) -> list[str]:
    """The CSV's header for a model's classes: time, frame, face number, then the face's row. One row per face
    of each classified frame; a classified frame without a face has one row with face 0."""
    return ["time_s", "frame", "face", *row_columns(classes)]


class VideoError(ValueError):
    """A file that cannot be read as a video; the message says why."""


def predict_video(predictor: FacePredictor, source: str | Path, csv_path: str | Path, every: int = EVERY,
                  annotated: str | Path | None = None, progress: Callable[[int, int], None] | None = None,
                  views: str = VIEWS) -> dict:
    """Classify every `every`-th frame of a video into csv_path (columns), optionally writing an annotated
    H.264 MP4 (every frame, each face boxed with its number and latest emotion; no sound).

    progress(frames done, frames in all, estimated; 0 when unknown) is called after each classified frame.
    Returns frames, classified (frames), faces (distinct face numbers), rows and cuts (scene cuts found between
    classified frames: each ends every face's track).
    """
    if every < 1:
        raise ValueError("--every must be at least 1")
    try:
        container = av.open(str(source), stream_options=[{"max_pixels": str(MAX_FRAME_PIXELS)}])  # probing too
    except (av.FFmpegError, OSError) as error:
        raise VideoError(f"{Path(source).name} is not a readable video ({error.strerror or error})") from None
    with container:
        if not container.streams.video:
            raise VideoError(f"{Path(source).name} has no video track")
        stream = container.streams.video[0]
        _check_size(stream.codec_context.width or 0, stream.codec_context.height or 0, source)  # from the header
        stream.thread_type = "AUTO"
        rate = stream.average_rate or Fraction(25)
        total = stream.frames or int(float(container.duration or 0) / av.time_base * rate)
        tracker, cuts, labelled = FaceTracker(), SceneCuts(), []
        counts = {"frames": 0, "classified": 0, "faces": 0, "rows": 0, "cuts": 0}
        writer = _Annotated(annotated, rate) if annotated else None
        try:
            with open(csv_path, "w", newline="") as file:
                rows = csv.writer(file)
                rows.writerow(columns(predictor.classes))
                for index, frame in enumerate(_frames(container, stream, source)):
                    _check_size(frame.width, frame.height, source)  # before it is converted (a stream may change size)
                    picture = upright(frame)
                    if min(picture.shape[:2]) < MIN_SIDE:
                        raise VideoError(f"{Path(source).name} is {picture.shape[1]}x{picture.shape[0]} pixels: too "
                                         "small to be a video")
                    if index % every == 0:
                        if cuts(picture):
                            tracker.end_all()
                            counts["cuts"] += 1
                        faces = predictor.predict_rgb(picture, PHOTO, views)
                        labelled = list(zip(tracker.update([face.box for face in faces]), faces))
                        time_s = round(float(frame.time) if frame.time is not None else index / rate, 3)
                        blank = [""] * len(row_columns(predictor.classes))
                        for number, face in labelled or [(0, None)]:
                            rows.writerow([time_s, index, number, *(face.as_row() if face else blank)])
                        counts["classified"] += 1
                        counts["rows"] += max(1, len(labelled))
                        counts["faces"] = tracker.next_number - 1
                        file.flush()
                        if progress:
                            progress(index + 1, max(total, index + 1))
                    if writer:
                        writer.add(draw_predictions(picture, [face for _, face in labelled],
                                                    [number for number, _ in labelled]))
                    counts["frames"] = index + 1
        finally:
            if writer:
                writer.close()
    if progress:
        progress(counts["frames"], counts["frames"])
    return counts


def _check_size(width: int, height: int, source) -> None:
    """VideoError for frames over MAX_FRAME_PIXELS."""
    if width * height > MAX_FRAME_PIXELS:
        raise VideoError(f"{Path(source).name} has frames of {width}x{height} pixels, over the "
                         f"{MAX_FRAME_PIXELS / 1e6:.0f} megapixels (4K) a video may have: scale it down first")


def upright(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame's RGB pixels as the video is meant to be seen: turned by its display matrix (a phone
    filming upright stores its frames sideways with a rotation of 90 or -90 degrees; players turn them back).

    Example: upright(frame).shape -> (1920, 1080, 3) for a 1920x1080 frame stored with rotation -90
    """
    picture = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4  # counter-clockwise quarter turns, as PyAV reports them
    return np.ascontiguousarray(np.rot90(picture, turns)) if turns else picture


def _frames(container, stream, source):
    """The decoded frames; a file that breaks while decoding raises VideoError."""
    try:
        yield from container.decode(stream)
    except av.FFmpegError as error:
        raise VideoError(f"{Path(source).name} could not be decoded to the end ({error.strerror or error})") from None


class _Annotated:
    """An H.264 MP4 being written frame by frame (width and height cut to even numbers, as yuv420p needs)."""

    def __init__(self, path: str | Path, rate: Fraction):
        self.container = av.open(str(path), "w", format="mp4")
        self.stream = self.container.add_stream("libx264", rate=rate, options={"crf": "23", "preset": "veryfast"})
        self.stream.pix_fmt = "yuv420p"
        self.started = False

    def add(self, picture: np.ndarray) -> None:
        height, width = picture.shape[0] // 2 * 2, picture.shape[1] // 2 * 2
        if not self.started:
            self.stream.width, self.stream.height, self.started = width, height, True
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture[:height, :width]), format="rgb24")
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        if self.started:
            self.container.mux(self.stream.encode(None))
        self.container.close()
