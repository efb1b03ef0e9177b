"""Small FER+ datasets that tests write: split folders of pictures with a label.csv of ten votes a face, and the
fer2013.csv + fer2013new.csv pair, in the layouts FER+'s own tools write."""

from pathlib import Path

import numpy as np
from PIL import Image

from core.data.votes import CLASSES, EMOTION_OF_COLUMN, VOTE_COLUMNS
from tests.synthetic import face_pattern

COLUMN_OF_CLASS = {emotion: column for column, emotion in EMOTION_OF_COLUMN.items()}


def votes_for(emotion: str, agree: int, rng: np.random.Generator) -> list[int]:
    """Ten votes: `agree` for emotion, the rest spread over other emotions so that emotion stays the majority."""
    counts = [0] * len(VOTE_COLUMNS)
    counts[VOTE_COLUMNS.index(COLUMN_OF_CLASS[emotion])] = agree
    others = [column for column in range(8) if VOTE_COLUMNS[column] != COLUMN_OF_CLASS[emotion]]
    for _ in range(10 - agree):
        counts[int(rng.choice(others))] += 1
    assert max(c for i, c in enumerate(counts) if VOTE_COLUMNS[i] != COLUMN_OF_CLASS[emotion]) < agree
    return counts


def write_split_folder(folder: Path, rows: list[tuple[np.ndarray, list[int]]], start: int = 0) -> Path:
    """ferNNNNNNN.png pictures and label.csv rows (name, face box, ten votes); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (pixels, votes) in enumerate(rows, start):
        name = f"fer{number:07d}.png"
        Image.fromarray(pixels).save(folder / name)
        lines.append(f'{name},"(0, 0, 48, 48)",' + ",".join(map(str, votes)))
    (folder / "label.csv").write_text("\n".join(lines) + "\n")
    return folder


def learnable_rows(per_class: int, seed: int, agree: int = 6, classes=CLASSES) -> list[tuple[np.ndarray, list[int]]]:
    """Faces whose pattern tells their majority class (tests.synthetic.face_pattern), with ten votes each."""
    rng = np.random.default_rng(seed)
    return [(face_pattern(index, rng), votes_for(emotion, agree, rng))
            for index, emotion in enumerate(classes) for _ in range(per_class)]


def write_pair(folder: Path, rows: list[tuple[np.ndarray, list[int] | None, str]]) -> Path:
    """fer2013.csv (emotion,pixels,Usage) and fer2013new.csv (Usage,Image name,ten votes), the same rows in order;
    a row with votes None is one FER+ judged not a face (no image name)."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels_lines, votes_lines = ["emotion,pixels,Usage"], ["Usage,Image name," + ",".join(VOTE_COLUMNS)]
    for number, (pixels, votes, usage) in enumerate(rows):
        pixels_lines.append(f"0,{' '.join(map(str, pixels.ravel()))},{usage}")
        name = f"fer{number:07d}.png" if votes is not None else ""
        votes_lines.append(f"{usage},{name}," + ",".join(map(str, votes or [0] * 10)))
    (folder / "fer2013.csv").write_text("\n".join(pixels_lines) + "\n")
    (folder / "fer2013new.csv").write_text("\n".join(votes_lines) + "\n")
    return folder
