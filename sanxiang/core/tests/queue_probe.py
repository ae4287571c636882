"""Tasks of the delivery tests (test_queue.py), declared on the real queue
and importable by a `sanxiang worker` process the tests start (``WORKER``):
each writes what it does to a file the test reads, and one waits for a file
the test creates."""

from __future__ import annotations

import time
from pathlib import Path

from sanxiang.core import queue


def _note(log: str, line: str) -> None:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


@queue.task(name="test.queue.wait_for_file", retries=0)
def wait_for_file(log: str, tag: str, release: str) -> None:
    """Notes its start, waits until ``release`` exists, notes its end."""
    _note(log, f"start {tag}")
    while not Path(release).exists():
        time.sleep(0.05)
    _note(log, f"done {tag}")


@queue.task(name="test.queue.note", retries=0)
def note(log: str, tag: str) -> None:
    _note(log, f"done {tag}")



# The command line of a `sanxiang worker` process with these tasks declared
# (the real management command, in a process of its own).
WORKER = ("import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sanxiang.settings'); "
          "django.setup(); import sanxiang.core.tests.queue_probe; "
          "from django.core.management import call_command; call_command('worker', *sys.argv[1:])")
