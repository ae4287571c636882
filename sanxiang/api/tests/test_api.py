"""The API base: OpenAPI document, tokens (hashed, shown once, scoped,
revocable) and JSON errors with a stable code, the field and a Chinese message."""

import pytest
from django.test import Client

from sanxiang.api.models import ApiToken
from sanxiang.api.services import create_token, revoke_token
from sanxiang.core.models import AuditEntry


def bearer(clear: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def test_openapi_document_is_served(db):
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "三项制度平台 API"
    assert "/api/v1/certificates/{number}" in doc["paths"]


def test_token_is_stored_hashed_shown_once_and_audited(world):
    token, clear = create_token(actor=world.u_admin, agency=world.amr_changan, name="执法办案系统", scopes=["read"])
    assert clear.startswith("sx_") and len(clear) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert clear not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    assert AuditEntry.objects.filter(action="api_token.create", object_id=str(token.pk)).exists()
    assert bearer(clear).get("/api/v1/me").json()["agency_id"] == world.amr_changan.pk


def test_revoked_or_wrong_token_is_refused_with_json_error(world):
    token, clear = create_token(actor="t", agency=world.amr_changan, name="系统", scopes=["read"])
    assert bearer(clear).get("/api/v1/officers").status_code == 200
    wrong = clear[:-4] + ("AAAA" if not clear.endswith("AAAA") else "BBBB")
    r = bearer(wrong).get("/api/v1/officers")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    revoke_token(actor="t", token=token)
    r = bearer(clear).get("/api/v1/officers")
    assert r.status_code == 401
    assert set(r.json()) == {"code", "field", "message"}


def test_token_without_the_scope_gets_403_naming_it(world):
    _, clear = create_token(actor="t", agency=world.amr_changan, name="上传终端", scopes=["evidence:upload"])
    r = bearer(clear).get("/api/v1/officers")
    assert r.status_code == 403
    assert r.json()["code"] == "scope_missing" and "read" in r.json()["message"]


def test_bad_parameter_gets_json_error_naming_the_field(world):
    _, clear = create_token(actor="t", agency=world.amr_changan, name="系统", scopes=["read"])
    r = bearer(clear).get("/api/v1/officers/not-a-number")
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid" and body["field"] == "officer_id" and "无效" in body["message"]


def test_unknown_scope_is_refused_at_creation(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        create_token(actor="t", agency=world.amr_changan, name="x", scopes=["everything"])
    assert "scopes" in exc.value.message_dict
