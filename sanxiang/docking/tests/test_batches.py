"""Batches (docs/docking.md "Batches"; 公示-19: pushed in real time at a
province's volume): one signed request carries up to BATCH_MAX messages,
each answered as if it had come alone, the decisions among them stored and
published together.

Both sides live in one test database, as in test_reconcile.py: the
county's outbox and upstream, and the province's trust list; every request
is signed and posted to the real receiving endpoint (Django's test client
stands in for the socket). Two live platforms over real HTTP, sending in
batches, are test_two_instances.py and the docking bench."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from django.utils import timezone

from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import AuditEntry, Officer
from sanxiang.core.validators import make_certificate_number
from sanxiang.docking import decisions, keys, services, webhooks
from sanxiang.docking.models import InboxMessage, OutboxMessage, OutboxState, ReceivedObject
from sanxiang.docking.tests.test_two_instances import _decision, _publish_at_county
from sanxiang.publicity.docked import travelling_form
from sanxiang.publicity.models import Decision, PublicDecision

pytestmark = pytest.mark.django_db

URL = "/api/v1/docking/messages"


class Endpoint:
    """services._post answered by the receiving endpoint; records each
    request's webhook-id and how many messages it carried."""

    def __init__(self):
        self.requests: list[tuple[str, int]] = []

    def __call__(self, url, body, headers):
        payload = json.loads(body)
        self.requests.append((headers["webhook-id"], len(payload["data"].get("messages") or [None])))
        answer = Client().post(URL, data=body, content_type="application/json", headers=headers)
        return answer.status_code, answer.headers, answer.content.decode()


@pytest.fixture
def linked(world, settings, tmp_path, monkeypatch):
    """正定县's platform (its upstream is this platform's endpoint) on the
    province's trust list, speaking for 正定县; returns the endpoint."""
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county.pem")
    endpoint = Endpoint()
    monkeypatch.setattr(services, "_post", endpoint)
    monkeypatch.setattr(services, "_answered_at", {})  # no earlier test's answer counts
    # One database plays both platforms: what the province applies is not
    # forwarded upward again from the county's outbox.
    monkeypatch.setattr(services, "enqueue_change", lambda **kwargs: None)
    monkeypatch.setattr(services, "enqueue_changes", lambda **kwargs: 0)
    services.configure_upstream(actor="test", url=f"http://province.example{URL}", instance_code="zhengding")
    endpoint.instance = services.register_instance(actor="test", code="zhengding", name="正定县行政执法公示平台",
                                                   public_key=keys.public_key(), regions=["130123"])
    return endpoint


def officer(world, n: int, version: int = 1, agency=None, **changes):
    cert = make_certificate_number("130123", 98000 + n)
    data = {"schema": "officer/1", "certificate_number": cert, "name": f"钱学敏{n}",
            "agency": (agency or world.amr_zhengding).credit_code, "post": "执法队员", "categories": ["penalty"],
            "enforcement_region": "130123", "valid_from": "2025-01-01", "valid_to": "2030-12-31", "status": "active",
            **changes}
    return services.enqueue_message(event_type="officer.changed", object_type_name="officer", key=cert,
                                    version=version, data=data)


def decision_message(world, external_id: str, number: int, version: int = 1):
    """A county decision's travelling form under a key and 文号 of its own
    (the province's copy is another record of this one database)."""
    county = _publish_at_county(world, _decision(world, external_id))
    form = travelling_form(county)
    form = {**form, "external_id": external_id + "-P",
            "record": {**form["record"], "doc_number": f"正市监罚〔2026〕{number}号"}}
    return services.enqueue_message(event_type="decision.published", object_type_name="decision",
                                    key=decisions.key_of(world.amr_zhengding.credit_code, external_id + "-P"),
                                    version=version, data=form)


def post_batch(key, items, *, source="zhengding", msg_id="msg_batch_test"):
    body = canonical_json({"type": "batch", "timestamp": "2026-12-01T08:00:00+08:00",
                           "data": {"source": source, "messages": items}}).encode()
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key]).as_dict()
    return Client().post(URL, data=body, content_type="application/json", headers=headers)


