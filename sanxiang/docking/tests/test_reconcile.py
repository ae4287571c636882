"""Reconciliation (issue 13 item 5; docs/docking.md "Reconciliation"): the
lower platform's counts and hashes per bucket against what the platform
above holds, the keys of the buckets that differ, and the objects it lacks
sent again — applied even where the receiver still has the original
message's inbox row (it lost the record itself, restored from an older
backup).

Both sides live in one test database: the county's outbox and upstream,
and the province's trust list. Every message — the deliveries, the
reconciliation steps and the re-sends — is signed and posted to the real
receiving endpoint (Django's test client stands in for the socket, as in
test_receive.py; two live platforms over real HTTP are test_two_instances.py)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sanxiang.core import clock
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import Officer
from sanxiang.core.validators import make_certificate_number
from sanxiang.docking import keys, reconcile, selectors, services, webhooks
from sanxiang.docking.models import (InboxMessage, OutboxMessage, OutboxState, ReceivedObject, Reconciliation,
                                     ReconciliationOutcome, Upstream)

pytestmark = pytest.mark.django_db

URL = "/api/v1/docking/messages"


def _through_the_endpoint(url, body, headers):
    """services._post's answer, from the receiving endpoint itself."""
    answer = Client().post(URL, data=body, content_type="application/json", headers=headers)
    return answer.status_code, answer.headers, answer.content.decode()


@pytest.fixture
def linked(world, settings, tmp_path, monkeypatch):
    """正定县's platform (its upstream is this platform's endpoint) on the
    province's trust list, speaking for 正定县."""
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county.pem")
    monkeypatch.setattr(services, "_post", _through_the_endpoint)
    # One database plays both platforms: what the province applies is not
    # forwarded upward again from the county's outbox.
    monkeypatch.setattr(services, "enqueue_change", lambda **kwargs: None)
    monkeypatch.setattr(services, "enqueue_changes", lambda **kwargs: 0)
    services.configure_upstream(actor="test", url=f"http://province.example{URL}", instance_code="zhengding")
    return services.register_instance(actor="test", code="zhengding", name="正定县行政执法公示平台",
                                      public_key=keys.public_key(), regions=["130123"])


def cert(n: int) -> str:
    return make_certificate_number("130123", 99000 + n)


def publish(world, n: int, version: int = 1, **changes):
    """The county's change of officer ``n`` (its outbox message)."""
    data = {"schema": "officer/1", "certificate_number": cert(n), "name": f"钱学敏{n}",
            "agency": world.amr_zhengding.credit_code, "post": "执法队员", "categories": ["penalty"],
            "enforcement_region": "130123", "valid_from": "2025-01-01", "valid_to": "2030-12-31", "status": "active",
            **changes}
    return services.enqueue_message(event_type="officer.changed", object_type_name="officer", key=cert(n),
                                    version=version, data=data)


def deliver():
    """What services.deliver_due does for an answering receiver: each
    waiting message, oldest first, signed and posted; delivered."""
    for message in OutboxMessage.objects.filter(state=OutboxState.PENDING).order_by("pk"):
        body = message.body.encode()
        status, _, text = _through_the_endpoint(
            URL, body, webhooks.sign(msg_id=message.msg_id, body=body, keys=keys.signing_keys()).as_dict())
        assert status == 200 and json.loads(text)["outcome"] == "applied", text
        OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxState.DELIVERED, delivered_at=timezone.now())


def test_when_nothing_differs_nothing_is_sent_again_and_the_province_records_agreement(world, linked):
    for n in range(1, 4):
        publish(world, n)
    publish(world, 1, version=2, post="副队长")
    deliver()
    result = reconcile.run(actor="test")
    assert (result.outcome, result.differing, result.requested, result.resent) == ("agreed", 0, 0, 0)
    assert result.objects == 3 and result.buckets == 1  # one agency, one day
    row = Reconciliation.objects.get(instance=linked)
    assert (row.outcome, row.buckets, row.source_objects, row.differing, row.backlog_waiting) == (
        ReconciliationOutcome.AGREED, 1, 3, 0, 0)
    assert Upstream.objects.get().last_reconciliation["outcome"] == "agreed"
    # Only the summary travelled: one reconciliation inbox row, no re-send.
    assert InboxMessage.objects.filter(object_type="reconciliation").count() == 1
    assert InboxMessage.objects.exclude(object_type="reconciliation").count() == 4


