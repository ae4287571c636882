"""Test-wide setup: an isolated data directory, so tests never touch
./sanxiang-data. DATABASE_URL (when set) points the whole suite at PostgreSQL."""

import os
import tempfile

os.environ.setdefault("SANXIANG_DATA_DIR", tempfile.mkdtemp(prefix="sanxiang-test-"))
