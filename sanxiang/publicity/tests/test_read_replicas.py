"""The portal's public reads on a read replica (core/db_router.py,
docs/decisions/0012-read-replicas.md), proven per connection with Django's
CaptureQueriesContext on SQLite and on PostgreSQL.

The replica is a second database alias opened for each test: a second
connection to the test database itself (what a streaming replica is, with
no lag), to a database that answers without our tables, or to nothing.
Tests are transactional, so what one connection commits the other reads."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import load_backend
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, get_resolver

from sanxiang.api.services import create_token
from sanxiang.conftest import client_for, make_user
from sanxiang.core import db_router
from sanxiang.core.db_router import PublicReadRouter, public_read
from sanxiang.core.models import Role
from sanxiang.publicity import public_api, services
from sanxiang.publicity import urls as publicity_urls
from sanxiang.publicity.models import Decision, PublicDecision

from .test_publication import penalty

pytestmark = pytest.mark.django_db(transaction=True)

REPLICA = "replica1"
DOC_NUMBER = "冀长市监罚〔2026〕7号"


@contextmanager
def replica_alias(settings_dict: dict, alias: str = REPLICA):
    """Make ``alias`` the only read replica, as settings.py does for
    SANXIANG_REPLICA_URLS, for the length of the block. The connection is
    made here and handed to the connection handler (Django's test case
    refuses new connections to aliases it did not set up; one made by the
    test itself is allowed)."""
    connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    try:
        with override_settings(DATABASE_REPLICAS=[alias], DATABASE_ROUTERS=[db_router.ROUTER]):
            yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        db_router.health.clear()


def copy_of_default(**changes) -> dict:
    settings_dict = {**connections[DEFAULT_DB_ALIAS].settings_dict, **changes}
    settings_dict["TEST"] = {**settings_dict["TEST"], "MIRROR": DEFAULT_DB_ALIAS}
    return settings_dict


@pytest.fixture
def replica(world):
    """A replica of the test database: a separate connection to it."""
    with replica_alias(copy_of_default()) as alias:
        yield alias


@pytest.fixture
def published(world):
    """One published decision of 长安区市场监督管理局, committed."""
    admin = make_user("pub_changan", Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    result = services.receive_records(actor="t", agency=world.amr_changan, records=[penalty("CF-7")], source="api")
    public = services.publish_decision(actor=admin, decision=Decision.objects.get(pk=result[0].decision_id))
    return public


@contextmanager
def queries_on(*aliases):
    with CaptureQueriesContext(connections[aliases[0]]) as first:
        if len(aliases) == 1:
            yield {aliases[0]: first}
            return
        with queries_on(*aliases[1:]) as rest:
            yield {aliases[0]: first, **rest}


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# Every public route of the portal and the public API, as a visitor calls it.
PUBLIC_PAGES = {
    "home": lambda p: "/",
    "search": lambda p: "/decisions/?q=保质期",
    "detail": lambda p: f"/decisions/{p.pk}/",
    "export_csv": lambda p: "/decisions/export.csv?q=保质期",
    "withdrawn": lambda p: "/decisions/withdrawn/",
    "feed": lambda p: f"/decisions/feed/{p.agency_id}/",
}
PUBLIC_API = {
    "search": lambda p: "/api/v1/publicity/search?q=保质期",
    "public_detail": lambda p: f"/api/v1/publicity/public/{p.pk}",
    "withdrawals": lambda p: "/api/v1/publicity/withdrawals",
}


def test_every_public_route_of_the_portal_is_one_these_tests_send_to_the_replica():
    page_names = {p.name for p in publicity_urls.urlpatterns
                  if isinstance(p, URLPattern) and not str(p.pattern).startswith("workbench/")}
    assert page_names | {"home"} == set(PUBLIC_PAGES)  # home: sanxiang/urls.py
    api_names = {op.view_func.__name__ for view in public_api.router.path_operations.values()
                 for op in view.operations}
    assert api_names == set(PUBLIC_API)
    assert get_resolver().resolve("/").func.__wrapped__.__name__ == "portal_home"


@pytest.mark.parametrize("route", sorted(PUBLIC_PAGES) + [f"api:{n}" for n in sorted(PUBLIC_API)])
def test_an_anonymous_public_read_runs_on_the_replica_and_not_on_default(replica, published, route):
    url = PUBLIC_API[route[4:]](published) if route.startswith("api:") else PUBLIC_PAGES[route](published)
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        response = Client().get(url)
        content = body(response)
    assert response.status_code == 200, content[:300]
    assert seen[replica].captured_queries, "no query reached the replica"
    assert seen[DEFAULT_DB_ALIAS].captured_queries == []


def test_the_public_search_reads_its_index_and_its_rows_from_the_replica(replica, published):
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        page = Client().get("/decisions/?q=保质期").content.decode()
    assert DOC_NUMBER in page
    sql = " ".join(q["sql"] for q in seen[replica].captured_queries)
    assert "publicity_publicdecision" in sql
    assert any(table in sql for table in ("publicity_search_fts", "publicity_search_index", "publicity_search_doc")), sql
    assert seen[DEFAULT_DB_ALIAS].captured_queries == []


def test_the_public_api_answers_the_decision_read_from_the_replica(replica, published):
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        data = Client().get(f"/api/v1/publicity/public/{published.pk}").json()
    assert data["doc_number"] == DOC_NUMBER
    assert any("publicity_publicdecision" in q["sql"] for q in seen[replica].captured_queries)
    assert seen[DEFAULT_DB_ALIAS].captured_queries == []


def test_an_officer_who_just_published_sees_the_portal_read_from_default(world, replica, no_totp):
    admin = make_user("pub_changan", Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    result = services.receive_records(actor="t", agency=world.amr_changan, records=[penalty("CF-7")], source="api")
    client = client_for(admin)
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        published = client.post(f"/workbench/publicity/{result[0].decision_id}/publish/",
                                {"confirmed": "1", "checked_version": "1"})
        public = PublicDecision.objects.get(decision_id=result[0].decision_id)
        detail = client.get(f"/decisions/{public.pk}/")
        search = client.get(f"/decisions/?q={DOC_NUMBER}")
    assert published.status_code == 302
    assert DOC_NUMBER in detail.content.decode() and DOC_NUMBER in search.content.decode()
    assert seen[replica].captured_queries == []
    assert seen[DEFAULT_DB_ALIAS].captured_queries


def test_a_logged_in_workbench_page_reads_from_default(world, replica, published, no_totp):
    client = client_for(world.u_changan)
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        for url in ("/workbench/", "/workbench/publicity/"):
            assert client.get(url).status_code == 200, url
    assert seen[replica].captured_queries == []
    assert seen[DEFAULT_DB_ALIAS].captured_queries


def test_a_push_through_the_api_writes_and_reads_on_default(world, replica):
    token = create_token(actor="test", agency=world.amr_changan, name="case system", scopes=["publicity:push"])[1]
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        response = Client().post("/api/v1/publicity/decisions",
                                 data=json.dumps({"records": [penalty("CF-8")]}, ensure_ascii=False),
                                 content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"][0]["status"] == "created"
    assert seen[replica].captured_queries == []
    assert any(q["sql"].startswith("INSERT") for q in seen[DEFAULT_DB_ALIAS].captured_queries)


def test_a_read_inside_a_write_transaction_stays_on_default_and_outside_it_goes_to_the_replica(replica, published):
    @public_read
    def read(request, *, in_transaction: bool):
        if in_transaction:
            with transaction.atomic():
                return PublicDecision.objects.get(pk=published.pk).doc_number
        return PublicDecision.objects.get(pk=published.pk).doc_number

    with queries_on(DEFAULT_DB_ALIAS, replica) as inside:
        assert read(RequestFactory().get("/"), in_transaction=True) == DOC_NUMBER
    assert inside[replica].captured_queries == []
    assert any("publicity_publicdecision" in q["sql"] for q in inside[DEFAULT_DB_ALIAS].captured_queries)
    with queries_on(DEFAULT_DB_ALIAS, replica) as outside:
        assert read(RequestFactory().get("/"), in_transaction=False) == DOC_NUMBER
    assert any("publicity_publicdecision" in q["sql"] for q in outside[replica].captured_queries)
    assert outside[DEFAULT_DB_ALIAS].captured_queries == []


def test_a_post_to_a_public_route_is_not_sent_to_the_replica(replica, published):
    with queries_on(DEFAULT_DB_ALIAS, replica) as seen:
        Client().post("/decisions/", {"q": "保质期"})
    assert seen[replica].captured_queries == []


def unreachable() -> dict:
    """Nothing listens on 127.0.0.1:18899 (this helper's port range); for
    SQLite, a file in a directory that does not exist."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return copy_of_default(HOST="127.0.0.1", PORT="18899", OPTIONS={"connect_timeout": 2})
    return copy_of_default(NAME="/nonexistent-sanxiang-replica/replica.sqlite3", OPTIONS={})


def without_tables(tmp_path) -> dict:
    """A replica that answers but holds none of our tables (a replica being
    rebuilt): PostgreSQL's maintenance database, or an empty SQLite file."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return copy_of_default(NAME="postgres")
    return copy_of_default(NAME=str(tmp_path / "empty.sqlite3"), OPTIONS={})


def test_an_unreachable_replica_leaves_the_public_search_on_default_with_one_log_line(world, published, caplog):
    with replica_alias(unreachable()), caplog.at_level(logging.WARNING, logger="sanxiang.core.db_router"):
        with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_default:
            first = Client().get("/decisions/?q=保质期")
            second = Client().get(f"/api/v1/publicity/public/{published.pk}")
    assert first.status_code == 200 and DOC_NUMBER in first.content.decode()
    assert second.status_code == 200 and second.json()["doc_number"] == DOC_NUMBER
    assert any("publicity_publicdecision" in q["sql"] for q in on_default.captured_queries)
    warnings = [r.getMessage() for r in caplog.records if r.name == "sanxiang.core.db_router"]
    # One line for the incident: the second read does not try the replica again.
    assert len(warnings) == 1, warnings
    assert "read replica replica1 cannot be reached" in warnings[0]
    assert "public reads go to the default database" in warnings[0]


def test_a_replica_whose_query_fails_mid_read_answers_from_default(world, published, tmp_path, caplog):
    with replica_alias(without_tables(tmp_path)) as alias, \
            caplog.at_level(logging.WARNING, logger="sanxiang.core.db_router"):
        with queries_on(DEFAULT_DB_ALIAS, alias) as seen:
            page = Client().get(f"/decisions/{published.pk}/")
            api = Client().get("/api/v1/publicity/search?q=保质期")
    assert page.status_code == 200 and DOC_NUMBER in page.content.decode()
    assert api.status_code == 200 and [i["doc_number"] for i in api.json()["items"]] == [DOC_NUMBER]
    assert seen[alias].captured_queries, "the replica was never asked"
    assert any("publicity_publicdecision" in q["sql"] for q in seen[DEFAULT_DB_ALIAS].captured_queries)
    warnings = [r.getMessage() for r in caplog.records if r.name == "sanxiang.core.db_router"]
    assert len(warnings) == 1 and "read replica replica1 failed a query" in warnings[0], warnings


def test_migrations_and_writes_go_to_default_only():
    router = PublicReadRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "publicity", "publicdecision") is True
    assert router.allow_migrate(REPLICA, "publicity", "publicdecision") is False
    assert router.db_for_write(PublicDecision) == DEFAULT_DB_ALIAS
