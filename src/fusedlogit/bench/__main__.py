"""``python -m fusedlogit.bench``: see ``fusedlogit.bench.cli``."""

import sys

from .cli import main

sys.exit(main())
