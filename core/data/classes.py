"""The classes a dataset or a model names: FER-2013's seven emotions, or the user's own class folders.

FER-2013's spellings (any of its downloads', any case: "Happiness", "fearful") become its emotions only
where FER-2013 is read: in a folder whose class folders all name an emotion (FER+'s and CK+'s eighth,
contempt, included) and that is not marked as holding own classes (OWN_CLASSES_MARK, which the Teach page's
capture sets write). Anywhere else every class is named as its folder ("Happiness" stays "Happiness"). Data
made only of FER-2013's emotions keeps FER-2013's order; any other set of classes is sorted by name.
"""

import unicodedata

from core.data.emotions import EMOTIONS, FOLDER_ALIASES

MIN_CLASSES = 2  # what a model needs to learn anything
MAX_CLASSES = 50  # more folders than this are not a dataset of classes (a photo library, a wrong folder)
OWN_CLASSES_MARK = ".own-classes"  # a hidden file in a dataset folder: its class folders keep their names
EMOTION_SPELLINGS = {*FOLDER_ALIASES, "contempt"}  # folder names (lower case) of a FER-2013-style dataset


class ClassError(ValueError):
    """Class folders that cannot make a dataset; the message names them and says what to do."""


def class_of_folder(folder_name: str) -> str:
    """FER-2013's name for a spelling of one of its emotions, else the folder's own name: how a folder of FER-2013
    (or a download like it) is read; class_names decides where that applies.

    Example: class_of_folder("Fearful") -> "fear"; class_of_folder("contempt") -> "contempt"
    """
    name = folder_name.strip()
    return FOLDER_ALIASES.get(name.lower(), name)


def class_names(folder_names, own: bool = False) -> dict[str, str]:
    """Each class folder's class: FER-2013's name for a spelling of an emotion where every folder names one and
    own is False (FER-2013 or a download like it); otherwise the folder's own name (spaces at its ends left out).

    Example: class_names(["Happiness", "sad"]) -> {"Happiness": "happy", "sad": "sad"};
             class_names(["Happiness", "wave"]) -> {"Happiness": "Happiness", "wave": "wave"}
    """
    folder_names = list(folder_names)
    emotions = not own and all(name.strip().lower() in EMOTION_SPELLINGS for name in folder_names)
    return {name: class_of_folder(name) if emotions else name.strip() for name in folder_names}


def ordered_classes(names) -> list[str]:
    """Class names in their one order: FER-2013's for its emotions alone, else sorted (ignoring case).

    Example: ordered_classes({"sad", "happy"}) -> ["happy", "sad"]
    """
    names = set(names)
    if names <= set(EMOTIONS):
        return [emotion for emotion in EMOTIONS if emotion in names]
    return sorted(names, key=lambda name: (name.casefold(), name))


def check_class_names(folder_names: list[str], classes: dict[str, str] | None = None) -> None:
    """Refuse class folders that cannot be told apart or shown: names that are not UTF-8, names whose classes
    differ only in case or Unicode form (or spelling, where FER-2013's spellings are read: class_names), and
    more than MAX_CLASSES of them. classes: each folder's class where the caller decided it (class_names of these
    folders otherwise)."""
    for name in folder_names:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise ClassError(f"the class folder '{shown}' has a name that is not UTF-8 text: rename it") from None
        if not name.strip():
            raise ClassError("a class folder has a blank name: rename it")
    classes = classes if classes is not None else class_names(folder_names)
    seen: dict[str, str] = {}
    for name in folder_names:
        key = unicodedata.normalize("NFC", classes[name]).casefold()  # é as one character or as e and an accent
        if key in seen and seen[key] != name:
            raise ClassError(f"the class folders '{seen[key]}' and '{name}' name the same class (they differ only "
                             "in case, spelling or how an accented letter is encoded): merge them into one folder or "
                             "rename one")
        seen[key] = name
    if len(seen) > MAX_CLASSES:
        raise ClassError(f"{len(seen)} class folders: at most {MAX_CLASSES} classes are supported "
                         "(is this the folder of class folders?)")


def check_trainable(classes: list[str], counts: list[int]) -> None:
    """Refuse to train on fewer than MIN_CLASSES classes or on a class with no pictures.

    Example: check_trainable(["happy"], [40]) raises ClassError("one class only: ...")
    """
    if len(classes) < MIN_CLASSES:
        raise ClassError(f"one class only ({', '.join(classes) or 'none'}): a model needs at least {MIN_CLASSES} "
                         "classes to tell apart; add another class folder")
    empty = [name for name, count in zip(classes, counts) if count == 0]
    if empty:
        raise ClassError(f"no usable pictures in the class(es) {', '.join(empty)}: add pictures or remove the folder")


# One readable colour per FER-2013 and FER+ emotion (RGB), and a palette for any other classes, in their order.
_EMOTION_COLORS = {"angry": (239, 83, 80), "disgust": (124, 179, 66), "fear": (171, 71, 188), "happy": (255, 202, 40),
                   "neutral": (189, 189, 189), "sad": (66, 165, 245), "surprise": (255, 112, 67),
                   "contempt": (0, 150, 136)}  # FER+'s eighth
_PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
            (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def class_colors(classes: list[str]) -> dict[str, tuple[int, int, int]]:
    """An RGB colour per class: FER-2013's emotions keep theirs everywhere; other classes take the palette in
    order (lighter on a second round), so a model's boxes, bars and legend agree.

    Example: class_colors(["bored", "focused"])["bored"] -> (31, 119, 180)
    """
    colors, others = {}, 0
    for name in classes:
        if name in _EMOTION_COLORS:
            colors[name] = _EMOTION_COLORS[name]
            continue
        base = _PALETTE[others % len(_PALETTE)]
        lighten = min(0.6, 0.3 * (others // len(_PALETTE)))
        colors[name] = tuple(round(c + (255 - c) * lighten) for c in base)
        others += 1
    return colors


def hex_colors(classes: list[str]) -> dict[str, str]:
    """class_colors as "#rrggbb" strings, for charts."""
    return {name: "#%02x%02x%02x" % rgb for name, rgb in class_colors(classes).items()}
