"""Loaded by pytest as a plugin (`-p sanxiang.testing_env` in pyproject), at
import time and so before pytest-django reads the settings: gives the test
run its own data directory, so tests never touch ./sanxiang-data."""

import os
import tempfile
from pathlib import Path

_data = os.environ.setdefault("SANXIANG_DATA_DIR", tempfile.mkdtemp(prefix="sanxiang-test-"))
# The run's own job-queue namespace (sanxiang/core/queue.py): two test runs
# on one Redis (SANXIANG_QUEUE_URL=redis://...) never take each other's tasks.
os.environ.setdefault("SANXIANG_QUEUE_NAME", f"sanxiang-test-{os.getpid()}-{os.urandom(4).hex()}")
(Path(_data) / "static").mkdir(parents=True, exist_ok=True)
# One font cache for every test run (settings.DOCUMENT_FONT_CACHE_DIR): the
# subset Chinese font is built once, not once per data directory.
os.environ.setdefault("SANXIANG_FONT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "sanxiang-font-cache"))
