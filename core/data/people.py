"""Who is in a picture, from where it lies or how it is named, so that a split never puts one person on
two sides.

Recognised, in this order (a path relative to the class folder):
- a person folder inside the class folder: `happy/anna/001.jpg` -> "anna";
- a name `<person>__<anything>` (two underscores, as the app's captures are named): `anna__003.png` -> "anna";
- CK+ style `S005_001_00000011.png` -> "S005";
- KDEF style `AF01ANS.JPG` -> "F01" (its sessions A and B are the same person);
- JAFFE style `KA.HA1.29.tiff` -> "KA";
- RaFD style `Rafd090_01_Caucasian_female_angry_frontal.jpg` -> "rafd01".
Anything else is nobody known: such pictures are split one by one.
"""

import re
from pathlib import PurePath

# (pattern, prefix): the person is the prefix and the named group; lab datasets' ids are compared upper-case.
_CAPTURE = re.compile(r"^(?P<person>[^_]+?)__")
_LAB_PATTERNS = (
    (re.compile(r"^(?P<person>S\d{3})_\d{3}_\d+", re.IGNORECASE), ""),
    (re.compile(r"^[AB](?P<person>[FM]\d{2})[A-Z]{2}[A-Z]{1,2}\.", re.IGNORECASE), ""),
    (re.compile(r"^(?P<person>[A-Z]{2})\.[A-Z]{2}\d\.\d+", re.IGNORECASE), ""),
    (re.compile(r"^rafd\d+_(?P<person>\d+)_", re.IGNORECASE), "RAFD"),
)


def person_of(inside_class: str) -> str | None:
    """The person a picture shows, from its path inside its class folder; None when it does not say.

    Example: person_of("S005_001_00000011.png") -> "S005"; person_of("im12.png") -> None
    """
    path = PurePath(inside_class)
    if len(path.parts) > 1:
        return path.parts[0]
    match = _CAPTURE.match(path.name)
    if match:
        return match.group("person")
    for pattern, prefix in _LAB_PATTERNS:
        match = pattern.match(path.name)
        if match:
            return prefix + match.group("person").upper()
    return None
