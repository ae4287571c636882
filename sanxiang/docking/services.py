"""Every write of the docking app (公示-17, 公示-18, 公示-19; docs/docking.md).

Trust list (receiving side): ``register_instance``, ``add_instance_key``
(rotation with an overlap), ``set_instance_active``.
Sending side: ``configure_upstream``, ``enqueue_message`` (in the
transaction of the change it carries), ``deliver_due`` (the job queue's
delivery pass), ``retry_message``, ``enable_upstream``.
Receiving side: ``receive_message`` — signature, timestamp window, replay,
version order and scope checked, then the object type's ``apply``, all in
one transaction with its inbox row and audit entry.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from sanxiang.core import queue
from sanxiang.core.audit import append_audit
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import Agency, Region
from sanxiang.core.refusals import Refused, reject

from . import keys, predicates, reconcile, tasks, webhooks
from .models import (InboxMessage, Instance, InstanceKey, OutboxMessage, OutboxState, ReceivedObject,
                     Upstream)
from .registry import Applied, object_type


# A message body larger than this is refused before parsing (one object per
# message; the largest public decision is a few KB).
MAX_BODY_BYTES = 1024 * 1024
# Seconds to wait for the receiver (the specification recommends 15–30 s).
REQUEST_TIMEOUT = 15
# Messages one delivery pass sends at most (the next pass continues).
PASS_LIMIT = 500
# Messages of distinct objects in flight at once in a delivery pass (each on
# its own kept-alive connection; the receiver serves them in parallel).
DELIVERY_CONCURRENCY = 4
DEFAULT_KEY_OVERLAP = timedelta(days=7)
# A batch (docs/docking.md "Batches"): one signed request carrying up to
# BATCH_MAX messages, each as it would travel alone; the sender keeps a
# batch's body under BATCH_BYTES (the receiver refuses bodies over
# MAX_BODY_BYTES).
BATCH_TYPE = "batch"
BATCH_MAX = 200
BATCH_BYTES = 900 * 1024


def _check(verdict) -> None:
    if not verdict:
        raise Refused(verdict)


def _public_key(text: str) -> tuple[str, str]:
    try:
        return text.strip(), webhooks.fingerprint(text.strip())
    except (ValueError, AttributeError):
        reject("public_key", "公钥格式不正确：应为 whpk_ 加 32 字节公钥的 Base64 编码（对方平台 `sanxiang docking key` 的输出）。",
                "invalid")


def _regions(codes) -> list[Region]:
    codes = [str(c).strip() for c in codes or [] if str(c).strip()]
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        reject("regions", f"未登记的行政区划代码：{'、'.join(missing)}。", "unknown_region")
    return [found[c] for c in codes]


def _agencies(codes) -> list[Agency]:
    codes = [str(c).strip().upper() for c in codes or [] if str(c).strip()]
    found = {a.credit_code: a for a in Agency.objects.filter(credit_code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        reject("agencies", f"未登记的执法部门统一社会信用代码：{'、'.join(missing)}。", "unknown_agency")
    return [found[c] for c in codes]


@transaction.atomic
def register_instance(*, actor, code: str, name: str, public_key: str, regions=(), agencies=(),
                      endpoint: str = "") -> Instance:
    """Put a lower instance on the trust list: what it may speak for (its
    regions' subtrees and the agencies named) and its public key."""
    _check(predicates.can_manage_docking(actor))
    key_text, print_ = _public_key(public_key)
    region_rows, agency_rows = _regions(regions), _agencies(agencies)
    if not region_rows and not agency_rows:
        reject("regions", "须至少指定该平台可以报送的一个行政区划或一个执法部门。", "required")
    if Instance.objects.filter(code=code).exists():
        reject("code", f"平台代码“{code}”已登记。", "taken")
    instance = Instance(code=code, name=name, endpoint=endpoint or "")
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    instance.save()
    instance.regions.set(region_rows)
    instance.agencies.set(agency_rows)
    InstanceKey.objects.create(instance=instance, public_key=key_text, fingerprint=print_)
    append_audit(actor=actor, action="docking.register_instance", obj=instance, payload={
        "code": code, "name": name, "regions": [r.code for r in region_rows],
        "agencies": [a.credit_code for a in agency_rows], "key": print_, "endpoint": endpoint or ""})
    return instance


@transaction.atomic
def add_instance_key(*, actor, instance: Instance, public_key: str,
                     overlap: timedelta = DEFAULT_KEY_OVERLAP) -> InstanceKey:
    """Key rotation: the new key is valid at once; the keys valid so far
    stay valid for ``overlap`` (messages signed by either verify, so the
    lower instance can switch when it is ready)."""
    _check(predicates.can_manage_docking(actor))
    key_text, print_ = _public_key(public_key)
    if overlap < timedelta(0):
        reject("overlap", "过渡期不能为负。", "invalid")
    instance = Instance.objects.select_for_update().get(pk=instance.pk)
    if instance.keys.filter(public_key=key_text).exists():
        reject("public_key", "该公钥已登记给这个平台。", "taken")
    until = timezone.now() + overlap
    instance.keys.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=until)).update(valid_until=until)
    row = InstanceKey.objects.create(instance=instance, public_key=key_text, fingerprint=print_)
    append_audit(actor=actor, action="docking.add_key", obj=instance,
                 payload={"key": print_, "previous_valid_until": until.isoformat()})
    return row