def test_after_one_message_alone_the_rest_go_in_one_batch_each_applied_once(world, linked):
    for n in range(6):
        officer(world, n)
    result = services.deliver_due()
    assert (result.sent, result.delivered, result.failed) == (6, 6, 0)
    assert [count for _id, count in linked.requests] == [1, 5]  # the first alone (a receiver that is down is asked once)
    assert Officer.objects.filter(certificate_number__startswith=make_certificate_number("130123", 98000)[:-5]).count() >= 6
    assert InboxMessage.objects.filter(instance=linked.instance).count() == 6
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DELIVERED}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    batch_entry = AuditEntry.objects.filter(action="docking.receive").latest("seq")
    assert [m["outcome"] for m in json.loads(batch_entry.payload)["messages"]] == ["applied"] * 5
    # The next pass, the receiver having answered a moment ago: no message alone.
    for n in range(6, 10):
        officer(world, n)
    services.deliver_due()
    assert [count for _id, count in linked.requests][2:] == [4]


def test_after_the_receiver_was_down_the_next_pass_asks_with_one_message_first(world, linked, monkeypatch):
    real = linked.__call__
    down = [True]

    def maybe_down(url, body, headers):
        if down[0]:
            linked.requests.append((headers["webhook-id"], 0))
            return 0, {}, "ConnectionRefusedError: [Errno 111] Connection refused"
        return real(url, body, headers)

    monkeypatch.setattr(services, "_post", maybe_down)
    services._answered_at[services.upstream().url] = __import__("time").monotonic()  # it answered a moment ago
    for n in range(40, 44):
        officer(world, n)
    assert services.deliver_due().failed == 4  # one batch, refused: all four wait
    down[0] = False
    assert services.deliver_due(now=timezone.now() + timedelta(seconds=6)).delivered == 4
    assert [count for _id, count in linked.requests] == [0, 1, 3]  # the batch; then one alone, then the rest


def test_decisions_in_a_batch_are_published_at_once_naming_their_source_redacted(world, linked):
    for n in range(4):
        decision_message(world, f"ZD-B{n}", 700 + n)
    result = services.deliver_due()
    assert (result.delivered, result.failed) == (4, 0) and len(linked.requests) == 2
    for n in range(4):
        copy = Decision.objects.get(external_id=f"ZD-B{n}-P")
        assert copy.status == "published", copy.status
        public = PublicDecision.objects.get(decision=copy)
        assert public.received_from == "正定县行政执法公示平台"
        assert "11010519491231002X" not in json.dumps(public.data, ensure_ascii=False)
    held = ReceivedObject.objects.get(object_key=decisions.key_of(world.amr_zhengding.credit_code, "ZD-B3-P"))
    assert held.version == 1 and held.local_id == str(Decision.objects.get(external_id="ZD-B3-P").pk)


def test_a_batch_answers_each_message_on_its_own_replay_stale_out_of_scope_and_applied(world, linked):
    key = keys.signing_keys()[0]
    done = officer(world, 1)
    services.deliver_due()  # alone: applied
    old = officer(world, 2, version=1)
    newer = officer(world, 2, version=2, name="钱学敏二")
    outside = officer(world, 3, agency=world.amr_changan)  # 长安区 is not 正定县's to report
    items = [{"id": m.msg_id, "body": json.loads(m.body)} for m in (done, newer, old, outside)]
    answer = post_batch(key, items)
    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [r["id"] for r in results] == [done.msg_id, newer.msg_id, old.msg_id, outside.msg_id]
    assert results[0]["outcome"] == "applied" and results[0]["duplicate"] is True
    assert results[1]["outcome"] == "applied"
    assert (results[2]["outcome"], results[2]["held_version"]) == ("stale", 2)  # the newer came first
    assert (results[3]["outcome"], results[3]["code"]) == ("refused", "out_of_scope")
    assert Officer.objects.get(certificate_number=newer.object_key).name == "钱学敏二"
    # The same batch again: every message a replay, nothing changes.
    before = AuditEntry.objects.count()
    again = post_batch(key, items, msg_id="msg_batch_test_2").json()["results"]
    assert all(r.get("duplicate") for r in again) and AuditEntry.objects.count() == before


