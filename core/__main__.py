"""`python -m core ...`: see core.cli (the parser in core.cli.parser, the commands beside it)."""

import sys

from core.cli import main

sys.exit(main())
