"""The demo loader: from an empty directory to a running platform with demo
data (``sanxiang demo``). Safe to re-run: migrations are idempotent and each
app's demo data loads once.

It composes all apps, so it lives in the project package outside them
(docs/architecture.md); each app keeps its own demo module (core.demo: the
Hebei regions, agencies, officers and logins; catalog.demo: filed
catalogues; publicity.demo: published decisions) and this module runs them
in dependency order. The management command ``demo`` (core) only calls
``run_demo``.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import call_command

from sanxiang.catalog.demo import load_catalogue_demo
from sanxiang.core.demo import DemoConflict, load_demo
from sanxiang.publicity.demo import load_publicity_demo
from sanxiang.review.demo import load_review_demo

__all__ = ["DemoConflict", "run_demo"]


def run_demo(*, stdout, host: str = "127.0.0.1", port: int = 8000, serve: bool = True) -> None:
    """Create the data directory, migrate, load every app's demo data once,
    print the logins, then serve (unless ``serve`` is false). Raises
    DemoConflict when the database holds other data the demo would clash
    with."""
    started = time.monotonic()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "files").mkdir(exist_ok=True)
    stdout.write(f"Data directory: {settings.DATA_DIR}")
    stdout.write("Creating or upgrading the database ...")
    call_command("migrate", interactive=False, verbosity=0)
    stdout.write("Loading the demo data (Hebei province) ...")
    result = load_demo()
    stdout.write("Demo data loaded." if result.loaded else "Demo data already present: nothing loaded.")
    if load_catalogue_demo():
        stdout.write("Demo catalogues filed and accepted (石家庄市市场监督管理局).")
    reviewer = load_review_demo()  # the head registers the demo reviewer (审核-2/3)
    if reviewer:
        stdout.write(f"Demo legal reviewer registered: {reviewer.name} (login reviewer).")
    decisions = load_publicity_demo()
    if decisions:
        stdout.write(f"Demo decisions received and published: {decisions}.")
    stdout.write(f"Ready in {time.monotonic() - started:.1f} s.\n")
    stdout.write(f"Open http://{host}:{port}/\n")
    stdout.write("Logins (one per role):")
    for role, username, password, scope in result.logins:
        stdout.write(f"  {username:<15} {password}  {role}：{scope}")
    stdout.write("")
    stdout.flush()
    if serve:
        call_command("serve", host=host, port=port)
