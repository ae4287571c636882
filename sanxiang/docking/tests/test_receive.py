"""The receiving side: a lower platform's signed messages against the
trust list — applied once, in version order, only for what that platform
may speak for (公示-18; docs/docking.md "Receiving")."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from sanxiang.core.models import AuditEntry, Officer, OfficerStatus
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.validators import make_certificate_number
from sanxiang.docking import services, webhooks
from sanxiang.docking.models import InboxMessage, ReceivedObject

pytestmark = pytest.mark.django_db

URL = "/api/v1/docking/messages"
CERT = make_certificate_number("130123", 99001)


@pytest.fixture
def county(world):
    """正定县's platform on the province's trust list, speaking for 正定县."""
    key = Ed25519PrivateKey.generate()
    instance = services.register_instance(actor="test", code="zhengding", name="正定县行政执法公示平台",
                                          public_key=webhooks.public_key_text(key), regions=["130123"])
    return instance, key


def officer_data(world, **changes):
    data = {"schema": "officer/1", "certificate_number": CERT, "name": "钱学敏", "agency": world.amr_zhengding.credit_code,
            "post": "执法队员", "categories": ["penalty"], "enforcement_region": "130123",
            "valid_from": "2025-01-01", "valid_to": "2030-12-31", "status": "active"}
    data.update(changes)
    return data


def send(key, *, source="zhengding", version=1, data, key_name=CERT, msg_id=None, timestamp=None, body=None):
    payload = {"type": "officer.changed", "timestamp": "2026-12-01T08:00:00+08:00",
               "data": {"source": source, "object_type": "officer", "key": key_name, "version": version,
                        "object": data}}
    body = body if body is not None else canonical_json(payload).encode()
    msg_id = msg_id or webhooks.message_id(source, "officer", key_name, version, "officer.changed")
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key] if not isinstance(key, list) else key,
                            timestamp=timestamp).as_dict()
    return Client().post(URL, data=body, content_type="application/json",
                         headers={k: v for k, v in headers.items()})


def test_a_signed_officer_from_a_registered_county_is_created_and_verifiable_at_the_province(world, county):
    instance, key = county
    answer = send(key, data=officer_data(world))
    assert answer.status_code == 200, answer.content
    assert answer.json()["outcome"] == "applied"
    officer = Officer.objects.get(certificate_number=CERT)
    assert (officer.name, officer.agency, officer.status) == ("钱学敏", world.amr_zhengding, OfficerStatus.ACTIVE)
    page = Client().get(f"/verify/{CERT}")  # 亮证 at the province
    assert page.status_code == 200 and "钱学敏" in page.content.decode()
    entry = AuditEntry.objects.filter(action="docking.receive").latest("seq")
    assert entry.actor == "instance:zhengding"
    assert ReceivedObject.objects.get(instance=instance, object_key=CERT).version == 1


def test_the_same_message_twice_has_one_effect(world, county):
    _, key = county
    first = send(key, data=officer_data(world))
    again = send(key, data=officer_data(world))
    assert first.json()["outcome"] == again.json()["outcome"] == "applied"
    assert again.json()["duplicate"] is True
    assert Officer.objects.filter(certificate_number=CERT).count() == 1
    assert InboxMessage.objects.count() == 1
    assert AuditEntry.objects.filter(action="officer.create", object_id=str(Officer.objects.get(certificate_number=CERT).pk)).count() == 1


def test_a_newer_version_changes_the_officer_and_an_older_one_arriving_late_is_ignored(world, county):
    _, key = county
    send(key, version=1, data=officer_data(world))
    assert send(key, version=3, data=officer_data(world, status="suspended", post="副队长")).json()["outcome"] == "applied"
    late = send(key, version=2, data=officer_data(world, name="错误的名字"))
    assert late.status_code == 200 and late.json() == {"outcome": "stale", "held_version": 3}
    officer = Officer.objects.get(certificate_number=CERT)
    assert (officer.name, officer.status, officer.post) == ("钱学敏", OfficerStatus.SUSPENDED, "副队长")
    assert AuditEntry.objects.filter(action="officer.status", object_id=str(officer.pk)).exists()


def test_a_record_of_an_agency_outside_the_countys_regions_is_refused_per_record(world, county):
    _, key = county
    answer = send(key, data=officer_data(world, agency=world.amr_lunan.credit_code))
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "refused" and answer.json()["code"] == "out_of_scope"
    assert world.amr_lunan.credit_code in answer.json()["message"]
    assert not Officer.objects.filter(certificate_number=CERT).exists()


def test_a_county_cannot_take_over_a_certificate_held_by_another_countys_officer(world, county):
    _, key = county
    taken = world.lunan_officer.certificate_number
    answer = send(key, key_name=taken, data=officer_data(world, certificate_number=taken))
    assert answer.json()["code"] == "certificate_taken"
    world.lunan_officer.refresh_from_db()
    assert world.lunan_officer.agency == world.amr_lunan


def test_a_forged_signature_an_unknown_platform_and_a_stale_timestamp_are_refused(world, county):
    _, key = county
    forged = send(Ed25519PrivateKey.generate(), data=officer_data(world))
    assert forged.status_code == 401 and forged.json()["code"] == "bad_signature"
    unknown = send(key, source="nowhere", data=officer_data(world))
    assert unknown.status_code == 401 and unknown.json()["code"] == "unknown_source"
    old = send(key, data=officer_data(world), timestamp=int(timezone.now().timestamp()) - 3600)
    assert old.status_code == 401 and old.json()["code"] == "stale_timestamp"
    assert not Officer.objects.filter(certificate_number=CERT).exists()
    assert not InboxMessage.objects.exists()


@pytest.mark.parametrize("body, code", [
    (b"not json", "bad_json"),
    (b"[]", "bad_payload"),
    (b'{"type": "x", "data": {"source": "zhengding", "object_type": "officer", "key": "k", "version": "1", "object": {}}}',
     "bad_payload"),
    (b'{"type": "x", "data": {"source": "zhengding", "object_type": "officer", "key": "k", "version": 0, "object": {}}}',
     "bad_payload"),
    (b'{"type": "x", "data": {"source": "zhengding", "object_type": "spaceship", "key": "k", "version": 1, "object": {}}}',
     "unknown_object_type"),
])
def test_a_malformed_message_gets_a_clear_error_and_changes_nothing(world, county, body, code):
    _, key = county
    answer = send(key, data={}, body=body)
    assert answer.status_code in (400, 422)
    assert answer.json()["code"] == code and answer.json()["message"]
    assert not InboxMessage.objects.exists()


def test_a_message_without_headers_or_by_get_is_refused_without_a_500(world, county):
    assert Client().post(URL, data=b"{}", content_type="application/json").json()["code"] == "missing_header"
    assert Client().get(URL).status_code == 405


def test_invalid_officer_fields_are_refused_naming_the_field(world, county):
    _, key = county
    answer = send(key, data=officer_data(world, valid_from="2025-13-01"))
    assert answer.json()["outcome"] == "refused" and "valid_from" in answer.json()["message"]
    answer = send(key, version=2, data=officer_data(world, categories=["spaceflight"]))
    assert answer.json()["outcome"] == "refused" and "categories" in answer.json()["message"]


def test_after_a_key_rotation_both_keys_verify_until_the_overlap_ends(world, county):
    instance, old = county
    new = Ed25519PrivateKey.generate()
    services.add_instance_key(actor="test", instance=instance, public_key=webhooks.public_key_text(new),
                              overlap=timedelta(days=7))
    assert send(old, version=1, data=officer_data(world)).status_code == 200
    assert send(new, version=2, data=officer_data(world, post="队长")).status_code == 200
    instance.keys.exclude(public_key=webhooks.public_key_text(new)).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert send(old, version=3, data=officer_data(world)).json()["code"] == "bad_signature"


def test_a_deactivated_platform_is_told_410_gone(world, county):
    instance, key = county
    services.set_instance_active(actor="test", instance=instance, active=False)
    answer = send(key, data=officer_data(world))
    assert answer.status_code == 410 and answer.json()["code"] == "instance_inactive"


def test_registration_is_for_administrators_and_names_bad_fields(world):
    public = webhooks.public_key_text(Ed25519PrivateKey.generate())
    with pytest.raises(PermissionDenied):
        services.register_instance(actor=world.u_changan, code="x", name="x", public_key=public, regions=["130123"])
    with pytest.raises(ValidationError) as bad:
        services.register_instance(actor="test", code="x", name="x", public_key="whpk_nonsense", regions=["130123"])
    assert "public_key" in bad.value.message_dict
    with pytest.raises(ValidationError) as bad:
        services.register_instance(actor="test", code="x", name="x", public_key=public, regions=["999999"])
    assert "regions" in bad.value.message_dict
    with pytest.raises(ValidationError) as bad:
        services.register_instance(actor="test", code="x", name="x", public_key=public)
    assert "regions" in bad.value.message_dict
    with pytest.raises(ValidationError) as bad:
        services.register_instance(actor="test", code="has space", name="x", public_key=public, regions=["130123"])
    assert "code" in bad.value.message_dict
