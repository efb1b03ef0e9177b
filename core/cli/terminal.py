"""What the commands show on the terminal besides their results: progress bars on stderr and clean JSON."""

import json
import math
import sys
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(description: str, unit: str):
    """A tqdm bar on stderr (on a terminal only, so logs and --json stay clean); its follow(done, total)
    is a core Progress callback."""
    with tqdm(desc=description, unit=unit, file=sys.stderr, disable=None, dynamic_ncols=True) as bar:
        def follow(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        bar.follow = follow
        yield bar


def to_json(data) -> str:
    """Indented JSON in which a non-finite number is null (bare NaN is not JSON)."""
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(item) for item in value]
        return value

    return json.dumps(clean(data), indent=2, allow_nan=False)


def read_dataset(path: str):
    """core.data.dataset.load_dataset, its decoding (the first time: every image) drawn as a bar on stderr."""
    from core.data.dataset import load_dataset

    with progress_bar("reading images", "image") as bar:
        return load_dataset(path, progress=bar.follow)