def test_a_record_the_province_lost_is_sent_again_and_applied_despite_its_inbox_row(world, linked):
    publish(world, 1)
    publish(world, 2)
    publish(world, 2, version=2, post="副队长")
    deliver()
    # The province restored an older backup: the officer and its held version
    # are gone, but the inbox rows of the messages (same ids) are still there.
    ReceivedObject.objects.filter(instance=linked, object_key=cert(2)).delete()
    Officer.objects.filter(certificate_number=cert(2)).delete()
    assert InboxMessage.objects.filter(object_key=cert(2)).count() == 2
    result = reconcile.run(actor="test")
    assert (result.differing, result.requested, result.resent, result.remaining) == (1, 1, 1, 0)
    assert result.outcomes == {"applied": 1} and result.outcome == "repaired"
    officer = Officer.objects.get(certificate_number=cert(2))
    assert officer.post == "副队长"  # the current content, version 2
    assert ReceivedObject.objects.get(instance=linked, object_key=cert(2)).version == 2
    row = Reconciliation.objects.get(instance=linked)
    assert (row.outcome, row.differing, row.requested, row.remaining) == (ReconciliationOutcome.REPAIRED, 1, 1, 0)
    # The next day's reconciliation finds nothing to do.
    assert reconcile.run(actor="test").outcome == "agreed"


def test_a_newer_version_at_the_province_is_not_sent_again_and_stays_a_difference(world, linked):
    publish(world, 1)
    publish(world, 2)
    deliver()
    ReceivedObject.objects.filter(instance=linked, object_key=cert(1)).update(version=5)
    result = reconcile.run(actor="test")
    assert (result.differing, result.requested, result.resent, result.remaining) == (1, 0, 0, 1)
    assert result.outcome == "unrepaired"
    assert ReceivedObject.objects.get(instance=linked, object_key=cert(1)).version == 5
    assert Reconciliation.objects.get(instance=linked).outcome == ReconciliationOutcome.UNREPAIRED
    kinds = [item.kind for item in selectors.supervision_todo(user=world.u_legal_hebei, today=clock.today())]
    assert "docking_unrepaired" in kinds


def test_the_senders_backlog_travels_with_the_summary(world, linked):
    publish(world, 1)
    deliver()
    publish(world, 2)
    publish(world, 3)  # not delivered yet
    reconcile.run(actor="test")
    row = Reconciliation.objects.get(instance=linked)
    assert row.backlog_waiting == 2 and row.backlog_oldest_at is not None
    assert row.outcome == ReconciliationOutcome.AGREED  # only what was delivered is compared


def test_a_reconciliation_message_is_signed_and_the_same_id_twice_is_answered_alike(world, linked):
    body = canonical_json({"type": reconcile.SUMMARY, "timestamp": timezone.now().isoformat(), "data": {
        "source": "zhengding", "object_type": "reconciliation", "key": "rec_test", "version": 1,
        "object": {"schema": reconcile.SCHEMA, "final": False, "buckets": [
            {"object_type": "officer", "agency": world.amr_zhengding.credit_code, "day": "2026-12-01", "count": 1,
             "hash": "0" * 64}], "backlog": {"waiting": 0, "oldest_waiting_at": None}}}}).encode()
    msg_id = webhooks.message_id("zhengding", "reconciliation", "rec_test", 1, reconcile.SUMMARY)

    def post(key):
        headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key]).as_dict()
        return Client().post(URL, data=body, content_type="application/json", headers=headers)

    forged = post(Ed25519PrivateKey.generate())
    assert forged.status_code == 401 and forged.json()["code"] == "bad_signature"
    real = keys.signing_keys()[0]
    first, again = post(real), post(real)
    assert first.status_code == again.status_code == 200
    assert first.json()["differing"] == again.json()["differing"] != []
    assert again.json()["duplicate"] is True and "duplicate" not in first.json()
    assert Reconciliation.objects.filter(instance=linked).count() == 1


