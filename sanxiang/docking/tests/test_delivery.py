"""The sending side's answers to what the platform above says: Retry-After
honoured, the schedule spent → undeliverable, order per object. The
platform above is played by a real HTTP server on a free port that answers
as a proxy in front of a platform under maintenance would (503 with
Retry-After); a live province is in test_two_instances.py."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from sanxiang.docking import services
from sanxiang.docking.models import OutboxMessage, OutboxState

pytestmark = pytest.mark.django_db


class Receiver:
    """Answers each POST with the next (status, headers) of its script and
    records the webhook-id of each."""

    def __init__(self, script):
        self.script, self.seen = list(script), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.seen.append(self.headers.get("webhook-id"))
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                body = b'{"outcome": "applied"}' if status == 200 else b"maintenance"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v1/docking/messages"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request, settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "k.pem")
    made = []

    def make(*script):
        r = Receiver(script)
        made.append(r)
        services.configure_upstream(actor="test", url=r.url, instance_code="zhengding")
        return r

    yield make
    for r in made:
        r.close()


def _message(key: str, version: int):
    return services.enqueue_message(event_type="officer.changed", object_type_name="officer", key=key,
                                    version=version, data={"n": version})


def test_a_503_with_retry_after_waits_that_long_and_the_rest_waits_for_the_next_pass(receiver):
    r = receiver((503, {"Retry-After": "120"}))
    first, second = _message("a", 1), _message("b", 1)
    before = timezone.now()
    result = services.deliver_due()
    first.refresh_from_db()
    assert (result.sent, result.failed) == (1, 1) and r.seen == [first.msg_id]
    assert first.state == OutboxState.PENDING and first.last_status == 503
    assert before + timedelta(seconds=119) <= first.next_attempt_at <= timezone.now() + timedelta(seconds=121)
    assert OutboxMessage.objects.get(pk=second.pk).attempts == 0  # not tried in a pass the receiver asked to slow
    result = services.deliver_due()  # b is due, a is not
    assert r.seen[-1] == second.msg_id and result.delivered == 1


def test_a_newer_version_is_never_sent_before_an_older_one_is_delivered(receiver):
    r = receiver((500, {}))
    v1, v2 = _message("k", 1), _message("k", 2)
    services.deliver_due()
    assert r.seen == [v1.msg_id]
    assert OutboxMessage.objects.get(pk=v2.pk).attempts == 0
    services.deliver_due(now=timezone.now() + timedelta(seconds=6))
    assert r.seen == [v1.msg_id, v1.msg_id, v2.msg_id]


def test_when_the_schedule_is_spent_the_message_is_undeliverable_and_can_be_sent_again(receiver):
    r = receiver(*[(500, {})] * 10)
    message = _message("k", 1)
    now = timezone.now()
    for _ in range(10):
        services.deliver_due(now=now)
        now += timedelta(days=2)
    message.refresh_from_db()
    assert message.state == OutboxState.UNDELIVERABLE and message.attempts == 10 and len(r.seen) == 10
    services.retry_message(actor="test", message=message)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == OutboxState.DELIVERED and len(r.seen) == 11


def test_the_same_version_written_twice_is_one_message(receiver):
    receiver()
    assert _message("k", 1).pk == _message("k", 1).pk
    assert OutboxMessage.objects.count() == 1


def test_without_an_upstream_nothing_is_written_or_sent(settings, tmp_path, db):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "k.pem")
    assert _message("k", 1) is None and services.deliver_due().sent == 0
    assert not OutboxMessage.objects.exists()
