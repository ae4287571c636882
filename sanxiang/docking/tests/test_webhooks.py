"""Standard Webhooks v1a (Ed25519) signing and verification, checked
against the specification's definitions with the cryptography library
directly (docs/docking.md "Protocol")."""

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sanxiang.docking import webhooks


def _key():
    return Ed25519PrivateKey.generate()


def test_the_signature_is_ed25519_over_id_timestamp_and_body_joined_by_full_stops():
    key = _key()
    body = '{"type":"officer.changed","data":{"k":"中文"}}'.encode()
    headers = webhooks.sign(msg_id="msg_abc", body=body, keys=[key], timestamp=1674087231)
    scheme, _, value = headers.signature.partition(",")
    assert scheme == "v1a"
    key.public_key().verify(base64.b64decode(value), b"msg_abc.1674087231." + body)  # raises if not
    assert headers.as_dict() == {"webhook-id": "msg_abc", "webhook-timestamp": "1674087231",
                                 "webhook-signature": headers.signature}


def test_keys_are_written_with_the_specifications_prefixes_and_read_back():
    secret = webhooks.new_secret_key()
    assert secret.startswith("whsk_")
    key = webhooks.load_secret_key(secret)
    public = webhooks.public_key_text(key)
    assert public.startswith("whpk_") and len(base64.b64decode(public[5:])) == 32
    assert webhooks.public_key_text(webhooks.load_public_key(public)) == public
    assert len(webhooks.fingerprint(public)) == 16
    for bad in ("", "whpk_", "whpk_!!!", "whsk_" + public[5:], public[5:], "whpk_" + base64.b64encode(b"x" * 31).decode()):
        with pytest.raises(ValueError):
            webhooks.load_public_key(bad)


def test_a_message_verifies_under_the_senders_key_and_under_no_other():
    key, other = _key(), _key()
    body = b'{"a":1}'
    headers = webhooks.sign(msg_id="msg_1", body=body, keys=[key])
    public = webhooks.public_key_text(key)
    assert webhooks.verify(headers, body, [webhooks.public_key_text(other), public]) == public
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.verify(headers, body, [webhooks.public_key_text(other)])
    assert refused.value.code == "bad_signature"


@pytest.mark.parametrize("change", ["body", "id", "timestamp"])
def test_changing_the_body_the_id_or_the_timestamp_breaks_the_signature(change):
    key = _key()
    body = b'{"version":1}'
    headers = webhooks.sign(msg_id="msg_1", body=body, keys=[key])
    if change == "body":
        body = b'{"version":2}'
    elif change == "id":
        headers = webhooks.Headers(id="msg_2", timestamp=headers.timestamp, signature=headers.signature)
    else:
        headers = webhooks.Headers(id=headers.id, timestamp=headers.timestamp + 1, signature=headers.signature)
    with pytest.raises(webhooks.WebhookError):
        webhooks.verify(headers, body, [webhooks.public_key_text(key)])


def test_a_timestamp_outside_five_minutes_is_refused_both_ways():
    key = _key()
    now = time.time()
    public = [webhooks.public_key_text(key)]
    for offset in (-301, 301):
        headers = webhooks.sign(msg_id="msg_1", body=b"{}", keys=[key], timestamp=int(now + offset))
        with pytest.raises(webhooks.WebhookError) as refused:
            webhooks.verify(headers, b"{}", public, now=now)
        assert refused.value.code == "stale_timestamp"
    inside = webhooks.sign(msg_id="msg_1", body=b"{}", keys=[key], timestamp=int(now - 299))
    assert webhooks.verify(inside, b"{}", public, now=now)


def test_during_a_rotation_either_key_verifies_a_message_signed_by_both():
    old, new = _key(), _key()
    headers = webhooks.sign(msg_id="msg_1", body=b"{}", keys=[new, old])
    assert len(headers.signature.split(" ")) == 2
    assert webhooks.verify(headers, b"{}", [webhooks.public_key_text(old)])
    assert webhooks.verify(headers, b"{}", [webhooks.public_key_text(new)])


def test_other_schemes_and_garbage_in_the_signature_header_are_skipped_not_fatal():
    key = _key()
    good = webhooks.sign(msg_id="msg_1", body=b"{}", keys=[key])
    mixed = webhooks.Headers(id=good.id, timestamp=good.timestamp,
                             signature="v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1a,@@@ " + good.signature)
    assert webhooks.verify(mixed, b"{}", [webhooks.public_key_text(key)])
    only_hmac = webhooks.Headers(id=good.id, timestamp=good.timestamp, signature="v1,abc=")
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.verify(only_hmac, b"{}", [webhooks.public_key_text(key)])
    assert refused.value.code == "bad_signature"


@pytest.mark.parametrize("headers, problem", [
    ({}, "webhook-id"),
    ({"webhook-id": "msg_1", "webhook-timestamp": "1"}, "webhook-signature"),
    ({"webhook-id": "msg.1", "webhook-timestamp": "1", "webhook-signature": "v1a,x"}, "webhook-id"),
    ({"webhook-id": "msg_1", "webhook-timestamp": "soon", "webhook-signature": "v1a,x"}, "webhook-timestamp"),
    ({"webhook-id": "msg_1", "webhook-timestamp": "-5", "webhook-signature": "v1a,x"}, "webhook-timestamp"),
])
def test_a_missing_or_malformed_header_is_named(headers, problem):
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.read_headers(headers)
    assert problem in refused.value.message


def test_a_message_id_comes_from_what_it_carries_and_never_holds_a_full_stop():
    one = webhooks.message_id("county-a", "officer", "13010224000001", 2, "officer.changed")
    assert one == webhooks.message_id("county-a", "officer", "13010224000001", 2, "officer.changed")
    assert one != webhooks.message_id("county-a", "officer", "13010224000001", 3, "officer.changed")
    assert one != webhooks.message_id("county-b", "officer", "13010224000001", 2, "officer.changed")
    assert "." not in one and one.startswith("msg_")


def test_retries_follow_the_specifications_schedule_and_honour_a_longer_retry_after():
    assert [webhooks.next_delay(n) for n in range(1, 10)] == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert webhooks.next_delay(10) is None
    assert webhooks.next_delay(1, retry_after=120) == 120
    assert webhooks.next_delay(3, retry_after=60) == 1800  # shorter than the schedule: the schedule wins
    assert webhooks.parse_retry_after("120") == 120
    assert webhooks.parse_retry_after("999999") == 86400  # capped at a day
    assert webhooks.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date in the past: now
    assert webhooks.parse_retry_after("soon") is None and webhooks.parse_retry_after(None) is None