@transaction.atomic
def set_instance_active(*, actor, instance: Instance, active: bool) -> Instance:
    _check(predicates.can_manage_docking(actor))
    Instance.objects.filter(pk=instance.pk).update(is_active=active)
    instance.is_active = active
    append_audit(actor=actor, action="docking.instance_active", obj=instance, payload={"active": active})
    return instance


# --- sending side -----------------------------------------------------------

@transaction.atomic
def configure_upstream(*, actor, url: str, instance_code: str) -> Upstream:
    """Where this instance pushes, and the code it is registered under there
    (one upstream: a city forwards to its province, a county to its city)."""
    _check(predicates.can_manage_docking(actor))
    row = Upstream.objects.select_for_update().first() or Upstream()
    row.url, row.instance_code = (url or "").strip(), (instance_code or "").strip()
    row.is_active, row.disabled_at, row.disabled_reason = True, None, ""
    try:
        row.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    row.save()
    append_audit(actor=actor, action="docking.configure_upstream", obj=row,
                 payload={"url": row.url, "instance_code": row.instance_code, "key": webhooks.fingerprint(keys.public_key())})
    return row


@transaction.atomic
def enable_upstream(*, actor) -> Upstream | None:
    """Send again after the receiver answered 410 (the route was disabled)."""
    _check(predicates.can_manage_docking(actor))
    row = Upstream.objects.select_for_update().first()
    if row is None:
        return None
    row.is_active, row.disabled_at, row.disabled_reason = True, None, ""
    row.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    append_audit(actor=actor, action="docking.enable_upstream", obj=row, payload={"url": row.url})
    queue.enqueue_on_commit(tasks.deliver_outbox)
    return row


def upstream() -> Upstream | None:
    return Upstream.objects.first()


def enqueue_message(*, event_type: str, object_type_name: str, key: str, version: int, data: dict,
                    occurred_at=None) -> OutboxMessage | None:
    """The message carrying one change, written in the caller's transaction
    (the change and its outbox row commit together: nothing is sent for a
    change that rolled back, nothing is lost for one that committed). No
    upstream configured: nothing to send (None). The same (object, version)
    twice is one message: its id is derived from them."""
    target = upstream()
    if target is None:
        return None
    msg_id = webhooks.message_id(target.instance_code, object_type_name, key, version, event_type)
    payload = {
        "type": event_type,
        "timestamp": (occurred_at or timezone.now()).isoformat(),
        "data": {"source": target.instance_code, "object_type": object_type_name, "key": key,
                 "version": version, "object": data},
    }
    row, created = OutboxMessage.objects.get_or_create(msg_id=msg_id, defaults=dict(
        event_type=event_type, object_type=object_type_name, object_key=key, version=version,
        body=canonical_json(payload), next_attempt_at=timezone.now()))
    if created:
        queue.enqueue_on_commit(tasks.deliver_outbox)
    return row


def enqueue_change(*, event_type: str, object_type_name: str, key: str, data: dict) -> OutboxMessage | None:
    """enqueue_message with the object's next version: one more than its
    last message (the caller has written the object's row in this
    transaction, so a concurrent change of the same object waits for this
    one's commit and then takes the version after it)."""
    last = (OutboxMessage.objects.filter(object_type=object_type_name, object_key=key)
            .aggregate(v=Max("version"))["v"] or 0)
    return enqueue_message(event_type=event_type, object_type_name=object_type_name, key=key, version=last + 1,
                           data=data)


def enqueue_changes(*, event_type: str, object_type_name: str, changes: list[tuple[str, dict]]) -> int:
    """``enqueue_change`` for many objects of one type at once (a batch
    published together): the last versions read in one query, the messages
    written in one statement. An object twice in ``changes`` takes two
    successive versions. Returns the messages written."""
    target = upstream()
    if target is None or not changes:
        return 0
    keys_ = {key for key, _data in changes}
    last = dict(OutboxMessage.objects.filter(object_type=object_type_name, object_key__in=keys_)
                .values("object_key").annotate(v=Max("version")).values_list("object_key", "v"))
    now = timezone.now()
    rows = []
    for key, data in changes:
        version = last[key] = (last.get(key) or 0) + 1
        payload = {"type": event_type, "timestamp": now.isoformat(),
                   "data": {"source": target.instance_code, "object_type": object_type_name, "key": key,
                            "version": version, "object": data}}
        rows.append(OutboxMessage(
            msg_id=webhooks.message_id(target.instance_code, object_type_name, key, version, event_type),
            event_type=event_type, object_type=object_type_name, object_key=key, version=version,
            body=canonical_json(payload), next_attempt_at=now))
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    queue.enqueue_on_commit(tasks.deliver_outbox)
    return len(rows)


