"""Not a page: text a person wrote (class and file names, and lines naming them) shown as written, not read as
Markdown."""

import re


def plain(text: str) -> str:
    """Text with Markdown's special characters escaped."""
    return re.sub(r"([\\`*_\[\]<>|~$#])", r"\\\1", str(text))
