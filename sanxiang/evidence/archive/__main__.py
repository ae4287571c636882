"""``python -m sanxiang.evidence.archive PACKAGE [--key KEY] [--public-key HEX] [--json]``:
the four-property check of a package with no Django at all."""

import sys

from .check import main

sys.exit(main())
