"""The prediction pipeline shared by the Predict page, the webcam, and the command line:
picture -> gray -> faces -> 48x48 crops -> one model call -> labelled boxes."""

import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from core.data.classes import class_colors
from core.vision.explain import GradCam
from core.evaluation.export import classifier
from core.vision.faces import PHOTO, Box, Detection, find_and_crop
from core.models.inference import DEFAULT_VIEWS, VIEWS, face_probabilities
from core.vision.imaging import read_image
from core.models.store import load_model, model_classes, read_card


def row_columns(classes: list[str]) -> list[str]:
    """A face's CSV columns: its box, the top class ("emotion"), its confidence, then each class's probability."""
    return ["x", "y", "width", "height", "emotion", "confidence", *classes]


@dataclass
class FacePrediction:
    """One face: its box in the picture, the probability of each of the model's classes (in their order) and
    its 48x48 crop."""

    box: Box
    probabilities: np.ndarray
    classes: list[str]
    crop: np.ndarray | None = field(default=None, repr=False)

    @property
    def emotion(self) -> str:
        """The most probable class (an emotion for FER-2013's models, the user's own class otherwise)."""
        return self.classes[int(self.probabilities.argmax())]

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    def as_dict(self) -> dict:
        return {"box": list(self.box), "emotion": self.emotion, "confidence": round(self.confidence, 4),
                "probabilities": {e: round(float(p), 4) for e, p in zip(self.classes, self.probabilities)}}

    def as_row(self) -> list:
        """The face's fields in row_columns order (box, top class, confidence, each class's probability)."""
        return [*self.box, self.emotion, round(self.confidence, 4), *(round(float(p), 4) for p in self.probabilities)]


class FacePredictor:
    """A loaded model, reused for every picture and webcam frame (thread-safe).

    Example: FacePredictor("models/default").predict_rgb(photo)[0].emotion -> "happy"
    """

    def __init__(self, model_spec: str | Path = "default", views: str = DEFAULT_VIEWS, use_export: bool = True):
        """use_export: classify with the model's checked fast export (core.evaluation.export.fast_export) when it
        has one; the Keras model otherwise, and always for explanations."""
        self.model = load_model(model_spec)
        self.card = read_card(model_spec)
        self.classes = model_classes(model_spec)
        self.views = views
        self.runner, self.runtime = classifier(model_spec, "fast" if use_export else "keras", lambda _: self.model)
        self._lock = threading.Lock()
        self._grad_cam: GradCam | None = None  # built on the first explanation asked for

    def warm_up(self) -> "FacePredictor":
        """Run each views mode once on a blank face, so the first real picture or webcam frame does not
        pay the model's graph tracing (seconds on a busy CPU; a webcam frame over 10 s stops the video)."""
        for views in VIEWS:
            self.classify_faces(np.zeros((1, 48, 48), np.uint8), views)
        return self

    def classify_faces(self, faces: np.ndarray, views: str | None = None) -> np.ndarray:
        """(N, classes) probabilities for (N, 48, 48) uint8 face crops, all views in few model calls.

        views: core.models.inference VIEWS; None means the predictor's own.
        """
        with self._lock:
            return face_probabilities(self.runner, faces, views or self.views)

    def predict_many(self, pictures: list[np.ndarray], detection: Detection = PHOTO,
                     views: str | None = None) -> list[list[FacePrediction]]:
        """Faces and emotions for each RGB (HxWx3) or gray (HxW) picture; all faces classified together.

        detection: core.vision.faces.PHOTO (MTCNN, faces aligned) or VIDEO (Haar, fast, for live frames); views as in
        classify_faces.
        """
        found = [find_and_crop(picture, detection) for picture in pictures]
        crops = np.concatenate([c for _, c in found]) if found else np.zeros((0, 48, 48), np.uint8)
        probabilities = self.classify_faces(crops, views)
        results, start = [], 0
        for boxes, _ in found:
            results.append([FacePrediction(box, probabilities[start + i], self.classes, crops[start + i])
                            for i, box in enumerate(boxes)])
            start += len(boxes)
        return results

    def predict_rgb(self, picture: np.ndarray, detection: Detection = PHOTO,
                    views: str | None = None) -> list[FacePrediction]:
        """Faces and emotions in one RGB or gray picture (an empty list when no face is found)."""
        return self.predict_many([picture], detection, views)[0]

    def explain(self, faces: list[FacePrediction]) -> list[np.ndarray]:
        """Why each face got its emotion: its crop with a Grad-CAM heat map (see core.vision.explain), RGB."""
        if not faces:
            return []
        with self._lock:
            self._grad_cam = self._grad_cam or GradCam(self.model)
            return self._grad_cam.overlays(np.stack([face.crop for face in faces]),
                                           np.array([face.probabilities.argmax() for face in faces]))

    def predict_file(self, source: str | Path | bytes) -> tuple[np.ndarray, list[FacePrediction]]:
        """Read a picture file (or its bytes) and predict; returns the RGB picture too. Raises ImageError."""
        picture = read_image(source, mode="RGB")
        return picture, self.predict_rgb(picture)


def face_label(number: int, prediction: FacePrediction) -> str:
    """What is drawn on a face, and said of it beside the picture: its number, top class and probability.

    Example: face_label(1, face) -> "1 happy 87%"
    """
    return f"{number} {prediction.emotion} {prediction.confidence:.0%}"


def face_text(number: int, prediction: FacePrediction) -> str:
    """face_label, then every other class's probability, likeliest first: the same answer in full.

    Example: face_text(1, face) -> "1 smile 50% (surprise 48%, neutral 2%)"
    """
    order = np.argsort(-np.asarray(prediction.probabilities), kind="stable")
    others = [f"{prediction.classes[index]} {float(prediction.probabilities[index]):.0%}" for index in order
              if index != int(np.argmax(prediction.probabilities))]
    return face_label(number, prediction) + (f" ({', '.join(others)})" if others else "")


def draw_predictions(picture: np.ndarray, predictions: list[FacePrediction],
                     numbers: list[int] | None = None) -> np.ndarray:
    """A copy of an RGB picture with a box and "1 happy 87%" drawn on each face, numbered in list order
    (largest face first), as the pages number them beside the picture, or with the given numbers (a video's
    face numbers)."""
    canvas = np.ascontiguousarray(picture.copy() if picture.ndim == 3 else cv2.cvtColor(picture, cv2.COLOR_GRAY2RGB))
    thickness = max(1, round(max(canvas.shape[:2]) / 400))
    scale = max(0.4, max(canvas.shape[:2]) / 1000)
    for number, prediction in zip(numbers or range(1, len(predictions) + 1), predictions):
        x, y, w, h = prediction.box
        color = class_colors(prediction.classes)[prediction.emotion]
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, thickness)
        label = face_label(number, prediction)
        (text_w, text_h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(0, y - text_h - base - 2)
        cv2.rectangle(canvas, (x, top), (x + text_w + 4, top + text_h + base + 2), color, -1)
        cv2.putText(canvas, label, (x + 2, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)
    return canvas
