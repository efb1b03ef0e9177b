"""Shared test fixtures: the real FER-2013 copy (skipped when absent) and a private dataset cache."""

# aiortc (the webcam) must be imported before TensorFlow: libsrtp initialised after TensorFlow
# crashes the process (segfault). app.py does the same.
import aiortc  # noqa: F401  (isort: skip)

import os
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_FER = PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013"

if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))  # `import core` also under a bare `pytest`

from tests.app_fixtures import synthetic, trained_runs, trained_runs_once  # noqa: E402, F401 (page-test fixtures)
from tests.model_fixtures import tiny_data, tiny_model  # noqa: E402, F401 (one tiny model for the session)


@pytest.fixture(scope="session", autouse=True)
def fer_cache_dir(tmp_path_factory) -> Path:
    """One decoded-dataset cache for the whole session (FER_CACHE_DIR, inherited by subprocesses),
    so tests never touch ~/.cache/fer-studio and the real data is decoded once per session."""
    path = tmp_path_factory.mktemp("fer-cache")
    previous = os.environ.get("FER_CACHE_DIR")
    os.environ["FER_CACHE_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("FER_CACHE_DIR", None)
    else:
        os.environ["FER_CACHE_DIR"] = previous


@pytest.fixture(scope="session", autouse=True)
def allowed_data_dirs(tmp_path_factory):
    """The app may read datasets typed in its pages from the tests' temporary folders too (FER_ALLOWED_DATA_DIRS:
    core/storage/allowed_paths.py), besides its defaults, the project's parent folder and the home folder."""
    previous = os.environ.get("FER_ALLOWED_DATA_DIRS")
    os.environ["FER_ALLOWED_DATA_DIRS"] = os.pathsep.join(
        [str(tmp_path_factory.getbasetemp()), str(PROJECT_ROOT.parent), str(Path.home())])
    yield
    if previous is None:
        os.environ.pop("FER_ALLOWED_DATA_DIRS", None)
    else:
        os.environ["FER_ALLOWED_DATA_DIRS"] = previous


@pytest.fixture(scope="session")
def shared_fer() -> Path:
    """The real dataset at ../shared/datasets/fer2013 (train/ and test/ folders), or skip."""
    if not (SHARED_FER / "train").is_dir():
        pytest.skip(f"real FER-2013 data not found at {SHARED_FER} (expected train/ and test/ folders there)")
    return SHARED_FER
