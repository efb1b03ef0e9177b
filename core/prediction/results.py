"""Predictions of uploaded pictures as files to take away: a table (CSV), JSON, and the annotated pictures
in a zip. Faces are numbered as they are drawn on the pictures (1, 2, ... in the order of the list).

Example: results_table([("party.jpg", faces)]).columns[:3] -> ["picture", "face", "x"]
"""

import io
import json
import zipfile
from pathlib import Path

import pandas as pd

from core.prediction.pictures import FacePrediction, row_columns

Pictures = list[tuple[str, list[FacePrediction]]]  # (picture name, its faces), in upload order


def results_table(pictures: Pictures) -> pd.DataFrame:
    """One row per face: picture, face number, box, top class, confidence and each class's probability
    (the classes of the model that found the first face)."""
    rows = [[name, number, *face.as_row()] for name, faces in pictures for number, face in enumerate(faces, 1)]
    classes = next((faces[0].classes for _, faces in pictures if faces), [])
    return pd.DataFrame(rows, columns=["picture", "face", *row_columns(classes)])


def results_json(pictures: Pictures) -> str:
    """Every picture with its numbered faces (box, emotion, confidence, probabilities), as JSON text."""
    return json.dumps([{"picture": name, "faces": [{"face": number} | face.as_dict()
                                                   for number, face in enumerate(faces, 1)]}
                       for name, faces in pictures], indent=2)


def pictures_zip(pictures: list[tuple[str, bytes]]) -> bytes:
    """A zip of annotated JPEGs named after their pictures (NAME-annotated.jpg; a repeated name is numbered)."""
    buffer, used = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # JPEGs do not compress further
        for name, jpeg in pictures:
            stem, number = Path(name).stem, 1
            entry = f"{stem}-annotated.jpg"
            while entry in used:
                number += 1
                entry = f"{stem}-{number}-annotated.jpg"
            used.add(entry)
            archive.writestr(entry, jpeg)
    return buffer.getvalue()
