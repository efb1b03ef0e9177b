"""Webcam frames turned into examples (Recorder) and live predictions (LivePredictor), off the video thread.

streamlit-webrtc calls a page's frame callback on its video thread and ends the stream for good when one
call takes over 10 s. Finding a face as at ingest (core.vision.faces.PHOTO: MTCNN, the face turned upright on its
eyes) takes 0.1-0.4 s a frame on two cores, and building the detector on a new thread about a second. So the
callback only hands its frame to a FrameWorker and draws what the worker found last; the worker, a thread of
its own, takes the latest frame it was handed (older ones are dropped) at most `per_second` times a second,
and ends when no frame has come for a while. Pages read the results under the worker's lock (Recorder.take,
LivePredictor.latest): no Streamlit call ever runs on these threads.

Examples and live predictions find faces the same way (PHOTO), so the model sees live faces framed as the
faces it learned from, and as Predict's photos and the dataset reader frame them.

Example: recorder = Recorder(); recorder.record("thumbs up", person="me"); the video thread calls
         recorder.on_frame(rgb) for each frame; then, on the page's thread,
         captures.add_faces("thumbs up", [(c.face, c.person, c.frame) for c in recorder.take()])
"""

import threading
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from core.vision.faces import PHOTO, Box, Detection, find_and_crop, main_faces
from core.models.inference import LIVE_VIEWS

MAX_KEPT_PER_SECOND = 4  # frames examined (so faces kept) a second while recording
IDLE_S = 300.0  # a worker thread with no frame for this long ends (its face detector with it); the next starts another
WARM_UP = "warm-up"  # the context of the blank frame that builds a new thread's face detector
MAX_WAITING = 600  # captures held for the page at most; beyond, new ones are counted as dropped
SHOWN_S = 1.0  # a face box found this long ago is still drawn on the frames while recording
PREDICTION_SHOWN_S = 3.0  # live predictions this old are still drawn (a busy CPU classifies a frame a second)