def test_an_object_twice_in_one_batch_takes_its_versions_in_order(world, linked):
    key = keys.signing_keys()[0]
    v1, v2 = officer(world, 5, version=1), officer(world, 5, version=2, post="执法队长")
    answer = post_batch(key, [{"id": m.msg_id, "body": json.loads(m.body)} for m in (v1, v2)])
    assert [r["outcome"] for r in answer.json()["results"]] == ["applied", "applied"]
    assert ReceivedObject.objects.get(object_key=v1.object_key).version == 2
    assert Officer.objects.get(certificate_number=v1.object_key).post == "执法队长"


def test_a_bad_message_in_a_batch_is_answered_naming_its_field_and_the_others_are_applied(world, linked):
    key = keys.signing_keys()[0]
    good = officer(world, 6)
    bad = json.loads(officer(world, 7).body)
    bad["data"]["version"] = 0
    alien = {**json.loads(good.body), "data": {**json.loads(good.body)["data"], "object_type": "spaceship"}}
    answer = post_batch(key, [{"id": "msg_bad", "body": bad}, {"id": good.msg_id, "body": json.loads(good.body)},
                              {"id": "msg_alien", "body": alien}])
    results = answer.json()["results"]
    assert (results[0]["status"], results[0]["code"]) == (400, "bad_payload")
    assert "data.messages[0].body.data.version" in results[0]["message"]
    assert results[1]["outcome"] == "applied"
    assert (results[2]["status"], results[2]["code"]) == (422, "unknown_object_type")


@pytest.mark.parametrize("data, field", [
    ({"source": "zhengding"}, "data.messages"),
    ({"source": "zhengding", "messages": []}, "data.messages"),
    ({"source": "zhengding", "messages": [{"body": {}}]}, "data.messages[0].id"),
    ({"source": "zhengding", "messages": [{"id": "a.b", "body": {}}]}, "data.messages[0].id"),
    ({"source": "zhengding", "messages": [{"id": "x", "body": []}]}, "data.messages[0].body"),
    ({"messages": [{"id": "x", "body": {}}]}, "data.source"),
])
def test_a_malformed_batch_is_refused_naming_the_field_and_nothing_is_applied(world, linked, data, field):
    key = keys.signing_keys()[0]
    body = canonical_json({"type": "batch", "timestamp": "2026-12-01T08:00:00+08:00", "data": data}).encode()
    answer = Client().post(URL, data=body, content_type="application/json",
                           headers=webhooks.sign(msg_id="msg_x", body=body, keys=[key]).as_dict())
    assert answer.status_code == 400 and field in answer.json()["message"], answer.content
    assert not InboxMessage.objects.exists()


def test_a_batch_with_a_forged_signature_is_refused_whole(world, linked):
    good = officer(world, 8)
    answer = post_batch(Ed25519PrivateKey.generate(), [{"id": good.msg_id, "body": json.loads(good.body)}])
    assert answer.status_code == 401 and answer.json()["code"] == "bad_signature"
    assert not InboxMessage.objects.exists()


def test_a_receiver_that_refuses_batches_is_sent_the_messages_one_by_one(world, linked, monkeypatch):
    """An older province (no batches): it answers a batch 400; the messages
    go alone in the same pass and later passes skip batches for a while."""
    real = linked.__call__

    def older(url, body, headers):
        if json.loads(body).get("type") == "batch":
            linked.requests.append((headers["webhook-id"], -1))
            return 400, {}, json.dumps({"outcome": "error", "code": "bad_payload", "message": "data.object_type 缺失或类型不正确。"})
        return real(url, body, headers)

    monkeypatch.setattr(services, "_post", older)
    monkeypatch.setattr(services, "_batches_refused_until", {})
    for n in range(10, 14):
        officer(world, n)
    result = services.deliver_due(concurrency=1)  # the test client's database is this thread's
    assert (result.delivered, result.failed) == (4, 0)
    assert [count for _id, count in linked.requests] == [1, -1, 1, 1, 1]
    for n in range(14, 17):
        officer(world, n)
    services.deliver_due(concurrency=1)
    assert [count for _id, count in linked.requests][5:] == [1, 1, 1]  # no batch tried again yet