@dataclass
class PassResult:
    sent: int = 0
    delivered: int = 0
    refused: int = 0
    failed: int = 0
    disabled: bool = False
    more: bool = False  # the pass stopped at its limit: run another at once
    statuses: list[int] = field(default_factory=list)

    def next_due(self):
        """When the earliest waiting message comes due (None: none waits)."""
        return (OutboxMessage.objects.filter(state=OutboxState.PENDING, next_attempt_at__isnull=False)
                .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())


class _Connection:
    """One HTTP(S) connection to the platform above, kept open for a whole
    delivery pass (keep-alive: one TCP and TLS handshake per pass, not per
    message). A request on a reused connection that the other side had
    closed meanwhile is sent once more on a new one (the receiver
    recognises a message it already has by its id)."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url[:100]}")
        self.url = url
        self.https, self.host, self.port = parts.scheme == "https", parts.hostname, parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.conn: http.client.HTTPConnection | None = None
        self.used = False

    def _open(self) -> http.client.HTTPConnection:
        if self.conn is None:
            if self.https:
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=REQUEST_TIMEOUT,
                                                        context=ssl.create_default_context())
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
            self.used = False
        return self.conn

    def post(self, body: bytes, headers: dict) -> tuple[int, object, str]:
        """(status, response headers — case-insensitive ``.get`` —, body text)."""
        headers = {**headers, "Content-Type": "application/json", "User-Agent": "sanxiang-docking/1"}
        for attempt in (1, 2):
            conn, reused = self._open(), self.used
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read(MAX_BODY_BYTES).decode("utf-8", "replace")
                if response.will_close:
                    self.close()
                else:
                    self.used = True
                return response.status, response.headers, text
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if not reused or attempt == 2:
                    raise
            except Exception:
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn, self.used = None, False


_pass = threading.local()  # the sending thread's kept-alive connection during a delivery pass


def _post(url: str, body: bytes, headers: dict) -> tuple[int, object, str]:
    """One message to ``url``: on the calling thread's connection of the
    delivery pass under way, else on a connection of its own."""
    connection = getattr(_pass, "connection", None)
    if connection is not None and connection.url == url:
        return connection.post(body, headers)
    connection = _Connection(url)
    try:
        return connection.post(body, headers)
    finally:
        connection.close()


def _in_pages(rows, size: int = 200):
    """The rows by primary key, a page at a time, no cursor left open
    while the caller sends (the receiver may be this very database)."""
    last = 0
    while True:
        page = list(rows.filter(pk__gt=last)[:size])
        yield from page
        if len(page) < size:
            return
        last = page[-1].pk


# A failed attempt that got no answer (refused, reset, timed out) or a
# gateway's "the platform behind me is down" (502, 504) says nothing about
# the message: once the platform above answers again, such messages are due
# at once instead of at their next scheduled retry.
UNREACHABLE_STATUSES = (502, 504)


def deliver_due(*, now=None, limit: int = PASS_LIMIT, concurrency: int | None = None,
                batch: int | None = None) -> PassResult:
    """One delivery pass: the due messages, oldest first, each object's
    versions strictly in order (a message waits while an older one of the
    same object is undelivered). 2xx: delivered (or refused, when the
    receiver refused the record: not sent again, listed). 410: the route is
    disabled and an administrator is alerted. Anything else, or no answer:
    attempted again on the specification's schedule, later if the receiver's
    Retry-After asks; when the schedule is spent, undeliverable (listed with
    a retry button). The first answer after the platform above was
    unreachable makes the messages that waited only for that due at once
    (``more``: the caller runs another pass).

    The first message of a pass goes alone (a receiver that is down or asks
    to slow down is asked once), unless the receiver answered within the
    last ANSWERED_LATELY seconds. Then messages of distinct objects go in
    **batches** of up to ``batch`` (BATCH_MAX) messages, one signed request
    each, every message answered on its own in the batch's answer (docs/
    docking.md "Batches"). A receiver that does not take batches (an older
    version: 400, 404, 405, 413 or 422 to a batch), or a batch that failed
    on the receiver (500), has its messages sent one by one instead, in
    **waves** of up to ``concurrency`` (DELIVERY_CONCURRENCY) messages at
    once on kept-alive connections; a wave's answers are taken in the
    messages' order, and a wave never holds two versions of one object."""
    result = PassResult()
    target = upstream()
    if target is None or not target.is_active:
        return result
    now = now or timezone.now()
    width = max(1, concurrency or DELIVERY_CONCURRENCY)
    batch_size = max(1, min(batch or BATCH_MAX, BATCH_MAX))
    blocked: set[tuple[str, str]] = set()
    pending = (OutboxMessage.objects.filter(state__in=[OutboxState.PENDING, OutboxState.UNDELIVERABLE])
               .order_by("pk").only("pk", "msg_id", "object_type", "object_key", "state", "next_attempt_at",
                                    "attempts", "body"))
    signing = keys.signing_keys()
    opened: list[_Connection] = []  # every thread's connection, closed at the end
    opened_lock = threading.Lock()
    pool = None
    answered = stop = False
    gone = None
    wave: list[OutboxMessage] = []
    wave_bytes = 0
    failed_now: list[int] = []  # attempted and failed in this pass

    def post(msg_id: str, body: bytes) -> tuple[int, object, str]:
        headers = webhooks.sign(msg_id=msg_id, body=body, keys=signing).as_dict()
        try:
            if getattr(_pass, "connection", None) is None:
                _pass.connection = _Connection(target.url)
                with opened_lock:
                    opened.append(_pass.connection)
            return _post(target.url, body, headers)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, reset, timed out, bad URL
            return 0, {}, f"{type(exc).__name__}: {exc}"

    def send(message: OutboxMessage) -> tuple[int, object, str]:
        return post(message.msg_id, message.body.encode("utf-8"))

    def send_batch(messages: list[OutboxMessage]) -> list[tuple[int, object, str]] | None:
        """The messages in one batch; each one's answer, or None when they
        are to go one by one instead."""
        status, response_headers, text = post(*_batch_body(target.instance_code, messages))
        if status in (400, 404, 405, 413, 422):
            _batches_refused(target.url)
            return None
        if status == 500:
            return None  # one of them breaks the receiver: alone, it fails on its own schedule
        if not 200 <= status < 300:
            return [(status, response_headers, text)] * len(messages)
        answers = _batch_answers(text, messages)
        if answers is None:  # a 2xx that is not a batch's answer: a receiver that does not know batches
            _batches_refused(target.url)
        return answers

    def settle(message: OutboxMessage, status: int, response_headers, text: str, delivered: list[int]) -> None:
        nonlocal answered, stop, gone
        result.sent += 1
        result.statuses.append(status)
        if 200 <= status < 300:
            answered = True
            _answered_at[target.url] = time.monotonic()
            outcome = _outcome_of(text)
            if outcome.get("outcome") == "refused":
                OutboxMessage.objects.filter(pk=message.pk).update(
                    state=OutboxState.REFUSED, delivered_at=timezone.now(), attempts=message.attempts + 1,
                    last_status=status, next_attempt_at=None,
                    last_error=f"{outcome.get('code', '')}: {outcome.get('message', '')}"[:500])
                result.refused += 1
            else:
                delivered.append(message.pk)
                result.delivered += 1
            return
        blocked.add((message.object_type, message.object_key))
        failed_now.append(message.pk)
        if status == 410:
            gone = gone or (message, text)
            return
        retry_after = webhooks.parse_retry_after(response_headers.get("Retry-After"))
        delay = webhooks.next_delay(message.attempts + 1, retry_after)
        error = (text or "")[:300] if status == 0 else f"HTTP {status}: {(text or '')[:280]}"
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=message.attempts + 1, last_status=status or None, last_error=error[:500],
            state=OutboxState.PENDING if delay is not None else OutboxState.UNDELIVERABLE,
            next_attempt_at=now + timedelta(seconds=delay) if delay is not None else None)
        result.failed += 1
        if status in (0, 429, 502, 503, 504):
            stop = True  # the receiver is down or asks us to slow down: the rest waits for the next pass
            _answered_at.pop(target.url, None)

    def flush() -> None:
        """Send the wave (a batch, or one by one); take its answers in order."""
        nonlocal pool, wave_bytes
        if not wave:
            return
        answers = send_batch(wave) if len(wave) > 1 and _batches_taken(target.url) else None
        if answers is None and len(wave) == 1:
            answers = [send(wave[0])]
        elif answers is None:
            if pool is None and width > 1:
                pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="sanxiang-docking-send")
            answers = []
            for start in range(0, len(wave), width):
                chunk = wave[start:start + width]
                answers.extend(pool.map(send, chunk) if len(chunk) > 1 else [send(chunk[0])])
        delivered: list[int] = []
        for message, (status, response_headers, text) in zip(wave, answers, strict=True):
            settle(message, status, response_headers, text, delivered)
        if delivered:
            OutboxMessage.objects.filter(pk__in=delivered).update(
                state=OutboxState.DELIVERED, delivered_at=timezone.now(), attempts=F("attempts") + 1,
                last_status=200, next_attempt_at=None, last_error="")
        wave.clear()
        wave_bytes = 0
        if gone is not None:
            _disable(target, *gone)
            result.disabled = True

    def capacity() -> int:
        if not result.sent and not _answered_lately(target.url):
            return 1
        return batch_size if _batches_taken(target.url) else width

    try:
        for message in _in_pages(pending):
            obj = (message.object_type, message.object_key)
            if any((m.object_type, m.object_key) == obj for m in wave) or (
                    wave and wave_bytes + len(message.body) > BATCH_BYTES):
                flush()  # its older version first; a batch under its byte limit
                if stop or gone:
                    break
            if obj in blocked:
                continue
            if message.state == OutboxState.UNDELIVERABLE or (message.next_attempt_at and message.next_attempt_at > now):
                blocked.add(obj)
                continue
            if result.sent + len(wave) >= limit:
                result.more = True
                break
            wave.append(message)
            wave_bytes += len(message.body)
            if len(wave) >= capacity():
                flush()
                if stop or gone:
                    break
        if not (stop or gone):
            flush()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        for connection in opened:
            connection.close()
        _pass.connection = None
    if result.disabled:
        return result
    if answered:
        # The platform above answers again: what waited only because it was
        # unreachable is due now — also when another message of this pass
        # failed (a platform just restarted may fail some of its first
        # requests; the messages a kill cut off waited for their retry
        # then). Those that failed in this pass keep their retry.
        woken = (OutboxMessage.objects.filter(state=OutboxState.PENDING, next_attempt_at__gt=now)
                 .filter(Q(last_status__isnull=True) | Q(last_status__in=UNREACHABLE_STATUSES))
                 .exclude(pk__in=failed_now).update(next_attempt_at=now))
        result.more = result.more or woken > 0
    return result


