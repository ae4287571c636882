"""The public portal's reads on PostgreSQL read replicas (docs/scaling.md,
docs/decisions/0012-read-replicas.md).

Off unless ``SANXIANG_REPLICA_URLS`` is set: then settings.py adds the
aliases ``replica1``…``replicaN`` (:func:`replica_databases`), lists them in
``DATABASE_REPLICAS`` and installs :class:`PublicReadRouter`.

Which reads go to a replica is said explicitly, route by route: a view
wrapped in :func:`public_read` (the portal's pages in publicity/views.py,
the public API in publicity/public_api.py) runs, for an anonymous GET or
HEAD, with a replica alias in a context variable, and the router sends the
view's reads there. Everything else reads and writes on ``default``:

* every write (``db_for_write``), whatever the context;
* every request of a logged-in user, so an officer who has just published
  sees the record at once (a replica may lag by seconds);
* every read inside a transaction on ``default`` (``in_atomic_block``), so
  a service reads what it writes;
* the API's push and intake, the workbench and every other route, which
  carry no ``public_read``.

A replica that cannot be reached, or whose query fails, is skipped for
``REPLICA_RETRY_SECONDS`` with one warning in the log, and the view runs
(again) on ``default``: a public read is a read (house rule: a read never
writes), so running it twice is harmless, and the visitor never sees a 500
for a replica's fault. Migrations run on ``default`` only.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from contextvars import ContextVar
from functools import wraps

import dj_database_url
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

log = logging.getLogger(__name__)

ROUTER = "sanxiang.core.db_router.PublicReadRouter"

# The replica alias the current public read uses; None: read from default.
_replica: ContextVar[str | None] = ContextVar("sanxiang_public_read_replica", default=None)


# --- settings ---------------------------------------------------------------------


def replica_databases(urls: str, *, default: dict, connect_timeout: int = 3) -> dict[str, dict]:
    """The DATABASES entries ``replica1``…``replicaN`` for a comma-separated
    list of dj-database-url URLs (``SANXIANG_REPLICA_URLS``); empty: none.

    A replica is a copy of the default database: same engine, the default's
    connection lifetime, and in tests a mirror of ``default`` (TEST MIRROR),
    so the test run creates no database for it. PostgreSQL replicas get a
    short connect timeout: an unreachable replica costs a public page at
    most that long, once per REPLICA_RETRY_SECONDS."""
    found: dict[str, dict] = {}
    for n, url in enumerate((u.strip() for u in urls.split(",") if u.strip()), start=1):
        try:
            entry = dj_database_url.parse(url, conn_max_age=default.get("CONN_MAX_AGE", 0),
                                          conn_health_checks=default.get("CONN_HEALTH_CHECKS", False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"SANXIANG_REPLICA_URLS: replica {n} is not a database URL ({exc})") from None
        if entry["ENGINE"] != default["ENGINE"]:
            raise ImproperlyConfigured(
                f"SANXIANG_REPLICA_URLS: replica {n} uses {entry['ENGINE']}, the default database "
                f"{default['ENGINE']}: a replica must be a copy of the default database")
        if entry["ENGINE"] == "django.db.backends.postgresql":
            entry.setdefault("OPTIONS", {}).setdefault("connect_timeout", connect_timeout)
        entry["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        found[f"replica{n}"] = entry
    return found


# --- which replica, and which are down ----------------------------------------------


class _Health:
    """Replicas that failed, and until when they are skipped (per process)."""

    def __init__(self) -> None:
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def usable(self, aliases: list[str]) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [a for a in aliases if self._down_until.get(a, 0.0) <= now]

    def mark_down(self, alias: str, exc: BaseException, *, what: str) -> None:
        seconds = settings.REPLICA_RETRY_SECONDS
        with self._lock:
            self._down_until[alias] = time.monotonic() + seconds
        reason = " ".join(str(exc).split())[:300]  # one line, whatever the driver's message
        log.warning("read replica %s %s (%s: %s): public reads go to the default database; "
                    "%s is tried again in %s s", alias, what, type(exc).__name__, reason, alias, seconds)

    def clear(self) -> None:
        with self._lock:
            self._down_until.clear()


health = _Health()


def _close_quietly(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def _replica_for(request) -> str | None:
    """The replica this request reads from, or None (default): only an
    anonymous GET or HEAD, only a replica that answers."""
    aliases = list(settings.DATABASE_REPLICAS)
    if not aliases or request.method not in ("GET", "HEAD"):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return None
    candidates = health.usable(aliases)
    random.shuffle(candidates)
    for alias in candidates:
        try:
            connections[alias].ensure_connection()
        except DatabaseError as exc:
            _close_quietly(alias)
            health.mark_down(alias, exc, what="cannot be reached")
            continue
        return alias
    return None


# --- the entry point: a decorator on the public routes ------------------------------


def public_read(view):
    """Run a public page or public API read on a read replica when the
    request is an anonymous GET or HEAD and a replica answers; otherwise, or
    if a query on the replica fails, on the default database. Without
    replicas configured it only calls the view."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        alias = _replica_for(request)
        if alias is None:
            return view(request, *args, **kwargs)
        failed: list[BaseException] = []

        def note_failure(execute, sql, params, many, context):
            try:
                return execute(sql, params, many, context)
            except DatabaseError as exc:
                failed.append(exc)
                raise

        token = _replica.set(alias)
        try:
            with connections[alias].execute_wrapper(note_failure):
                response = view(request, *args, **kwargs)
        except Exception:
            if not failed:
                raise
        finally:
            _replica.reset(token)
        if failed:
            # The view's answer (an exception, or a page its own handler made
            # of the error) is not trusted: read again from default.
            _close_quietly(alias)
            health.mark_down(alias, failed[0], what="failed a query")
            return view(request, *args, **kwargs)
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed_on(alias, response.streaming_content)
        return response

    return wrapped


def _streamed_on(alias: str, chunks):
    """A streamed body (the CSV export) runs its queries while the server
    sends it, after the view returned: on the same replica. Its connection
    was checked when the view began; a replica lost mid-stream ends the
    download as a lost primary would."""
    iterator = iter(chunks)
    while True:
        token = _replica.set(alias)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _replica.reset(token)
        yield chunk


def reading_from() -> str | None:
    """The replica alias of the public read in progress, or None."""
    return _replica.get()


# --- the router ------------------------------------------------------------------


class PublicReadRouter:
    """Installed only with replicas (settings.DATABASE_ROUTERS)."""

    def db_for_read(self, model, **hints):
        alias = _replica.get()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same database

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
