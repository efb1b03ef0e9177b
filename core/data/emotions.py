"""The seven FER-2013 emotions, in the one order used everywhere, and every naming of them."""

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# Folder names seen in the common downloads (KDEF's and other lab sets' "afraid" among them), mapped to the
# canonical names above.
FOLDER_ALIASES = {
    **{name: name for name in EMOTIONS},
    "afraid": "fear",
    "anger": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "scared": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprised": "surprise",
}

# fer2013.csv's `emotion` codes: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
CSV_CODES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def label_of_folder(folder_name: str) -> int | None:
    """Return the label index of an emotion folder name, or None when it names no emotion.

    Example: label_of_folder("Fearful") -> 2
    """
    name = FOLDER_ALIASES.get(folder_name.strip().lower())
    return None if name is None else EMOTIONS.index(name)


def label_of_csv_code(code: int) -> int | None:
    """Return the label index of a fer2013.csv emotion code (0-6), or None when out of range."""
    if 0 <= code < len(CSV_CODES):
        return EMOTIONS.index(CSV_CODES[code])
    return None