class FrameWorker:
    """The latest frame handed over, processed on a thread of its own at most per_second times a second
    (as fast as it can with None). Subclasses define process()."""

    def __init__(self, per_second: float | None = None, idle_s: float = IDLE_S):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._waiting: tuple | None = None  # (picture, context) not yet processed
        self._thread: threading.Thread | None = None
        self._busy = False
        self._interval = 1 / per_second if per_second else 0.0
        self._last = 0.0
        self.idle_s = idle_s
        self.error = ""  # the last processing error, for the page to show

    def offer(self, picture: np.ndarray, context=None) -> None:
        """Hand a frame over (the video thread): it replaces any frame still waiting."""
        with self._lock:
            self._waiting = (picture, context)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"{type(self).__name__}", daemon=True)
                self._thread.start()
            self._wake.set()

    def warm_up(self) -> None:
        """Build the face detector on the worker's thread now, before the first frame (building it takes the
        server's processor for a second or more, which can stall a video connection that is just starting).
        Nothing is done where the thread is already running."""
        with self._lock:
            running = self._thread is not None
        if not running:
            self.offer(np.zeros((160, 160, 3), np.uint8), WARM_UP)

    def settle(self, timeout: float) -> bool:
        """Wait until every frame handed over is processed; False when timeout seconds pass first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._waiting is None and not self._busy:
                    return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        while True:
            if not self._wake.wait(self.idle_s):
                with self._lock:
                    if self._waiting is None:
                        self._thread = None  # idle: end; the next offer starts another thread
                        return
            time.sleep(max(0.0, self._last + self._interval - time.monotonic()))
            with self._lock:
                self._wake.clear()
                item, self._waiting = self._waiting, None
                self._busy = item is not None
            if item is None:
                continue
            self._last = time.monotonic()
            try:
                self.process(*item)
                self.error = ""
            except Exception as error:  # one bad frame must not end the worker; the page shows why
                self.error = f"{type(error).__name__}: {error}"
            finally:
                with self._lock:
                    self._busy = False

    def process(self, picture: np.ndarray, context) -> None:
        raise NotImplementedError


@dataclass
class Capture:
    """One face kept while recording: its class, who it shows, its 48x48 crop, and its frame where kept."""

    class_name: str
    person: str
    face: np.ndarray
    frame: np.ndarray | None = None


@dataclass
class Tally:
    """Frames examined while recording one class: faces kept, frames with no face, with several, dropped."""

    class_name: str = ""
    kept: int = 0
    no_face: int = 0
    several_faces: int = 0
    dropped: int = 0


class Recorder(FrameWorker):
    """Keeps one face crop a frame, at most per_second a second, while a class is being recorded; frames with
    no face or several faces are counted, not kept. Crops wait in memory until the page takes them."""

    def __init__(self, per_second: float = MAX_KEPT_PER_SECOND, detection: Detection = PHOTO,
                 idle_s: float = IDLE_S):
        super().__init__(per_second, idle_s)
        self.detection = detection
        self._target: tuple[str, str, bool, int] | None = None  # (class, person, keep the frames, its emptyings)
        self._emptied: dict[str, int] = {}  # how many times each class's examples were deleted (forget)
        self._captures: list[Capture] = []
        self._tally = Tally()
        self._box: tuple[Box, float] | None = None

    def record(self, class_name: str, person: str = "", keep_frames: bool = False) -> None:
        """Start (or go on) recording a class; the tally starts again for another class."""
        with self._lock:
            if self._tally.class_name != class_name:
                self._tally = Tally(class_name)
            self._target = (class_name, person, keep_frames, self._emptied.get(class_name, 0))

    def forget(self, class_name: str) -> None:
        """A class's examples were deleted: drop its faces not yet taken and those of its frames still being
        examined, so that none recorded before comes back; recording it goes on from now."""
        with self._lock:
            self._emptied[class_name] = self._emptied.get(class_name, 0) + 1
            self._captures = [capture for capture in self._captures if capture.class_name != class_name]
            if self._target and self._target[0] == class_name:
                self._target = (*self._target[:3], self._emptied[class_name])

    def stop(self) -> None:
        """Stop recording; frames already handed over are still examined."""
        with self._lock:
            self._target = None

    @property
    def recording(self) -> str | None:
        """The class being recorded, or None."""
        with self._lock:
            return self._target[0] if self._target else None

    def tally(self) -> Tally:
        """A copy of the current (or last) class's tally."""
        with self._lock:
            return replace(self._tally)

    def waiting(self) -> int:
        """How many captures wait for the page to take them."""
        with self._lock:
            return len(self._captures)

    def take(self) -> list[Capture]:
        """The captures kept since the last take, oldest first (the page adds them to its capture set)."""
        with self._lock:
            captures, self._captures = self._captures, []
            return captures

    def on_frame(self, picture: np.ndarray) -> np.ndarray:
        """The video thread's work: hand an RGB frame over while recording; return it with the state drawn."""
        with self._lock:
            target, tally, box = self._target, replace(self._tally), self._box
        if target:
            self.offer(picture, target)
        recent = box[0] if box and time.monotonic() - box[1] < SHOWN_S else None
        return draw_recording(picture, target[0] if target else None, tally, recent)

    def process(self, picture: np.ndarray, target: tuple[str, str, bool, int] | str) -> None:
        boxes, crops = find_and_crop(picture, self.detection)
        if target == WARM_UP:
            return
        class_name, person, keep_frames, emptied = target
        kept = main_faces(boxes)
        with self._lock:
            tally = self._tally if self._tally.class_name == class_name else Tally(class_name)
            if emptied != self._emptied.get(class_name, 0):
                return  # a frame from before its class was emptied
            if not kept:
                tally.no_face += 1
            elif len(kept) > 1:
                tally.several_faces += 1
            elif len(self._captures) >= MAX_WAITING:
                tally.dropped += 1
            else:
                tally.kept += 1
                self._captures.append(Capture(class_name, person, crops[kept[0]], picture if keep_frames else None))
                self._box = (boxes[kept[0]], time.monotonic())