def test_a_batch_stays_under_its_byte_limit(world, linked, monkeypatch):
    monkeypatch.setattr(services, "BATCH_BYTES", 2000)
    for n in range(20, 26):
        officer(world, n)
    result = services.deliver_due()
    assert result.delivered == 6
    sizes = [count for _id, count in linked.requests]
    assert sizes[0] == 1 and sum(sizes) == 6 and len(sizes) > 2


def test_the_batch_sent_follows_its_documented_schema(world, linked):
    import jsonschema
    from referencing import Registry, Resource

    schemas = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "docking"
    message, batch = (json.loads((schemas / name).read_text(encoding="utf-8"))
                      for name in ("message.v1.schema.json", "batch.v1.schema.json"))
    registry = Registry().with_resource(message["$id"], Resource.from_contents(message))
    msg_id, body = services._batch_body("zhengding", [officer(world, 30), officer(world, 31)])
    jsonschema.validate(json.loads(body), batch, registry=registry)
    assert msg_id == webhooks.message_id("batch", *(m.msg_id for m in OutboxMessage.objects.order_by("pk")))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**json.loads(body), "data": {"source": "zhengding", "messages": []}}, batch, registry=registry)


def test_the_legal_office_sees_on_the_staff_page_which_platform_reported_a_received_decision(world, linked, no_totp):
    from sanxiang.conftest import client_for

    decision_message(world, "ZD-S1", 720)
    services.deliver_due()
    copy = Decision.objects.get(external_id="ZD-S1-P")
    page = client_for(world.u_legal_sjz).get(f"/workbench/publicity/{copy.pk}/")
    assert page.status_code == 200
    assert '<dd class="source">由下级平台“正定县行政执法公示平台”报送</dd>' in page.content.decode()
    local = Decision.objects.get(external_id="ZD-S1")
    assert 'class="source"' not in client_for(world.u_legal_sjz).get(f"/workbench/publicity/{local.pk}/").content.decode()


def test_what_waited_for_an_unreachable_receiver_is_due_once_it_answers_even_if_a_message_of_that_pass_failed(
        world, linked, monkeypatch):
    """A platform killed mid-batch: the batch's messages failed with no
    answer. When it serves again, its first pass may also have a failure of
    its own (here one message answered 500 on its own); the cut-off messages
    are due again at once all the same, the one that failed now keeps its
    retry."""
    real = linked.__call__
    state = {"down": True, "broken": None}

    def platform(url, body, headers):
        if state["down"]:
            return 0, {}, "ConnectionResetError: [Errno 104] Connection reset by peer"
        if state["broken"] is not None and headers["webhook-id"] == state["broken"]:
            return 500, {}, "Internal Server Error"
        return real(url, body, headers)

    monkeypatch.setattr(services, "_post", platform)
    cut_off = [officer(world, n) for n in range(50, 53)]
    assert services.deliver_due().failed == 1  # the lone first message: no answer, the others wait
    services._answered_at[services.upstream().url] = __import__("time").monotonic()
    assert services.deliver_due().failed == 2  # the rest, cut off in one batch
    retry_at = {m.pk: m.next_attempt_at for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in cut_off])}
    assert all(at > timezone.now() + timedelta(seconds=3) for at in retry_at.values())
    state["down"] = False
    fresh = officer(world, 60)
    broken = officer(world, 61)
    state["broken"] = broken.msg_id
    services._answered_at.clear()  # nothing answered since it went down: the first goes alone
    first = services.deliver_due()
    assert first.delivered == 1 and first.failed == 1 and first.more  # fresh alone, then broken alone
    rows = {m.pk: m for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in (*cut_off, broken)])}
    assert all(rows[m.pk].next_attempt_at <= timezone.now() for m in cut_off)  # due again at once
    assert rows[broken.pk].next_attempt_at > timezone.now()  # its own failure keeps its retry
    assert services.deliver_due().delivered == 3
    assert OutboxMessage.objects.filter(pk__in=[m.pk for m in cut_off], state=OutboxState.DELIVERED).count() == 3
    assert OutboxMessage.objects.get(pk=fresh.pk).state == OutboxState.DELIVERED