def test_a_malformed_reconciliation_message_is_refused_naming_the_field(world, linked):
    body = json.dumps({"type": reconcile.SUMMARY, "data": {"source": "zhengding", "object_type": "reconciliation",
                                                          "key": "rec_x", "version": 1, "object": {"buckets": "x"}}}).encode()
    headers = webhooks.sign(msg_id="msg_bad", body=body, keys=keys.signing_keys()).as_dict()
    answer = Client().post(URL, data=body, content_type="application/json", headers=headers)
    assert answer.status_code == 400 and "buckets" in answer.json()["message"]


def test_the_cli_reconciles_on_demand_and_only_administrators_may(world, linked, capsys):
    publish(world, 1)
    deliver()
    call_command("docking", "reconcile")
    out = capsys.readouterr().out
    assert "agreed" in out and "buckets 1" in out
    with pytest.raises(PermissionDenied):
        reconcile.run(actor=world.u_changan)


def test_the_daily_job_runs_once_a_day(world, linked):
    from sanxiang.docking import tasks

    publish(world, 1)
    deliver()
    assert tasks.reconcile_job() == 0 and Reconciliation.objects.count() == 1
    tasks.reconcile_job()  # not due again within the day
    assert Reconciliation.objects.count() == 1
    Upstream.objects.update(last_reconciled_at=timezone.now() - reconcile.EVERY)
    tasks.reconcile_job()
    assert Reconciliation.objects.count() == 2


def test_a_decision_the_province_lost_with_its_public_copy_comes_back_published(world, linked):
    from sanxiang.docking import decisions
    from sanxiang.docking.tests.test_two_instances import _decision, _publish_at_county
    from sanxiang.publicity.docked import travelling_form
    from sanxiang.publicity.models import Decision

    county = _publish_at_county(world, _decision(world, "ZD-01"))
    # The province's copy: a record of its own in this one database.
    form = travelling_form(county)
    form = {**form, "external_id": "ZD-01-P", "record": {**form["record"], "doc_number": "正市监罚〔2026〕91号"}}
    key = decisions.key_of(world.amr_zhengding.credit_code, "ZD-01-P")
    services.enqueue_message(event_type="decision.published", object_type_name="decision", key=key, version=1, data=form)
    deliver()
    assert Decision.objects.get(external_id="ZD-01-P").status == "published"
    # Restored from a backup older than the decision: it and its held version are gone.
    Decision.objects.filter(external_id="ZD-01-P").delete()
    ReceivedObject.objects.filter(instance=linked, object_key=key).delete()
    result = reconcile.run(actor="test")
    assert (result.outcome, result.resent, result.outcomes) == ("repaired", 1, {"applied": 1})
    copy = Decision.objects.get(external_id="ZD-01-P")
    assert copy.status == "published" and "张建华" not in str(copy.data)  # the public copy, redacted at the source


def test_every_reconciliation_step_sent_follows_the_documented_schema(world, linked, monkeypatch):
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[3] / "docs" / "schemas" / "docking" /
                         "reconciliation.v1.schema.json").read_text(encoding="utf-8"))
    steps = []

    def recording(url, body, headers):
        payload = json.loads(body)
        if payload["data"]["object_type"] == "reconciliation":
            steps.append(payload)
        return _through_the_endpoint(url, body, headers)

    monkeypatch.setattr(services, "_post", recording)
    publish(world, 1)
    publish(world, 2)
    deliver()
    ReceivedObject.objects.filter(instance=linked, object_key=cert(2)).delete()
    assert reconcile.run(actor="test").outcome == "repaired"
    assert [s["type"] for s in steps] == [reconcile.SUMMARY, reconcile.KEYS, reconcile.SUMMARY]
    for step in steps:
        jsonschema.validate(step, schema)