def draw_recording(picture: np.ndarray, class_name: str | None, tally: Tally, box: Box | None) -> np.ndarray:
    """An RGB frame with, while recording, a red dot, the class and the faces kept, and the last face found."""
    if class_name is None and box is None:
        return picture
    canvas = np.ascontiguousarray(picture.copy())
    scale = max(0.5, max(canvas.shape[:2]) / 900)
    thickness = max(1, round(max(canvas.shape[:2]) / 400))
    if box is not None:
        x, y, w, h = box
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (60, 200, 60), thickness)
    if class_name is not None:
        radius = round(10 * scale)
        cv2.circle(canvas, (2 * radius, 2 * radius), radius, (230, 30, 30), -1)
        text = f"REC {class_name}: {tally.kept} kept"
        cv2.putText(canvas, text, (4 * radius, round(2.6 * radius)), cv2.FONT_HERSHEY_SIMPLEX, scale, (230, 30, 30),
                    thickness, cv2.LINE_AA)
    return canvas


@dataclass(frozen=True)
class LiveAnswer:
    """One classified frame's faces (core.prediction.pictures.FacePrediction), largest first: what is drawn on the
    video and what is said beside it. number: which classified frame it is (1, 2, ...; 0 for none)."""

    faces: tuple = ()
    number: int = 0

    def text(self) -> str:
        """Each face as drawn on it ("1 smile 50%"), with its other classes' probabilities.

        Example: LiveAnswer((face,), 7).text() -> "1 smile 50% (surprise 48%, neutral 2%)"
        """
        from core.prediction.pictures import face_text

        return "; ".join(face_text(number, face) for number, face in enumerate(self.faces, 1))


class LivePredictor(FrameWorker):
    """A model tried on live frames: the latest frame classified as fast as it goes (faces found as at ingest),
    and every frame drawn with the latest answer. What a page says beside the video is shown(): the answer drawn
    on the latest frame, so the text and the labels on the faces are one prediction. predictor: a
    core.prediction.pictures.FacePredictor; its probabilities are the model's own (a taught model's calibrated
    by its temperature)."""

    def __init__(self, predictor, detection: Detection = PHOTO, views: str = LIVE_VIEWS, idle_s: float = IDLE_S):
        super().__init__(None, idle_s)
        self.predictor, self.detection, self.views = predictor, detection, views
        self._answer, self._shown = LiveAnswer(), LiveAnswer()
        self._when = 0.0
        self.frames = 0  # frames classified

    def on_frame(self, picture: np.ndarray) -> np.ndarray:
        """The video thread's work: hand an RGB frame over; return it with the latest answer drawn (one
        PREDICTION_SHOWN_S old at most), which shown() then gives."""
        from core.prediction.pictures import draw_predictions

        self.offer(picture)
        with self._lock:
            fresh = time.monotonic() - self._when < PREDICTION_SHOWN_S
            self._shown = answer = self._answer if fresh else LiveAnswer(number=self._answer.number)
        return draw_predictions(picture, list(answer.faces))

    def shown(self) -> LiveAnswer:
        """The answer drawn on the latest frame: what the video shows now."""
        with self._lock:
            return self._shown

    def latest(self, max_age_s: float | None = None) -> list:
        """The faces (core.prediction.pictures.FacePrediction) of the latest frame classified; [] when it is older than
        max_age_s (None: whatever its age)."""
        with self._lock:
            fresh = max_age_s is None or time.monotonic() - self._when < max_age_s
            return list(self._answer.faces) if fresh else []

    def process(self, picture: np.ndarray, context) -> None:
        faces = self.predictor.predict_rgb(picture, self.detection, self.views)
        if context == WARM_UP:
            return
        with self._lock:
            self.frames += 1
            self._answer, self._when = LiveAnswer(tuple(faces), self.frames), time.monotonic()
