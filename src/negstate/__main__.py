"""``python -m negstate``: the same command line as the ``negstate`` script."""

from __future__ import annotations

import sys

from negstate.cli import main

if __name__ == "__main__":
    sys.exit(main())