# The first message of a pass goes alone unless the receiver answered 2xx
# within this many seconds (and nothing since said it was down): under a
# steady flow, passes follow each other and every message goes in batches.
ANSWERED_LATELY = 30.0
_answered_at: dict[str, float] = {}


def _answered_lately(url: str) -> bool:
    return time.monotonic() - _answered_at.get(url, float("-inf")) < ANSWERED_LATELY


# A receiver that refused a batch (an older version) is sent messages one by
# one for this long, then asked with a batch again (it may have been
# upgraded meanwhile).
BATCHES_REFUSED_FOR = 600.0
_batches_refused_until: dict[str, float] = {}


def _batches_refused(url: str) -> None:
    _batches_refused_until[url] = time.monotonic() + BATCHES_REFUSED_FOR


def _batches_taken(url: str) -> bool:
    return time.monotonic() >= _batches_refused_until.get(url, 0.0)


def _batch_body(source: str, messages: list[OutboxMessage]) -> tuple[str, bytes]:
    """A batch's id and body: each message as it travels alone (its stored
    body, byte for byte) with its own id. The batch's id is derived from
    its messages' ids: the same batch sent again is recognisable too."""
    items = ",".join('{"body":%s,"id":%s}' % (m.body, json.dumps(m.msg_id)) for m in messages)
    body = '{"data":{"messages":[%s],"source":%s},"timestamp":%s,"type":"%s"}' % (
        items, json.dumps(source, ensure_ascii=False), json.dumps(timezone.now().isoformat()), BATCH_TYPE)
    return webhooks.message_id(BATCH_TYPE, *(m.msg_id for m in messages)), body.encode("utf-8")


