"""Property-based run of the whole API against its own OpenAPI document
(schemathesis): every operation, with valid and invalid data, once with an
agency's API token and once with a logged-in session (with its CSRF token).
It fails on any 5xx and on any answer that does not match what the document
says (status code, content type, body schema; errors are {code, field,
message}).

Bounded so that it stays a few minutes in CI on SQLite or PostgreSQL:
SCHEMATHESIS_EXAMPLES examples per operation and mode (default 12, the
hypothesis deadline off, no shrinking, a fixed seed so a failure
reproduces). Run only this file with e.g. SANXIANG_SCHEMATHESIS_EXAMPLES=200
for a deeper search."""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

from sanxiang.api.services import create_token  # noqa: E402

EXAMPLES = int(os.environ.get("SANXIANG_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SCOPES = ["read", "cases:write", "publicity:push", "evidence:upload"]


@pytest.fixture
def api_schema(db):
    """The real WSGI application, called in this thread inside the test's
    transaction. Like Django's test client, the end of a request does not
    open or close the database connection here (on PostgreSQL that would end the
    test's transaction)."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True,
                                        max_examples=EXAMPLES, no_shrink=True)
        yield schema
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")

HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate])


@pytest.fixture
def token_headers(world):
    _, clear = create_token(actor="t", agency=world.amr_changan, name="schemathesis", scopes=SCOPES)
    return {"Authorization": f"Bearer {clear}"}


@pytest.fixture
def session_credentials(world):
    """A logged-in officer's session cookie, and a CSRF token as the pages'
    scripts send it (cookie + X-CSRFToken header)."""
    from django.conf import settings as django_settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    client.force_login(world.u_changan)
    csrf = _get_new_csrf_string()
    cookies = {django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
               django_settings.CSRF_COOKIE_NAME: csrf}
    return cookies, {"X-CSRFToken": csrf}


@pytest.fixture
def real_ids(world):
    """Ids of rows that exist, so that about half of the generated calls
    reach the code behind the lookup instead of a 404: the caller's agency,
    one of its officers and an open case of its own."""
    from datetime import date

    from sanxiang.cases import services as case_services

    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某超市销售过期食品案",
                                   act_kind="penalty", procedure="general", party_name="石家庄某某超市有限公司",
                                   party_type="legal_person", opened_on=date(2026, 9, 1),
                                   officers=[world.changan_officer, world.changan_officer2])
    return {"agency_id": world.amr_changan.pk, "officer_id": world.changan_officer.pk, "case_id": case.pk,
            "agency": world.amr_changan.pk, "case": case.pk}


def aim(case, real_ids) -> None:
    """Point an even generated id at a real row (odd ones stay random)."""
    for params in (case.path_parameters, case.query):
        for name, value in list((params or {}).items()):
            if name in real_ids and isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0:
                params[name] = real_ids[name]


@schema.parametrize()
@HYPOTHESIS
def test_api_with_a_token_never_fails_and_matches_its_document(case, token_headers, real_ids):
    aim(case, real_ids)
    case.call_and_validate(headers=token_headers, checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_api_with_a_session_never_fails_and_matches_its_document(case, session_credentials, real_ids):
    aim(case, real_ids)
    cookies, headers = session_credentials
    case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
