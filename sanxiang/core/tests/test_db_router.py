"""SANXIANG_REPLICA_URLS becomes database aliases and the router
(core/db_router.py; the routing itself is proven through the portal in
publicity/tests/test_read_replicas.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from sanxiang.core.db_router import ROUTER, replica_databases

PG_DEFAULT = {"ENGINE": "django.db.backends.postgresql", "NAME": "sanxiang", "CONN_MAX_AGE": 60,
              "CONN_HEALTH_CHECKS": True}

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({"routers": settings.DATABASE_ROUTERS, "replicas": settings.DATABASE_REPLICAS,
                  "databases": {k: {"NAME": v["NAME"], "MIRROR": v["TEST"].get("MIRROR")}
                                for k, v in settings.DATABASES.items()}}))
"""


def settings_with(tmp_path, replica_urls: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SANXIANG_REPLICA_URLS")}
    env.update(DJANGO_SETTINGS_MODULE="sanxiang.settings", SANXIANG_DATA_DIR=str(tmp_path))
    if replica_urls is not None:
        env["SANXIANG_REPLICA_URLS"] = replica_urls
    return subprocess.run([sys.executable, "-c", SHOW_SETTINGS], env=env, capture_output=True, text=True, timeout=120)


def test_two_replica_urls_give_aliases_replica1_and_replica2_mirroring_default_and_the_router(tmp_path):
    done = settings_with(tmp_path, f"sqlite:///{tmp_path}/r1.sqlite3, sqlite:///{tmp_path}/r2.sqlite3")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["routers"] == [ROUTER]
    assert shown["replicas"] == ["replica1", "replica2"]
    assert shown["databases"]["replica2"] == {"NAME": f"{tmp_path}/r2.sqlite3", "MIRROR": DEFAULT_DB_ALIAS}


def test_without_replica_urls_there_is_no_router_and_only_the_default_database(tmp_path):
    done = settings_with(tmp_path, None)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["routers"] == [] and shown["replicas"] == [] and list(shown["databases"]) == ["default"]


def test_a_replica_url_that_is_not_a_database_url_stops_the_start_naming_the_variable(tmp_path):
    done = settings_with(tmp_path, "replica.example:5432")
    assert done.returncode != 0
    assert "SANXIANG_REPLICA_URLS: replica 1 is not a database URL" in done.stderr


def test_a_postgresql_replica_keeps_the_defaults_connection_lifetime_and_gets_a_connect_timeout():
    found = replica_databases("postgres://reader@10.0.0.7:5432/sanxiang", default=PG_DEFAULT, connect_timeout=2)
    replica = found["replica1"]
    assert (replica["HOST"], replica["PORT"], replica["NAME"]) == ("10.0.0.7", 5432, "sanxiang")
    assert replica["CONN_MAX_AGE"] == 60 and replica["CONN_HEALTH_CHECKS"] is True
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert replica["TEST"] == {"MIRROR": DEFAULT_DB_ALIAS}


def test_a_replica_of_another_engine_than_the_default_is_refused():
    with pytest.raises(ImproperlyConfigured, match="replica 2 uses django.db.backends.sqlite3"):
        replica_databases("postgres://reader@10.0.0.7/sanxiang,sqlite:////tmp/x.sqlite3", default=PG_DEFAULT)


def test_empty_entries_in_the_list_are_ignored():
    assert list(replica_databases(" , postgres://reader@10.0.0.7/sanxiang ,", default=PG_DEFAULT)) == ["replica1"]
    assert replica_databases("", default=PG_DEFAULT) == {}