def _batch_answers(text: str, messages: list[OutboxMessage]) -> list[tuple[int, object, str]] | None:
    """Each message's answer out of a batch's, by id (status and body as if
    it had been answered alone); None when the answer is not a batch's."""
    answer = _outcome_of(text)
    results = answer.get("results") if answer.get("outcome") == "batch" else None
    if not isinstance(results, list):
        return None
    by_id = {r.get("id"): r for r in results if isinstance(r, dict)}
    answers = []
    for message in messages:
        one = by_id.get(message.msg_id)
        if one is None:
            answers.append((0, {}, "the batch's answer has no result for this message"))
            continue
        status = one.get("status") if isinstance(one.get("status"), int) else 0
        answers.append((status, {}, json.dumps({k: v for k, v in one.items() if k not in ("id", "status")},
                                              ensure_ascii=False)))
    return answers


def _outcome_of(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@transaction.atomic
def _disable(target: Upstream, message: OutboxMessage, text: str) -> None:
    Upstream.objects.filter(pk=target.pk).update(is_active=False, disabled_at=timezone.now(),
                                                 disabled_reason=f"HTTP 410: {(text or '')[:280]}")
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1, last_status=410,
                                                       last_error=f"HTTP 410: {(text or '')[:280]}")
    append_audit(actor="system:docking", action="docking.upstream_disabled", obj=target,
                 payload={"url": target.url, "message": message.msg_id, "answer": (text or "")[:280]})


@transaction.atomic
def retry_message(*, actor, message: OutboxMessage) -> OutboxMessage:
    """An undeliverable (or refused) message back into the queue with a full
    schedule of attempts."""
    _check(predicates.can_manage_docking(actor))
    row = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if row.state not in (OutboxState.UNDELIVERABLE, OutboxState.REFUSED):
        reject("message", "只有无法送达或被拒收的消息可以重新发送。", "not_failed")
    row.state, row.attempts, row.next_attempt_at, row.last_error = OutboxState.PENDING, 0, timezone.now(), ""
    row.save(update_fields=["state", "attempts", "next_attempt_at", "last_error"])
    append_audit(actor=actor, action="docking.retry_message", obj=row, payload={"msg_id": row.msg_id})
    queue.enqueue_on_commit(tasks.deliver_outbox)
    return row


# --- receiving side -----------------------------------------------------------

@dataclass
class Answer:
    """What the receiving endpoint answers: an HTTP status and a JSON body."""

    status: int
    body: dict


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"outcome": "error", "code": code, "message": message})


def too_large() -> Answer:
    return _error(413, "too_large", f"消息体超过 {MAX_BODY_BYTES // 1024} KB。")


