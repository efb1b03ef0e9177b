"""Videos (core.prediction.video, core.vision.tracking): CSV rows per classified frame, faces followed across frames and not
across scene cuts, the annotated copy, clear errors for files that are not videos, and the Video page (every
class in each legend, the video and its results kept when the visitor goes to another page and back)."""

import csv
import io
import json
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data
from streamlit.testing.v1 import AppTest

import core.models.store
import core.prediction.video
from core.cli import main
from core.prediction.pictures import FacePredictor
from core.vision.tracking import FaceTracker, SceneCuts, overlap, scene_change
from core.data.emotions import EMOTIONS
from core.prediction.video import VideoError, columns, predict_video

COLUMNS = columns(list(EMOTIONS))
from tests.model_fixtures import tiny_data, tiny_model  # noqa: F401 (fixtures)
from tests.synthetic import write_moving_faces_video

FRAMES, FPS = 24, 10
APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_moving_faces_video(tmp_path_factory.mktemp("video") / "two-faces.mp4", FRAMES, FPS)


@pytest.fixture(scope="module")
def predictor(tiny_model) -> FacePredictor:
    return FacePredictor(tiny_model)


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_overlap_and_tracker_keep_numbers_on_moving_boxes():
    assert overlap((0, 0, 10, 10), (0, 0, 10, 10)) == 1 and overlap((0, 0, 10, 10), (20, 0, 10, 10)) == 0
    assert overlap((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    tracker = FaceTracker(max_missed=2)
    assert tracker.update([(0, 0, 40, 40), (100, 0, 40, 40)]) == [1, 2]
    assert tracker.update([(96, 2, 40, 40), (5, 0, 40, 40)]) == [2, 1]  # order in the frame does not matter
    assert tracker.update([(10, 0, 40, 40)]) == [1]  # face 2 unseen once
    assert tracker.update([(15, 0, 40, 40), (94, 0, 40, 40)]) == [1, 2]  # and back under its number
    for _ in range(3):
        tracker.update([])
    assert tracker.update([(15, 0, 40, 40)]) == [3]  # gone too long: a new face


def test_every_nth_frame_gets_a_row_per_face_and_faces_keep_their_numbers(predictor, video, tmp_path):
    seen = []
    counts = predict_video(predictor, video, tmp_path / "faces.csv", every=3, annotated=tmp_path / "annotated.mp4",
                           progress=lambda done, total: seen.append((done, total)))
    rows = read_rows(tmp_path / "faces.csv")
    assert list(rows[0]) == COLUMNS
    classified = list(range(0, FRAMES, 3))
    assert counts == {"frames": FRAMES, "classified": len(classified), "faces": 2, "rows": 2 * len(classified),
                      "cuts": 0}
    assert [int(row["frame"]) for row in rows] == [frame for frame in classified for _ in range(2)]
    for row in rows:
        assert float(row["time_s"]) == pytest.approx(int(row["frame"]) / FPS, abs=1e-3)
        assert sum(float(row[e]) for e in COLUMNS[9:]) == pytest.approx(1, abs=1e-3)
    lefts = {number: [int(r["x"]) for r in rows if r["face"] == number] for number in ("1", "2")}
    moving_right, moving_left = sorted(lefts.values(), key=lambda xs: xs[0])
    assert moving_right == sorted(moving_right) and moving_right[-1] - moving_right[0] > 30
    assert moving_left == sorted(moving_left, reverse=True) and moving_left[0] - moving_left[-1] > 30
    assert seen[-1] == (FRAMES, FRAMES) and len(seen) == len(classified) + 1

    with av.open(str(tmp_path / "annotated.mp4")) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    with av.open(str(video)) as container:
        source = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == FRAMES and frames[0].shape == (220, 480, 3)
    for drawn, original in zip(frames, source):  # boxes and labels on every frame, the rest unchanged
        changed = np.abs(drawn.astype(int) - original).max(axis=2) > 60
        assert 0.005 < changed.mean() < 0.2


def write_cut_video(path: Path, frames: int = 12, fps: int = 10) -> Path:
    """Two shots cut at half time, a face at the same place in both: the astronaut on a dark wall, then another
    face there (hers with the light from one side and its colours turned) on a bright wall: two people, not one."""
    first = cv2.resize(skimage_data.astronaut(), (200, 200))
    second = (first[..., ::-1] * np.linspace(0.5, 1, 200)[None, :, None]).astype(np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 480, 220, "yuv420p"
        for index in range(frames):
            cut = index >= frames // 2
            picture = np.full((220, 480, 3), 215 if cut else 35, np.uint8)
            picture[10:210, 140 + index:340 + index] = second if cut else first  # moving a little, as people do
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_a_scene_cut_between_two_faces_at_one_place_starts_a_new_track(predictor, tmp_path):
    counts = predict_video(predictor, write_cut_video(tmp_path / "cut.mp4"), tmp_path / "faces.csv", every=2)
    rows = read_rows(tmp_path / "faces.csv")
    numbers = [(int(row["frame"]), row["face"]) for row in rows]
    assert counts["cuts"] == 1 and counts["faces"] == 2, numbers
    assert {face for frame, face in numbers if frame < 6} == {"1"}
    assert {face for frame, face in numbers if frame >= 6} == {"2"}


def test_scene_changes_tell_cuts_from_motion_and_exposure():
    shot = cv2.resize(skimage_data.astronaut(), (480, 270))
    other = cv2.resize(skimage_data.coffee(), (480, 270))
    assert scene_change(shot, shot) == 0 and scene_change(shot, other) >= 1
    assert scene_change(shot, np.roll(shot, 24, axis=1)) < 1  # a pan of 5%
    assert scene_change(shot, (shot * 0.8).astype(np.uint8)) < 1  # the exposure moving
    cuts = SceneCuts()
    assert [cuts(frame) for frame in (shot, np.roll(shot, 8, axis=1), other, other)] == [False, False, True, False]
    tracker = FaceTracker()
    assert tracker.update([(0, 0, 40, 40)]) == [1]
    tracker.end_all()
    assert tracker.update([(0, 0, 40, 40)]) == [2]


def test_command_line_writes_the_csv_and_the_annotated_video(tiny_model, video, tmp_path, capsys):
    out = tmp_path / "cli.csv"
    assert main(["predict", str(tiny_model), str(video), "--every", "4", "--csv", str(out),
                 "--annotate", str(tmp_path / "annotated")]) == 0
    assert "6 of 24 frames classified, 2 faces followed, 12 rows" in capsys.readouterr().out
    assert len(read_rows(out)) == 12 and (tmp_path / "annotated" / "two-faces-annotated.mp4").stat().st_size > 0


def test_a_file_that_is_not_a_video_is_a_clear_error(predictor, tiny_model, tmp_path, capsys):
    fake = tmp_path / "holiday.mp4"
    fake.write_bytes(b"not really a video" * 100)
    with pytest.raises(VideoError, match="holiday.mp4 is not a readable video"):
        predict_video(predictor, fake, tmp_path / "out.csv")
    assert main(["predict", str(tiny_model), str(fake), "--csv", str(tmp_path / "out.csv")]) == 2
    assert "error: holiday.mp4 is not a readable video" in capsys.readouterr().err


def test_frames_over_the_bound_are_refused_from_the_header_before_decoding(predictor, tmp_path, monkeypatch):
    """A small file can hold frames of hundreds of megapixels (each one gigabytes once decoded and drawn): the
    stream's size is read first (here the bound is lowered, to keep the test small)."""
    clip = write_moving_faces_video(tmp_path / "wide.mp4", frames=4)
    with av.open(str(clip)) as container:
        width, height = container.streams.video[0].width, container.streams.video[0].height
    monkeypatch.setattr(core.prediction.video, "MAX_FRAME_PIXELS", width * height - 1)
    decoded = []
    monkeypatch.setattr(core.prediction.video, "upright", lambda frame: decoded.append(frame) or frame.to_ndarray())
    with pytest.raises(VideoError, match=rf"wide.mp4 has frames of {width}x{height} pixels, over the .* scale it"):
        predict_video(predictor, clip, tmp_path / "out.csv")
    assert decoded == []


def video_page(monkeypatch, tmp_path, runs: Path | None) -> AppTest:
    monkeypatch.setenv("FER_RUNS_DIR", str(runs or tmp_path / "no-runs"))
    monkeypatch.setattr(core.models.store, "DEFAULT_MODEL_DIR", tmp_path / "no-default-model")
    monkeypatch.setattr(core.models.store, "FER2013_MODEL_DIR", tmp_path / "no-fer2013-model")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the page keeps its outputs
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/video.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_video_page_analyses_an_upload_with_a_timeline_per_face(monkeypatch, tmp_path, tiny_model, video):
    at = video_page(monkeypatch, tmp_path, tiny_model.parent)
    assert "Upload a video" in at.info[0].value
    at.file_uploader[0].set_value(("clip.mp4", video.read_bytes(), "video/mp4")).run()
    at.slider[0].set_value(4).run()
    assert not at.get("plotly_chart")  # nothing runs before the button
    next(b for b in at.button if b.label == "Analyse the video").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "6 of 24 frames classified; 2 face(s) followed" in at.success[0].value
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert [chart["layout"]["title"]["text"].split(":")[0] for chart in charts] == ["Face 1", "Face 2"]
    for chart in charts:  # the model's 7 probabilities over time, every class in the legend, predicted or not
        assert [trace["name"] for trace in chart["data"]] == core.models.store.model_classes(tiny_model)
        assert all(trace.get("showlegend", True) for trace in chart["data"])
        assert chart["layout"]["legend"]["orientation"] == "h"  # one row under the chart: none scrolled away
    assert len(at.get("download_button")) == 2 and len(at.get("video")) == 1
    csv_files = list(tmp_path.glob("fer-video-*/faces.csv"))
    assert len(csv_files) == 1 and len(read_rows(csv_files[0])) == 12
    analysed = []
    original = core.prediction.video.predict_video
    monkeypatch.setattr(core.prediction.video, "predict_video", lambda *args, **kw: analysed.append(1) or original(*args, **kw))
    at.run()  # a rerun shows the result again without classifying again
    assert len(at.get("plotly_chart")) == 2 and len(list(tmp_path.glob("fer-video-*"))) == 1
    at.switch_page("app_pages/home.py").run()
    at.switch_page("app_pages/video.py").run()  # back: the uploader is empty, the video and its results kept
    assert not at.exception and at.file_uploader[0].value is None and at.slider[0].value == 4
    assert "Kept from before in this browser tab: clip.mp4" in at.caption[0].value
    assert "6 of 24 frames classified; 2 face(s) followed" in at.success[0].value
    assert len(at.get("plotly_chart")) == 2 and not analysed
    at.button(key="video_upload_clear").click().run()  # forgotten, its outputs removed
    assert "Upload a video" in at.info[0].value and not list(tmp_path.glob("fer-video-*"))

    at.file_uploader[0].set_value(("broken.mp4", b"not a video" * 50, "video/mp4")).run()
    next(b for b in at.button if b.label == "Analyse the video").click().run()
    assert not at.exception and "broken.mp4 is not a readable video" in at.error[0].value
    dot = io.BytesIO()
    Image.new("RGB", (1, 1)).save(dot, "PNG")
    at.file_uploader[0].set_value(("dot.mp4", dot.getvalue(), "video/mp4")).run()
    next(b for b in at.button if b.label == "Analyse the video").click().run()
    assert not at.exception and "dot.mp4 is 1x1 pixels: too small to be a video" in at.error[0].value
    assert not list(tmp_path.glob("fer-video-*"))  # nothing kept of a failed analysis

    long_name = "日本" * 60 + ".mp4"  # 364 bytes: over the 255 a file name may have
    at.file_uploader[0].set_value((long_name, video.read_bytes(), "video/mp4")).run()
    next(b for b in at.button if b.label == "Analyse the video").click().run()
    assert not at.exception and not at.error and "6 of 24 frames classified" in at.success[0].value


def test_video_page_without_a_model_says_to_train_one(monkeypatch, tmp_path):
    at = video_page(monkeypatch, tmp_path, None)
    assert "train one on the Train page" in at.warning[0].value
