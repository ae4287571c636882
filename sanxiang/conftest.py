"""Shared fixtures: a small real world built through the services.

    河北省 130000 ── 石家庄市 130100 ── 长安区 130102, 正定县 130123
                 └─ 唐山市 130200 ── 路南区 130202

Each county has a market-regulation agency with two officers and an officer
account; each city has a legal office with a supervisor account.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
import types
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

from sanxiang.core import changes, queue, services
from sanxiang.core.models import AgencyKind, Role
from sanxiang.core.validators import make_certificate_number, make_credit_code

PASSWORD = "correct-horse-battery-9"


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Still argon2 (the hash says so and verifies anywhere), with a small
    memory cost so that building fixtures does not dominate the suite."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1


@pytest.fixture(autouse=True)
def _quick_argon2(settings):
    settings.PASSWORD_HASHERS = ["sanxiang.conftest.QuickArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _reference_lists_read_again():
    """Lists of regions and agencies held between requests (the portal's
    search form, core.changes) are read again in each test: the test's
    database is not the last one's, even where no region or agency was
    saved in between (a fixture's update() or bulk_create)."""
    changes.forget_reference_lists()


@pytest.fixture(autouse=True)
def _job_queue_empty_at_the_start():
    """Every test starts with an empty job queue: a task an earlier test
    enqueued and never ran (a rebuild, an archive, a delivery) must not be
    counted or executed by this test's consumer (queue.run_pending). The
    run's namespace is its own (sanxiang/testing_env.py), so this drops
    nothing of another run's."""
    queue.flush()


@pytest.fixture
def django_capture_on_commit_callbacks(django_capture_on_commit_callbacks):
    """pytest-django's capture of on-commit callbacks, and then, when they
    were executed, what they enqueued on the job queue runs too, from the
    real storage (sanxiang.core.queue.run_pending): "the transaction
    committed and a worker took the task" (an ended case's e-case file, ...).
    Tasks left by an earlier test never run here: every test starts with an
    empty queue (_job_queue_empty_at_the_start)."""

    @contextlib.contextmanager
    def capture(*, using="default", execute=False):
        with django_capture_on_commit_callbacks(using=using, execute=execute) as callbacks:
            yield callbacks
        if execute:
            queue.run_pending()

    return capture


@pytest.fixture(scope="session", autouse=True)
def _test_queue_emptied_at_the_end():
    """The test run's job-queue namespace (sanxiang/testing_env.py) leaves
    nothing behind in a shared Redis."""
    yield
    queue.flush()


@pytest.fixture
def world(db):
    actor = "test-fixture"
    w = types.SimpleNamespace(password=PASSWORD)
    w.hebei = services.create_region(actor=actor, code="130000", name="河北省", level="province")
    w.sjz = services.create_region(actor=actor, code="130100", name="石家庄市", level="city", parent=w.hebei)
    w.ts = services.create_region(actor=actor, code="130200", name="唐山市", level="city", parent=w.hebei)
    w.changan = services.create_region(actor=actor, code="130102", name="长安区", level="county", parent=w.sjz)
    w.zhengding = services.create_region(actor=actor, code="130123", name="正定县", level="county", parent=w.sjz)
    w.lunan = services.create_region(actor=actor, code="130202", name="路南区", level="county", parent=w.ts)

    serial = iter(range(1, 1000))

    def agency(region, name, kind, legal_office=None):
        return services.create_agency(actor=actor, name=name, credit_code=make_credit_code(region_code=region.code, serial=next(serial)),
                                      region=region, kind=kind, legal_office=legal_office)

    w.legal_hebei = agency(w.hebei, "河北省司法厅", AgencyKind.LEGAL_OFFICE)
    w.legal_sjz = agency(w.sjz, "石家庄市司法局", AgencyKind.LEGAL_OFFICE)
    w.legal_ts = agency(w.ts, "唐山市司法局", AgencyKind.LEGAL_OFFICE)
    w.amr_changan = agency(w.changan, "石家庄市长安区市场监督管理局", AgencyKind.MARKET_REGULATION, w.legal_sjz)
    w.amr_zhengding = agency(w.zhengding, "正定县市场监督管理局", AgencyKind.MARKET_REGULATION, w.legal_sjz)
    w.amr_lunan = agency(w.lunan, "唐山市路南区市场监督管理局", AgencyKind.MARKET_REGULATION, w.legal_ts)

    def officer(agency, name, n, **kw):
        return services.create_officer(
            actor=actor, name=name, agency=agency, certificate_number=make_certificate_number(agency.region.code, n),
            categories=["penalty", "inspection"], enforcement_region=agency.region,
            valid_from=kw.pop("valid_from", date(2024, 1, 1)), valid_to=kw.pop("valid_to", date(2029, 12, 31)), post="执法队员", **kw)

    w.changan_officer = officer(w.amr_changan, "王建国", 1)
    w.changan_officer2 = officer(w.amr_changan, "李秀英", 2)
    w.zhengding_officer = officer(w.amr_zhengding, "赵志强", 1)
    w.zhengding_officer2 = officer(w.amr_zhengding, "孙丽娟", 2)
    w.lunan_officer = officer(w.amr_lunan, "周海涛", 1)
    w.lunan_officer2 = officer(w.amr_lunan, "吴桂兰", 2)

    def user(username, role, **kw):
        return services.create_user(actor=actor, username=username, password=PASSWORD, role=role, **kw)

    w.u_changan = user("changan_officer", Role.OFFICER, agency=w.amr_changan)
    w.u_zhengding = user("zhengding_officer", Role.OFFICER, agency=w.amr_zhengding)
    w.u_legal_sjz = user("legal_sjz", Role.LEGAL_SUPERVISOR, region=w.sjz, agency=w.legal_sjz)
    w.u_legal_ts = user("legal_ts", Role.LEGAL_SUPERVISOR, region=w.ts, agency=w.legal_ts)
    w.u_legal_hebei = user("legal_hebei", Role.LEGAL_SUPERVISOR, region=w.hebei, agency=w.legal_hebei)
    w.u_admin = user("sysadmin", Role.SYSADMIN)
    return w


def make_user(username: str, role: str, **kw):
    """An account made through the service, with the fixtures' password."""
    return services.create_user(actor="test-fixture", username=username, password=PASSWORD, role=role, **kw)


def client_for(user):
    """A Django test client logged in as ``user`` (no TOTP step: pages that
    require it are tested with ``REQUIRE_TOTP`` off)."""
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def evidence_store(settings, tmp_path):
    """A fresh local evidence store (and upload directory) for the test;
    returns the store's directory."""
    from sanxiang.evidence import uploads

    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    uploads.hash_states._states.clear()
    return settings.EVIDENCE_DIR


@pytest.fixture
def no_totp(settings):
    """Pages without the authenticator step (TOTP is proven in core's tests)."""
    settings.REQUIRE_TOTP = False


def services_taking_an_actor(module) -> dict:
    """Every public function of a services module that takes the acting user
    as the services do (keyword-only ``actor``), by name."""
    import inspect

    found = {}
    for name, func in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or inspect.unwrap(func).__module__ != module.__name__:
            continue
        actor = inspect.signature(func).parameters.get("actor")
        if actor is not None and actor.kind is inspect.Parameter.KEYWORD_ONLY:
            found[name] = func
    return found


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres_only"):
        from django.conf import settings

        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _audit_log_purged_before_flush(request):
    """Transactional tests end with Django's flush, which the append-only
    triggers refuse while audit rows exist (docs/audit.md, "Tests and the
    flush"). Empty the audit tables just before it, triggers kept in place."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))) \
        or "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so flushed after our teardown
    yield
    from sanxiang.core.audit import purge_audit_log_for_tests

    purge_audit_log_for_tests()


# --- a real browser (Debian's chromium driven by Playwright) -----------------------

CHROMIUM = os.environ.get("SANXIANG_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


def no_horizontal_scroll(pg) -> bool:
    return pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(pg, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login page of the live server."""
    pg.goto(pg.base + "/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")


def log_in_as(pg, username: str, password: str = PASSWORD) -> None:
    """Drop the page's session and log in as another user (a journey that
    passes from the officer to the head to the reviewer)."""
    pg.context.clear_cookies()
    log_in(pg, username, password)


def start_and_complete_step(pg, code: str) -> None:
    """On the case page: start the step ``code`` from its link, then
    complete it from the step page (the journeys' last steps)."""
    pg.click(f"a[href$='/steps/start/{code}/']")
    pg.click("main form button[type=submit]")
    assert "/steps/" in pg.url, pg.inner_text("main")
    pg.click("form.stack:not([action]) button[type=submit]")


def process_gone(pid: int, timeout: float = 30) -> bool:
    """Wait until process `pid` is gone or a zombie (killed or stopped: the
    kernel takes a moment to tear a process down, longer on a loaded
    machine); False if it still runs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def working_day_before(day: date, n: int) -> date:
    """The n-th working day before ``day`` on the official calendar (records
    entered after the fact, dated on past working days)."""
    from sanxiang.core.calendar import day_status

    while n:
        day -= timedelta(days=1)
        if day_status(day)[0]:
            n -= 1
    return day


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def launch_chromium(playwright):
    """Debian's chromium, headless, with no network of its own (Playwright
    never downloads a browser here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture
def cjk_fonts(tmp_path, monkeypatch):
    """A fontconfig file that adds the packaged Noto CJK font (a declared
    dependency) so pages and screenshots show Chinese, not boxes, on a
    machine without system CJK fonts. Set before the browser starts."""
    import noto_cjk_sans_otc

    conf = tmp_path / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>
<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{Path(str(noto_cjk_sans_otc.FONT_PATH)).parent}</dir>
<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>""")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))


class SerialisedLiveServer(ThreadedWSGIServer):
    """The live server, one request at a time on SQLite's in-memory test
    database.

    That database is one in-memory SQLite database, which Django hands to
    every request thread of the live server as the test's own connection.
    Two requests at once (a popup's PDF still rendering while the page posts
    a form, the browser's favicon beside a page) then interleave statements
    on that one connection, and SQLite refuses a savepoint while another
    request's statement is in progress ("cannot open savepoint - SQL
    statements in progress"). The product never shares a connection (each
    thread of ``serve`` opens its own on a database file), so the test server
    runs each request, body included, under one lock. On PostgreSQL nothing
    is shared and requests stay concurrent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.db import connection

        in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
        self._one_at_a_time = threading.Lock() if in_memory else None

    def set_app(self, application):
        lock = self._one_at_a_time
        if lock is None:
            return super().set_app(application)

        def one_at_a_time(environ, start_response):
            with lock:
                result = application(environ, start_response)
                try:
                    return [b"".join(result)]
                finally:
                    if hasattr(result, "close"):
                        result.close()

        return super().set_app(one_at_a_time)


LiveServerThread.server_class = SerialisedLiveServer


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started only once the test database
    exists: it hands the server the test's in-memory connection then, and
    not (when the first test to ask for it ran before any other used the
    database) the name of the database file the settings name."""
    return live_server


@pytest.fixture
def browser_page(live_server, world):
    """A phone-sized page in headless chromium against the live server.
    Skips where no browser is installed, unless SANXIANG_REQUIRE_BROWSER=1
    (CI), where that is an error."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("SANXIANG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the fixtures
    # have already written everything the pages need.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
            pg = context.new_page()
            pg.base = live_server.url
            yield pg
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