def _load(body: bytes) -> dict | Answer:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error(400, "bad_json", "消息体不是 UTF-8 编码的 JSON。")
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return _error(400, "bad_payload", "消息缺少 data 对象。")
    return payload


def _checked(payload: dict, *, where: str = "") -> Answer | None:
    """The fields every message carries (``where``: "messages[3]." inside a
    batch), or the answer naming the one that is wrong."""
    data = payload.get("data")
    if not isinstance(data, dict):
        return _error(400, "bad_payload", f"{where}data 缺失或不是对象。")
    for name, kind in (("source", str), ("object_type", str), ("key", str), ("version", int)):
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
            return _error(400, "bad_payload", f"{where}data.{name} 缺失或类型不正确。")
    if data["version"] < 1:
        return _error(400, "bad_payload", f"{where}data.version 须为正整数。")
    if len(data["key"]) > 200 or len(data["object_type"]) > 64:
        return _error(400, "bad_payload", f"{where}data.key 或 data.object_type 过长。")
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        return _error(400, "bad_payload", f"消息缺少 {where}type。")
    if not isinstance(data.get("object"), dict):
        return _error(400, "bad_payload", f"{where}data.object 缺失或不是对象。")
    return None


def _batch_items(payload: dict) -> list | Answer:
    """A batch's messages (docs/docking.md "Batches"): 1 to BATCH_MAX items
    ``{"id": <the message's own webhook id>, "body": <the message>}``."""
    items = payload["data"].get("messages")
    if not isinstance(payload["data"].get("source"), str) or not payload["data"]["source"]:
        return _error(400, "bad_payload", "data.source 缺失或类型不正确。")
    if not isinstance(items, list) or not 1 <= len(items) <= BATCH_MAX:
        return _error(400, "bad_payload", f"data.messages 须为 1 至 {BATCH_MAX} 条消息的数组。")
    for n, item in enumerate(items):
        msg_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(msg_id, str) or not msg_id or "." in msg_id or not msg_id.isascii() \
                or not msg_id.isprintable() or len(msg_id) > webhooks.MAX_ID_LENGTH:
            return _error(400, "bad_payload", f"data.messages[{n}].id 缺失或格式不正确（可打印 ASCII，不含句点，至多 255 个字符）。")
        if not isinstance(item.get("body"), dict):
            return _error(400, "bad_payload", f"data.messages[{n}].body 缺失或不是对象。")
    return items


def _valid_keys(instance: Instance, now) -> list[str]:
    return list(instance.keys.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
                .values_list("public_key", flat=True))


def receive_message(*, headers, body: bytes, now=None) -> Answer:
    """One signed message from a lower instance (the receiving endpoint).

    Checked in this order, each with its own answer: the headers (400), the
    body (400), the sender on the trust list (401 unknown or inactive), the
    timestamp window and the signature (401), the same message id already
    received (200, no effect, ``duplicate``), the object's type (422), a
    version not newer than the one held (200, no effect, ``stale``), the
    scope (200 with outcome ``refused`` for this record: the sender lists it
    and does not send it again). Then the type's ``apply``, the inbox row,
    the newest version and the audit entry in one transaction."""
    now = now or timezone.now()
    if len(body) > MAX_BODY_BYTES:
        return too_large()
    try:
        parsed = webhooks.read_headers(headers)
    except webhooks.WebhookError as exc:
        return _error(400, exc.code, exc.message)
    payload = _load(body)
    if isinstance(payload, Answer):
        return payload
    batch = payload.get("type") == BATCH_TYPE
    checked = _batch_items(payload) if batch else _checked(payload)
    if isinstance(checked, Answer):
        return checked
    data = payload["data"]
    instance = Instance.objects.filter(code=data["source"]).first()
    if instance is None:
        return _error(401, "unknown_source", f"平台“{data['source'][:64]}”未登记。")
    try:
        webhooks.verify(parsed, body, _valid_keys(instance, now), now=now.timestamp())
    except webhooks.WebhookError as exc:
        return _error(401, exc.code, exc.message)
    if not instance.is_active:
        # Standard Webhooks: 410 tells the sender to stop (its route is
        # disabled and its administrator alerted) — only to a genuine sender.
        return _error(410, "instance_inactive", f"平台“{instance.code}”已停用对接，本平台不再接收其消息。")
    if batch:
        return _receive_batch(instance=instance, items=checked)
    if data["object_type"] == reconcile.OBJECT_TYPE:  # counts and hashes, not an object (reconcile.py)
        return reconcile.receive(instance=instance, msg_id=parsed.id, payload=payload)
    kind = object_type(data["object_type"])
    if kind is None:
        return _error(422, "unknown_object_type", f"不支持的对象类型“{data['object_type'][:64]}”。")
    try:
        with transaction.atomic():
            return _receive(instance=instance, msg_id=parsed.id, payload=payload, kind=kind)
    except IntegrityError:
        # The same message delivered twice at the same moment: the other
        # delivery's inbox row won; this one has no effect.
        previous = InboxMessage.objects.filter(instance=instance, msg_id=parsed.id).first()
        if previous is None:
            raise
        return Answer(200, {"outcome": previous.outcome, "duplicate": True, **previous.detail})


