"""Case systems sign their pushes the way lower platforms sign docking
messages (issue 13 item 6; docs/docking.md "Case systems"): Standard
Webhooks v1a with the Ed25519 key registered on their API token. A valid
signature is accepted, a forged one or one outside the five-minute window
is 401 naming the header, the same webhook-id twice has one effect and the
first answer, and unsigned pushes keep working."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from sanxiang.api.models import ApiToken, PushReceipt
from sanxiang.api.services import create_token, set_token_public_key
from sanxiang.core import webhooks
from sanxiang.core.models import AuditEntry
from sanxiang.publicity.models import Decision, DecisionVersion

from .test_intake import penalty_record
from .test_push_api import URL, publicity_api_mounted

pytestmark = pytest.mark.django_db
# The autouse fixture that mounts the push API's router, used here too.
assert publicity_api_mounted


@pytest.fixture
def client_system(world):
    """正定县市场监督管理局's case system: a push token with its public key."""
    key = Ed25519PrivateKey.generate()
    token, clear = create_token(actor="test", agency=world.amr_zhengding, name="案件系统", scopes=["publicity:push"])
    set_token_public_key(actor="test", token=token, public_key=webhooks.public_key_text(key))
    return token, clear, key


def signed_push(clear, key, records, *, msg_id="msg_case_0001", timestamp=None, body=None):
    body = body if body is not None else json.dumps({"records": records}, ensure_ascii=False).encode()
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key], timestamp=timestamp).as_dict()
    return Client().post(URL, data=body, content_type="application/json",
                         headers={"Authorization": f"Bearer {clear}", **headers})


def test_a_validly_signed_push_is_stored_and_its_receipt_keeps_the_signed_time(world, client_system):
    token, clear, key = client_system
    answer = signed_push(clear, key, [penalty_record(1)])
    assert answer.status_code == 200, answer.content
    assert answer.json()["results"][0]["status"] == "created"
    assert Decision.objects.filter(agency=world.amr_zhengding, external_id="CASE-2026-00001").exists()
    receipt = PushReceipt.objects.get(token=token)
    assert receipt.signed and receipt.webhook_id == "msg_case_0001" and receipt.records == 1
    assert abs(receipt.sent_at.timestamp() - time.time()) < 60


def test_a_forged_signature_is_refused_naming_the_header_and_stores_nothing(world, client_system):
    _, clear, _ = client_system
    answer = signed_push(clear, Ed25519PrivateKey.generate(), [penalty_record(1)])
    assert answer.status_code == 401
    assert answer.json()["code"] == "bad_signature" and answer.json()["field"] == "webhook-signature"
    assert "webhook-signature" in answer.json()["message"]
    # A body changed after signing is the same forgery.
    body = json.dumps({"records": [penalty_record(1)]}, ensure_ascii=False).encode()
    headers = webhooks.sign(msg_id="msg_x", body=body, keys=[client_system[2]]).as_dict()
    tampered = Client().post(URL, data=body.replace("罚款".encode(), "警告".encode()), content_type="application/json",
                             headers={"Authorization": f"Bearer {clear}", **headers})
    assert tampered.status_code == 401 and tampered.json()["code"] == "bad_signature"
    assert not Decision.objects.exists() and not PushReceipt.objects.exists()


def test_a_timestamp_outside_the_five_minute_window_is_refused_naming_the_header(world, client_system):
    _, clear, key = client_system
    answer = signed_push(clear, key, [penalty_record(1)], timestamp=int(time.time()) - 3600)
    assert answer.status_code == 401
    assert answer.json()["code"] == "stale_timestamp" and answer.json()["field"] == "webhook-timestamp"
    assert not Decision.objects.exists()


def test_a_missing_or_malformed_header_is_named(world, client_system):
    _, clear, key = client_system
    body = json.dumps({"records": [penalty_record(1)]}).encode()
    partial = Client().post(URL, data=body, content_type="application/json",
                            headers={"Authorization": f"Bearer {clear}", "webhook-id": "msg_1"})
    assert partial.status_code == 401 and partial.json()["field"] == "webhook-timestamp"
    bad = Client().post(URL, data=body, content_type="application/json", headers={
        "Authorization": f"Bearer {clear}", "webhook-id": "msg_1", "webhook-timestamp": "yesterday",
        "webhook-signature": "v1a,AAAA"})
    assert bad.status_code == 401 and bad.json()["field"] == "webhook-timestamp"


def test_the_same_webhook_id_twice_has_one_effect_and_the_first_answer(world, client_system):
    token, clear, key = client_system
    first = signed_push(clear, key, [penalty_record(1)])
    # A retry of the same message (a new attempt: a new timestamp and signature).
    again = signed_push(clear, key, [penalty_record(1, content="罚款40000元。", fine_yuan="40000",
                                                   correction_reason="不应生效")])
    assert again.status_code == 200 and again.json() == first.json()
    decision = Decision.objects.get(agency=world.amr_zhengding, external_id="CASE-2026-00001")
    assert DecisionVersion.objects.filter(decision=decision).count() == 1
    assert PushReceipt.objects.filter(token=token).count() == 1
    # Another id is another message: the correction is stored.
    third = signed_push(clear, key, [penalty_record(1, content="罚款40000元。", fine_yuan="40000",
                                                   correction_reason="复议变更")], msg_id="msg_case_0002")
    assert third.json()["results"][0]["status"] == "corrected"


def test_a_push_refused_as_a_whole_may_be_sent_again_with_the_same_id(world, client_system):
    _, clear, key = client_system
    refused = signed_push(clear, key, None, body=b'{"records": "nope"}')
    assert refused.status_code == 422
    fixed = signed_push(clear, key, [penalty_record(1)])
    assert fixed.status_code == 200 and fixed.json()["accepted"] == 1


def test_unsigned_pushes_keep_working_and_leave_a_receipt_for_the_lag(world, client_system):
    token, clear, _ = client_system
    answer = Client().post(URL, data=json.dumps({"records": [penalty_record(1)]}), content_type="application/json",
                           headers={"Authorization": f"Bearer {clear}"})
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    receipt = PushReceipt.objects.get(token=token)
    assert not receipt.signed and receipt.webhook_id is None
    assert receipt.sent_at is not None  # the start of the record's decision date (Asia/Shanghai)


def test_a_token_without_a_key_cannot_sign(world):
    _, clear = create_token(actor="test", agency=world.amr_zhengding, name="旧系统", scopes=["publicity:push"])
    answer = signed_push(clear, Ed25519PrivateKey.generate(), [penalty_record(1)])
    assert answer.status_code == 401 and answer.json()["code"] == "signing_key_missing"


def test_the_key_is_set_from_the_command_line_checked_and_audited(world, capsys):
    token, _ = create_token(actor="test", agency=world.amr_zhengding, name="案件系统", scopes=["publicity:push"])
    public = webhooks.public_key_text(Ed25519PrivateKey.generate())
    call_command("token", "key", token.prefix, "--key", public)
    assert ApiToken.objects.get(pk=token.pk).public_key == public
    assert AuditEntry.objects.filter(action="api_token.public_key").exists()
    with pytest.raises(ValidationError) as bad:
        set_token_public_key(actor="test", token=token, public_key="whpk_nonsense")
    assert "public_key" in bad.value.message_dict
    call_command("token", "key", token.prefix, "--clear")
    assert ApiToken.objects.get(pk=token.pk).public_key == ""
