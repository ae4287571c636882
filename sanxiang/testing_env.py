"""Loaded by pytest as a plugin (`-p sanxiang.testing_env` in pyproject), at
import time and so before pytest-django reads the settings: gives the test
run its own data directory, so tests never touch ./sanxiang-data."""

import os
import tempfile
from pathlib import Path

_data = os.environ.setdefault("SANXIANG_DATA_DIR", tempfile.mkdtemp(prefix="sanxiang-test-"))
(Path(_data) / "static").mkdir(parents=True, exist_ok=True)