def _lock(instance: Instance) -> None:
    # One message (or batch) of a platform at a time, its row locked first:
    # a sender's concurrent deliveries (a wave, deliver_due) then never wait
    # for each other's locks in opposite orders (the audit chain's lock,
    # taken while a record is applied, against the platform's row, updated
    # at the end: PostgreSQL found such a deadlock). Reading, parsing and the
    # signature check before this still run in parallel.
    Instance.objects.select_for_update().filter(pk=instance.pk).values_list("pk", flat=True).first()


def _inbox_row(instance: Instance, msg_id: str, payload: dict, outcome: str, detail: dict) -> InboxMessage:
    data = payload["data"]
    return InboxMessage(instance=instance, msg_id=msg_id, object_type=data["object_type"], object_key=data["key"],
                        version=data["version"], published_at=reconcile.published_at(payload.get("timestamp")),
                        outcome=outcome, detail=detail)


def _detail(applied: Applied) -> dict:
    if applied.outcome == "refused":
        return {"code": applied.code, "message": applied.message}
    return {"local_id": applied.local_id}


def _out_of_scope(instance: Instance, scope) -> Applied:
    what = f"执法部门 {scope.agency_code}" if scope.agency_code else f"行政区划 {scope.region_code}"
    return Applied("refused", "out_of_scope", f"平台“{instance.code}”无权报送{what}的数据。")


def _audit_row(msg_id: str, payload: dict, applied_outcome: str, code: str = "") -> dict:
    data = payload["data"]
    return {"msg_id": msg_id, "type": payload["type"], "object_type": data["object_type"], "key": data["key"],
            "version": data["version"], "outcome": applied_outcome, "code": code}


def _receive(*, instance: Instance, msg_id: str, payload: dict, kind) -> Answer:
    data = payload["data"]
    _lock(instance)
    previous = InboxMessage.objects.filter(instance=instance, msg_id=msg_id).first()
    if previous is not None:
        return Answer(200, {"outcome": previous.outcome, "duplicate": True, **previous.detail})
    held = (ReceivedObject.objects.select_for_update()
            .filter(instance=instance, object_type=data["object_type"], object_key=data["key"]).first())
    if held is not None and held.version >= data["version"]:
        detail = {"held_version": held.version}
        _inbox_row(instance, msg_id, payload, "stale", detail).save()
        return Answer(200, {"outcome": "stale", **detail})
    scope = kind.scope(data["object"])
    if not predicates.may_speak_for(instance, agency_code=scope.agency_code, region_code=scope.region_code):
        applied = _out_of_scope(instance, scope)
    else:
        applied = kind.apply(actor=f"instance:{instance.code}", instance=instance, data=data["object"],
                             event=payload["type"])
    detail = _detail(applied)
    _inbox_row(instance, msg_id, payload, applied.outcome, detail).save()
    if applied.outcome == "applied":
        ReceivedObject.objects.update_or_create(
            instance=instance, object_type=data["object_type"], object_key=data["key"],
            defaults={"version": data["version"], "local_id": applied.local_id,
                      **reconcile.received_fields(object_type_name=data["object_type"], obj=data["object"],
                                                  timestamp=payload.get("timestamp"))})
    Instance.objects.filter(pk=instance.pk).update(last_message_at=timezone.now())
    append_audit(actor=f"instance:{instance.code}", action="docking.receive", obj=instance,
                 payload=_audit_row(msg_id, payload, applied.outcome, applied.code))
    return Answer(200, {"outcome": applied.outcome, **detail})


# --- batches (docs/docking.md "Batches") ----------------------------------------

def _receive_batch(*, instance: Instance, items: list) -> Answer:
    """A signed batch of messages (one request, one signature, one
    transaction): each message is checked and applied as if it had come
    alone — its own id recognised as a replay, its own version order and
    scope — and answered in ``results``, in the batch's order. Messages of
    one object type are applied together where the type can
    (``apply_many``: a few statements for the lot instead of a few per
    record). One audit entry records the batch, each message's outcome in
    it."""
    results: list[dict | None] = [None] * len(items)
    accepted = []  # (n, msg_id, payload, kind)
    ids_seen: set[str] = set()
    for n, item in enumerate(items):
        msg_id, payload, where = item["id"], item["body"], f"data.messages[{n}].body."
        problem = _checked(payload, where=where)
        if problem is None and msg_id in ids_seen:
            problem = _error(400, "bad_payload", f"data.messages[{n}].id 在同一批次中重复。")
        if problem is None and payload["data"]["source"] != instance.code:
            problem = _error(400, "bad_payload", f"{where}data.source 须与批次的 data.source 相同。")
        if problem is None and payload["data"]["object_type"] == reconcile.OBJECT_TYPE:
            problem = _error(400, "bad_payload", f"{where}data.object_type：对账消息须单独发送，不能放在批次中。")
        kind = object_type(payload["data"]["object_type"]) if problem is None else None
        if problem is None and kind is None:
            problem = _error(422, "unknown_object_type", f"不支持的对象类型“{payload['data']['object_type'][:64]}”。")
        ids_seen.add(msg_id)
        if problem is not None:
            results[n] = {"id": msg_id, "status": problem.status, **problem.body}
        else:
            accepted.append((n, msg_id, payload, kind))
    # An object twice in one batch (a sender never does it, a receiver copes):
    # its later messages are taken in later rounds, each round after the last.
    rounds: list[tuple[set, list]] = []
    for entry in accepted:
        obj = (entry[2]["data"]["object_type"], entry[2]["data"]["key"])
        for objects, entries in rounds:
            if obj not in objects:
                objects.add(obj)
                entries.append(entry)
                break
        else:
            rounds.append(({obj}, [entry]))
    audit_rows: list[dict] = []
    with transaction.atomic():
        _lock(instance)
        check_scope = predicates.speaks_for(instance)
        for _objects, entries in rounds:
            for n, body in _receive_round(instance, entries, check_scope, audit_rows).items():
                results[n] = body
        if audit_rows:
            Instance.objects.filter(pk=instance.pk).update(last_message_at=timezone.now())
            append_audit(actor=f"instance:{instance.code}", action="docking.receive", obj=instance,
                         payload={"batch": len(items), "messages": audit_rows})
    return Answer(200, {"outcome": "batch", "results": results})


