"""Test-only hook for the browser tests' Streamlit server: holds a scoring open until the test lets it finish.

The server calls install() only where FER_TEST_HOOK names this module (tests/browser.py), before the
app runs: it wraps core.evaluation.reports.evaluate_and_store (before app_pages.scoring imports it) so that a model
whose folder holds a file named HOLD is not finished while that file exists: its progress callback is
called again with the same counts every HOLD_POLL_S instead. That callback draws the page's progress bar,
and drawing is where Streamlit stops the script for a rerun, so a Cancel click ends the held scoring as it
would a long one. Other models score as usual.
"""

import time
from functools import wraps
from pathlib import Path

HOLD = "hold-scoring"
HOLD_POLL_S = 0.2


def held(evaluate_and_store):
    @wraps(evaluate_and_store)
    def evaluate_and_store_held(scorer, model_file, dataset, split, views, runtime="fast", progress=None,
                                *args, **kwargs):
        hold = Path(model_file).parent / HOLD

        def follow(done: int, total: int) -> None:
            progress(done, total)
            while hold.exists():
                time.sleep(HOLD_POLL_S)
                progress(done, total)

        return evaluate_and_store(scorer, model_file, dataset, split, views, runtime, follow if progress else None,
                                  *args, **kwargs)
    return evaluate_and_store_held


def install() -> None:
    import aiortc  # noqa: F401  before TensorFlow (core.evaluation.reports imports Keras), as app.py does: else a segfault
    import core.evaluation.reports

    core.evaluation.reports.evaluate_and_store = held(core.evaluation.reports.evaluate_and_store)
