"""The command line, `python -m core COMMAND ...`: parse, run one command, turn bad input into exit code 2.

Example: python -m core stats ../shared/datasets/fer2013 --json
"""

import os
import sys

from core.cli.parser import build_parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code (2 for bad input, with a one-line reason)."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from core.data.dataset import DatasetError
    from core.vision.imaging import ImageError
    from core.models.store import ModelError
    from core.training.distribution import WorkerLost
    from core.storage.runs import RunBusy

    try:
        return args.run(args) or 0
    except (DatasetError, ModelError, ImageError, RunBusy, WorkerLost, ValueError, OSError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)  # one line, even from h5py or TensorFlow
        return 2