def _receive_round(instance: Instance, entries: list, check_scope, audit_rows: list) -> dict[int, dict]:
    """Messages of distinct objects of one batch: replays, stale versions,
    scope, then each type's messages applied together."""
    answers: dict[int, dict] = {}
    previous = {m.msg_id: m for m in InboxMessage.objects.filter(instance=instance, msg_id__in=[e[1] for e in entries])}
    objects = {(e[2]["data"]["object_type"], e[2]["data"]["key"]) for e in entries}
    held = {(o.object_type, o.object_key): o for o in ReceivedObject.objects.select_for_update().filter(
        instance=instance, object_type__in={t for t, _ in objects}, object_key__in={k for _, k in objects})}
    inbox: list[InboxMessage] = []
    applied_rows: list[tuple[dict, Applied]] = []

    def settle(n: int, msg_id: str, payload: dict, applied: Applied) -> None:
        detail = _detail(applied)
        answers[n] = {"id": msg_id, "status": 200, "outcome": applied.outcome, **detail}
        inbox.append(_inbox_row(instance, msg_id, payload, applied.outcome, detail))
        audit_rows.append(_audit_row(msg_id, payload, applied.outcome, applied.code))
        if applied.outcome == "applied":
            applied_rows.append((payload, applied))

    by_type: dict[str, list] = {}
    for n, msg_id, payload, kind in entries:
        before = previous.get(msg_id)
        if before is not None:
            answers[n] = {"id": msg_id, "status": 200, "outcome": before.outcome, "duplicate": True, **before.detail}
            continue
        data = payload["data"]
        row = held.get((data["object_type"], data["key"]))
        if row is not None and row.version >= data["version"]:
            detail = {"held_version": row.version}
            answers[n] = {"id": msg_id, "status": 200, "outcome": "stale", **detail}
            inbox.append(_inbox_row(instance, msg_id, payload, "stale", detail))
            continue
        scope = kind.scope(data["object"])
        if not check_scope(agency_code=scope.agency_code, region_code=scope.region_code):
            settle(n, msg_id, payload, _out_of_scope(instance, scope))
            continue
        by_type.setdefault(kind.name, []).append((n, msg_id, payload, kind))
    actor = f"instance:{instance.code}"
    for group in by_type.values():
        kind = group[0][3]
        if kind.apply_many is not None:
            outcomes = kind.apply_many(actor=actor, instance=instance,
                                       items=[(p["data"]["object"], p["type"]) for _, _, p, _ in group])
        else:
            outcomes = [kind.apply(actor=actor, instance=instance, data=p["data"]["object"], event=p["type"])
                        for _, _, p, _ in group]
        for (n, msg_id, payload, _kind), applied in zip(group, outcomes, strict=True):
            settle(n, msg_id, payload, applied)
    InboxMessage.objects.bulk_create(inbox)
    _hold_versions(instance, held, applied_rows)
    return answers


def _hold_versions(instance: Instance, held: dict, applied_rows: list[tuple[dict, Applied]]) -> None:
    """The newest version held of each object applied (ReceivedObject):
    updated where one was held, created where not."""
    changed, new = [], []
    for payload, applied in applied_rows:
        data = payload["data"]
        fields = {"version": data["version"], "local_id": applied.local_id,
                  **reconcile.received_fields(object_type_name=data["object_type"], obj=data["object"],
                                              timestamp=payload.get("timestamp"))}
        row = held.get((data["object_type"], data["key"]))
        if row is None:
            new.append(ReceivedObject(instance=instance, object_type=data["object_type"], object_key=data["key"], **fields))
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = timezone.now()
            changed.append(row)
    ReceivedObject.objects.bulk_create(new)
    ReceivedObject.objects.bulk_update(changed, ["version", "local_id", "agency_code", "source_day", "received_at",
                                                 "updated_at"])
